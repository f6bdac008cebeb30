package appapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/latchkeyhq/latchkey/internal/appapi"
	"github.com/latchkeyhq/latchkey/internal/catalog"
)

// TestShippedKeyEntries shows, for a sample of real key-based entries, that
// the test request goes where the provider documents it, with the
// credentials where the provider wants them.
func TestShippedKeyEntries(t *testing.T) {
	cat, err := catalog.Load(catalog.Embedded())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		app    string
		values appapi.Values
		path   string
		check  func(r *http.Request) bool
	}{
		{"sendgrid", appapi.Values{"api_key": "SG.k"}, "/v3/scopes",
			func(r *http.Request) bool { return r.Header.Get("Authorization") == "Bearer SG.k" }},
		{"twilio", appapi.Values{"account_sid": "AC0123456789abcdef0123456789abcdef", "auth_token": "tok"}, "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef.json",
			func(r *http.Request) bool {
				u, p, ok := r.BasicAuth()
				return ok && u == "AC0123456789abcdef0123456789abcdef" && p == "tok"
			}},
		{"stripe", appapi.Values{"secret_key": "sk_test_x"}, "/v1/balance",
			func(r *http.Request) bool { return r.Header.Get("Authorization") == "Bearer sk_test_x" }},
		{"mailgun", appapi.Values{"api_key": "key-x"}, "/v4/domains",
			func(r *http.Request) bool { u, p, ok := r.BasicAuth(); return ok && u == "api" && p == "key-x" }},
		{"anthropic", appapi.Values{"api_key": "sk-ant-x"}, "/v1/models",
			func(r *http.Request) bool {
				return r.Header.Get("x-api-key") == "sk-ant-x" && r.Header.Get("anthropic-version") != ""
			}},
	}
	for _, tt := range tests {
		t.Run(tt.app, func(t *testing.T) {
			app, ok := cat.Get(tt.app)
			if !ok {
				t.Fatalf("no app %s", tt.app)
			}
			var seen *http.Request
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				seen = r
				w.Write([]byte(`{}`))
			}))
			defer srv.Close()
			if _, err := appapi.Probe(context.Background(), srv.Client(), app.WithOrigin(srv.URL), app.Test, tt.values); err != nil {
				t.Fatal(err)
			}
			if seen.URL.Path != tt.path {
				t.Errorf("test request to %s, want %s", seen.URL.Path, tt.path)
			}
			if !tt.check(seen) {
				t.Errorf("credentials not where %s wants them: %v", tt.app, seen.Header)
			}
		})
	}
}
