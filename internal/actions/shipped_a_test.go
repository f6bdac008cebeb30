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
	}...)
}

func githubAuth(tok string) func(*http.Request) bool {
	return func(r *http.Request) bool {
		return bearer(tok)(r) && r.Header.Get("Accept") == "application/vnd.github+json" && r.Header.Get("X-GitHub-Api-Version") == "2022-11-28"
	}
}
