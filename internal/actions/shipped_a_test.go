package actions_test

import (
	"net/http"
	"net/url"

	"github.com/latchkeyhq/latchkey/internal/appapi"
)

// Batch a: the second and third actions of slack, github, sendgrid,
// google_sheets, notion, hubspot, linear, stripe, openai and twilio, and the
// first three of gmail, google_calendar and google_drive. Each row is the
// request as the action's docs_url documents it.
func init() {
	shippedCases = append(shippedCases, []shippedCase{
		// Slack reads conversations.list and .history from the query
		// string (it takes no JSON body there), under https://slack.com/api.
		{ref: "slack.list_channels", values: appapi.Values{"oauth_access_token": "xoxp-1"},
			input:  `{"types":"public_channel,private_channel","exclude_archived":true,"limit":200}`,
			method: "GET", path: "/api/conversations.list",
			query: url.Values{"types": {"public_channel,private_channel"}, "exclude_archived": {"true"}, "limit": {"200"}},
			auth:  bearer("xoxp-1")},
		{ref: "slack.channel_history", values: appapi.Values{"oauth_access_token": "xoxp-1"},
			input:  `{"channel":"C0123456789","limit":20,"oldest":"1712345678.000100"}`,
			method: "GET", path: "/api/conversations.history",
			query: url.Values{"channel": {"C0123456789"}, "limit": {"20"}, "oldest": {"1712345678.000100"}},
			auth:  bearer("xoxp-1")},

		{ref: "github.list_issues", values: appapi.Values{"oauth_access_token": "gho_1"},
			input:  `{"owner":"octocat","repo":"hello-world","state":"all","labels":"bug,ui","per_page":50}`,
			method: "GET", path: "/repos/octocat/hello-world/issues",
			query: url.Values{"state": {"all"}, "labels": {"bug,ui"}, "per_page": {"50"}},
			auth:  githubAuth("gho_1")},
		{ref: "github.comment_on_issue", values: appapi.Values{"oauth_access_token": "gho_1"},
			input:  `{"owner":"octocat","repo":"hello-world","issue_number":1347,"body":"Me too"}`,
			method: "POST", path: "/repos/octocat/hello-world/issues/1347/comments",
			auth: githubAuth("gho_1"),
			json: `{"body":"Me too"}`},

		{ref: "sendgrid.send_template_email", values: appapi.Values{"api_key": "SG.key"},
			input:  `{"to":[{"email":"ann@example.com","name":"Ann"}],"from":{"email":"bob@example.com"},"template_id":"d-f43daeeaef504760851f727007e0b5d0","template_data":{"total":"$ 239.85"}}`,
			method: "POST", path: "/v3/mail/send", auth: bearer("SG.key"),
			json: `{"personalizations":[{"to":[{"email":"ann@example.com","name":"Ann"}],"dynamic_template_data":{"total":"$ 239.85"}}],"from":{"email":"bob@example.com"},"template_id":"d-f43daeeaef504760851f727007e0b5d0"}`},
		{ref: "sendgrid.upsert_contacts", values: appapi.Values{"api_key": "SG.key"},
			input:  `{"contacts":[{"email":"ann@example.com","first_name":"Ann"}],"list_ids":["ca7a3796-e8a8-4029-9ccb-df8937940562"]}`,
			method: "PUT", path: "/v3/marketing/contacts", auth: bearer("SG.key"),
			json: `{"list_ids":["ca7a3796-e8a8-4029-9ccb-df8937940562"],"contacts":[{"email":"ann@example.com","first_name":"Ann"}]}`},

		// The range is one path segment: "!" is percent-encoded, ":" may
		// stay as it is.
		{ref: "google_sheets.read_range", values: appapi.Values{"oauth_access_token": "ya29.x"},
			input:  `{"spreadsheet_id":"1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms","range":"Class Data!A2:E","value_render_option":"UNFORMATTED_VALUE"}`,
			method: "GET", path: "/v4/spreadsheets/1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms/values/Class%20Data%21A2:E",
			query: url.Values{"valueRenderOption": {"UNFORMATTED_VALUE"}}, auth: bearer("ya29.x")},
		{ref: "google_sheets.update_range", values: appapi.Values{"oauth_access_token": "ya29.x"},
			input:  `{"spreadsheet_id":"1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms","range":"Sheet1!A1:B2","values":[["Name","Score"],["Ann",42]]}`,
			method: "PUT", path: "/v4/spreadsheets/1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms/values/Sheet1%21A1:B2",
			query: url.Values{"valueInputOption": {"USER_ENTERED"}}, auth: bearer("ya29.x"),
			json: `{"values":[["Name","Score"],["Ann",42]]}`},

		{ref: "notion.search", values: appapi.Values{"oauth_access_token": "ntn_1"},
			input:  `{"query":"meeting notes","page_size":10}`,
			method: "POST", path: "/v1/search", auth: notionAuth("ntn_1"),
			json: `{"query":"meeting notes","page_size":10,"sort":{"direction":"descending","timestamp":"last_edited_time"}}`},
		{ref: "notion.append_paragraph", values: appapi.Values{"oauth_access_token": "ntn_1"},
			input:  `{"block_id":"b55c9c91-384d-452b-81db-d1ef79372b75","text":"Lacinato kale"}`,
			method: "PATCH", path: "/v1/blocks/b55c9c91-384d-452b-81db-d1ef79372b75/children", auth: notionAuth("ntn_1"),
			json: `{"children":[{"object":"block","type":"paragraph","paragraph":{"rich_text":[{"type":"text","text":{"content":"Lacinato kale"}}]}}]}`},

		// HubSpot's date-versioned CRM paths: /crm/objects/2026-03/...
		{ref: "hubspot.get_contact", values: appapi.Values{"oauth_access_token": "hs-1"},
			input:  `{"contact_id":"ann@example.com","id_property":"email","properties":"email,firstname,phone"}`,
			method: "GET", path: "/crm/objects/2026-03/contacts/ann@example.com",
			query: url.Values{"idProperty": {"email"}, "properties": {"email,firstname,phone"}}, auth: bearer("hs-1")},
		{ref: "hubspot.search_contacts", values: appapi.Values{"oauth_access_token": "hs-1"},
			input:  `{"filter_groups":[{"filters":[{"propertyName":"email","operator":"CONTAINS_TOKEN","value":"*@hubspot.com"}]}],"properties":["email","firstname"],"limit":20}`,
			method: "POST", path: "/crm/objects/2026-03/contacts/search", auth: bearer("hs-1"),
			json: `{"filterGroups":[{"filters":[{"propertyName":"email","operator":"CONTAINS_TOKEN","value":"*@hubspot.com"}]}],"properties":["email","firstname"],"limit":20}`},

		{ref: "linear.list_teams", values: appapi.Values{"oauth_access_token": "lin_1"},
			input:  `{"first":10}`,
			method: "POST", path: "/graphql", auth: bearer("lin_1"),
			json: `{"query":"query Teams($first: Int, $after: String) { teams(first: $first, after: $after) { nodes { id key name } pageInfo { hasNextPage endCursor } } }","variables":{"first":10}}`},
		{ref: "linear.create_comment", values: appapi.Values{"oauth_access_token": "lin_1"},
			input:  `{"issue_id":"9cfb482a-81e3-4154-b5b9-2c805e70a02d","body":"Fixed in main."}`,
			method: "POST", path: "/graphql", auth: bearer("lin_1"),
			json: `{"query":"mutation CommentCreate($input: CommentCreateInput!) { commentCreate(input: $input) { success comment { id url } } }","variables":{"input":{"issueId":"9cfb482a-81e3-4154-b5b9-2c805e70a02d","body":"Fixed in main."}}}`},

		// Stripe takes form-encoded bodies.
		{ref: "stripe.create_customer", values: appapi.Values{"secret_key": "sk_test_1"},
			input:  `{"email":"jenny.rosen@example.com","name":"Jenny Rosen"}`,
			method: "POST", path: "/v1/customers", auth: bearer("sk_test_1"),
			form: url.Values{"email": {"jenny.rosen@example.com"}, "name": {"Jenny Rosen"}}},
		{ref: "stripe.list_customers", values: appapi.Values{"secret_key": "sk_test_1"},
			input:  `{"email":"jenny.rosen@example.com","limit":3}`,
			method: "GET", path: "/v1/customers",
			query: url.Values{"email": {"jenny.rosen@example.com"}, "limit": {"3"}}, auth: bearer("sk_test_1")},

		{ref: "openai.create_response", values: appapi.Values{"api_key": "sk-proj-1"},
			input:  `{"model":"gpt-4.1","input":"Tell me a three sentence bedtime story about a unicorn.","instructions":"Be brief."}`,
			method: "POST", path: "/v1/responses", auth: bearer("sk-proj-1"),
			json: `{"model":"gpt-4.1","input":"Tell me a three sentence bedtime story about a unicorn.","instructions":"Be brief."}`},
		{ref: "openai.create_embedding", values: appapi.Values{"api_key": "sk-proj-1"},
			input:  `{"model":"text-embedding-3-small","input":["The food was delicious","The waiter was friendly"],"dimensions":256}`,
			method: "POST", path: "/v1/embeddings", auth: bearer("sk-proj-1"),
			json: `{"model":"text-embedding-3-small","input":["The food was delicious","The waiter was friendly"],"dimensions":256}`},

		// Twilio's Account SID is the account's own field, named in the path.
		{ref: "twilio.list_messages", values: appapi.Values{"account_sid": twilioSID, "auth_token": "tok"},
			input:  `{"to":"+14155552671","date_sent":"2024-07-06","page_size":20}`,
			method: "GET", path: "/2010-04-01/Accounts/" + twilioSID + "/Messages.json",
			query: url.Values{"To": {"+14155552671"}, "DateSent": {"2024-07-06"}, "PageSize": {"20"}},
			auth:  twilioAuth("tok")},
		{ref: "twilio.get_message", values: appapi.Values{"account_sid": twilioSID, "auth_token": "tok"},
			input:  `{"message_sid":"SM1234567890abcdef1234567890abcdef"}`,
			method: "GET", path: "/2010-04-01/Accounts/" + twilioSID + "/Messages/SM1234567890abcdef1234567890abcdef.json",
			auth: twilioAuth("tok")},

		// Gmail: https://gmail.googleapis.com/gmail/v1/users/{userId}/...,
		// with the special userId "me".
		{ref: "gmail.list_messages", values: appapi.Values{"oauth_access_token": "ya29.g"},
			input:  `{"q":"from:someuser@example.com is:unread","label_id":"INBOX","max_results":25}`,
			method: "GET", path: "/gmail/v1/users/me/messages",
			query: url.Values{"q": {"from:someuser@example.com is:unread"}, "labelIds": {"INBOX"}, "maxResults": {"25"}},
			auth:  bearer("ya29.g")},
		{ref: "gmail.get_message", values: appapi.Values{"oauth_access_token": "ya29.g"},
			input:  `{"id":"18f2c3a4b5d6e7f8","format":"metadata"}`,
			method: "GET", path: "/gmail/v1/users/me/messages/18f2c3a4b5d6e7f8",
			query: url.Values{"format": {"metadata"}}, auth: bearer("ya29.g")},
		{ref: "gmail.send_message", values: appapi.Values{"oauth_access_token": "ya29.g"},
			// "To: ann@example.com\r\nSubject: Hi\r\n\r\nHello", base64url.
			input:  `{"raw":"VG86IGFubkBleGFtcGxlLmNvbQ0KU3ViamVjdDogSGkNCg0KSGVsbG8"}`,
			method: "POST", path: "/gmail/v1/users/me/messages/send", auth: bearer("ya29.g"),
			json: `{"raw":"VG86IGFubkBleGFtcGxlLmNvbQ0KU3ViamVjdDogSGkNCg0KSGVsbG8"}`},

		// Calendar: https://www.googleapis.com/calendar/v3/...; a calendar
		// ID is an email address, one path segment.
		{ref: "google_calendar.list_calendars", values: appapi.Values{"oauth_access_token": "ya29.c"},
			input:  `{"min_access_role":"writer"}`,
			method: "GET", path: "/calendar/v3/users/me/calendarList",
			query: url.Values{"minAccessRole": {"writer"}}, auth: bearer("ya29.c")},
		{ref: "google_calendar.list_events", values: appapi.Values{"oauth_access_token": "ya29.c"},
			input:  `{"calendar_id":"primary","time_min":"2025-06-03T00:00:00Z","time_max":"2025-06-04T00:00:00Z","max_results":10}`,
			method: "GET", path: "/calendar/v3/calendars/primary/events",
			query: url.Values{"singleEvents": {"true"}, "orderBy": {"startTime"}, "timeMin": {"2025-06-03T00:00:00Z"},
				"timeMax": {"2025-06-04T00:00:00Z"}, "maxResults": {"10"}},
			auth: bearer("ya29.c")},
		{ref: "google_calendar.create_event", values: appapi.Values{"oauth_access_token": "ya29.c"},
			input: `{"calendar_id":"team@example.com","summary":"Google I/O 2015","location":"800 Howard St., San Francisco, CA 94103",
				"start":{"dateTime":"2015-05-28T09:00:00-07:00","timeZone":"America/Los_Angeles"},
				"end":{"dateTime":"2015-05-28T17:00:00-07:00","timeZone":"America/Los_Angeles"},
				"attendees":[{"email":"lpage@example.com"}],"send_updates":"all"}`,
			method: "POST", path: "/calendar/v3/calendars/team@example.com/events",
			query: url.Values{"sendUpdates": {"all"}}, auth: bearer("ya29.c"),
			json: `{"summary":"Google I/O 2015","location":"800 Howard St., San Francisco, CA 94103",
				"start":{"dateTime":"2015-05-28T09:00:00-07:00","timeZone":"America/Los_Angeles"},
				"end":{"dateTime":"2015-05-28T17:00:00-07:00","timeZone":"America/Los_Angeles"},
				"attendees":[{"email":"lpage@example.com"}]}`},

		// Drive: https://www.googleapis.com/drive/v3/...; without fields
		// Drive returns only id, name and mimeType.
		{ref: "google_drive.list_files", values: appapi.Values{"oauth_access_token": "ya29.d"},
			input:  `{"q":"name contains 'report' and trashed = false","order_by":"modifiedTime desc","page_size":20}`,
			method: "GET", path: "/drive/v3/files",
			query: url.Values{"q": {"name contains 'report' and trashed = false"}, "orderBy": {"modifiedTime desc"}, "pageSize": {"20"},
				"fields": {"nextPageToken,files(id,name,mimeType,parents,modifiedTime,webViewLink)"}},
			auth: bearer("ya29.d")},
		{ref: "google_drive.get_file", values: appapi.Values{"oauth_access_token": "ya29.d"},
			input:  `{"file_id":"1ZdR3L3qP4Bkq8noWLJHSr_iBau0DNT4Kli4SxNc2YEo"}`,
			method: "GET", path: "/drive/v3/files/1ZdR3L3qP4Bkq8noWLJHSr_iBau0DNT4Kli4SxNc2YEo",
			query: url.Values{"fields": {"id,name,mimeType,description,parents,size,createdTime,modifiedTime,webViewLink,owners(displayName,emailAddress)"}},
			auth:  bearer("ya29.d")},
		{ref: "google_drive.create_folder", values: appapi.Values{"oauth_access_token": "ya29.d"},
			input:  `{"name":"Invoices","parents":["0ADK06pfg"]}`,
			method: "POST", path: "/drive/v3/files",
			query: url.Values{"fields": {"id,name,webViewLink"}}, auth: bearer("ya29.d"),
			json: `{"name":"Invoices","mimeType":"application/vnd.google-apps.folder","parents":["0ADK06pfg"]}`},
	}...)
}

func githubAuth(tok string) func(*http.Request) bool {
	return func(r *http.Request) bool {
		return bearer(tok)(r) && r.Header.Get("Accept") == "application/vnd.github+json" && r.Header.Get("X-GitHub-Api-Version") == "2022-11-28"
	}
}

func notionAuth(tok string) func(*http.Request) bool {
	return func(r *http.Request) bool { return bearer(tok)(r) && r.Header.Get("Notion-Version") == "2025-09-03" }
}

func twilioAuth(token string) func(*http.Request) bool {
	return func(r *http.Request) bool { u, p, ok := r.BasicAuth(); return ok && u == twilioSID && p == token }
}
