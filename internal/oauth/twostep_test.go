package oauth_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/latchkeyhq/latchkey/internal/oauth"
)

const twoStepApp = `
slug: session
name: Session
categories: [developer-tools]
docs_url: https://docs.example.com/signin
auth: two_step
fields:
  - {name: token_name, label: Token name}
  - {name: token_secret, label: Token secret, secret: true}
two_step:
  token_url: https://api.example.com/auth/signin
  body: '{"credentials": {"name": "{token_name}", "secret": "{token_secret}"}}'
  token_path: credentials.token
  expires_in_path: credentials.ttl
  default_expires_in: 4h
  keep:
    site_id: credentials.site.id
`

// TestTwoStepMint drives the request the entry describes against a
// stand-in: the secret is JSON-escaped into the body, and the token, its
// lifetime and the kept id are read from the answer; refusals are
// classified, with the secret scrubbed from the provider's words.
func TestTwoStepMint(t *testing.T) {
	const secretValue = `s3cr"et-value`
	checkBody := func(r *http.Request, body string) error {
		var doc struct {
			Credentials struct{ Name, Secret string }
		}
		if err := json.Unmarshal([]byte(body), &doc); err != nil {
			return errf("body is not JSON: " + err.Error())
		}
		if doc.Credentials.Name != "ci" || doc.Credentials.Secret != secretValue || r.Method != http.MethodPost {
			return errf("unexpected request " + r.Method + " " + body)
		}
		if r.Header.Get("Content-Type") != "application/json" {
			return errf("content type " + r.Header.Get("Content-Type"))
		}
		return nil
	}
	fields := map[string]string{"token_name": "ci", "token_secret": secretValue}
	tests := []struct {
		name, answer string
		status       int
		want         func(t *testing.T, tok *oauth.Token, err error)
	}{
		{"ok", `{"credentials": {"token": "tk-1", "ttl": "1800", "site": {"id": "site-9"}}}`, 200, func(t *testing.T, tok *oauth.Token, err error) {
			if err != nil {
				t.Fatal(err)
			}
			if tok.AccessToken.Reveal() != "tk-1" || tok.Expiry != now.Add(30*time.Minute) || tok.Kept["site_id"] != "site-9" {
				t.Fatalf("token = %q, expiry %v, kept %v", tok.AccessToken.Reveal(), tok.Expiry, tok.Kept)
			}
		}},
		{"default lifetime", `{"credentials": {"token": "tk-2"}}`, 200, func(t *testing.T, tok *oauth.Token, err error) {
			if err != nil || tok.Expiry != now.Add(4*time.Hour) {
				t.Fatalf("tok %v err %v, want the default 4h", tok, err)
			}
		}},
		{"no token", `{"credentials": {}}`, 200, func(t *testing.T, tok *oauth.Token, err error) {
			if err == nil || oauth.IsPermanent(err) || !strings.Contains(err.Error(), "no token at credentials.token") {
				t.Fatalf("err = %v, want a transient error naming the path", err)
			}
		}},
		{"refused", `{"error": "invalid_client", "error_description": "bad secret s3cr\"et-value"}`, 401, func(t *testing.T, tok *oauth.Token, err error) {
			var oe *oauth.Error
			if !errors.As(err, &oe) || oe.Kind != oauth.Permanent || oe.Code != "invalid_client" {
				t.Fatalf("err = %v, want permanent invalid_client", err)
			}
			if strings.Contains(err.Error(), "s3cr") {
				t.Fatalf("the secret reached the error: %v", err)
			}
		}},
		{"outage", `{"message": "down"}`, 503, func(t *testing.T, tok *oauth.Token, err error) {
			if err == nil || oauth.IsPermanent(err) {
				t.Fatalf("err = %v, want transient", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			origin := standIn(t, checkBody, tt.status, "application/json", tt.answer)
			tok, err := minter(parseApp(t, twoStepApp), origin, fields).Mint(context.Background())
			tt.want(t, tok, err)
		})
	}
}
