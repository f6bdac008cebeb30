package catalog

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
)

// The minted modes: the account keeps a long-lived secret the user enters,
// and Latchkey mints short-lived access tokens from it, on read when the
// token is missing or expiring and in the background before it expires.
const (
	// AuthClientCredentials is the OAuth 2 client credentials grant (RFC
	// 6749 section 4.4) with the client id and secret the user enters.
	AuthClientCredentials AuthType = "client_credentials"
	// AuthJWTBearer signs a JWT assertion (RFC 7523) with the private key
	// the user enters, a Google service-account JSON or a PEM key.
	AuthJWTBearer AuthType = "jwt_bearer"
	// AuthTwoStep exchanges an entered key for a short-lived token at a
	// token endpoint described by the entry.
	AuthTwoStep AuthType = "two_step"
)

// The fields a minted mode reads by name.
const (
	ClientIDField           = "client_id"
	ClientSecretField       = "client_secret"
	PrivateKeyField         = "private_key"
	ServiceAccountJSONField = "service_account_json"
)

// Key formats of a JWT bearer app.
const (
	KeyPEM                  = "pem"
	KeyGoogleServiceAccount = "google_service_account"
)

// ClientCredentials is how a client credentials app gets its token.
type ClientCredentials struct {
	TokenURL string `yaml:"token_url" json:"token_url"`
	// ClientAuth is "basic" or "body" (default), as for OAuth 2.
	ClientAuth string `yaml:"client_auth,omitempty" json:"client_auth,omitempty"`
	// TokenBody is "form" (default) or "json".
	TokenBody string `yaml:"token_body,omitempty" json:"token_body,omitempty"`
	// Scopes are templates over the non-secret fields.
	Scopes []string `yaml:"scopes,omitempty" json:"scopes,omitempty"`
	// TokenParams are added to the token request (audience, resource);
	// grant_type here replaces client_credentials.
	TokenParams  map[string]string `yaml:"token_params,omitempty" json:"token_params,omitempty"`
	TokenHeaders map[string]string `yaml:"token_headers,omitempty" json:"token_headers,omitempty"`
	// KeepFields are token response fields kept with the credentials.
	KeepFields       []string `yaml:"keep_fields,omitempty" json:"keep_fields,omitempty"`
	DefaultExpiresIn Duration `yaml:"default_expires_in,omitempty" json:"default_expires_in,omitempty"`
}

// JWTBearer is how a JWT bearer app gets its token.
type JWTBearer struct {
	TokenURL string `yaml:"token_url" json:"token_url"`
	// Key says what the user pastes: "google_service_account" (the JSON
	// key file, in field service_account_json) or "pem" (an RSA private
	// key, in field private_key).
	Key string `yaml:"key" json:"key"`
	// Issuer (iss) is a template; a Google key names its own client_email.
	Issuer string `yaml:"issuer,omitempty" json:"issuer,omitempty"`
	// Subject (sub) is a template; an empty value leaves it out. Google's
	// domain-wide delegation names the user to act as here.
	Subject string `yaml:"subject,omitempty" json:"subject,omitempty"`
	// Audience (aud) defaults to the token URL.
	Audience string   `yaml:"audience,omitempty" json:"audience,omitempty"`
	Scopes   []string `yaml:"scopes,omitempty" json:"scopes,omitempty"`
	// KeyID is the kid header, a template; a Google key names its own.
	KeyID string `yaml:"key_id,omitempty" json:"key_id,omitempty"`
	// Lifetime is the assertion's; default 1h.
	Lifetime Duration `yaml:"lifetime,omitempty" json:"lifetime,omitempty"`
	// Claims are more claims, templates.
	Claims           map[string]string `yaml:"claims,omitempty" json:"claims,omitempty"`
	DefaultExpiresIn Duration          `yaml:"default_expires_in,omitempty" json:"default_expires_in,omitempty"`
}

// TwoStep is a token request the entry describes whole.
type TwoStep struct {
	TokenURL string `yaml:"token_url" json:"token_url"`
	// Method is POST (default), GET or PUT.
	Method  string            `yaml:"method,omitempty" json:"method,omitempty"`
	Headers map[string]string `yaml:"headers,omitempty" json:"headers,omitempty"`
	// Basic sends HTTP Basic credentials from templates.
	Basic *BasicAuth `yaml:"basic,omitempty" json:"basic,omitempty"`
	// Body is a template: JSON when it starts with "{" or "[" (values are
	// JSON-escaped), else a form (values are URL-escaped).
	Body string `yaml:"body,omitempty" json:"body,omitempty"`
	// TokenPath is the dot path of the token in the JSON answer.
	TokenPath string `yaml:"token_path" json:"token_path"`
	// ExpiresInPath (seconds) or ExpiresAtPath (RFC 3339) say when it
	// expires; DefaultExpiresIn is the lifetime when the answer says not.
	ExpiresInPath    string   `yaml:"expires_in_path,omitempty" json:"expires_in_path,omitempty"`
	ExpiresAtPath    string   `yaml:"expires_at_path,omitempty" json:"expires_at_path,omitempty"`
	DefaultExpiresIn Duration `yaml:"default_expires_in" json:"default_expires_in"`
	// Keep maps a credential name to a dot path in the answer
	// (site_id: credentials.site.id).
	Keep map[string]string `yaml:"keep,omitempty" json:"keep,omitempty"`
}

// Minted reports whether the app mints its tokens from an entered secret.
func (a *App) Minted() bool {
	switch a.Auth {
	case AuthClientCredentials, AuthJWTBearer, AuthTwoStep:
		return true
	}
	return false
}

// EntersKeys reports whether the user connects by filling in the app's
// fields (keys and minted apps) rather than at the provider.
func (a *App) EntersKeys() bool { return a.Auth == AuthKeys || a.Auth == AuthBasic || a.Minted() }

// HasAccessToken reports whether the account holds an access token that
// Latchkey keeps fresh: OAuth 2 and minted apps.
func (a *App) HasAccessToken() bool { return a.Auth == AuthOAuth2 || a.Minted() }

// Withheld reports whether a field's value stays on the server: a minted
// app's secret fields are what the tokens are minted from, so code gets
// the minted token and never the secret.
func (a *App) Withheld(field string) bool {
	if !a.Minted() {
		return false
	}
	f, ok := a.Field(field)
	return ok && f.Secret
}

// mintedKept are the provider-given names a minted app's templates may use.
func (a *App) mintedKept() []string {
	switch {
	case a.ClientCredentials != nil:
		return a.ClientCredentials.KeepFields
	case a.TwoStep != nil:
		var ks []string
		for k := range a.TwoStep.Keep {
			ks = append(ks, k)
		}
		slices.Sort(ks)
		return ks
	}
	return nil
}

// validateMinted checks a minted app's block. all are every declared
// field (the token request may name secrets); urlNames those a URL may.
func (a *App) validateMinted(all, urlNames map[string]bool) []error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	blocks := 0
	for _, set := range []bool{a.OAuth2 != nil, a.ClientCredentials != nil, a.JWTBearer != nil, a.TwoStep != nil} {
		if set {
			blocks++
		}
	}
	if blocks > 1 {
		bad("auth", "give only the block of auth %s", a.Auth)
	}
	need := func(name string, secret bool) {
		f, ok := a.Field(name)
		switch {
		case !ok:
			bad("fields", "auth %s needs a field named %s", a.Auth, name)
		case secret && !f.Secret:
			bad("fields", "field %s must be secret", name)
		}
	}
	for _, k := range a.mintedKept() {
		if !fieldRE.MatchString(k) {
			bad(string(a.Auth)+".keep", "%q must be lower case letters, digits and underscores", k)
		}
		if _, ok := a.Field(k); ok || k == AccessTokenField {
			bad(string(a.Auth)+".keep", "%q is already a field's name", k)
		}
	}
	// Scopes may name the fields code may read too ({project_key}).
	public := map[string]bool{}
	for _, f := range a.Fields {
		if !f.Secret {
			public[f.Name] = true
		}
	}
	tpl := func(field, v string, names map[string]bool) {
		if err := checkTemplate(v, names); err != nil {
			bad(field, "%v", err)
		}
	}
	tokenURL := func(where, u string) {
		if u == "" {
			bad(where+".token_url", "is required")
		} else if err := checkURL(u, urlNames); err != nil {
			bad(where+".token_url", "%v", err)
		}
	}
	switch a.Auth {
	case AuthClientCredentials:
		c := a.ClientCredentials
		if c == nil {
			bad("client_credentials", "is required when auth is client_credentials")
			break
		}
		need(ClientIDField, false)
		need(ClientSecretField, true)
		tokenURL("client_credentials", c.TokenURL)
		switch c.ClientAuth {
		case "", "basic", "body":
		default:
			bad("client_credentials.client_auth", "%q must be basic or body", c.ClientAuth)
		}
		switch c.TokenBody {
		case "", "form", "json":
		default:
			bad("client_credentials.token_body", "%q must be form or json", c.TokenBody)
		}
		for _, s := range c.Scopes {
			if s == "" || strings.ContainsAny(s, " ") {
				bad("client_credentials.scopes", "scope %q is empty or has a space", s)
			}
			tpl("client_credentials.scopes", s, public)
		}
		for k, v := range c.TokenParams {
			// grant_type may be set, for providers with a grant of their
			// own (Zoom's account_credentials).
			if slices.Contains([]string{"client_id", "client_secret", "scope"}, k) {
				bad("client_credentials.token_params."+k, "is set by Latchkey")
			}
			tpl("client_credentials.token_params."+k, v, all)
		}
		for k, v := range c.TokenHeaders {
			if err := checkHeader(k, v, all); err != nil {
				bad("client_credentials.token_headers."+k, "%v", err)
			}
		}
	case AuthJWTBearer:
		j := a.JWTBearer
		if j == nil {
			bad("jwt_bearer", "is required when auth is jwt_bearer")
			break
		}
		tokenURL("jwt_bearer", j.TokenURL)
		switch j.Key {
		case KeyGoogleServiceAccount:
			need(ServiceAccountJSONField, true)
			if j.Issuer != "" || j.KeyID != "" {
				bad("jwt_bearer.issuer", "a Google service-account key names its own issuer and key id")
			}
		case KeyPEM:
			need(PrivateKeyField, true)
			if strings.TrimSpace(j.Issuer) == "" {
				bad("jwt_bearer.issuer", "is required with a pem key")
			}
		default:
			bad("jwt_bearer.key", "%q must be %s or %s", j.Key, KeyGoogleServiceAccount, KeyPEM)
		}
		for _, s := range j.Scopes {
			if s == "" || strings.ContainsAny(s, " ") {
				bad("jwt_bearer.scopes", "scope %q is empty or has a space", s)
			}
			tpl("jwt_bearer.scopes", s, public)
		}
		for _, t := range []struct{ f, v string }{{"issuer", j.Issuer}, {"subject", j.Subject}, {"audience", j.Audience}, {"key_id", j.KeyID}} {
			if strings.Contains(t.v, "{"+PrivateKeyField+"}") || strings.Contains(t.v, "{"+ServiceAccountJSONField+"}") {
				bad("jwt_bearer."+t.f, "must not name the private key")
			}
			tpl("jwt_bearer."+t.f, t.v, all)
		}
		for k, v := range j.Claims {
			if slices.Contains([]string{"iss", "sub", "aud", "exp", "iat", "scope", "jti"}, k) {
				bad("jwt_bearer.claims."+k, "is set by Latchkey")
			}
			tpl("jwt_bearer.claims."+k, v, all)
		}
		if j.Lifetime < 0 || j.Lifetime > Duration(24*60*60*1e9) {
			bad("jwt_bearer.lifetime", "must be at most 24h")
		}
	case AuthTwoStep:
		s := a.TwoStep
		if s == nil {
			bad("two_step", "is required when auth is two_step")
			break
		}
		tokenURL("two_step", s.TokenURL)
		switch s.Method {
		case "", http.MethodPost, http.MethodGet, http.MethodPut:
		default:
			bad("two_step.method", "%q must be POST, GET or PUT", s.Method)
		}
		for k, v := range s.Headers {
			if err := checkHeader(k, v, all); err != nil {
				bad("two_step.headers."+k, "%v", err)
			}
		}
		if s.Basic != nil {
			tpl("two_step.basic.username", s.Basic.Username, all)
			tpl("two_step.basic.password", s.Basic.Password, all)
		}
		tpl("two_step.body", s.Body, all)
		if s.Body != "" && s.Method == http.MethodGet {
			bad("two_step.body", "a GET request has no body")
		}
		if !pathRE.MatchString(s.TokenPath) {
			bad("two_step.token_path", "%q must be a dot path such as data.token", s.TokenPath)
		}
		for _, p := range []struct{ f, v string }{{"expires_in_path", s.ExpiresInPath}, {"expires_at_path", s.ExpiresAtPath}} {
			if p.v != "" && !pathRE.MatchString(p.v) {
				bad("two_step."+p.f, "%q must be a dot path", p.v)
			}
		}
		if s.ExpiresInPath != "" && s.ExpiresAtPath != "" {
			bad("two_step.expires_at_path", "give expires_in_path or expires_at_path, not both")
		}
		if s.DefaultExpiresIn <= 0 {
			bad("two_step.default_expires_in", "is required: the token's lifetime when the answer does not say")
		}
		for k, p := range s.Keep {
			if !pathRE.MatchString(p) {
				bad("two_step.keep."+k, "%q must be a dot path", p)
			}
		}
	}
	return errs
}

// pathRE is a dot path into a JSON answer: data.token, items.0.id.
var pathRE = regexp.MustCompile(`^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$`)
