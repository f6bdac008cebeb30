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

// The Tokens page: create with the secret shown once, the list with last
// use, rotate and revoke; another user's token is not there.
func TestTokensPage(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b servertest.Backend) {
		f := start(t, b)
		ctx := context.Background()
		ann := addUser(t, f.Instance, "ann@acme.test", store.RoleMember)
		bob := addUser(t, f.Instance, "bob@acme.test", store.RoleMember)
		acc := sendgrid(t, ann.api, "mail")
		br := browser(t)
		if code, _ := signIn(t, br, f.Instance, ann, "/tokens"); code != http.StatusOK {
			t.Fatalf("sign in: %d", code)
		}
		code, body := get(t, br, f.URL+"/tokens")
		if code != http.StatusOK || !strings.Contains(body, "Create a token") || strings.Contains(body, `value="members:write"`) {
			t.Fatalf("the page: %d, or it offers a member members:write\n%s", code, body)
		}

		// Bad input: the form again, with the reason, and no token.
		code, body = post(t, br, f.URL+"/tokens", url.Values{"name": {"mailer"}, "scope": {"credentials:read"}, "accounts": {"acc_01j0000000000000000000000"}})
		if code != http.StatusUnprocessableEntity || !strings.Contains(body, "There is no account") || !strings.Contains(body, `value="mailer"`) {
			t.Fatalf("an unknown account: %d\n%s", code, body)
		}
		if list, _ := ann.api.ListTokens(ctx); len(list) != 1 {
			t.Fatalf("tokens after a refused form: %+v", list)
		}

		code, body = post(t, br, f.URL+"/tokens", url.Values{"name": {"mailer"}, "scope": {"credentials:read"}, "accounts": {acc.ID}, "expires": {"30d"}})
		secret := regexp.MustCompile(`lk_[A-Za-z0-9_-]{43}`).FindString(body)
		if code != http.StatusCreated || secret == "" {
			t.Fatalf("create: %d\n%s", code, body)
		}
		if creds, err := client.New(f.URL, secret, nil).Credentials(ctx, acc.ID); err != nil || creds["api_key"] != goodKey {
			t.Fatalf("the page's token reads its account: %v, %v", creds, err)
		}
		_, body = get(t, br, f.URL+"/tokens")
		if strings.Contains(body, secret) {
			t.Fatal("the secret is shown again")
		}
		id := regexp.MustCompile(`<tr id="(tok_[0-9a-z]{26})">\s*<td data-label="Name">mailer`).FindStringSubmatch(body)
		if id == nil || !regexp.MustCompile(`(?s)mailer.*?class="last-used">\d`).MatchString(body) {
			t.Fatalf("the list shows no mailer with its last use:\n%s", body)
		}

		// Bob cannot rotate or revoke it from his own browser.
		bb := browser(t)
		signIn(t, bb, f.Instance, bob, "/tokens")
		for _, action := range []string{"rotate", "revoke"} {
			if code, _ := post(t, bb, f.URL+"/tokens/"+id[1]+"/"+action, url.Values{}); code != http.StatusNotFound {
				t.Errorf("bob's %s of ann's token: %d, want 404", action, code)
			}
		}
		if _, body := get(t, bb, f.URL+"/tokens"); strings.Contains(body, id[1]) {
			t.Error("bob's page lists ann's token")
		}

		code, body = post(t, br, f.URL+"/tokens/"+id[1]+"/rotate", url.Values{"overlap": {"0s"}})
		fresh := regexp.MustCompile(`lk_[A-Za-z0-9_-]{43}`).FindString(body)
		if code != http.StatusOK || fresh == "" || fresh == secret {
			t.Fatalf("rotate: %d\n%s", code, body)
		}
		if _, err := client.New(f.URL, secret, nil).Credentials(ctx, acc.ID); !client.IsProblem(err, "unauthorized") {
			t.Errorf("the old secret after rotating with no overlap: %v", err)
		}
		newID := regexp.MustCompile(`<tr id="(tok_[0-9a-z]{26})">\s*<td data-label="Name">mailer`).FindStringSubmatch(body)
		if newID == nil {
			t.Fatalf("no rotated token listed:\n%s", body)
		}
		if code, _ := post(t, br, f.URL+"/tokens/"+newID[1]+"/revoke", url.Values{}); code != http.StatusOK {
			t.Fatalf("revoke: %d", code)
		}
		if _, err := client.New(f.URL, fresh, nil).Credentials(ctx, acc.ID); !client.IsProblem(err, "unauthorized") {
			t.Errorf("a revoked token: %v", err)
		}
	})
}
