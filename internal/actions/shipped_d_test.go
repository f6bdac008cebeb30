package actions_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/latchkeyhq/latchkey/internal/appapi"
)

// Batch d: monday, todoist, pipedrive, gitlab, anthropic, postmark,
// mailgun, pagerduty, sentry. Each row is written from the action's
// docs_url page.

const (
	mondayCreateItem  = `mutation ($board_id: ID!, $item_name: String!, $group_id: String, $column_values: JSON) { create_item(board_id: $board_id, item_name: $item_name, group_id: $group_id, column_values: $column_values) { id name url } }`
	mondayItemsPage   = `query ($board_ids: [ID!], $limit: Int! = 25, $cursor: String) { boards(ids: $board_ids) { items_page(limit: $limit, cursor: $cursor) { cursor items { id name group { id title } column_values { id text } } } } }`
	mondayCreateUpdat = `mutation ($item_id: ID!, $body: String!) { create_update(item_id: $item_id, body: $body) { id } }`
)

func header(name, value string) func(*http.Request) bool {
	return func(r *http.Request) bool { return r.Header.Get(name) == value }
}

func all(checks ...func(*http.Request) bool) func(*http.Request) bool {
	return func(r *http.Request) bool {
		for _, c := range checks {
			if !c(r) {
				return false
			}
		}
		return true
	}
}

func basic(user, pass string) func(*http.Request) bool {
	return func(r *http.Request) bool { u, p, ok := r.BasicAuth(); return ok && u == user && p == pass }
}

var (
	mondayAuth    = header("Authorization", "mon-tok")
	anthropicAuth = all(header("x-api-key", "sk-ant-1"), header("anthropic-version", "2023-06-01"))
	postmarkAuth  = all(header("X-Postmark-Server-Token", "pm-tok"), header("Accept", "application/json"))
	pagerdutyAuth = all(header("Authorization", "Token token=pd-key"), header("Accept", "application/vnd.pagerduty+json;version=2"))
)

func init() {
	shippedCases = append(shippedCases, []shippedCase{
		// monday.com: one GraphQL endpoint, https://api.monday.com/v2. The
		// base URL is that endpoint and an action's path must start with /,
		// so the request goes to /v2/, which the API serves as /v2.
		{ref: "monday.create_item", values: appapi.Values{"api_token": "mon-tok"},
			input:  `{"board_id":"1234567890","item_name":"Ship it","group_id":"topics","column_values":"{\"status\":{\"label\":\"Done\"}}"}`,
			method: "POST", path: "/v2/", auth: mondayAuth,
			json: `{"query":` + quote(mondayCreateItem) + `,"variables":{"board_id":"1234567890","item_name":"Ship it","group_id":"topics","column_values":"{\"status\":{\"label\":\"Done\"}}"}}`},
		{ref: "monday.list_items", values: appapi.Values{"api_token": "mon-tok"},
			input:  `{"board_id":"1234567890","limit":50}`,
			method: "POST", path: "/v2/", auth: mondayAuth,
			json: `{"query":` + quote(mondayItemsPage) + `,"variables":{"board_ids":["1234567890"],"limit":50}}`},
		{ref: "monday.create_update", values: appapi.Values{"api_token": "mon-tok"},
			input:  `{"item_id":"9876543210","body":"Done, see the PR."}`,
			method: "POST", path: "/v2/", auth: mondayAuth,
			json: `{"query":` + quote(mondayCreateUpdat) + `,"variables":{"item_id":"9876543210","body":"Done, see the PR."}}`},

		// Todoist API v1.
		{ref: "todoist.create_task", values: appapi.Values{"api_token": "td-tok"},
			input:  `{"content":"Buy milk","project_id":"2203306141","labels":["errands"],"priority":4,"due_string":"tomorrow at 9am"}`,
			method: "POST", path: "/api/v1/tasks", auth: bearer("td-tok"),
			json: `{"content":"Buy milk","project_id":"2203306141","labels":["errands"],"priority":4,"due_string":"tomorrow at 9am"}`},
		{ref: "todoist.list_tasks", values: appapi.Values{"api_token": "td-tok"},
			input:  `{"project_id":"2203306141","limit":50}`,
			method: "GET", path: "/api/v1/tasks", query: url.Values{"project_id": {"2203306141"}, "limit": {"50"}}, auth: bearer("td-tok")},
		{ref: "todoist.close_task", values: appapi.Values{"api_token": "td-tok"},
			input:  `{"task_id":"7890123456"}`,
			method: "POST", path: "/api/v1/tasks/7890123456/close", auth: bearer("td-tok")},

		// Pipedrive API v1, on the company domain the token came with.
		{ref: "pipedrive.create_lead", values: appapi.Values{"oauth_access_token": "pd-1", "api_domain": standIn},
			input:  `{"title":"Acme deal","organization_id":42,"value":{"amount":5000,"currency":"EUR"},"expected_close_date":"2026-09-30"}`,
			method: "POST", path: "/api/v1/leads", auth: bearer("pd-1"),
			json: `{"title":"Acme deal","organization_id":42,"value":{"amount":5000,"currency":"EUR"},"expected_close_date":"2026-09-30"}`},
		{ref: "pipedrive.list_leads", values: appapi.Values{"oauth_access_token": "pd-1", "api_domain": standIn},
			input:  `{"limit":10,"organization_id":42}`,
			method: "GET", path: "/api/v1/leads", query: url.Values{"limit": {"10"}, "organization_id": {"42"}}, auth: bearer("pd-1")},
		{ref: "pipedrive.add_note", values: appapi.Values{"oauth_access_token": "pd-1", "api_domain": standIn},
			input:  `{"content":"Called, interested.","deal_id":7}`,
			method: "POST", path: "/api/v1/notes", auth: bearer("pd-1"),
			json: `{"content":"Called, interested.","deal_id":7}`},

		// GitLab REST API v4: a project path is one URL-encoded segment.
		{ref: "gitlab.create_issue", values: appapi.Values{"oauth_access_token": "gl-1"},
			input:  `{"project":"my-group/my-project","title":"Crash on save","description":"Steps to reproduce","labels":"bug,backend","assignee_ids":[12]}`,
			method: "POST", path: "/api/v4/projects/my-group%2Fmy-project/issues", auth: bearer("gl-1"),
			json: `{"title":"Crash on save","description":"Steps to reproduce","labels":"bug,backend","assignee_ids":[12]}`},
		{ref: "gitlab.list_issues", values: appapi.Values{"oauth_access_token": "gl-1"},
			input:  `{"project":"42","state":"opened","labels":"bug","per_page":20}`,
			method: "GET", path: "/api/v4/projects/42/issues", query: url.Values{"state": {"opened"}, "labels": {"bug"}, "per_page": {"20"}}, auth: bearer("gl-1")},
		{ref: "gitlab.comment_on_issue", values: appapi.Values{"oauth_access_token": "gl-1"},
			input:  `{"project":"42","issue_iid":7,"body":"Fixed in !12."}`,
			method: "POST", path: "/api/v4/projects/42/issues/7/notes", auth: bearer("gl-1"),
			json: `{"body":"Fixed in !12."}`},

		// Anthropic: x-api-key and anthropic-version on every request.
		{ref: "anthropic.create_message", values: appapi.Values{"api_key": "sk-ant-1"},
			input:  `{"model":"claude-sonnet-4-5","max_tokens":1024,"messages":[{"role":"user","content":"Hello, Claude"}],"system":"Be brief."}`,
			method: "POST", path: "/v1/messages", auth: anthropicAuth,
			json: `{"model":"claude-sonnet-4-5","max_tokens":1024,"messages":[{"role":"user","content":"Hello, Claude"}],"system":"Be brief."}`},
		{ref: "anthropic.count_tokens", values: appapi.Values{"api_key": "sk-ant-1"},
			input:  `{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"Hello, Claude"}]}`,
			method: "POST", path: "/v1/messages/count_tokens", auth: anthropicAuth,
			json: `{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"Hello, Claude"}]}`},
		{ref: "anthropic.list_models", values: appapi.Values{"api_key": "sk-ant-1"},
			input:  `{"limit":20}`,
			method: "GET", path: "/v1/models", query: url.Values{"limit": {"20"}}, auth: anthropicAuth},

		// Postmark: the server token header; the request examples of the pages.
		{ref: "postmark.send_email", values: appapi.Values{"server_token": "pm-tok"},
			input:  `{"from":"sender@example.com","to":"receiver@example.com","subject":"Postmark test","text_body":"Hello dear Postmark user.","html_body":"<html><body><strong>Hello</strong> dear Postmark user.</body></html>","message_stream":"outbound"}`,
			method: "POST", path: "/email", auth: postmarkAuth,
			json: `{"From":"sender@example.com","To":"receiver@example.com","Subject":"Postmark test","TextBody":"Hello dear Postmark user.","HtmlBody":"<html><body><strong>Hello</strong> dear Postmark user.</body></html>","MessageStream":"outbound"}`},
		{ref: "postmark.send_email_with_template", values: appapi.Values{"server_token": "pm-tok"},
			input:  `{"from":"sender@example.com","to":"receiver@example.com","template_id":1234,"template_model":{"user_name":"John Smith"}}`,
			method: "POST", path: "/email/withTemplate", auth: postmarkAuth,
			json: `{"From":"sender@example.com","To":"receiver@example.com","TemplateId":1234,"TemplateModel":{"user_name":"John Smith"}}`},
		{ref: "postmark.search_outbound_messages", values: appapi.Values{"server_token": "pm-tok"},
			input:  `{"count":50,"offset":0}`,
			method: "GET", path: "/messages/outbound", query: url.Values{"count": {"50"}, "offset": {"0"}}, auth: postmarkAuth},

		// Mailgun: HTTP basic auth, user "api".
		{ref: "mailgun.list_domains", values: appapi.Values{"api_key": "mg-key"},
			input:  `{"limit":10,"state":"active"}`,
			method: "GET", path: "/v4/domains", query: url.Values{"limit": {"10"}, "state": {"active"}}, auth: basic("api", "mg-key")},
		{ref: "mailgun.get_domain", values: appapi.Values{"api_key": "mg-key"},
			input:  `{"domain":"mg.example.com"}`,
			method: "GET", path: "/v4/domains/mg.example.com", auth: basic("api", "mg-key")},
		{ref: "mailgun.list_templates", values: appapi.Values{"api_key": "mg-key"},
			input:  `{"domain":"mg.example.com","limit":10}`,
			method: "GET", path: "/v3/mg.example.com/templates", query: url.Values{"limit": {"10"}}, auth: basic("api", "mg-key")},

		// PagerDuty REST API v2: writes name the acting user in From.
		{ref: "pagerduty.create_incident", values: appapi.Values{"api_key": "pd-key"},
			input:  `{"from_email":"oncall@example.com","title":"The server is on fire.","service_id":"PWIXJZS","urgency":"high","details":"A disk is getting full on this machine.","incident_key":"baf7cf21b1da41b4b0221008339ff357"}`,
			method: "POST", path: "/incidents", auth: all(pagerdutyAuth, header("From", "oncall@example.com")),
			json: `{"incident":{"type":"incident","title":"The server is on fire.","service":{"id":"PWIXJZS","type":"service_reference"},"urgency":"high","incident_key":"baf7cf21b1da41b4b0221008339ff357","body":{"type":"incident_body","details":"A disk is getting full on this machine."}}}`},
		{ref: "pagerduty.list_incidents", values: appapi.Values{"api_key": "pd-key"},
			input:  `{"status":"triggered","service_id":"PWIXJZS","limit":25}`,
			method: "GET", path: "/incidents", query: url.Values{"statuses[]": {"triggered"}, "service_ids[]": {"PWIXJZS"}, "limit": {"25"}}, auth: pagerdutyAuth},
		{ref: "pagerduty.update_incident_status", values: appapi.Values{"api_key": "pd-key"},
			input:  `{"from_email":"oncall@example.com","incident_id":"PT4KHLK","status":"acknowledged"}`,
			method: "PUT", path: "/incidents/PT4KHLK", auth: all(pagerdutyAuth, header("From", "oncall@example.com")),
			json: `{"incident":{"type":"incident_reference","status":"acknowledged"}}`},

		// Sentry: organization-scoped issue endpoints, with their trailing /.
		{ref: "sentry.list_issues", values: appapi.Values{"auth_token": "sntrys_1"},
			input:  `{"organization":"the-interstellar-jurisdiction","query":"is:unresolved","project":1,"stats_period":"24h"}`,
			method: "GET", path: "/api/0/organizations/the-interstellar-jurisdiction/issues/",
			query: url.Values{"query": {"is:unresolved"}, "project": {"1"}, "statsPeriod": {"24h"}}, auth: bearer("sntrys_1")},
		{ref: "sentry.get_issue", values: appapi.Values{"auth_token": "sntrys_1"},
			input:  `{"organization":"the-interstellar-jurisdiction","issue_id":"1"}`,
			method: "GET", path: "/api/0/organizations/the-interstellar-jurisdiction/issues/1/", auth: bearer("sntrys_1")},
		{ref: "sentry.update_issue", values: appapi.Values{"auth_token": "sntrys_1"},
			input:  `{"organization":"the-interstellar-jurisdiction","issue_id":"1","status":"resolved","assigned_to":"jane"}`,
			method: "PUT", path: "/api/0/organizations/the-interstellar-jurisdiction/issues/1/", auth: bearer("sntrys_1"),
			json: `{"status":"resolved","assignedTo":"jane"}`},
	}...)
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestShippedDRefusals: inputs the provider would refuse are refused
// before anything is sent, each naming what is wrong.
func TestShippedDRefusals(t *testing.T) {
	for _, tt := range []struct {
		ref, input, why string
	}{
		{"pipedrive.create_lead", `{"title":"Acme deal"}`, "a lead is linked to a person or an organization"},
		{"pipedrive.add_note", `{"content":"Hi"}`, "a note is attached to something"},
		{"postmark.send_email", `{"from":"a@example.com","to":"b@example.com","subject":"Hi"}`, "an email has a text or HTML body"},
		{"postmark.send_email_with_template", `{"from":"a@example.com","to":"b@example.com","template_model":{}}`, "a template is named by ID or alias"},
		{"postmark.send_email_with_template", `{"from":"a@example.com","to":"b@example.com","template_model":{},"template_id":1,"template_alias":"x"}`, "not by both"},
		{"postmark.search_outbound_messages", `{"count":501,"offset":0}`, "at most 500 a page"},
		{"sentry.update_issue", `{"organization":"o","issue_id":"1"}`, "an update changes something"},
		{"pagerduty.update_incident_status", `{"from_email":"a@example.com","incident_id":"P1","status":"closed"}`, "no such status"},
		{"anthropic.create_message", `{"model":"m","max_tokens":10,"messages":[{"role":"system","content":"x"}]}`, "the system prompt is not a message"},
		{"gitlab.list_issues", `{"project":"42","per_page":101}`, "at most 100 a page"},
		{"monday.list_items", `{"board_id":"1","limit":501}`, "at most 500 a page"},
		{"todoist.create_task", `{"content":"x","priority":5}`, "priority is 1 to 4"},
		{"sentry.list_issues", `{"organization":"o","stats_period":"a day"}`, "a period is a number and a unit"},
	} {
		t.Run(tt.ref+"/"+tt.why, func(t *testing.T) {
			refusal(t, tt.ref, tt.input)
		})
	}
}
