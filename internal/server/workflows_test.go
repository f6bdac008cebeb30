package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/oauth/oauthtest"
	"github.com/latchkeyhq/latchkey/internal/sandbox/sandboxtest"
	"github.com/latchkeyhq/latchkey/internal/server"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
)

// slackOverride is the operator's copy of the Slack entry, pointed at the
// in-test authorization server, so that the account is auths.slack.
const slackOverride = `slug: slack
name: Slack
categories: [chat]
docs_url: https://api.slack.com/authentication/oauth-v2
auth: oauth2
base_url: https://idp.example/api
oauth2:
  authorize_url: https://idp.example/authorize
  token_url: https://idp.example/token
  default_scopes: [openid, email, offline_access]
  client_auth: basic
identity:
  url: https://idp.example/userinfo
  label: '{email}'
`

// theExample is the code a user pastes first, exactly as the issue gives it.
const theExample = `const res = await fetch(process.env.SLACK_API_URL + "/chat.postMessage", {
  method: "POST",
  headers: { Authorization: ` + "`Bearer ${auths.slack.oauth_access_token}`" + `, "Content-Type": "application/json" },
  body: JSON.stringify({ text: "Hello, world!", channel: "#general" }),
})
return await res.json()`

// slackStandIn answers chat.postMessage for tokens the IdP says are valid.
type slackStandIn struct {
	*httptest.Server
	tokens atomic.Value // the last bearer token it saw
}

func newSlack(t *testing.T, idp *oauthtest.Server) *slackStandIn {
	s := &slackStandIn{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		s.tokens.Store(tok)
		if code, _ := userinfo(t, idp, tok); code != 200 || r.URL.Path != "/chat.postMessage" {
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"ok":false,"error":"invalid_auth"}`))
			return
		}
		var msg map[string]string
		json.NewDecoder(r.Body).Decode(&msg)
		json.NewEncoder(w).Encode(map[string]any{"ok": true, "channel": msg["channel"], "message": map[string]string{"text": msg["text"]}})
	}))
	t.Cleanup(s.Close)
	return s
}

func TestWorkflowEndToEnd(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("Node.js is not installed; code steps need node on PATH")
	}
	idp := newIdP(t)
	slack := newSlack(t, idp)
	sendgrid := newProvider(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "slack.yaml"), []byte(slackOverride), 0o600)
	clock := clockwork.NewFakeClockAt(time.Now())
	cfg := servertest.Config(t, "")
	cfg.CatalogDir = dir
	cfg.AppOrigins = map[string]string{"slack": idp.URL, "sendgrid": sendgrid.URL}
	cfg.StepNetworkAllow = sandboxtest.HostPorts(t, slack.URL)
	cfg.RefreshInterval = 0
	inst := servertest.Start(t, cfg, server.Options{Clock: clock})
	api, ctx := inst.Client(), context.Background()
	if _, err := api.SetOAuthClient(ctx, "slack", client.SetOAuthClient{ClientID: idp.ClientID(), ClientSecret: idp.ClientSecret(), Managed: true}); err != nil {
		t.Fatal(err)
	}
	f := &oauthFixture{idp: idp, clock: clock, inst: inst, api: api}
	slackAcc := f.connect(t, client.Connect{App: "slack", Nickname: ptr("work")})
	sgAcc, err := api.CreateAccount(ctx, client.CreateAccount{App: "sendgrid", Fields: map[string]string{"api_key": goodKey}})
	if err != nil {
		t.Fatal(err)
	}

	// The command step proves it got the key without printing it in its
	// result, and echoes its whole input to its logs, which must be masked.
	command := []string{"sh", "-c", `input=$(cat); echo "$input" >&2; if echo "$input" | grep -q '` + goodKey + `'; then echo '{"has_key":true}'; else echo '{"has_key":false}'; fi`}
	wf, err := api.CreateWorkflow(ctx, client.SaveWorkflow{Name: "Say hello", Steps: []client.WorkflowStep{
		{Key: "post", Kind: "code", Apps: []string{"slack"}, Accounts: map[string]string{"slack": slackAcc.ID},
			Code: "console.log('token is', auths.slack.oauth_access_token)\n$.export('channel', '#general')\n" + theExample,
			Env:  map[string]string{"SLACK_API_URL": slack.URL}},
		{Key: "check", Kind: "command", Apps: []string{"sendgrid"}, Accounts: map[string]string{"sendgrid": sgAcc.ID}, Command: command},
		{Key: "profile", Kind: "http", Accounts: map[string]string{"sendgrid": sgAcc.ID}, HTTP: &client.HTTPStep{App: "sendgrid", Path: "/v3/user/profile"}},
	}})
	if err != nil {
		t.Fatal(err)
	}

	// The slack token has expired: the run refreshes it before the step.
	clock.Advance(2 * time.Hour)
	run, err := api.RunWorkflow(ctx, wf.ID)
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != "succeeded" {
		t.Fatalf("run %s: %+v", run.Status, run.Steps)
	}
	if idp.Refreshes() != 1 {
		t.Fatalf("the IdP saw %d refreshes, want 1 before the step", idp.Refreshes())
	}
	if code, _ := userinfo(t, idp, slack.tokens.Load().(string)); code != 200 {
		t.Fatal("the code step sent a token that is not valid now")
	}
	post, check, profile := run.Steps[0], run.Steps[1], run.Steps[2]
	var posted map[string]any
	json.Unmarshal(post.Result, &posted)
	if posted["ok"] != true || posted["channel"] != "#general" {
		t.Fatalf("code step result %s", post.Result)
	}
	if string(post.Exports["channel"]) != `"#general"` {
		t.Errorf("exports %v", post.Exports)
	}
	if string(check.Result) != `{"has_key":true}` {
		t.Errorf("command step did not get the key: %s", check.Result)
	}
	if !strings.Contains(string(profile.Result), "Lovelace") || !strings.Contains(string(profile.Result), `"status":200`) {
		t.Errorf("http step result %s", profile.Result)
	}
	if post.DurationMS <= 0 && check.DurationMS <= 0 {
		t.Error("no durations recorded")
	}

	// Secrets are masked in what was stored, whatever the code printed.
	stored, err := api.GetRun(ctx, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(stored)
	if strings.Contains(string(raw), goodKey) || strings.Contains(string(raw), slack.tokens.Load().(string)) {
		t.Fatal("the stored run holds a secret")
	}
	if !strings.Contains(stored.Steps[0].Logs, "token is [redacted]") || !strings.Contains(stored.Steps[1].Logs, "[redacted]") {
		t.Fatalf("logs not masked as expected: %q / %q", stored.Steps[0].Logs, stored.Steps[1].Logs)
	}

	// Used by.
	used, err := api.UsedBy(ctx, slackAcc.ID)
	if err != nil || len(used) != 1 || used[0].ID != wf.ID || used[0].Name != "Say hello" {
		t.Fatalf("used by: %+v %v", used, err)
	}
	if err := api.DeleteAccount(ctx, sgAcc.ID); !client.IsProblem(err, "account-in-use") || !strings.Contains(err.Error(), "Say hello") {
		t.Fatalf("deleting an account in use: %v", err)
	}

	// SendGrid now refuses the key: the http step fails as a credentials
	// error with a Reconnect link, and the account turns needs_reconnect.
	sendgrid.Close()
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusUnauthorized) }))
	t.Cleanup(refusing.Close)
	inst.Stop()
	cfg.AppOrigins["sendgrid"] = refusing.URL
	inst = servertest.Start(t, cfg, server.Options{Clock: clock})
	api = inst.Client()
	wf2, err := api.CreateWorkflow(ctx, client.SaveWorkflow{Name: "Profile", Steps: []client.WorkflowStep{
		{Key: "profile", Kind: "http", Accounts: map[string]string{"sendgrid": sgAcc.ID}, HTTP: &client.HTTPStep{App: "sendgrid", Path: "/v3/user/profile"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	run, err = api.RunWorkflow(ctx, wf2.ID)
	if err != nil {
		t.Fatal(err)
	}
	st := run.Steps[0]
	if run.Status != "failed" || st.ErrorKind != "credentials" || st.ReconnectPath != "/v1/accounts/"+sgAcc.ID+"/reconnect" || st.AccountID != sgAcc.ID {
		t.Fatalf("401 step: %+v", st)
	}
	if st.AccountStatus != "needs_reconnect" {
		t.Fatalf("the account was not re-checked: %q", st.AccountStatus)
	}
	if acc, _ := api.GetAccount(ctx, sgAcc.ID); acc.Status != "needs_reconnect" {
		t.Fatalf("account after the re-check: %s", acc.Status)
	}
}

func TestStepLimits(t *testing.T) {
	inst := servertest.Start(t, servertest.Config(t, ""), server.Options{})
	api, ctx := inst.Client(), context.Background()
	steps := []client.WorkflowStep{{Key: "sleepy", Kind: "command", Command: []string{"sh", "-c", "sleep 30 & sleep 30"}, TimeoutSeconds: 1}}
	if _, err := exec.LookPath("node"); err == nil {
		steps = append([]client.WorkflowStep{{Key: "denied", Kind: "code", Code: "const e = new Error('nope'); e.status = 403; throw e"}}, steps...)
	}
	for _, st := range steps {
		wf, err := api.CreateWorkflow(ctx, client.SaveWorkflow{Name: st.Key, Steps: []client.WorkflowStep{st}})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		run, err := api.RunWorkflow(ctx, wf.ID)
		if err != nil {
			t.Fatal(err)
		}
		got := run.Steps[0]
		switch st.Key {
		case "sleepy":
			if got.ErrorKind != "timeout" || time.Since(start) > 15*time.Second {
				t.Fatalf("time limit: %+v after %v", got, time.Since(start))
			}
		case "denied":
			if got.ErrorKind != "credentials" || got.Error != "nope" {
				t.Fatalf("a 403 thrown by code: %+v", got)
			}
		}
	}
}

func TestWorkflowBadInput(t *testing.T) {
	inst := servertest.Start(t, servertest.Config(t, ""), server.Options{})
	api, ctx := inst.Client(), context.Background()
	key, err := api.CreateAccount(ctx, client.CreateAccount{App: "openai", Fields: map[string]string{"api_key": "sk-x"}, Test: ptr(false)})
	if err != nil {
		t.Fatal(err)
	}
	for name, steps := range map[string][]client.WorkflowStep{
		"no steps":          nil,
		"bad key":           {{Key: "Bad Key", Kind: "code", Code: "return 1"}},
		"duplicate key":     {{Key: "a", Kind: "code", Code: "1"}, {Key: "a", Kind: "code", Code: "1"}},
		"unknown kind":      {{Key: "a", Kind: "python", Code: "1"}},
		"wrong app account": {{Key: "a", Kind: "code", Code: "1", Apps: []string{"sendgrid"}, Accounts: map[string]string{"sendgrid": key.ID}}},
		"unknown app":       {{Key: "a", Kind: "code", Code: "1", Apps: []string{"nosuch"}}},
		"latchkey env":      {{Key: "a", Kind: "code", Code: "1", Env: map[string]string{"LATCHKEY_MASTER_KEY": "x"}}},
		"http without path": {{Key: "a", Kind: "http", HTTP: &client.HTTPStep{App: "openai"}}},
	} {
		if _, err := api.CreateWorkflow(ctx, client.SaveWorkflow{Name: name, Steps: steps}); !client.IsProblem(err, "validation") {
			t.Errorf("%s: %v", name, err)
		}
	}
	if list, _ := api.ListWorkflows(ctx); len(list) != 0 {
		t.Fatalf("bad input saved %d workflows", len(list))
	}
}
