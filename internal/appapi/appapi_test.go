package appapi_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/latchkeyhq/latchkey/internal/appapi"
	"github.com/latchkeyhq/latchkey/internal/catalog"
)

func TestLabel(t *testing.T) {
	tests := []struct {
		tpl, body, want string
	}{
		{"{user} on {team}", `{"user":"alice","team":"acme"}`, "alice on acme"},
		{"{first_name} {last_name}", `{"first_name":"Ada","last_name":"Lovelace"}`, "Ada Lovelace"},
		{"{data.0.email}", `{"data":[{"email":"a@b.c"}]}`, "a@b.c"},
		{"{0.name}", `[{"name":"first org"}]`, "first org"},
		{"{id}", `{"id":12345}`, "12345"},
		{"{user} on {team}", `{"other":1}`, ""},
		{"{first_name} {last_name}", `{"first_name":"Ada","last_name":null}`, "Ada"},
		{"{name}", `not json`, ""},
		{"{obj}", `{"obj":{"a":1}}`, ""},
	}
	for _, tt := range tests {
		if got := appapi.Label(tt.tpl, []byte(tt.body)); got != tt.want {
			t.Errorf("Label(%q, %s) = %q, want %q", tt.tpl, tt.body, got, tt.want)
		}
	}
}

// TestAuthorize shows the catalog's request_auth driving where the
// credentials go.
func TestAuthorize(t *testing.T) {
	v := appapi.Values{"api_key": "k1", "account_sid": "AC1", "auth_token": "t1", catalog.AccessTokenField: "at"}
	tests := []struct {
		name  string
		app   catalog.App
		check func(r *http.Request) bool
	}{
		{"bearer header", catalog.App{Auth: catalog.AuthKeys, RequestAuth: &catalog.RequestAuth{Header: "Authorization", Value: "Bearer {api_key}"}},
			func(r *http.Request) bool { return r.Header.Get("Authorization") == "Bearer k1" }},
		{"custom header plus app headers", catalog.App{Auth: catalog.AuthKeys, Headers: map[string]string{"anthropic-version": "2023-06-01"}, RequestAuth: &catalog.RequestAuth{Header: "x-api-key", Value: "{api_key}"}},
			func(r *http.Request) bool {
				return r.Header.Get("x-api-key") == "k1" && r.Header.Get("anthropic-version") == "2023-06-01"
			}},
		{"basic", catalog.App{Auth: catalog.AuthKeys, RequestAuth: &catalog.RequestAuth{Basic: &catalog.BasicAuth{Username: "{account_sid}", Password: "{auth_token}"}}},
			func(r *http.Request) bool { u, p, ok := r.BasicAuth(); return ok && u == "AC1" && p == "t1" }},
		{"query", catalog.App{Auth: catalog.AuthKeys, RequestAuth: &catalog.RequestAuth{Query: map[string]string{"key": "{api_key}"}}},
			func(r *http.Request) bool {
				return r.URL.Query().Get("key") == "k1" && r.URL.Query().Get("page") == "2"
			}},
		{"oauth2 default bearer", catalog.App{Auth: catalog.AuthOAuth2},
			func(r *http.Request) bool { return r.Header.Get("Authorization") == "Bearer at" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", "https://api.example.com/x?page=2", nil)
			if err := appapi.Authorize(req, &tt.app, v); err != nil {
				t.Fatal(err)
			}
			if !tt.check(req) {
				t.Fatalf("request not authorized as expected: %v %v", req.Header, req.URL)
			}
		})
	}
}

func TestProbe(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v2/me":
			if r.Header.Get("Content-Type") != "application/json" || r.Method != "POST" {
				w.WriteHeader(400)
				return
			}
			w.Write([]byte(`{"name":"ok"}`))
		case "/slow":
			time.Sleep(200 * time.Millisecond)
		default:
			w.WriteHeader(http.StatusForbidden)
			// A provider echoing the key must not carry it into our errors.
			w.Write([]byte(`{"error":{"message":"key secretkey123 lacks scope"}}`))
		}
	}))
	defer srv.Close()
	app := &catalog.App{Auth: catalog.AuthKeys, BaseURL: srv.URL + "/v2", RequestAuth: &catalog.RequestAuth{Header: "Authorization", Value: "{api_key}"}}
	v := appapi.Values{"api_key": "secretkey123"}
	ctx := context.Background()

	b, err := appapi.Probe(ctx, srv.Client(), app, &catalog.Probe{Method: "POST", URL: "/me", Body: `{"query": "{ me { name } }"}`}, v)
	if err != nil || !strings.Contains(string(b), "ok") {
		t.Fatalf("POST probe: %s, %v", b, err)
	}

	_, err = appapi.Probe(ctx, srv.Client(), app, &catalog.Probe{URL: "/denied"}, v)
	var se *appapi.StatusError
	if !errors.As(err, &se) || se.Status != 403 {
		t.Fatalf("denied: %v", err)
	}
	if strings.Contains(err.Error(), "secretkey123") || !strings.Contains(err.Error(), "lacks scope") {
		t.Fatalf("error = %q: want the provider's message without the key", err)
	}

	short := &http.Client{Timeout: 50 * time.Millisecond}
	_, err = appapi.Probe(ctx, short, &catalog.App{BaseURL: srv.URL}, &catalog.Probe{URL: "/slow"}, nil)
	if !errors.Is(err, appapi.ErrUnreachable) || !strings.Contains(err.Error(), "timed out") {
		t.Fatalf("slow provider: %v", err)
	}
}

func TestEnvName(t *testing.T) {
	if got := appapi.EnvName("google_sheets", "oauth_access_token"); got != "LATCHKEY_GOOGLE_SHEETS_OAUTH_ACCESS_TOKEN" {
		t.Fatal(got)
	}
	// A kept dot path is a name a shell can read.
	if got := appapi.EnvName("teamwork", "installation.id"); got != "LATCHKEY_TEAMWORK_INSTALLATION_ID" {
		t.Fatal(got)
	}
}
