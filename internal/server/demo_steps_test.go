package server_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/sandbox/sandboxtest"
	"github.com/latchkeyhq/latchkey/internal/server"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
)

// demoStepsServer is a --demo server with alice's demo account connected;
// it returns the account and the api_url its credentials carry.
func demoStepsServer(t *testing.T, sandboxed bool) (*servertest.Instance, *http.Client, client.Account, string) {
	t.Helper()
	cfg := servertest.Config(t, "")
	cfg.Demo = true
	if sandboxed {
		cfg.StepsUnsandboxed = false
	}
	inst := servertest.Start(t, cfg, server.Options{})
	api := inst.Client()
	alice := demoBrowser(t)
	started, err := api.Connect(context.Background(), client.Connect{App: "demo"})
	if err != nil {
		t.Fatal(err)
	}
	acc := demoConnect(t, api, alice, started, "alice", "alice-pw")
	creds, err := api.Credentials(context.Background(), acc.ID)
	if err != nil {
		t.Fatal(err)
	}
	apiURL := creds["api_url"]
	u, err := url.Parse(apiURL)
	if err != nil || u.Scheme != "http" || u.Hostname() != "127.0.0.1" || u.Path != "/demo/api" {
		t.Fatalf("api_url %q: want http://127.0.0.1:PORT/demo/api", apiURL)
	}
	if strings.TrimPrefix(inst.URL, "http://") == u.Host {
		t.Fatalf("api_url %q is Latchkey's own port", apiURL)
	}
	return inst, alice, acc, apiURL
}

// TestDemoStepListenerServesTheAPIAlone: the listener --demo opens for
// workflow steps answers the demo's API, and nothing else: not the
// provider's sign-in, consent and token endpoints, not Latchkey's API, UI
// or health checks.
func TestDemoStepListenerServesTheAPIAlone(t *testing.T) {
	inst, _, acc, apiURL := demoStepsServer(t, false)
	creds, err := inst.Client().Credentials(context.Background(), acc.ID)
	if err != nil {
		t.Fatal(err)
	}
	token := creds["oauth_access_token"]
	hc := &http.Client{Timeout: 20 * time.Second}
	if status, body := demoCall(t, hc, "GET", apiURL+"/me", token, ""); status != 200 || !strings.Contains(body, `"sub":"alice"`) {
		t.Fatalf("GET %s/me: %d %s", apiURL, status, body)
	}
	if status, _ := demoCall(t, hc, "GET", apiURL+"/me", "made-up", ""); status != http.StatusUnauthorized {
		t.Fatalf("a made-up token on the steps' listener: %d, want 401", status)
	}
	origin := strings.TrimSuffix(apiURL, "/demo/api")
	for _, r := range []struct{ method, path, token string }{
		{"GET", "/v1/accounts", inst.Token},
		{"GET", "/v1/accounts/" + acc.ID + "/credentials", inst.Token},
		{"GET", "/", ""},
		{"GET", "/healthz", ""},
		{"GET", "/demo", ""},
		{"GET", "/demo/oauth/authorize", ""},
		{"POST", "/demo/oauth/token", ""},
		{"POST", "/demo/oauth/revoke", ""},
	} {
		// Not the body: served wrongly, it would hold credentials.
		if status, _ := demoCall(t, hc, r.method, origin+r.path, r.token, ""); status != http.StatusNotFound {
			t.Errorf("%s %s on the steps' listener: %d, want 404", r.method, r.path, status)
		}
	}
}

// demoStepCode posts a message with the token Latchkey hands it, then
// probes what else it can reach: the rest of the steps' listener, and
// Latchkey's own port.
const demoStepCode = `
const api = auths.demo.api_url;
const origin = new URL(api).origin;
const reach = async (u, init) => {
  try { return String((await fetch(u, init)).status); }
  catch (e) { return (e.cause && e.cause.code) || String(e); }
};
const res = await fetch(api + "/messages", {
  method: "POST",
  headers: {Authorization: "Bearer " + auths.demo.oauth_access_token, "Content-Type": "application/json"},
  body: JSON.stringify({text: "hello from a code step"}),
});
return {
  posted: String(res.status),
  from: (await res.json()).from,
  side_accounts: await reach(origin + "/v1/accounts"),
  side_page: await reach(origin + "/demo"),
  side_token: await reach(origin + "/demo/oauth/token", {method: "POST"}),
  main_accounts: await reach(process.env.SERVER_URL + "/v1/accounts"),
  main_demo_api: await reach(process.env.SERVER_URL + "/demo/api/me"),
};`

// TestDemoCodeStepPostsAMessage is the quick start's code step, in the
// real sandbox: it reads auths.demo.api_url and
// auths.demo.oauth_access_token, posts a message the demo's page then
// shows, finds nothing else on the steps' listener, and cannot reach
// Latchkey's own port at all.
func TestDemoCodeStepPostsAMessage(t *testing.T) {
	sandboxtest.Require(t)
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("Node.js is not installed; code steps need node on PATH")
	}
	inst, alice, acc, _ := demoStepsServer(t, true)
	api := inst.Client()
	ctx := context.Background()
	wf, err := api.CreateWorkflow(ctx, client.SaveWorkflow{Name: "Post to the demo", Steps: []client.WorkflowStep{{
		Key: "post", Kind: "code", Apps: []string{"demo"}, Code: demoStepCode,
		// Where Latchkey listens, for the probe: no secret, only an address.
		Env: map[string]string{"SERVER_URL": inst.URL},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := api.LinkAccount(ctx, wf.ID, "post", "demo", acc.ID); err != nil {
		t.Fatal(err)
	}
	run, err := api.RunWorkflow(ctx, wf.ID)
	if err != nil {
		t.Fatal(err)
	}
	res := run.Steps[0]
	if res.Status != "succeeded" {
		t.Fatalf("the code step: %+v", res)
	}
	var got map[string]string
	if err := json.Unmarshal(res.Result, &got); err != nil {
		t.Fatalf("result %s: %v", res.Result, err)
	}
	want := map[string]string{
		"posted": "201", "from": "alice",
		"side_accounts": "404", "side_page": "404", "side_token": "404",
		// Refused at once by the sandbox's firewall, not timed out.
		"main_accounts": "ECONNREFUSED", "main_demo_api": "ECONNREFUSED",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q", k, got[k], v)
		}
	}
	_, mainPort, _ := net.SplitHostPort(strings.TrimPrefix(inst.URL, "http://"))
	if !strings.Contains(res.Logs, "127.0.0.1:"+mainPort) {
		t.Errorf("the step's log does not name Latchkey's refused port:\n%s", res.Logs)
	}
	if _, page := demoCall(t, alice, "GET", inst.URL+"/demo", "", ""); !strings.Contains(page, "hello from a code step") {
		t.Fatalf("the demo's page does not show the step's message:\n%s", page)
	}
}
