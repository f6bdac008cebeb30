package server_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
	"github.com/latchkeyhq/latchkey/internal/store"
)

// TestRunAction runs shipped actions against the stand-in provider: the
// request reaches it with the account's credentials, the answer comes back
// with every credential masked, bad input sends nothing, and nobody but who
// may use the account runs an action with it.
func TestRunAction(t *testing.T) {
	f := start(t, servertest.Backends[0])
	ctx := context.Background()
	tw, err := f.api.CreateAccount(ctx, client.CreateAccount{App: "twilio", Fields: map[string]string{"account_sid": twilioSID, "auth_token": twilioToken}})
	if err != nil {
		t.Fatal(err)
	}

	list, err := f.api.ListActions(ctx, "twilio")
	if err != nil || len(list) == 0 || list[0].Ref != "twilio.send_sms" {
		t.Fatalf("actions of twilio: %+v, %v", list, err)
	}
	act, err := f.api.GetAction(ctx, "twilio.send_sms")
	if err != nil || !strings.Contains(string(act.Input), `"to"`) || act.DocsURL == "" {
		t.Fatalf("show: %+v, %v", act, err)
	}
	if _, err := f.api.GetAction(ctx, "twilio.no_such"); !hasStatus(err, http.StatusNotFound) {
		t.Fatalf("an unknown action: %v", err)
	}

	sms := json.RawMessage(`{"to":"+14155552671","from":"+15017122661","body":"Hello from Latchkey"}`)
	res, err := f.api.RunAction(ctx, "twilio.send_sms", client.RunAction{AccountID: tw.ID, Input: sms})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != http.StatusCreated || !strings.Contains(string(res.Output), `"status":"queued"`) || !strings.Contains(string(res.Body), "Hello from Latchkey") {
		t.Fatalf("run: %+v (body %s, output %s)", res, res.Body, res.Output)
	}
	basic := base64.StdEncoding.EncodeToString([]byte(twilioSID + ":" + twilioToken))
	raw, _ := json.Marshal(res)
	if strings.Contains(string(raw), twilioToken) || strings.Contains(string(raw), basic) {
		t.Fatalf("the answer carries the credentials: %s", raw)
	}
	if !strings.Contains(string(res.Body), "[redacted]") {
		t.Fatalf("the echoed credentials are not masked: %s", res.Body)
	}

	// Bad input: every problem listed, nothing sent.
	before := f.provider.Requests.Load()
	_, err = f.api.RunAction(ctx, "twilio.send_sms", client.RunAction{AccountID: tw.ID, Input: json.RawMessage(`{"to":"0415","from":"+15017122661","colour":"red"}`)})
	var p *client.Problem
	if !hasStatus(err, http.StatusUnprocessableEntity) || !asProblem(err, &p) {
		t.Fatalf("bad input: %v", err)
	}
	fields := map[string]bool{}
	for _, x := range p.Problems {
		fields[x.Field] = true
	}
	if !fields["to"] || !fields["body"] || !fields["colour"] {
		t.Fatalf("the problems do not name to, body and colour: %+v", p.Problems)
	}
	if n := f.provider.Requests.Load(); n != before {
		t.Fatalf("bad input sent %d requests", n-before)
	}
	// An account of another app is refused, naming account_id.
	sg := sendgrid(t, f.api, "mail")
	if _, err := f.api.RunAction(ctx, "twilio.send_sms", client.RunAction{AccountID: sg.ID, Input: sms}); !hasStatus(err, http.StatusUnprocessableEntity) || !strings.Contains(err.Error(), "account_id") {
		t.Fatalf("a sendgrid account for twilio: %v", err)
	}

	// Another member may not use the owner's private account; a token
	// without actions:run runs nothing; another workspace sees no account.
	member := addUser(t, f.Instance, "mia@acme.test", store.RoleMember)
	memberTok, _, err := f.Identity().IssueToken(ctx, member.WorkspaceID, member.ID, "m", []string{identity.ScopeAll})
	if err != nil {
		t.Fatal(err)
	}
	me, _ := f.api.Me(ctx)
	reader := namedToken(t, f, me.UserID, "reader", identity.ScopeAccountsRead, identity.ScopeCredentialsRead)
	nw, err := f.api.CreateWorkspace(ctx, client.CreateWorkspace{Name: "Other", OwnerEmail: "zed@acme.test"})
	if err != nil {
		t.Fatal(err)
	}
	other := join(t, f.Instance, nw.Invitation.URL, "zed's password!")
	before = f.provider.Requests.Load()
	for name, tt := range map[string]struct {
		api  *client.Client
		want int
	}{
		"another member":    {client.New(f.URL, memberTok.Reveal(), nil), http.StatusNotFound},
		"no actions:run":    {reader, http.StatusForbidden},
		"another workspace": {other.api, http.StatusNotFound},
	} {
		if _, err := tt.api.RunAction(ctx, "twilio.send_sms", client.RunAction{AccountID: tw.ID, Input: sms}); !hasStatus(err, tt.want) {
			t.Errorf("%s: %v, want %d", name, err, tt.want)
		}
	}
	if n := f.provider.Requests.Load(); n != before {
		t.Fatalf("refused callers sent %d requests", n-before)
	}

	// A run is audited, with no body.
	events, err := f.api.Audit(ctx, client.AuditQuery{Action: "action.run", Account: tw.ID})
	if err != nil || len(events.Data) != 1 {
		t.Fatalf("audit: %+v, %v", events, err)
	}
	if d := events.Data[0].Detail; d["action"] != "twilio.send_sms" || d["status"] != "201" || strings.Contains(strings.Join(values(d), " "), "Hello from Latchkey") {
		t.Fatalf("audit detail: %v", d)
	}
}

// TestActionStep: a workflow step of kind action runs the action with the
// step's account; its input is checked when the workflow is saved.
func TestActionStep(t *testing.T) {
	f := start(t, servertest.Backends[0])
	ctx := context.Background()
	tw, err := f.api.CreateAccount(ctx, client.CreateAccount{App: "twilio", Fields: map[string]string{"account_sid": twilioSID, "auth_token": twilioToken}})
	if err != nil {
		t.Fatal(err)
	}
	step := client.WorkflowStep{Key: "sms", Kind: "action", Action: "twilio.send_sms", Accounts: map[string]string{"twilio": tw.ID},
		Input: json.RawMessage(`{"to":"+14155552671","from":"+15017122661","body":"From a workflow"}`)}
	bad := step
	bad.Input = json.RawMessage(`{"to":"+14155552671"}`)
	before := f.provider.Requests.Load()
	if _, err := f.api.CreateWorkflow(ctx, client.SaveWorkflow{Name: "bad", Steps: []client.WorkflowStep{bad}}); !hasStatus(err, http.StatusUnprocessableEntity) || !strings.Contains(err.Error(), "body: is required") {
		t.Fatalf("a step with bad input: %v", err)
	}
	wf, err := f.api.CreateWorkflow(ctx, client.SaveWorkflow{Name: "Text", Steps: []client.WorkflowStep{step}})
	if err != nil {
		t.Fatal(err)
	}
	if len(wf.Steps[0].Apps) != 1 || wf.Steps[0].Apps[0] != "twilio" {
		t.Fatalf("the step's apps: %v", wf.Steps[0].Apps)
	}
	run, err := f.api.RunWorkflow(ctx, wf.ID)
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != "succeeded" || !strings.Contains(string(run.Steps[0].Result), `"status":201`) || !strings.Contains(string(run.Steps[0].Result), "From a workflow") {
		t.Fatalf("run: %s %+v", run.Status, run.Steps)
	}
	if strings.Contains(string(run.Steps[0].Result), twilioToken) {
		t.Fatalf("the step's result carries the token: %s", run.Steps[0].Result)
	}
	if n := f.provider.Requests.Load() - before; n != 1 {
		t.Fatalf("the provider saw %d requests, want the run's one", n)
	}
}

// TestActionCredentialsRefused: a 401 from the app re-checks the account,
// as for an http step, and it turns needs_reconnect.
func TestActionCredentialsRefused(t *testing.T) {
	f := start(t, servertest.Backends[0])
	ctx := context.Background()
	acc, err := f.api.CreateAccount(ctx, client.CreateAccount{App: "sendgrid", Fields: map[string]string{"api_key": "SG.revoked-key-0123456789"}, Test: ptr(false)})
	if err != nil {
		t.Fatal(err)
	}
	res, err := f.api.RunAction(ctx, "sendgrid.send_email", client.RunAction{AccountID: acc.ID, Input: json.RawMessage(
		`{"to":[{"email":"ann@example.com"}],"from":{"email":"bob@example.com"},"subject":"Hi","text":"Hello"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != http.StatusUnauthorized || !res.CredentialsRefused || res.AccountStatus != "needs_reconnect" || res.ReconnectPath != "/v1/accounts/"+acc.ID+"/reconnect" {
		t.Fatalf("401: %+v", res)
	}
	if got, _ := f.api.GetAccount(ctx, acc.ID); got.Status != "needs_reconnect" {
		t.Fatalf("account after the re-check: %s", got.Status)
	}
}

func values(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

func hasStatus(err error, status int) bool {
	var p *client.Problem
	return errors.As(err, &p) && p.Status == status
}
