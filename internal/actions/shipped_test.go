package actions_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/latchkeyhq/latchkey/internal/actions"
	"github.com/latchkeyhq/latchkey/internal/appapi"
	"github.com/latchkeyhq/latchkey/internal/catalog"
	"github.com/latchkeyhq/latchkey/internal/outbound"
)

// shippedCase is one shipped action's request as the provider's API
// reference documents it. Every expected value is written out from those
// docs (the action's docs_url), not derived from the action's template: a
// template that puts a field in the wrong place fails here.
type shippedCase struct {
	ref    string
	values appapi.Values
	input  string
	method string
	// path is the raw (escaped) path the provider documents, under its
	// host; query the parameters it must carry.
	path  string
	query url.Values
	// auth checks the credentials are where the app wants them.
	auth func(r *http.Request) bool
	// json is the documented JSON body; form the documented form body.
	json string
	form url.Values
}

func bearer(tok string) func(*http.Request) bool {
	return func(r *http.Request) bool { return r.Header.Get("Authorization") == "Bearer "+tok }
}

const twilioSID = "AC0123456789abcdef0123456789abcdef"

// standIn is standInOrigin (see atStandIn) by the name batch D's rows use.
const standIn = standInOrigin

var shippedCases = []shippedCase{
	{ref: "slack.post_message", values: appapi.Values{"oauth_access_token": "xoxp-1"},
		input:  `{"channel":"C0123456789","text":"Hello, world!"}`,
		method: "POST", path: "/api/chat.postMessage", auth: bearer("xoxp-1"),
		json: `{"channel":"C0123456789","text":"Hello, world!"}`},
	{ref: "github.create_issue", values: appapi.Values{"oauth_access_token": "gho_1"},
		input:  `{"owner":"octocat","repo":"hello-world","title":"Found a bug","body":"It breaks.","labels":["bug"]}`,
		method: "POST", path: "/repos/octocat/hello-world/issues",
		auth: func(r *http.Request) bool {
			return bearer("gho_1")(r) && r.Header.Get("Accept") == "application/vnd.github+json" && r.Header.Get("X-GitHub-Api-Version") == "2022-11-28"
		},
		json: `{"title":"Found a bug","body":"It breaks.","labels":["bug"]}`},
	{ref: "sendgrid.send_email", values: appapi.Values{"api_key": "SG.key"},
		input:  `{"to":[{"email":"ann@example.com"}],"from":{"email":"bob@example.com"},"subject":"Hi","text":"Hello"}`,
		method: "POST", path: "/v3/mail/send", auth: bearer("SG.key"),
		json: `{"personalizations":[{"to":[{"email":"ann@example.com"}]}],"from":{"email":"bob@example.com"},"subject":"Hi","content":[{"type":"text/plain","value":"Hello"}]}`},
	{ref: "google_sheets.append_row", values: appapi.Values{"oauth_access_token": "ya29.x"},
		input:  `{"spreadsheet_id":"1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms","range":"Sheet1!A1","values":["Ann",42]}`,
		method: "POST", path: "/v4/spreadsheets/1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms/values/Sheet1%21A1:append",
		query: url.Values{"valueInputOption": {"USER_ENTERED"}}, auth: bearer("ya29.x"),
		json: `{"values":[["Ann",42]]}`},
	{ref: "notion.create_page", values: appapi.Values{"oauth_access_token": "ntn_1"},
		input:  `{"parent_page_id":"59833787-2cf9-4fdf-8782-e53db20768a5","title":"Notes"}`,
		method: "POST", path: "/v1/pages",
		auth: func(r *http.Request) bool { return bearer("ntn_1")(r) && r.Header.Get("Notion-Version") != "" },
		json: `{"parent":{"page_id":"59833787-2cf9-4fdf-8782-e53db20768a5"},"properties":{"title":{"title":[{"text":{"content":"Notes"}}]}}}`},
	{ref: "hubspot.create_contact", values: appapi.Values{"oauth_access_token": "hs-1"},
		input:  `{"email":"ann@example.com","firstname":"Ann"}`,
		method: "POST", path: "/crm/objects/2026-03/contacts", auth: bearer("hs-1"),
		json: `{"properties":{"email":"ann@example.com","firstname":"Ann"}}`},
	{ref: "linear.create_issue", values: appapi.Values{"oauth_access_token": "lin_1"},
		input:  `{"team_id":"9cfb482a-81e3-4154-b5b9-2c805e70a02d","title":"Bug","priority":2}`,
		method: "POST", path: "/graphql", auth: bearer("lin_1"),
		json: `{"query":"mutation IssueCreate($input: IssueCreateInput!) { issueCreate(input: $input) { success issue { id identifier title url } } }","variables":{"input":{"teamId":"9cfb482a-81e3-4154-b5b9-2c805e70a02d","title":"Bug","priority":2}}}`},
	{ref: "stripe.list_charges", values: appapi.Values{"secret_key": "sk_test_1"},
		input:  `{"limit":3,"customer":"cus_123"}`,
		method: "GET", path: "/v1/charges", query: url.Values{"limit": {"3"}, "customer": {"cus_123"}}, auth: bearer("sk_test_1")},
	{ref: "openai.chat_completion", values: appapi.Values{"api_key": "sk-proj-1"},
		input:  `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}]}`,
		method: "POST", path: "/v1/chat/completions", auth: bearer("sk-proj-1"),
		json: `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}]}`},
	{ref: "twilio.send_sms", values: appapi.Values{"account_sid": twilioSID, "auth_token": "tok"},
		input:  `{"to":"+14155552671","from":"+15017122661","body":"Hi there"}`,
		method: "POST", path: "/2010-04-01/Accounts/" + twilioSID + "/Messages.json",
		auth: func(r *http.Request) bool { u, p, ok := r.BasicAuth(); return ok && u == twilioSID && p == "tok" },
		form: url.Values{"To": {"+14155552671"}, "From": {"+15017122661"}, "Body": {"Hi there"}}},
}

// TestShippedActions drives each shipped action's request, through the
// guarded client, to a loopback stand-in and checks it against the
// provider's documentation; an action without a case fails.
func TestShippedActions(t *testing.T) {
	cat, err := catalog.Load(catalog.Embedded())
	if err != nil {
		t.Fatal(err)
	}
	covered := map[string]bool{}
	for _, tt := range shippedCases {
		covered[tt.ref] = true
	}
	for _, a := range cat.All() {
		for _, act := range a.Actions {
			if ref := catalog.Ref(a.Slug, act.Name); !covered[ref] {
				t.Errorf("the shipped action %s has no case in shippedCases", ref)
			}
		}
	}
	for _, tt := range shippedCases {
		t.Run(tt.ref, func(t *testing.T) {
			slug, name, _ := catalog.SplitRef(tt.ref)
			app, ok := cat.Get(slug)
			if !ok {
				t.Fatalf("no app %s", slug)
			}
			act, ok := app.Action(name)
			if !ok {
				t.Fatalf("%s has no action %s", slug, name)
			}
			var seen *http.Request
			var body []byte
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				seen = r
				body, _ = io.ReadAll(r.Body)
				w.Header().Set("Content-Type", "application/json")
				w.Write([]byte(`{"ok":true}`))
			}))
			defer srv.Close()
			client := outbound.New(outbound.Options{Allow: []string{strings.TrimPrefix(srv.URL, "http://")}})
			input, err := actions.CheckInput(act, json.RawMessage(tt.input))
			if err != nil {
				t.Fatalf("the documented input is refused: %v", err)
			}
			ans, err := actions.Execute(context.Background(), client, app.WithOrigin(srv.URL), act, input, atStandIn(tt.values, srv.URL))
			if err != nil {
				t.Fatal(err)
			}
			if ans.Status != 200 || seen == nil {
				t.Fatalf("status %d, stand-in saw %v", ans.Status, seen)
			}
			if seen.Method != tt.method {
				t.Errorf("method %s, want %s", seen.Method, tt.method)
			}
			if got := seen.URL.EscapedPath(); got != tt.path {
				t.Errorf("path %s, want %s", got, tt.path)
			}
			if q := seen.URL.Query(); !reflect.DeepEqual(q, orEmpty(tt.query)) {
				t.Errorf("query %v, want %v", q, tt.query)
			}
			if !tt.auth(seen) {
				t.Errorf("the credentials are not where the app wants them: %v", seen.Header)
			}
			switch {
			case tt.json != "":
				if ct := seen.Header.Get("Content-Type"); ct != "application/json" {
					t.Errorf("Content-Type %q", ct)
				}
				var got, want any
				if err := json.Unmarshal(body, &got); err != nil {
					t.Fatalf("the body is not JSON: %s", body)
				}
				json.Unmarshal([]byte(tt.json), &want)
				if !reflect.DeepEqual(got, want) {
					t.Errorf("body %s\nwant %s", body, tt.json)
				}
			case tt.form != nil:
				if ct := seen.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
					t.Errorf("Content-Type %q", ct)
				}
				got, _ := url.ParseQuery(string(body))
				if !reflect.DeepEqual(got, tt.form) {
					t.Errorf("form %v, want %v", got, tt.form)
				}
			default:
				if len(body) != 0 {
					t.Errorf("a body was sent: %s", body)
				}
			}
		})
	}
}

// standInOrigin, as an account value, is replaced by the stand-in's
// origin: for apps whose whole origin is an account value
// ({instance_url}), which WithOrigin cannot rewrite.
const standInOrigin = "https://stand-in.invalid"

func atStandIn(v appapi.Values, origin string) appapi.Values {
	out := appapi.Values{}
	for k, s := range v {
		if s == standInOrigin {
			s = origin
		}
		out[k] = s
	}
	return out
}

func orEmpty(v url.Values) url.Values {
	if v == nil {
		return url.Values{}
	}
	return v
}

// refusal checks that the shipped action ref refuses input before
// anything is sent, and returns the problems it names.
func refusal(t *testing.T, ref, input string) []catalog.Problem {
	t.Helper()
	cat, err := catalog.Load(catalog.Embedded())
	if err != nil {
		t.Fatal(err)
	}
	slug, name, _ := catalog.SplitRef(ref)
	app, ok := cat.Get(slug)
	if !ok {
		t.Fatalf("no app %s", slug)
	}
	act, ok := app.Action(name)
	if !ok {
		t.Fatalf("no action %s", ref)
	}
	_, err = actions.CheckInput(act, json.RawMessage(input))
	var ie *actions.InputError
	if !errors.As(err, &ie) || len(ie.Problems) == 0 {
		t.Fatalf("%s accepted %s (%v); want it refused", ref, input, err)
	}
	return ie.Problems
}
