package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
)

// revoke ends a token's grant at the authorization server, as a user who
// removes the app from their Slack workspace does.
func (f mcpFixture) revoke(t *testing.T, token string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.slack.idp.RevokeURL(), strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(f.slack.idp.ClientID(), f.slack.idp.ClientSecret())
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("revoking: %v %v", resp, err)
	}
	resp.Body.Close()
}

// TestSlackRefusalInBody: Slack answers a revoked token 200 with "ok":
// false and "error": "invalid_auth". An action run with it says the
// credentials were refused and has the account checked again, which turns
// it needs_reconnect; an MCP call then asks for a reconnect. A bot token
// whose test answers so is not saved; a good one is.
func TestSlackRefusalInBody(t *testing.T) {
	f := startMCP(t, servertest.Backends[0], "slack_bot")
	ctx := context.Background()
	acc := f.connectSlack(t, f.api)
	creds, err := f.api.Credentials(ctx, acc.ID)
	if err != nil || creds["oauth_access_token"] == "" {
		t.Fatalf("credentials: %v, %v", creds, err)
	}
	token := creds["oauth_access_token"]

	// A key account: the stand-in's test answer for an unknown token is
	// 200 with a refusal, and nothing is saved.
	before, err := f.api.ListAccounts(ctx, client.ListOptions{App: "slack_bot"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.api.CreateAccount(ctx, client.CreateAccount{App: "slack_bot", Fields: map[string]string{"bot_token": "xoxb-not-a-token-0123"}})
	var p *client.Problem
	if !client.IsProblem(err, "credentials-test-failed") || !errors.As(err, &p) || p.ProviderStatus != http.StatusOK || !strings.Contains(p.Detail, "invalid_auth") {
		t.Fatalf("a refused bot token: %v (%+v)", err, p)
	}
	if strings.Contains(err.Error(), "xoxb-not-a-token-0123") {
		t.Fatalf("the error carries the token: %v", err)
	}
	after, err := f.api.ListAccounts(ctx, client.ListOptions{App: "slack_bot"})
	if err != nil || len(after.Data) != len(before.Data) {
		t.Fatalf("accounts after a refused test: %d, were %d (%v)", len(after.Data), len(before.Data), err)
	}
	// The token the stand-in knows passes the same test and labels the
	// account from auth.test.
	bot, err := f.api.CreateAccount(ctx, client.CreateAccount{App: "slack_bot", Fields: map[string]string{"bot_token": token}})
	if err != nil || bot.Untested || bot.IdentityLabel != "alice on Acme" {
		t.Fatalf("a good bot token: %+v, %v", bot, err)
	}

	// A refusal for another reason is a failed run, not a refusal of the
	// credentials: the account stays healthy.
	res, err := f.api.RunAction(ctx, "slack.post_message", client.RunAction{AccountID: acc.ID, Input: json.RawMessage(`{"channel":"` + archivedChannel + `","text":"Hello"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != http.StatusOK || !res.Failed || res.ProviderError != "is_archived" || res.CredentialsRefused || res.ReconnectPath != "" {
		t.Fatalf("a post to an archived channel: %+v", res)
	}
	// So is an http step's.
	run := f.runStep(t, bot.ID, client.HTTPStep{App: "slack_bot", Method: "POST", Path: "/chat.postMessage", Body: json.RawMessage(`{"channel":"` + archivedChannel + `","text":"Hi"}`)})
	if st := run.Steps[0]; run.Status != "failed" || st.ErrorKind != "step" || !strings.Contains(st.Error, "said the request failed: is_archived") {
		t.Fatalf("an http step refused for another reason: %+v", st)
	}
	for _, id := range []string{acc.ID, bot.ID} {
		if got, _ := f.api.GetAccount(ctx, id); got.Status != "healthy" {
			t.Fatalf("account %s after a plain failure: %s", id, got.Status)
		}
	}

	f.revoke(t, token)
	posts := len(f.slack.postsMade())
	res, err = f.api.RunAction(ctx, "slack.post_message", client.RunAction{AccountID: acc.ID, Input: json.RawMessage(`{"channel":"C0123456789","text":"Hello"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != http.StatusOK || !res.CredentialsRefused || !res.Failed || res.ProviderError != "invalid_auth" ||
		res.AccountStatus != "needs_reconnect" || res.ReconnectPath != "/v1/accounts/"+acc.ID+"/reconnect" {
		t.Fatalf("a run with a revoked token: %+v", res)
	}
	if got := len(f.slack.postsMade()); got != posts {
		t.Fatalf("the stand-in took %d posts with a revoked token", got-posts)
	}
	if got, _ := f.api.GetAccount(ctx, acc.ID); got.Status != "needs_reconnect" {
		t.Fatalf("account after the re-check: %s (%s)", got.Status, got.StatusError)
	}

	// The bot account holds the same, now revoked, token: its http step
	// fails as a credentials error, and its re-check (the test request,
	// refused in the body too) marks it.
	run = f.runStep(t, bot.ID, client.HTTPStep{App: "slack_bot", Path: "/auth.test"})
	if st := run.Steps[0]; run.Status != "failed" || st.ErrorKind != "credentials" || st.AccountStatus != "needs_reconnect" ||
		st.ReconnectPath != "/v1/accounts/"+bot.ID+"/reconnect" || !strings.Contains(st.Error, "refused the credentials (200 OK: invalid_auth)") {
		t.Fatalf("an http step with a revoked bot token: %+v", st)
	}

	// Once marked, the account is not used again until reconnected.
	if _, err := f.api.RunAction(ctx, "slack.post_message", client.RunAction{AccountID: acc.ID, Input: json.RawMessage(`{"channel":"C1","text":"again"}`)}); !client.IsProblem(err, "needs-reconnect") {
		t.Fatalf("a run with a needs_reconnect account: %v", err)
	}

	// An agent's call that meets the refusal asks for a reconnect, as
	// after a 401.
	f.slack.idp.SetUser("bob")
	second := f.connectSlack(t, f.api)
	creds, err = f.api.Credentials(ctx, second.ID)
	if err != nil || second.ID == acc.ID {
		t.Fatalf("a second account: %s, %v", second.ID, err)
	}
	f.revoke(t, creds["oauth_access_token"])
	agent := newScopedToken(t, f.api, identity.ScopeActionsRun, identity.ScopeAccountsRead)
	call, err := mcpSession(t, f.URL, "/mcp", agent, nil).CallTool(ctx, &mcp.CallToolParams{Name: "slack_post_message",
		Arguments: map[string]any{"channel": "C0123456789", "text": "Hi", "account_id": second.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if !call.IsError || !strings.Contains(resultText(call), "reconnect it") || !strings.Contains(resultText(call), "/accounts/"+second.ID) {
		t.Fatalf("an MCP call with a refused token: %v %s", call.IsError, resultText(call))
	}
	if got, _ := f.api.GetAccount(ctx, second.ID); got.Status != "needs_reconnect" {
		t.Fatalf("the second account after the MCP call: %s", got.Status)
	}
}

// runStep runs a one-step workflow of an http step with the account.
func (f mcpFixture) runStep(t *testing.T, accountID string, step client.HTTPStep) client.Run {
	t.Helper()
	ctx := context.Background()
	wf, err := f.api.CreateWorkflow(ctx, client.SaveWorkflow{Name: "Slack " + step.Path, Steps: []client.WorkflowStep{
		{Key: "call", Kind: "http", Accounts: map[string]string{step.App: accountID}, HTTP: &step},
	}})
	if err != nil {
		t.Fatal(err)
	}
	run, err := f.api.RunWorkflow(ctx, wf.ID)
	if err != nil {
		t.Fatal(err)
	}
	return run
}
