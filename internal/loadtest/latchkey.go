package loadtest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/config"
	"github.com/latchkeyhq/latchkey/internal/oauth/oauthtest"
	"github.com/latchkeyhq/latchkey/internal/server"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
)

// Latchkey is a running server, on loopback, with one OAuth 2 account
// connected through an in-process authorization server (oauthtest). Its
// access token is valid for an hour, so reading its credentials is the warm
// path: no refresh.
type Latchkey struct {
	URL       string
	Token     string
	AccountID string
	Config    config.Config
	Server    *server.Server
	IdP       *oauthtest.Server
	// Body is the answer to one credential read, taken at start.
	Body []byte
	stop func()
}

// Target is the warm credential read: GET /v1/accounts/{id}/credentials
// with the admin token.
func (l *Latchkey) Target() Target {
	h := http.Header{}
	h.Set("Authorization", "Bearer "+l.Token)
	return Target{URL: l.URL + "/v1/accounts/" + l.AccountID + "/credentials", Header: h, BodyLen: int64(len(l.Body))}
}

// Stop shuts the server down; it runs again harmlessly at cleanup.
func (l *Latchkey) Stop() { l.stop() }

// QuietLogger is what Start uses for a nil logger: the default level
// (info), text, written nowhere. The access log is at debug level, so a
// credential read logs nothing, as in a default production set-up.
func QuietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// Start runs a Latchkey on databaseURL ("" for SQLite in a temporary
// folder) until t's cleanup, connects an OAuth 2 account and reads its
// credentials once to check them.
func Start(t testing.TB, databaseURL string, log *slog.Logger) *Latchkey {
	t.Helper()
	if log == nil {
		log = QuietLogger()
	}
	idp := servertest.NewIdP(t)
	cfg := servertest.Config(t, databaseURL)
	servertest.UseIdP(t, &cfg, idp)
	cfg.LogLevel = "info"
	inst := servertest.StartWith(t, cfg, server.Options{}, log)
	cfg = inst.Config
	s, token, stop := inst.Server, inst.Token, inst.Stop
	l := &Latchkey{URL: inst.URL, Token: token, Config: cfg, Server: s, IdP: idp, stop: stop}
	if err := l.connect(); err != nil {
		t.Fatal(err)
	}
	return l
}

// connect registers the IdP's client, connects an account through it as a
// browser would, and reads its credentials once.
func (l *Latchkey) connect() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	hc := &http.Client{Timeout: 30 * time.Second}
	api := client.New(l.URL, l.Token, hc)
	if _, err := api.SetOAuthClient(ctx, "testidp", client.SetOAuthClient{
		ClientID: l.IdP.ClientID(), ClientSecret: l.IdP.ClientSecret(), Managed: true,
	}); err != nil {
		return fmt.Errorf("set OAuth client: %w", err)
	}
	started, err := api.Connect(ctx, client.Connect{App: "testidp"})
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	// The browser: the IdP approves and redirects to Latchkey's callback.
	// The admin token cannot sign in on the web, so the callback asks
	// for the one-time code the start returned.
	status, page, err := servertest.Approve(&http.Client{Timeout: 30 * time.Second}, started.AuthorizeURL, started.OneTimeCode)
	if err != nil {
		return fmt.Errorf("approve: %w", err)
	}
	if status != http.StatusOK || !strings.Contains(page, "is connected") {
		return fmt.Errorf("callback page %d:\n%s", status, page)
	}
	conn, err := api.GetConnection(ctx, started.ID)
	if err != nil || conn.Status != "completed" || conn.AccountID == "" {
		return fmt.Errorf("connection after approval: %+v, %v", conn, err)
	}
	l.AccountID = conn.AccountID
	creds, err := api.Credentials(ctx, l.AccountID)
	if err != nil {
		return fmt.Errorf("read credentials: %w", err)
	}
	if creds["oauth_access_token"] == "" {
		return fmt.Errorf("credentials without an access token: %d fields", len(creds))
	}

	// The raw answer, whose size the bare handler copies.
	t := l.Target()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.URL, nil)
	if err != nil {
		return err
	}
	req.Header = t.Header.Clone()
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("read credentials: %w", err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return fmt.Errorf("read credentials: %w", err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		return fmt.Errorf("read credentials: %s, %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	if n := l.IdP.Refreshes(); n != 0 {
		return fmt.Errorf("the fresh token was refreshed %d times", n)
	}
	l.Body = body
	return nil
}
