package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/server"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
)

// TestOAuthCommands runs the OAuth walk-through from the CLI: set the
// managed client, connect (waiting for the browser), print a token,
// reconnect, and delete with revocation.
func TestOAuthCommands(t *testing.T) {
	idp := servertest.NewIdP(t)
	cfg := servertest.Config(t, "")
	servertest.UseIdP(t, &cfg, idp)
	inst := servertest.Start(t, cfg, server.Options{})
	env := map[string]string{"LATCHKEY_DATA_DIR": inst.Config.DataDir, "LATCHKEY_LISTEN": inst.Config.Listen}

	out, err := run(t, env, "oauth-clients", "set", "testidp", "--client-id", idp.ClientID(), "--client-secret", idp.ClientSecret())
	if err != nil || !strings.Contains(out, "managed client") || !strings.Contains(out, inst.URL+"/oauth/callback") {
		t.Fatalf("oauth-clients set: %v\n%s", err, out)
	}
	if strings.Contains(out, idp.ClientSecret()) {
		t.Fatal("the secret was printed")
	}

	out = connectAndApprove(t, env, "connect", "testidp", "--nickname", "work", "--no-browser")
	id := regexp.MustCompile(`acc_[0-9a-z]{26}`).FindString(out)
	if id == "" || !strings.Contains(out, "alice@example.com") || !strings.Contains(out, "work") {
		t.Fatalf("connect printed:\n%s", out)
	}

	tok, err := run(t, env, "token", id)
	if err != nil || strings.TrimSpace(tok) == "" {
		t.Fatalf("token: %v", err)
	}
	req, _ := http.NewRequest("GET", idp.UserinfoURL(), nil)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(tok))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("the printed token does not work: %v", err)
	}

	idp.SetUser("carol")
	out = connectAndApprove(t, env, "accounts", "reconnect", id, "--no-browser")
	if !strings.Contains(out, id) || !strings.Contains(out, "carol@example.com") {
		t.Fatalf("reconnect printed:\n%s", out)
	}

	out, err = run(t, env, "accounts", "delete", id, "--revoke")
	if err != nil || !strings.Contains(out, "the provider revoked its tokens") || idp.Revocations() == 0 {
		t.Fatalf("delete --revoke: %v\n%s", err, out)
	}
}

// connectAndApprove runs a connect-style command, plays the browser for
// the URL it prints, and returns what it printed once it finished.
func connectAndApprove(t *testing.T, env map[string]string, args ...string) string {
	t.Helper()
	root := newRoot(func(k string) string { return env[k] })
	pr, pw := io.Pipe()
	var out strings.Builder
	root.SetOut(&out)
	root.SetErr(pw)
	root.SetArgs(args)
	done := make(chan error, 1)
	go func() {
		done <- root.ExecuteContext(context.Background())
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	approved := false
	var authorizeURL, code string
	oneTime := regexp.MustCompile(`^[0-9A-Z]{4}-[0-9A-Z]{4}$`)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case authorizeURL == "" && strings.HasPrefix(line, "http"):
			authorizeURL = line
		case oneTime.MatchString(line):
			code = line
		case !approved && authorizeURL != "" && strings.HasPrefix(line, "Waiting for the approval"):
			// The admin token cannot sign in on the web: the browser
			// asks for the code the command printed.
			if code == "" {
				t.Error("no one-time code was printed")
			}
			if status, page, err := servertest.Approve(nil, authorizeURL, code); err != nil || status != http.StatusOK {
				t.Errorf("approve: %d %v\n%s", status, err, page)
			}
			approved = true
		}
	}
	if err := <-done; err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	if !approved {
		t.Fatal("no authorize URL was printed")
	}
	return out.String()
}

// TestNeedsReconnectHint: reading an account whose grant is gone says the
// command that fixes it, whichever command read it.
func TestNeedsReconnectHint(t *testing.T) {
	idp := servertest.NewIdP(t)
	cfg := servertest.Config(t, "")
	servertest.UseIdP(t, &cfg, idp)
	clock := clockwork.NewFakeClockAt(time.Now())
	inst := servertest.Start(t, cfg, server.Options{Clock: clock})
	env := map[string]string{"LATCHKEY_DATA_DIR": inst.Config.DataDir, "LATCHKEY_LISTEN": inst.Config.Listen}
	if _, err := run(t, env, "oauth-clients", "set", "testidp", "--client-id", idp.ClientID(), "--client-secret", idp.ClientSecret()); err != nil {
		t.Fatal(err)
	}
	id := regexp.MustCompile(`acc_[0-9a-z]{26}`).FindString(connectAndApprove(t, env, "connect", "testidp", "--no-browser"))
	if id == "" {
		t.Fatal("connect printed no account id")
	}
	if _, err := run(t, env, "token", id); err != nil {
		t.Fatalf("token of a healthy account: %v", err)
	}
	// The user revokes access at the provider; the token expires.
	idp.RevokeUser("alice")
	clock.Advance(2 * time.Hour)
	for _, args := range [][]string{{"token", id}, {"credentials", id}, {"exec", "--account", id, "--", "true"}} {
		_, err := run(t, env, args...)
		if !client.IsProblem(err, "needs-reconnect") {
			t.Fatalf("%v: %v, want a needs-reconnect problem", args, err)
		}
		lines := strings.Split(explain(err), "\n")
		if got, want := lines[len(lines)-1], "run: latchkey accounts reconnect "+id; got != want || len(lines) != 2 {
			t.Errorf("%v said:\n%s\nwant it to end with the line %q", args, explain(err), want)
		}
		if !strings.Contains(lines[0], "needs to be reconnected") {
			t.Errorf("%v: %q does not say what is wrong", args, lines[0])
		}
	}
}
