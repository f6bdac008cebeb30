package actions_test

import (
	"net/http"
	"net/url"

	"github.com/latchkeyhq/latchkey/internal/appapi"
)

// Batch c: each row is written out from the provider's own reference for
// the request (the action's docs_url), not from the template.

func header(name, value string) func(*http.Request) bool {
	return func(r *http.Request) bool { return r.Header.Get(name) == value }
}

func basic(user, pass string) func(*http.Request) bool {
	return func(r *http.Request) bool { u, p, ok := r.BasicAuth(); return ok && u == user && p == pass }
}

const shopifyGraphQL = "/admin/api/2025-10/graphql.json"

func init() {
	zendesk := appapi.Values{"subdomain": "acme", "oauth_access_token": "zd-1"}
	intercom := appapi.Values{"access_token": "ic-1"}
	mailchimp := appapi.Values{"dc": "us6", "api_key": "mc-key-us6"}
	shopify := appapi.Values{"shop": "acme", "oauth_access_token": "shpat_1"}
	dropbox := appapi.Values{"oauth_access_token": "sl.1"}
	zoom := appapi.Values{"oauth_access_token": "zm-1"}
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
			auth: basic("latchkey", "mc-key-us6")},
		{ref: "mailchimp_api_key.add_list_member", values: mailchimp,
			input:  `{"list_id":"9e67587f52","email_address":"urist@example.com","status":"subscribed","merge_fields":{"FNAME":"Urist"},"tags":["vip"]}`,
			method: "POST", path: "/3.0/lists/9e67587f52/members", auth: basic("latchkey", "mc-key-us6"),
			json: `{"email_address":"urist@example.com","status":"subscribed","merge_fields":{"FNAME":"Urist"},"tags":["vip"]}`},
		{ref: "mailchimp_api_key.search_members", values: mailchimp,
			input:  `{"query":"urist@example.com","list_id":"9e67587f52"}`,
			method: "GET", path: "/3.0/search-members",
			query: url.Values{"query": {"urist@example.com"}, "list_id": {"9e67587f52"}},
			auth:  basic("latchkey", "mc-key-us6")},

		// Shopify GraphQL Admin API: POST /admin/api/{version}/graphql.json,
		// the token in X-Shopify-Access-Token.
		{ref: "shopify.list_products", values: shopify,
			input:  `{"first":5,"search":"status:active"}`,
			method: "POST", path: shopifyGraphQL, auth: header("X-Shopify-Access-Token", "shpat_1"),
			json: `{"query":"query Products($first: Int = 10, $after: String, $query: String) { products(first: $first, after: $after, query: $query) { nodes { id title handle status vendor productType totalInventory } pageInfo { hasNextPage endCursor } } }","variables":{"first":5,"query":"status:active"}}`},
		{ref: "shopify.create_product", values: shopify,
			input:  `{"title":"Red Ball","product_type":"Toy","vendor":"Toys","status":"DRAFT","tags":["summer"]}`,
			method: "POST", path: shopifyGraphQL, auth: header("X-Shopify-Access-Token", "shpat_1"),
			json: `{"query":"mutation ProductCreate($product: ProductCreateInput!) { productCreate(product: $product) { product { id title handle status } userErrors { field message } } }","variables":{"product":{"title":"Red Ball","productType":"Toy","vendor":"Toys","status":"DRAFT","tags":["summer"]}}}`},
		{ref: "shopify.list_orders", values: shopify,
			input:  `{"search":"financial_status:paid","after":"eyJsYXN0X2lkIjo0fQ=="}`,
			method: "POST", path: shopifyGraphQL, auth: header("X-Shopify-Access-Token", "shpat_1"),
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
	}...)
}
