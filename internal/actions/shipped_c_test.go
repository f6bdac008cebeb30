package actions_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/latchkeyhq/latchkey/internal/appapi"
)

// Batch c: each row is written out from the provider's own reference for
// the request (the action's docs_url), not from the template.

// The helpers carry the batch letter so that batches merge into one package.
func headerIsC(name, value string) func(*http.Request) bool {
	return func(r *http.Request) bool { return r.Header.Get(name) == value }
}

func basicAuthC(user, pass string) func(*http.Request) bool {
	return func(r *http.Request) bool { u, p, ok := r.BasicAuth(); return ok && u == user && p == pass }
}

const shopifyGraphQLC = "/admin/api/2025-10/graphql.json"

func init() {
	zendesk := appapi.Values{"subdomain": "acme", "oauth_access_token": "zd-1"}
	intercom := appapi.Values{"access_token": "ic-1"}
	mailchimp := appapi.Values{"dc": "us6", "api_key": "mc-key-us6"}
	shopify := appapi.Values{"shop": "acme", "oauth_access_token": "shpat_1"}
	dropbox := appapi.Values{"oauth_access_token": "sl.1"}
	zoom := appapi.Values{"oauth_access_token": "zm-1"}
	calendly := appapi.Values{"oauth_access_token": "cal-1"}
	typeform := appapi.Values{"oauth_access_token": "tfp-1"}
	clickup := appapi.Values{"oauth_access_token": "cu-1"}
	shippedCases = append(shippedCases, []shippedCase{
		// Zendesk: POST /api/v2/tickets.json {"ticket": {...}}.
		{ref: "zendesk.create_ticket", values: zendesk,
			input:  `{"subject":"Printer offline","body":"Restarting does not help.","priority":"high","tags":["printer"]}`,
			method: "POST", path: "/api/v2/tickets.json", auth: bearer("zd-1"),
			json: `{"ticket":{"subject":"Printer offline","comment":{"body":"Restarting does not help."},"priority":"high","tags":["printer"]}}`},
		// A comment is added by updating the ticket: PUT /api/v2/tickets/{id}.json.
		{ref: "zendesk.add_ticket_comment", values: zendesk,
			input:  `{"ticket_id":35436,"body":"Fixed now.","public":false,"status":"solved"}`,
			method: "PUT", path: "/api/v2/tickets/35436.json", auth: bearer("zd-1"),
			json: `{"ticket":{"comment":{"body":"Fixed now.","public":false},"status":"solved"}}`},
		{ref: "zendesk.search_tickets", values: zendesk,
			input:  `{"query":"status:open printer","sort_by":"created_at","sort_order":"desc"}`,
			method: "GET", path: "/api/v2/search.json", auth: bearer("zd-1"),
			query: url.Values{"query": {"type:ticket status:open printer"}, "sort_by": {"created_at"}, "sort_order": {"desc"}}},

		// Intercom: Bearer token; Accept: application/json.
		{ref: "intercom.create_contact", values: intercom,
			input:  `{"role":"user","email":"ann@example.com","external_id":"25","name":"Ann Lee"}`,
			method: "POST", path: "/contacts",
			auth: func(r *http.Request) bool {
				return bearer("ic-1")(r) && r.Header.Get("Accept") == "application/json"
			},
			json: `{"role":"user","email":"ann@example.com","external_id":"25","name":"Ann Lee"}`},
		{ref: "intercom.find_contact_by_email", values: intercom,
			input:  `{"email":"ann@example.com"}`,
			method: "POST", path: "/contacts/search", auth: bearer("ic-1"),
			json: `{"query":{"field":"email","operator":"=","value":"ann@example.com"}}`},
		{ref: "intercom.reply_to_conversation", values: intercom,
			input:  `{"conversation_id":"1911149811","admin_id":"814860","message_type":"note","body":"Escalated to billing."}`,
			method: "POST", path: "/conversations/1911149811/reply", auth: bearer("ic-1"),
			json: `{"message_type":"note","type":"admin","admin_id":"814860","body":"Escalated to billing."}`},

		// Mailchimp Marketing API 3.0: HTTP Basic, any user name, the key as password.
		{ref: "mailchimp_api_key.list_audiences", values: mailchimp,
			input:  `{"count":20,"offset":40}`,
			method: "GET", path: "/3.0/lists", query: url.Values{"count": {"20"}, "offset": {"40"}},
			auth: basicAuthC("latchkey", "mc-key-us6")},
		{ref: "mailchimp_api_key.add_list_member", values: mailchimp,
			input:  `{"list_id":"9e67587f52","email_address":"urist@example.com","status":"subscribed","merge_fields":{"FNAME":"Urist"},"tags":["vip"]}`,
			method: "POST", path: "/3.0/lists/9e67587f52/members", auth: basicAuthC("latchkey", "mc-key-us6"),
			json: `{"email_address":"urist@example.com","status":"subscribed","merge_fields":{"FNAME":"Urist"},"tags":["vip"]}`},
		{ref: "mailchimp_api_key.search_members", values: mailchimp,
			input:  `{"query":"urist@example.com","list_id":"9e67587f52"}`,
			method: "GET", path: "/3.0/search-members",
			query: url.Values{"query": {"urist@example.com"}, "list_id": {"9e67587f52"}},
			auth:  basicAuthC("latchkey", "mc-key-us6")},

		// Shopify GraphQL Admin API: POST /admin/api/{version}/graphql.json,
		// the token in X-Shopify-Access-Token.
		{ref: "shopify.list_products", values: shopify,
			input:  `{"first":5,"search":"status:active"}`,
			method: "POST", path: shopifyGraphQLC, auth: headerIsC("X-Shopify-Access-Token", "shpat_1"),
			json: `{"query":"query Products($first: Int = 10, $after: String, $query: String) { products(first: $first, after: $after, query: $query) { nodes { id title handle status vendor productType totalInventory } pageInfo { hasNextPage endCursor } } }","variables":{"first":5,"query":"status:active"}}`},
		{ref: "shopify.create_product", values: shopify,
			input:  `{"title":"Red Ball","product_type":"Toy","vendor":"Toys","status":"DRAFT","tags":["summer"]}`,
			method: "POST", path: shopifyGraphQLC, auth: headerIsC("X-Shopify-Access-Token", "shpat_1"),
			json: `{"query":"mutation ProductCreate($product: ProductCreateInput!) { productCreate(product: $product) { product { id title handle status } userErrors { field message } } }","variables":{"product":{"title":"Red Ball","productType":"Toy","vendor":"Toys","status":"DRAFT","tags":["summer"]}}}`},
		{ref: "shopify.list_orders", values: shopify,
			input:  `{"search":"financial_status:paid","after":"eyJsYXN0X2lkIjo0fQ=="}`,
			method: "POST", path: shopifyGraphQLC, auth: headerIsC("X-Shopify-Access-Token", "shpat_1"),
			json: `{"query":"query Orders($first: Int = 10, $after: String, $query: String) { orders(first: $first, after: $after, query: $query, sortKey: CREATED_AT, reverse: true) { nodes { id name createdAt displayFinancialStatus displayFulfillmentStatus totalPriceSet { shopMoney { amount currencyCode } } } pageInfo { hasNextPage endCursor } } }","variables":{"query":"financial_status:paid","after":"eyJsYXN0X2lkIjo0fQ=="}}`},

		// Dropbox API v2: RPC endpoints take a JSON body, POST, Bearer token.
		{ref: "dropbox.list_folder", values: dropbox,
			input:  `{"path":"","recursive":true,"limit":100}`,
			method: "POST", path: "/2/files/list_folder", auth: bearer("sl.1"),
			json: `{"path":"","recursive":true,"limit":100}`},
		{ref: "dropbox.search_files", values: dropbox,
			input:  `{"query":"cat","path":"/Folder","max_results":20,"filename_only":false}`,
			method: "POST", path: "/2/files/search_v2", auth: bearer("sl.1"),
			json: `{"query":"cat","options":{"path":"/Folder","max_results":20,"filename_only":false}}`},
		{ref: "dropbox.create_folder", values: dropbox,
			input:  `{"path":"/Homework/math","autorename":false}`,
			method: "POST", path: "/2/files/create_folder_v2", auth: bearer("sl.1"),
			json: `{"path":"/Homework/math","autorename":false}`},

		// Zoom API v2: "me" stands for the token's user.
		{ref: "zoom.create_meeting", values: zoom,
			input:  `{"topic":"My Meeting","type":2,"start_time":"2022-03-25T07:32:55Z","duration":60,"timezone":"America/Los_Angeles"}`,
			method: "POST", path: "/v2/users/me/meetings", auth: bearer("zm-1"),
			json: `{"topic":"My Meeting","type":2,"start_time":"2022-03-25T07:32:55Z","duration":60,"timezone":"America/Los_Angeles"}`},
		{ref: "zoom.list_meetings", values: zoom,
			input:  `{"type":"upcoming","page_size":50}`,
			method: "GET", path: "/v2/users/me/meetings", auth: bearer("zm-1"),
			query: url.Values{"type": {"upcoming"}, "page_size": {"50"}}},
		{ref: "zoom.get_meeting", values: zoom,
			input:  `{"meeting_id":85746065432}`,
			method: "GET", path: "/v2/meetings/85746065432", auth: bearer("zm-1")},

		// Calendly API v2: user and organization are URIs, passed as query values.
		{ref: "calendly.list_event_types", values: calendly,
			input:  `{"user":"https://api.calendly.com/users/AAAAAAAAAAAAAAAA","active":true,"count":50}`,
			method: "GET", path: "/event_types", auth: bearer("cal-1"),
			query: url.Values{"user": {"https://api.calendly.com/users/AAAAAAAAAAAAAAAA"}, "active": {"true"}, "count": {"50"}}},
		{ref: "calendly.list_scheduled_events", values: calendly,
			input:  `{"organization":"https://api.calendly.com/organizations/AAAAAAAAAAAAAAAA","status":"active","min_start_time":"2026-08-01T00:00:00Z"}`,
			method: "GET", path: "/scheduled_events", auth: bearer("cal-1"),
			query: url.Values{"organization": {"https://api.calendly.com/organizations/AAAAAAAAAAAAAAAA"}, "status": {"active"}, "min_start_time": {"2026-08-01T00:00:00Z"}}},
		{ref: "calendly.list_event_invitees", values: calendly,
			input:  `{"event_uuid":"a1b2c3d4-e5f6-7890-abcd-ef1234567890","status":"active"}`,
			method: "GET", path: "/scheduled_events/a1b2c3d4-e5f6-7890-abcd-ef1234567890/invitees", auth: bearer("cal-1"),
			query: url.Values{"status": {"active"}}},

		// Typeform: Create API (forms) and Responses API on api.typeform.com.
		{ref: "typeform.list_forms", values: typeform,
			input:  `{"search":"survey","page":2,"page_size":50}`,
			method: "GET", path: "/forms", auth: bearer("tfp-1"),
			query: url.Values{"search": {"survey"}, "page": {"2"}, "page_size": {"50"}}},
		{ref: "typeform.get_form", values: typeform,
			input:  `{"form_id":"u6nXL7"}`,
			method: "GET", path: "/forms/u6nXL7", auth: bearer("tfp-1")},
		{ref: "typeform.list_responses", values: typeform,
			input:  `{"form_id":"u6nXL7","page_size":100,"since":"2020-03-20T14:00:59"}`,
			method: "GET", path: "/forms/u6nXL7/responses", auth: bearer("tfp-1"),
			query: url.Values{"page_size": {"100"}, "since": {"2020-03-20T14:00:59"}}},

		// ClickUp API v2.
		{ref: "clickup.create_task", values: clickup,
			input:  `{"list_id":"901100200300","name":"Ship it","description":"Before Friday","assignees":[183],"priority":2,"due_date":1508369194377}`,
			method: "POST", path: "/api/v2/list/901100200300/task", auth: bearer("cu-1"),
			json: `{"name":"Ship it","description":"Before Friday","assignees":[183],"priority":2,"due_date":1508369194377}`},
		{ref: "clickup.list_tasks", values: clickup,
			input:  `{"list_id":"901100200300","page":1,"include_closed":true}`,
			method: "GET", path: "/api/v2/list/901100200300/task", auth: bearer("cu-1"),
			query: url.Values{"page": {"1"}, "include_closed": {"true"}}},
		{ref: "clickup.get_task", values: clickup,
			input:  `{"task_id":"9hz"}`,
			method: "GET", path: "/api/v2/task/9hz", auth: bearer("cu-1")},
	}...)
}

// TestBatchCRefusesBadInput checks the schemas of batch c turn away what
// the providers would refuse, before anything is sent.
func TestBatchCRefusesBadInput(t *testing.T) {
	for _, tt := range []struct{ ref, input string }{
		// Calendly needs a user or an organization to list by.
		{"calendly.list_scheduled_events", `{"status":"active"}`},
		{"calendly.list_event_types", `{}`},
		{"zendesk.create_ticket", `{"subject":"Hi","body":"x","priority":"critical"}`},
		{"zendesk.add_ticket_comment", `{"ticket_id":"35436","body":"x"}`},
		{"intercom.reply_to_conversation", `{"conversation_id":"1","admin_id":"2","message_type":"comment"}`},
		{"mailchimp_api_key.add_list_member", `{"list_id":"9e67587f52","email_address":"a@example.com","status":"maybe"}`},
		{"shopify.list_products", `{"first":500}`},
		{"dropbox.create_folder", `{"path":"no-leading-slash"}`},
		{"zoom.create_meeting", `{"topic":"x","type":3}`},
		{"clickup.create_task", `{"list_id":"1","name":"x","priority":5}`},
		{"typeform.get_form", `{"form_id":"u6nXL7","extra":1}`},
	} {
		t.Run(tt.ref, func(t *testing.T) { refusal(t, tt.ref, tt.input) })
	}
}
