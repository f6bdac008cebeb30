package server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/server"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
)

const basicApp = `slug: acme_basic
name: Acme Basic
categories: [support]
docs_url: https://docs.acme.example/basic
auth: basic
base_url: https://api.acme.example
test:
  url: /me
identity:
  url: /me
  label: '{email}'
`

// TestBasicAccounts: an auth: basic app offers a username and a secret
// password, checks the pair with its test request before saving, refuses
// a wrong pair with nothing saved, and sends the pair as HTTP Basic.
func TestBasicAccounts(t *testing.T) {
	hits := 0
	p := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		if u, pw, ok := r.BasicAuth(); !ok || u != "ada@acme.example" || pw != "s3cret-pass" || r.URL.Path != "/me" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"message":"bad username or password"}`))
			return
		}
		_, _ = w.Write([]byte(`{"email":"ada@acme.example"}`))
	}))
	t.Cleanup(p.Close)
	cfg := servertest.Config(t, "")
	servertest.WriteApp(t, &cfg, "acme_basic", basicApp)
	cfg.AppOrigins = map[string]string{"acme_basic": p.URL}
	inst := servertest.Start(t, cfg, server.Options{})
	api, ctx := inst.Client(), context.Background()

	page, err := api.ListApps(ctx, client.ListOptions{Auth: "basic"})
	if err != nil || len(page.Data) == 0 {
		t.Fatalf("basic apps: %+v %v", page, err)
	}
	var app client.App
	for _, a := range page.Data {
		if a.Auth != "basic" {
			t.Fatalf("the basic filter listed %s (%s)", a.Slug, a.Auth)
		}
		if a.Slug == "acme_basic" {
			app = a
		}
	}
	if len(app.Fields) != 2 || app.Fields[0].Name != "username" || app.Fields[1].Name != "password" || !app.Fields[1].Secret {
		t.Fatalf("the form's fields: %+v", app.Fields)
	}

	_, err = api.CreateAccount(ctx, client.CreateAccount{App: "acme_basic", Fields: map[string]string{"username": "ada@acme.example", "password": "wrong"}})
	if err == nil || !strings.Contains(err.Error(), "401") || strings.Contains(err.Error(), "wrong") {
		t.Fatalf("a wrong pair: %v", err)
	}
	if list, _ := api.ListAccounts(ctx, client.ListOptions{}); len(list.Data) != 0 {
		t.Fatalf("a refused pair was saved: %+v", list.Data)
	}
	acc, err := api.CreateAccount(ctx, client.CreateAccount{App: "acme_basic", Fields: map[string]string{"username": "ada@acme.example", "password": "s3cret-pass"}})
	if err != nil || acc.IdentityLabel != "ada@acme.example" || acc.Untested {
		t.Fatalf("the right pair: %+v %v", acc, err)
	}
	if hits != 3 { // the refused test, then the test and the identity request
		t.Fatalf("%d provider requests, want 3", hits)
	}
}
