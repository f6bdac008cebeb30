package actions_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/latchkeyhq/latchkey/internal/appapi"
)

// Batch b: Microsoft Outlook and Teams (Graph), Discord, Jira, Confluence,
// Asana, Trello, Airtable and Salesforce. Each row is the request as the
// action's docs_url page documents it.

const (
	atlassianCloud = "1324a887-45db-1bf4-1e99-ef0ff456d421"
	trelloList     = "5abbe4b7ddc1b351ef961414"
)

func discordBot(tok string) func(*http.Request) bool {
	return func(r *http.Request) bool { return r.Header.Get("Authorization") == "Bot "+tok }
}

// trelloAuth: Trello's requests are signed with OAuth 1.0a, in the
// Authorization header, and carry no key or token in the query. (The
// signature itself is verified end to end in the server's tests.)
func trelloAuth(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	q := r.URL.Query()
	return strings.HasPrefix(h, "OAuth ") && strings.Contains(h, `oauth_consumer_key="trello-key"`) &&
		strings.Contains(h, `oauth_token="trello-tok"`) && strings.Contains(h, `oauth_signature_method="HMAC-SHA1"`) &&
		strings.Contains(h, "oauth_signature=") && !strings.Contains(h, "trello-secret") && !q.Has("key") && !q.Has("token")
}

func init() {
	graph := appapi.Values{"oauth_access_token": "eyJ0.graph", "tenant": "common"}
	// The site's cloud id is kept on the account from its accessible
	// resources, and the base URL names it.
	atlassian := appapi.Values{"oauth_access_token": "eyJ0.atl", "cloud_id": atlassianCloud}
	discord := appapi.Values{"bot_token": "MTA.bot"}
	trello := appapi.Values{"consumer_key": "trello-key", "oauth_token": "trello-tok", "oauth_token_secret": "trello-tok-secret",
		appapi.ConsumerSecretKey: "trello-secret"}
	airtable := appapi.Values{"access_token": "pat.air"}
	salesforce := appapi.Values{"oauth_access_token": "00D.sf", "instance_url": standInOrigin}
	trelloQuery := func(kv ...string) url.Values {
		q := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			q.Set(kv[i], kv[i+1])
		}
		return q
	}

	shippedCases = append(shippedCases, []shippedCase{
		// Microsoft Graph: POST /me/sendMail with {message, saveToSentItems}.
		{ref: "microsoft_outlook.send_mail", values: graph,
			input:  `{"to_recipients":[{"emailAddress":{"address":"ann@example.com"}}],"subject":"Lunch","content_type":"text","content":"Noon?"}`,
			method: "POST", path: "/v1.0/me/sendMail", auth: bearer("eyJ0.graph"),
			json: `{"message":{"subject":"Lunch","body":{"contentType":"text","content":"Noon?"},"toRecipients":[{"emailAddress":{"address":"ann@example.com"}}]}}`},
		{ref: "microsoft_outlook.list_messages", values: graph,
			input:  `{"top":5,"filter":"isRead eq false"}`,
			method: "GET", path: "/v1.0/me/messages",
			query: url.Values{"$top": {"5"}, "$filter": {"isRead eq false"},
				"$select": {"id,subject,from,toRecipients,receivedDateTime,bodyPreview,isRead,webLink"}},
			auth: bearer("eyJ0.graph")},
		{ref: "microsoft_outlook.get_message", values: graph,
			input:  `{"message_id":"AAMkAGI2TG93AAA="}`,
			method: "GET", path: "/v1.0/me/messages/AAMkAGI2TG93AAA=", auth: bearer("eyJ0.graph")},
		{ref: "microsoft_teams.list_joined_teams", values: graph,
			input:  `{}`,
			method: "GET", path: "/v1.0/me/joinedTeams", auth: bearer("eyJ0.graph")},
		{ref: "microsoft_teams.list_channels", values: graph,
			input:  `{"team_id":"893075dd-2487-4122-925f-022c42e20265"}`,
			method: "GET", path: "/v1.0/teams/893075dd-2487-4122-925f-022c42e20265/channels", auth: bearer("eyJ0.graph")},
		// The channel ID holds ":" and "@", legal in a path segment.
		{ref: "microsoft_teams.send_channel_message", values: graph,
			input:  `{"team_id":"fbe2bf47-16c8-47cf-b4a5-4b9b187c508b","channel_id":"19:4a95f7d8db4c4e7fae857bcebe0623e6@thread.tacv2","content":"Hello World"}`,
			method: "POST", path: "/v1.0/teams/fbe2bf47-16c8-47cf-b4a5-4b9b187c508b/channels/19:4a95f7d8db4c4e7fae857bcebe0623e6@thread.tacv2/messages",
			auth: bearer("eyJ0.graph"),
			json: `{"body":{"content":"Hello World"}}`},

		// Discord: a bot token goes as "Authorization: Bot <token>".
		{ref: "discord_bot.send_message", values: discord,
			input:  `{"channel_id":"1089521338827427852","content":"Deploy done"}`,
			method: "POST", path: "/api/v10/channels/1089521338827427852/messages", auth: discordBot("MTA.bot"),
			json: `{"content":"Deploy done"}`},
		{ref: "discord_bot.list_messages", values: discord,
			input:  `{"channel_id":"1089521338827427852","limit":20,"before":"1089869456764837888"}`,
			method: "GET", path: "/api/v10/channels/1089521338827427852/messages",
			query: url.Values{"limit": {"20"}, "before": {"1089869456764837888"}}, auth: discordBot("MTA.bot")},
		{ref: "discord_bot.list_guild_channels", values: discord,
			input:  `{"guild_id":"613425648685547541"}`,
			method: "GET", path: "/api/v10/guilds/613425648685547541/channels", auth: discordBot("MTA.bot")},

		// Jira Cloud through 3LO: /ex/jira/<cloudid>/rest/api/3/... on api.atlassian.com.
		{ref: "jira.create_issue", values: atlassian,
			input:  `{"project_key":"DT","issue_type":"Task","summary":"Rotate keys"}`,
			method: "POST", path: "/ex/jira/" + atlassianCloud + "/rest/api/3/issue", auth: bearer("eyJ0.atl"),
			json: `{"fields":{"project":{"key":"DT"},"issuetype":{"name":"Task"},"summary":"Rotate keys"}}`},
		{ref: "jira.search_issues", values: atlassian,
			input:  `{"jql":"assignee = currentUser() ORDER BY updated DESC","max_results":10}`,
			method: "GET", path: "/ex/jira/" + atlassianCloud + "/rest/api/3/search/jql",
			query: url.Values{"jql": {"assignee = currentUser() ORDER BY updated DESC"}, "maxResults": {"10"},
				"fields": {"summary,status,assignee,priority,issuetype,updated"}},
			auth: bearer("eyJ0.atl")},
		{ref: "jira.add_comment", values: atlassian,
			input:  `{"issue":"DT-7","body":{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":"Done"}]}]}}`,
			method: "POST", path: "/ex/jira/" + atlassianCloud + "/rest/api/3/issue/DT-7/comment", auth: bearer("eyJ0.atl"),
			json: `{"body":{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":"Done"}]}]}}`},

		// Confluence Cloud through 3LO: /ex/confluence/<cloudid>/wiki/...
		{ref: "confluence.search_content", values: atlassian,
			input:  `{"cql":"type=page","limit":25}`,
			method: "GET", path: "/ex/confluence/" + atlassianCloud + "/wiki/rest/api/search",
			query: url.Values{"cql": {"type=page"}, "limit": {"25"}}, auth: bearer("eyJ0.atl")},
		{ref: "confluence.create_page", values: atlassian,
			input:  `{"space_id":"65538","title":"Runbook","body":"<p>Step one</p>","parent_id":"98306"}`,
			method: "POST", path: "/ex/confluence/" + atlassianCloud + "/wiki/api/v2/pages", auth: bearer("eyJ0.atl"),
			json: `{"spaceId":"65538","status":"current","title":"Runbook","parentId":"98306","body":{"representation":"storage","value":"<p>Step one</p>"}}`},
		{ref: "confluence.get_page", values: atlassian,
			input:  `{"page_id":"98306"}`,
			method: "GET", path: "/ex/confluence/" + atlassianCloud + "/wiki/api/v2/pages/98306",
			query: url.Values{"body-format": {"storage"}}, auth: bearer("eyJ0.atl")},

		// Asana wraps every write in a data object.
		{ref: "asana.create_task", values: appapi.Values{"oauth_access_token": "1/asana"},
			input:  `{"name":"Buy catnip","workspace":"1100000000000001","projects":["1200000000000001"],"assignee":"me","due_on":"2026-06-01"}`,
			method: "POST", path: "/api/1.0/tasks", auth: bearer("1/asana"),
			json: `{"data":{"name":"Buy catnip","workspace":"1100000000000001","projects":["1200000000000001"],"assignee":"me","due_on":"2026-06-01"}}`},
		{ref: "asana.list_project_tasks", values: appapi.Values{"oauth_access_token": "1/asana"},
			input:  `{"project":"1200000000000001","limit":50}`,
			method: "GET", path: "/api/1.0/projects/1200000000000001/tasks",
			query: url.Values{"limit": {"50"}, "opt_fields": {"name,completed,assignee.name,due_on,permalink_url"}},
			auth:  bearer("1/asana")},
		{ref: "asana.get_task", values: appapi.Values{"oauth_access_token": "1/asana"},
			input:  `{"task":"1200000000000042"}`,
			method: "GET", path: "/api/1.0/tasks/1200000000000042", auth: bearer("1/asana")},

		// Trello: POST /1/cards takes its fields as query parameters.
		{ref: "trello.create_card", values: trello,
			input:  `{"list_id":"` + trelloList + `","name":"Ship it","desc":"Before Friday","pos":"top"}`,
			method: "POST", path: "/1/cards",
			query: trelloQuery("idList", trelloList, "name", "Ship it", "desc", "Before Friday", "pos", "top"),
			auth:  trelloAuth},
		{ref: "trello.list_board_lists", values: trello,
			input:  `{"board_id":"nC8QJJoZ"}`,
			method: "GET", path: "/1/boards/nC8QJJoZ/lists", query: trelloQuery(), auth: trelloAuth},
		{ref: "trello.list_cards", values: trello,
			input:  `{"list_id":"` + trelloList + `"}`,
			method: "GET", path: "/1/lists/" + trelloList + "/cards", query: trelloQuery(), auth: trelloAuth},

		// Airtable: a table name with a space is one escaped segment.
		{ref: "airtable.list_records", values: airtable,
			input:  `{"base_id":"appjEVaN8kBNXAWak","table":"Tasks 2026","view":"Grid view","page_size":50}`,
			method: "GET", path: "/v0/appjEVaN8kBNXAWak/Tasks%202026",
			query: url.Values{"view": {"Grid view"}, "pageSize": {"50"}}, auth: bearer("pat.air")},
		{ref: "airtable.create_record", values: airtable,
			input:  `{"base_id":"appjEVaN8kBNXAWak","table":"tblJdmvbrgizbYICO","fields":{"Name":"Ann","Age":31},"typecast":true}`,
			method: "POST", path: "/v0/appjEVaN8kBNXAWak/tblJdmvbrgizbYICO", auth: bearer("pat.air"),
			json: `{"fields":{"Name":"Ann","Age":31},"typecast":true}`},
		{ref: "airtable.update_record", values: airtable,
			input:  `{"base_id":"appjEVaN8kBNXAWak","table":"tblJdmvbrgizbYICO","record_id":"recJFjhekzhN0VWxB","fields":{"Status":"Done"}}`,
			method: "PATCH", path: "/v0/appjEVaN8kBNXAWak/tblJdmvbrgizbYICO/recJFjhekzhN0VWxB", auth: bearer("pat.air"),
			json: `{"fields":{"Status":"Done"}}`},

		// Salesforce: under the org's instance URL, /services/data/v63.0/...
		{ref: "salesforce.query", values: salesforce,
			input:  `{"soql":"SELECT Name, Id FROM Account"}`,
			method: "GET", path: "/services/data/v63.0/query",
			query: url.Values{"q": {"SELECT Name, Id FROM Account"}}, auth: bearer("00D.sf")},
		{ref: "salesforce.create_record", values: salesforce,
			input:  `{"sobject":"Account","fields":{"Name":"Express Logistics and Transport"}}`,
			method: "POST", path: "/services/data/v63.0/sobjects/Account/", auth: bearer("00D.sf"),
			json: `{"Name":"Express Logistics and Transport"}`},
		{ref: "salesforce.update_record", values: salesforce,
			input:  `{"sobject":"Account","record_id":"001D000000INjVe","fields":{"BillingCity":"San Francisco"}}`,
			method: "PATCH", path: "/services/data/v63.0/sobjects/Account/001D000000INjVe", auth: bearer("00D.sf"),
			json: `{"BillingCity":"San Francisco"}`},
	}...)
}

// TestShippedBRefusals: inputs the providers would reject, or that would
// reach the wrong place, are refused by the schema before anything is
// sent, naming the field at fault.
func TestShippedBRefusals(t *testing.T) {
	tests := []struct {
		ref, input, field string
	}{
		// Every Asana task lives in a workspace.
		{"asana.create_task", `{"name":"Buy catnip","projects":["1200000000000001"]}`, "workspace"},
		{"discord_bot.send_message", `{"channel_id":"general","content":"hi"}`, "channel_id"},
		{"discord_bot.send_message", `{"channel_id":"1089521338827427852","content":""}`, "content"},
		{"microsoft_outlook.send_mail", `{"to_recipients":[],"subject":"s","content_type":"text","content":"c"}`, "to_recipients"},
		{"microsoft_outlook.send_mail", `{"to_recipients":[{"emailAddress":{"address":"a@b.c"}}],"subject":"s","content_type":"markdown","content":"c"}`, "content_type"},
		{"airtable.update_record", `{"base_id":"appjEVaN8kBNXAWak","table":"T","record_id":"../x","fields":{}}`, "record_id"},
		{"trello.create_card", `{"list_id":"todo","name":"x"}`, "list_id"},
		{"salesforce.create_record", `{"sobject":"Account/../User","fields":{"Name":"x"}}`, "sobject"},
		{"salesforce.update_record", `{"sobject":"Account","record_id":"001D000000INjVe","fields":{}}`, "fields"},
		{"jira.create_issue", `{"project_key":"DT","issue_type":"Task","summary":"x","priority":"High"}`, "priority"},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			problems := refusal(t, tt.ref, tt.input)
			for _, p := range problems {
				if p.Field == tt.field {
					return
				}
			}
			t.Errorf("problems %+v do not name %q", problems, tt.field)
		})
	}
}
