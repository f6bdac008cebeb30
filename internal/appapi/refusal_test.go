package appapi_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/latchkeyhq/latchkey/internal/appapi"
	"github.com/latchkeyhq/latchkey/internal/catalog"
)

var (
	slackRule = &catalog.Refusal{Field: "/ok", Equals: false, Code: "/error",
		AuthCodes: []string{"invalid_auth", "not_authed", "token_revoked", "account_inactive", "token_expired"}}
	graphqlRule = &catalog.Refusal{Field: "/errors", Present: true}
)

// TestBodyRefusal: the decisions the rule makes on whole answers, status
// and body together.
func TestBodyRefusal(t *testing.T) {
	slack := &catalog.App{Refusal: slackRule}
	graphql := &catalog.App{Refusal: graphqlRule}
	tests := []struct {
		name          string
		app           *catalog.App
		status        int
		body          string
		refused, auth bool
	}{
		{"2xx ok:true", slack, 200, `{"ok":true,"user":"ann"}`, false, false},
		{"2xx ok:false with an auth code", slack, 200, `{"ok":false,"error":"invalid_auth"}`, true, true},
		{"2xx ok:false, account_inactive", slack, 200, `{"ok":false,"error":"account_inactive"}`, true, true},
		{"2xx ok:false with another code", slack, 200, `{"ok":false,"error":"missing_scope"}`, true, false},
		{"2xx not JSON", slack, 200, `ok:false`, false, false},
		{"2xx empty", slack, 204, ``, false, false},
		{"a 401 is judged by its status, not here", slack, 401, `{"ok":false,"error":"invalid_auth"}`, false, false},
		{"a 500 neither", slack, 500, `{"ok":false,"error":"fatal_error"}`, false, false},
		{"no rule", &catalog.App{}, 200, `{"ok":false,"error":"invalid_auth"}`, false, false},
		{"GraphQL errors", graphql, 200, `{"errors":[{"message":"Not Authorized"}],"data":null}`, true, true},
		{"GraphQL data", graphql, 200, `{"data":{"me":{"id":"1"}}}`, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, refused := appapi.BodyRefusal(tt.app, tt.status, []byte(tt.body))
			if refused != tt.refused || got.Auth != tt.auth {
				t.Fatalf("BodyRefusal = %+v, %v; want refused %v, auth %v", got, refused, tt.refused, tt.auth)
			}
		})
	}
}

// TestProbeRefusedInBody: a test request answered 200 with a refusal is a
// refused test, said as the provider said it and without the key; a
// refusal for another reason fails the test too, but is no refusal of
// the credentials.
func TestProbeRefusedInBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Header.Get("Authorization") {
		case "Bearer xoxb-good-token":
			w.Write([]byte(`{"ok":true,"user":"bot","team":"Acme"}`))
		case "Bearer xoxb-scoped-token":
			w.Write([]byte(`{"ok":false,"error":"missing_scope"}`))
		default:
			// Slack's answer to a bad token, here echoing it back.
			w.Write([]byte(`{"ok":false,"error":"invalid_auth","token":"` + strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ") + `"}`))
		}
	}))
	defer srv.Close()
	app := &catalog.App{Auth: catalog.AuthKeys, BaseURL: srv.URL, Refusal: slackRule,
		RequestAuth: &catalog.RequestAuth{Header: "Authorization", Value: "Bearer {bot_token}"},
		Identity:    &catalog.Probe{URL: "/auth.test", Label: "{user} on {team}"}}
	probe := &catalog.Probe{URL: "/auth.test"}
	ctx := context.Background()

	if _, err := appapi.Probe(ctx, srv.Client(), app, probe, appapi.Values{"bot_token": "xoxb-good-token"}); err != nil {
		t.Fatalf("a good token: %v", err)
	}

	_, err := appapi.Probe(ctx, srv.Client(), app, probe, appapi.Values{"bot_token": "xoxb-revoked-token"})
	var se *appapi.StatusError
	if !errors.As(err, &se) || !se.CredentialsRefused() || se.Status != 200 || se.Message != "invalid_auth" {
		t.Fatalf("a revoked token: %#v", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "refused the credentials: invalid_auth") || strings.Contains(msg, "xoxb-revoked-token") {
		t.Fatalf("error = %q", msg)
	}

	_, err = appapi.Probe(ctx, srv.Client(), app, probe, appapi.Values{"bot_token": "xoxb-scoped-token"})
	if !errors.As(err, &se) || se.CredentialsRefused() || !se.InBody || !strings.Contains(err.Error(), "said the request failed: missing_scope") {
		t.Fatalf("a token short of a scope: %v", err)
	}

	// The identity request: a refusal gives no label and an error, never
	// a label made of the refusal.
	label, err := appapi.Identify(ctx, srv.Client(), app, appapi.Values{"bot_token": "xoxb-revoked-token"})
	if label != "" || err == nil {
		t.Fatalf("identity of a revoked token: %q, %v", label, err)
	}
}
