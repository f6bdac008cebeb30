package oauth_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/latchkeyhq/latchkey/internal/oauth"
	"github.com/latchkeyhq/latchkey/internal/secret"
)

// The secrets of the requests below. Each holds characters that URL and
// JSON escaping change, so each form differs from the raw one.
const (
	canaryClientSecret = "cs/CANARY+1=2&x"
	canaryRefreshToken = "rt/CANARY+3=4 y<z>"
	canaryCode         = "code/CANARY&5=6"
	canaryVerifier     = "verifier-CANARY-verifier-verifier-verifier-verifier"
)

// echoForms are ways a provider repeats a parameter in its error text.
var echoForms = map[string]func(string) string{
	"raw":           func(s string) string { return s },
	"query-escaped": url.QueryEscape,
	"path-escaped":  url.PathEscape,
	"json-escaped":  func(s string) string { b, _ := json.Marshal(s); return string(b[1 : len(b)-1]) },
}

// echoingTokenEndpoint answers every token request with invalid_grant
// whose error_description (and, with inCode, error code) repeats one
// parameter of the request in one form: what a careless provider does.
func echoingTokenEndpoint(t *testing.T, param string, form func(string) string, inCode bool) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		sent := map[string]string{}
		if strings.Contains(r.Header.Get("Content-Type"), "json") {
			_ = json.Unmarshal(b, &sent)
		} else {
			q, _ := url.ParseQuery(string(b))
			for k := range q {
				sent[k] = q.Get(k)
			}
		}
		if _, p, ok := r.BasicAuth(); ok {
			sent["client_secret"] = p
		}
		sent["authorization"] = strings.TrimPrefix(r.Header.Get("Authorization"), "Basic ")
		v, ok := sent[param]
		if !ok || v == "" {
			t.Errorf("the request sent no %s", param)
		}
		code := "invalid_grant"
		if inCode {
			code = "bad_" + form(v)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": param + " " + form(v) + " is revoked"})
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestProviderErrorTextIsRedacted(t *testing.T) {
	type call func(f *oauth.Flow) error
	refresh := func(f *oauth.Flow) error {
		_, err := f.Refresh(context.Background(), secret.New(canaryRefreshToken))
		return err
	}
	exchange := func(f *oauth.Flow) error {
		_, err := f.Exchange(context.Background(), canaryCode, canaryVerifier)
		return err
	}
	tests := []struct {
		name, app, param string
		call             call
	}{
		{"refresh echoes the refresh token", "github", "refresh_token", refresh},
		{"refresh echoes the client secret sent in the body", "github", "client_secret", refresh},
		{"refresh echoes the client secret sent as basic auth", "slack", "client_secret", refresh},
		{"refresh echoes the Authorization header", "slack", "authorization", refresh},
		{"JSON-bodied refresh echoes the refresh token", "notion", "refresh_token", refresh},
		{"exchange echoes the code", "github", "code", exchange},
		{"exchange echoes the PKCE verifier", "github", "code_verifier", exchange},
		{"exchange echoes the client secret", "github", "client_secret", exchange},
		{"JSON-bodied exchange echoes the code", "notion", "code", exchange},
	}
	for _, tt := range tests {
		for formName, form := range echoForms {
			for _, inCode := range []bool{false, true} {
				name := tt.name + "/" + formName
				if inCode {
					name += "/in the error code too"
				}
				t.Run(name, func(t *testing.T) {
					f := flow(shipped(t, tt.app), echoingTokenEndpoint(t, tt.param, form, inCode))
					f.Client.Secret = secret.New(canaryClientSecret)
					err := tt.call(f)
					if err == nil {
						t.Fatal("the call succeeded")
					}
					msg := err.Error()
					if strings.Contains(msg, "CANARY") {
						t.Fatalf("the error repeats a secret: %s", msg)
					}
					if !strings.Contains(msg, tt.param+" [redacted] is revoked") {
						t.Errorf("error %q does not keep the provider's words around [redacted]", msg)
					}
					if !inCode && !oauth.IsPermanent(err) {
						t.Errorf("invalid_grant is no longer permanent: %v", err)
					}
				})
			}
		}
	}
}
