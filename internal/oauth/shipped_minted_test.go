package oauth_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestShippedMintedEntries drives the token request of real minted
// entries against a stand-in and checks it is the one each provider
// documents: the path, the grant, the client authentication and the
// parameters (Zoom's account_credentials, Auth0's audience, Tableau's JSON
// sign-in, Jamf's Basic sign-in).
func TestShippedMintedEntries(t *testing.T) {
	tests := []struct {
		app    string
		fields map[string]string
		path   string
		// form are parameters the body (or, json, the JSON body) holds.
		form  map[string]string
		query map[string]string
		basic string // "user:password" of an HTTP Basic header
		json  string // a JSON body exactly
		// answer is the provider's success.
		answer string
		token  string
	}{
		{app: "auth0_management", fields: map[string]string{"domain": "acme.us.auth0.com", "client_id": "cid", "client_secret": "cs-123456"},
			path: "/oauth/token", form: map[string]string{"grant_type": "client_credentials", "client_id": "cid", "client_secret": "cs-123456", "audience": "https://acme.us.auth0.com/api/v2/"},
			answer: `{"access_token": "at", "expires_in": 86400, "token_type": "Bearer"}`, token: "at"},
		{app: "zoom_server_to_server", fields: map[string]string{"account_id": "acc9", "client_id": "cid", "client_secret": "cs-123456"},
			path: "/oauth/token", form: map[string]string{"grant_type": "account_credentials", "account_id": "acc9"},
			query: map[string]string{"grant_type": "account_credentials", "account_id": "acc9"}, basic: "cid:cs-123456",
			answer: `{"access_token": "at", "expires_in": 3600, "token_type": "bearer"}`, token: "at"},
		{app: "paypal_rest", fields: map[string]string{"client_id": "cid", "client_secret": "cs-123456"},
			path: "/v1/oauth2/token", form: map[string]string{"grant_type": "client_credentials"}, basic: "cid:cs-123456",
			answer: `{"access_token": "at", "expires_in": 32400, "token_type": "Bearer", "app_id": "APP-1"}`, token: "at"},
		{app: "microsoft_graph_app", fields: map[string]string{"tenant": "contoso.onmicrosoft.com", "client_id": "cid", "client_secret": "cs-123456"},
			path: "/contoso.onmicrosoft.com/oauth2/v2.0/token", form: map[string]string{"grant_type": "client_credentials", "scope": "https://graph.microsoft.com/.default", "client_secret": "cs-123456"},
			answer: `{"access_token": "at", "expires_in": 3599, "token_type": "Bearer"}`, token: "at"},
		{app: "salesforce_marketing_cloud", fields: map[string]string{"subdomain": "mc123", "client_id": "cid", "client_secret": "cs-123456"},
			path: "/v2/token", json: `{"grant_type": "client_credentials", "client_id": "cid", "client_secret": "cs-123456"}`,
			answer: `{"access_token": "at", "expires_in": 1079, "token_type": "Bearer", "rest_instance_url": "https://mc123.rest.marketingcloudapis.com/"}`, token: "at"},
		{app: "spotify_app", fields: map[string]string{"client_id": "cid", "client_secret": "cs-123456"},
			path: "/api/token", form: map[string]string{"grant_type": "client_credentials"}, basic: "cid:cs-123456",
			answer: `{"access_token": "at", "expires_in": 3600, "token_type": "bearer"}`, token: "at"},
		{app: "tableau", fields: map[string]string{"server": "10ay.online.tableau.com", "api_version": "3.22", "token_name": "ci", "token_secret": "pat-123456"},
			path: "/api/3.22/auth/signin", json: `{"credentials": {"personalAccessTokenName": "ci", "personalAccessTokenSecret": "pat-123456", "site": {"contentUrl": ""}}}`,
			answer: `{"credentials": {"token": "tab-tok", "site": {"id": "s1", "contentUrl": ""}, "user": {"id": "u1"}}}`, token: "tab-tok"},
		{app: "jamf_pro_user", fields: map[string]string{"instance": "acme", "username": "api", "password": "pw-123456"},
			path: "/api/v1/auth/token", basic: "api:pw-123456",
			answer: `{"token": "jamf-tok", "expires": "2030-01-24T21:35:20.373Z"}`, token: "jamf-tok"},
	}
	for _, tt := range tests {
		t.Run(tt.app, func(t *testing.T) {
			check := func(r *http.Request, body string) error {
				if r.URL.Path != tt.path || r.Method != http.MethodPost {
					return fmt.Errorf("%s %s, want POST %s", r.Method, r.URL.Path, tt.path)
				}
				for k, v := range tt.query {
					if got := r.URL.Query().Get(k); got != v {
						return fmt.Errorf("query %s = %q, want %q", k, got, v)
					}
				}
				if tt.basic != "" {
					if got := r.Header.Get("Authorization"); got != "Basic "+base64.StdEncoding.EncodeToString([]byte(tt.basic)) {
						return fmt.Errorf("authorization %q, want Basic %s", got, tt.basic)
					}
				}
				if tt.json != "" {
					var got, want any
					_ = json.Unmarshal([]byte(body), &got)
					_ = json.Unmarshal([]byte(tt.json), &want)
					if fmt.Sprint(got) != fmt.Sprint(want) || !strings.Contains(r.Header.Get("Content-Type"), "json") {
						return fmt.Errorf("body %s, want %s", body, tt.json)
					}
				}
				form, _ := url.ParseQuery(body)
				for k, v := range tt.form {
					if got := form.Get(k); got != v {
						return fmt.Errorf("body %s = %q, want %q", k, got, v)
					}
				}
				return nil
			}
			origin := standIn(t, check, 200, "application/json", tt.answer)
			tok, err := minter(shipped(t, tt.app), origin, tt.fields).Mint(context.Background())
			if err != nil || tok.AccessToken.Reveal() != tt.token {
				t.Fatalf("mint: %v, %v", tok, err)
			}
		})
	}
}

// TestShippedDocuSignJWT: DocuSign's assertion names the integration key
// as iss, the impersonated user as sub, the authentication server's bare
// host as aud, and the scopes signature and impersonation.
func TestShippedDocuSignJWT(t *testing.T) {
	_, keyPEM := rsaPEM(t)
	origin := standIn(t, func(r *http.Request, body string) error {
		form, _ := url.ParseQuery(body)
		parts := strings.Split(form.Get("assertion"), ".")
		if len(parts) != 3 || form.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
			return errf("not a JWT bearer request: " + body)
		}
		b, _ := base64.RawURLEncoding.DecodeString(parts[1])
		var c map[string]any
		_ = json.Unmarshal(b, &c)
		if c["iss"] != "ik-1" || c["sub"] != "0e6f0b2a-1111-2222-3333-444455556666" || c["aud"] != "account-d.docusign.com" || c["scope"] != "signature impersonation" {
			return errf("claims " + string(b))
		}
		return nil
	}, 200, "application/json", `{"access_token": "ds-tok", "expires_in": 3600, "token_type": "Bearer"}`)
	fields := map[string]string{"auth_host": "account-d.docusign.com", "api_host": "demo.docusign.net", "integration_key": "ik-1",
		"user_id": "0e6f0b2a-1111-2222-3333-444455556666", "private_key": keyPEM}
	tok, err := minter(shipped(t, "docusign_jwt"), origin, fields).Mint(context.Background())
	if err != nil || tok.AccessToken.Reveal() != "ds-tok" {
		t.Fatalf("mint: %v, %v", tok, err)
	}
}
