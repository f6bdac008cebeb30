package server_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/server"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
)

const customApp = `slug: acme_crm
name: Acme CRM
categories: [crm]
docs_url: https://acme.example/docs/api-keys
auth: keys
base_url: https://api.acme.example
fields:
  - name: api_key
    label: API key
    secret: true
request_auth:
  header: Authorization
  value: Bearer {api_key}
test:
  url: /v3/scopes
identity:
  url: /v3/user/profile
  label: '{first_name}'
`

// TestCustomApps: a workspace defines its own app, finds it in the
// catalog, connects an account with it; bad definitions are refused with
// the field named.
func TestCustomApps(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b servertest.Backend) {
		p := newProvider(t)
		cfg := servertest.Config(t, b.DatabaseURL(t))
		cfg.AppOrigins = map[string]string{"acme_crm": p.URL}
		inst := servertest.Start(t, cfg, server.Options{})
		api, ctx := inst.Client(), context.Background()

		if _, err := api.SetCustomApp(ctx, "acme_crm", []byte(customApp)); err != nil {
			t.Fatal(err)
		}
		found, err := api.ListApps(ctx, client.ListOptions{Query: "acme"})
		if err != nil || len(found.Data) != 1 || found.Data[0].Slug != "acme_crm" {
			t.Fatalf("search: %+v %v", found.Data, err)
		}
		acc, err := api.CreateAccount(ctx, client.CreateAccount{App: "acme_crm", Fields: map[string]string{"api_key": goodKey}})
		if err != nil || acc.AppName != "Acme CRM" || acc.IdentityLabel != "Ada" {
			t.Fatalf("account with a custom app: %+v %v", acc, err)
		}
		if _, err := api.CreateAccount(ctx, client.CreateAccount{App: "acme_crm", Fields: map[string]string{"api_key": "SG.wrong"}}); !client.IsProblem(err, "credentials-test-failed") {
			t.Fatalf("the custom app's test request did not run: %v", err)
		}

		for name, tt := range map[string]struct{ slug, def, want string }{
			"shipped slug":    {"sendgrid", strings.ReplaceAll(customApp, "acme_crm", "sendgrid"), "is a shipped app"},
			"slug mismatch":   {"other", customApp, "does not match"},
			"reserved slug":   {"link", strings.ReplaceAll(customApp, "acme_crm", "link"), "is reserved"},
			"http url":        {"acme_crm", strings.Replace(customApp, "https://api.acme.example", "http://api.acme.example", 1), "base_url"},
			"unknown field":   {"acme_crm", customApp + "colour: red\n", "field colour not found"},
			"undeclared name": {"acme_crm", strings.Replace(customApp, "Bearer {api_key}", "Bearer {token}", 1), "request_auth.value"},
			"not yaml":        {"acme_crm", "{{{", "definition"},
		} {
			t.Run(name, func(t *testing.T) {
				_, err := api.SetCustomApp(ctx, tt.slug, []byte(tt.def))
				if !client.IsProblem(err, "validation") || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("got %v, want a validation problem naming %q", err, tt.want)
				}
			})
		}
		// The refused definitions changed nothing.
		if list, _ := api.ListCustomApps(ctx); len(list) != 1 || list[0].Name != "Acme CRM" {
			t.Fatalf("custom apps after refusals: %+v", list)
		}
		if err := api.DeleteCustomApp(ctx, "acme_crm"); err != nil {
			t.Fatal(err)
		}
		if _, err := api.GetApp(ctx, "acme_crm"); !client.IsProblem(err, "unknown-app") {
			t.Fatalf("after delete: %v", err)
		}
	})
}

// TestCatalogDirOverrides: an operator's file replaces a shipped app.
func TestCatalogDirOverrides(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile("../catalog/apps/sendgrid.yaml")
	if err != nil {
		t.Fatal(err)
	}
	over := strings.Replace(string(b), "name: SendGrid", "name: SendGrid (EU gateway)", 1)
	os.WriteFile(filepath.Join(dir, "sendgrid.yaml"), []byte(over), 0o600)
	cfg := servertest.Config(t, "")
	cfg.CatalogDir = dir
	inst := servertest.Start(t, cfg, server.Options{})
	raw, err := inst.Client().GetApp(context.Background(), "sendgrid")
	if err != nil || !strings.Contains(string(raw), "SendGrid (EU gateway)") {
		t.Fatalf("override not served: %s %v", raw, err)
	}

	os.WriteFile(filepath.Join(dir, "broken.yaml"), []byte("slug: broken\nname: Broken\nauth: keys\n"), 0o600)
	_, err = server.New(context.Background(), cfg, servertest.DiscardLogger(), server.Options{})
	if err == nil || !strings.Contains(err.Error(), "broken.yaml") || !strings.Contains(err.Error(), "docs_url: is required") {
		t.Fatalf("a broken custom file: %v", err)
	}
}

func TestAppRequests(t *testing.T) {
	inst := servertest.Start(t, servertest.Config(t, ""), server.Options{})
	api, ctx := inst.Client(), context.Background()
	if _, err := api.RequestApp(ctx, client.AppRequest{Name: "Acme ERP", Reason: "invoices from workflows", URL: "https://acme.example/api"}); err != nil {
		t.Fatal(err)
	}
	for name, in := range map[string]client.AppRequest{
		"no name":   {Reason: "x"},
		"no reason": {Name: "X"},
		"bad url":   {Name: "X", Reason: "y", URL: "javascript:alert(1)"},
	} {
		if _, err := api.RequestApp(ctx, in); !client.IsProblem(err, "validation") {
			t.Errorf("%s: %v", name, err)
		}
	}
	list, err := api.AppRequests(ctx)
	if err != nil || len(list) != 1 || list[0].Name != "Acme ERP" || list[0].Reason != "invoices from workflows" {
		t.Fatalf("requests: %+v %v", list, err)
	}
}
