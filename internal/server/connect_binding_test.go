package server_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
	"github.com/latchkeyhq/latchkey/internal/store"
)

// TestAPIConnectionBoundToStarter: a connection started through the API
// is finished only by the person who started it. A browser signed in as
// someone else is refused and nothing is saved; a signed-out browser is
// asked to sign in as the starter first.
func TestAPIConnectionBoundToStarter(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b servertest.Backend) {
		f := startOAuth(t, b)
		ctx := context.Background()
		alice := addUser(t, f.inst, "alice@example.com", store.RoleMember)
		mallory := addUser(t, f.inst, "mallory@example.com", store.RoleMember)

		start := func(t *testing.T, by webUser) client.Connection {
			t.Helper()
			c, err := by.api.Connect(ctx, client.Connect{App: "testidp"})
			if err != nil {
				t.Fatal(err)
			}
			if c.OneTimeCode != "" {
				t.Fatal("a user who signs in on the web was given a one-time code")
			}
			return c
		}
		accountsOf := func(t *testing.T, u webUser) int {
			t.Helper()
			list, err := u.api.ListAccounts(ctx, client.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			return len(list.Data)
		}

		t.Run("browser signed in as another user", func(t *testing.T) {
			// Mallory starts, and sends the link to Alice, who is signed in.
			started := start(t, mallory)
			victim := browser(t)
			signIn(t, victim, f.inst, alice, "/")
			status, body := get(t, victim, started.AuthorizeURL)
			if status != http.StatusForbidden || !strings.Contains(body, "started by another user") || !strings.Contains(body, "Nothing was saved") {
				t.Fatalf("victim's callback page %d:\n%s", status, body)
			}
			if n := accountsOf(t, mallory); n != 0 {
				t.Fatalf("the starter owns %d accounts after the victim's browser came back", n)
			}
			conn, err := mallory.api.GetConnection(ctx, started.ID)
			if err != nil || conn.Status != "failed" {
				t.Fatalf("connection %+v %v", conn, err)
			}
			// Spent: the same link does not work a second time.
			if status, _ := get(t, victim, started.AuthorizeURL); status == http.StatusOK {
				t.Fatal("the refused link worked on a second try")
			}
		})

		t.Run("signed-out browser signs in as the starter", func(t *testing.T) {
			started := start(t, alice)
			b := browser(t)
			status, body := get(t, b, started.AuthorizeURL)
			if status != http.StatusOK || !strings.Contains(body, "Sign in to finish") || !strings.Contains(body, "alice@example.com") {
				t.Fatalf("signed-out callback page %d:\n%s", status, body)
			}
			next := regexp.MustCompile(`href="/login\?next=([^"]+)"`).FindStringSubmatch(body)
			if next == nil {
				t.Fatalf("no sign-in link:\n%s", body)
			}
			// Someone else's browser cannot finish it: it does not hold the
			// connection's cookie.
			other := browser(t)
			signIn(t, other, f.inst, alice, "/")
			resume, _ := url.QueryUnescape(next[1])
			if status, _ := get(t, other, f.inst.URL+resume); status == http.StatusOK {
				t.Fatal("a browser that did not come back from the provider finished the connection")
			}
			n, _ := url.QueryUnescape(next[1])
			status, body = signIn(t, b, f.inst, alice, n)
			if status != http.StatusOK || !strings.Contains(body, "Test IdP is connected") {
				t.Fatalf("after signing in %d:\n%s", status, body)
			}
			if n := accountsOf(t, alice); n != 1 {
				t.Fatalf("alice has %d accounts, want 1", n)
			}
		})

		t.Run("signed-out browser signs in as someone else", func(t *testing.T) {
			started := start(t, mallory)
			b := browser(t)
			_, body := get(t, b, started.AuthorizeURL)
			next := regexp.MustCompile(`href="/login\?next=([^"]+)"`).FindStringSubmatch(body)
			if next == nil {
				t.Fatalf("no sign-in link:\n%s", body)
			}
			n, _ := url.QueryUnescape(next[1])
			status, body := signIn(t, b, f.inst, alice, n)
			if status != http.StatusForbidden || !strings.Contains(body, "started by another user") {
				t.Fatalf("after signing in as another user %d:\n%s", status, body)
			}
			if n := accountsOf(t, mallory); n != 0 {
				t.Fatalf("the starter owns %d accounts", n)
			}
		})

		t.Run("web-started flows stay bound to their session", func(t *testing.T) {
			b := browser(t)
			signIn(t, b, f.inst, alice, "/")
			before := accountsOf(t, alice)
			status, body := post(t, b, f.inst.URL+"/connect/testidp", url.Values{"nickname": {"from the web"}})
			if status != http.StatusOK || !strings.Contains(body, "Test IdP is connected") {
				t.Fatalf("web flow %d:\n%s", status, body)
			}
			if n := accountsOf(t, alice); n != before+1 {
				t.Fatalf("alice has %d accounts, want %d", n, before+1)
			}
		})
		if n := f.idp.CodeExchanges(); n != 2 {
			t.Fatalf("%d code exchanges, want only the 2 finished flows", n)
		}
	})
}

// TestOneTimeCode: a connection started by a principal that cannot sign
// in on the web (the admin token) asks the browser for the one-time code
// the start returned; wrong codes are counted and limited.
func TestOneTimeCode(t *testing.T) {
	f := startOAuth(t, servertest.Backends[0])
	ctx := context.Background()
	code := regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$`)
	resumeAt := regexp.MustCompile(`action="(/oauth/callback/resume/[^"]+)"`)
	arrive := func(t *testing.T) (client.Connection, *http.Client, string) {
		t.Helper()
		started, err := f.api.Connect(ctx, client.Connect{App: "testidp"})
		if err != nil {
			t.Fatal(err)
		}
		if !code.MatchString(started.OneTimeCode) {
			t.Fatalf("one-time code %q", started.OneTimeCode)
		}
		b := browser(t)
		status, body := get(t, b, started.AuthorizeURL)
		m := resumeAt.FindStringSubmatch(body)
		if status != http.StatusOK || !strings.Contains(body, "Enter the one-time code") || m == nil {
			t.Fatalf("callback page %d:\n%s", status, body)
		}
		return started, b, f.inst.URL + m[1]
	}
	enter := func(t *testing.T, b *http.Client, at, c string) (int, string) {
		t.Helper()
		return post(t, b, at, url.Values{"code": {c}})
	}
	accounts := func() int {
		list, _ := f.api.ListAccounts(ctx, client.ListOptions{})
		return len(list.Data)
	}

	t.Run("right code", func(t *testing.T) {
		started, b, at := arrive(t)
		if st, _ := f.api.GetConnection(ctx, started.ID); st.Status != "waiting" {
			t.Fatalf("status while waiting: %s", st.Status)
		}
		// Typed loosely: lower case, no dash.
		typed := strings.ToLower(strings.ReplaceAll(started.OneTimeCode, "-", ""))
		status, body := enter(t, b, at, typed)
		if status != http.StatusOK || !strings.Contains(body, "Test IdP is connected") {
			t.Fatalf("%d:\n%s", status, body)
		}
		if accounts() != 1 {
			t.Fatal("no account")
		}
		if status, _ := enter(t, b, at, started.OneTimeCode); status == http.StatusOK {
			t.Fatal("the code worked twice")
		}
	})

	t.Run("the right code from another browser", func(t *testing.T) {
		started, _, at := arrive(t)
		if status, _ := enter(t, browser(t), at, started.OneTimeCode); status == http.StatusOK {
			t.Fatal("a browser that did not come back from the provider finished the connection")
		}
		if accounts() != 1 {
			t.Fatal("an account was saved")
		}
	})

	t.Run("wrong codes", func(t *testing.T) {
		started, b, at := arrive(t)
		for i := 1; i < 5; i++ {
			status, body := enter(t, b, at, "0000-0000")
			if status != http.StatusUnprocessableEntity || !strings.Contains(body, "That code is wrong") {
				t.Fatalf("wrong code %d: %d\n%s", i, status, body)
			}
		}
		status, body := enter(t, b, at, "0000-0000")
		if status != http.StatusForbidden || !strings.Contains(body, "too many times") {
			t.Fatalf("fifth wrong code: %d\n%s", status, body)
		}
		// Spent: even the right code no longer works.
		if status, _ := enter(t, b, at, started.OneTimeCode); status == http.StatusOK {
			t.Fatal("the right code worked after too many wrong ones")
		}
		if c, _ := f.api.GetConnection(ctx, started.ID); c.Status != "failed" {
			t.Fatalf("connection %+v", c)
		}
		if accounts() != 1 {
			t.Fatal("an account was saved")
		}
	})
	if n := f.idp.CodeExchanges(); n != 1 {
		t.Fatalf("%d code exchanges, want 1", n)
	}
	assertNoSecrets(t, f.inst.Logs.String(), "ory_ac_")
}
