// Package catalog holds the app catalog: the schema of an app entry, the
// embedded entries under apps/, and the strict loader that validates them.
//
// An app says how to authenticate with a provider and how to call it. It is
// plain data: nothing in Latchkey is written per app.
package catalog

import (
	"fmt"
	"time"

	"go.yaml.in/yaml/v3"
)

// AuthType is how an app authenticates.
type AuthType string

const (
	AuthOAuth2 AuthType = "oauth2"
	// AuthOAuth1 is OAuth 1.0a, three-legged, signed with HMAC-SHA1.
	AuthOAuth1 AuthType = "oauth1"
	AuthKeys   AuthType = "keys"
	// AuthBasic is HTTP Basic with a username and a password the user
	// enters: a keys app whose fields and request auth go without saying.
	AuthBasic AuthType = "basic"
	AuthNone  AuthType = "none"
)

// UsesOAuth reports whether the app connects through a provider's
// authorization page (OAuth 2 or OAuth 1.0a).
func (a *App) UsesOAuth() bool { return a.Auth == AuthOAuth2 || a.Auth == AuthOAuth1 }

// App is one catalog entry.
//
// URL and value templates may name, in braces, a declared field ({subdomain}),
// for OAuth 2 apps a kept token response field ({instance_url}) or the access
// token ({oauth_access_token}).
type App struct {
	Slug        string   `yaml:"slug" json:"slug"`
	Name        string   `yaml:"name" json:"name"`
	Description string   `yaml:"description,omitempty" json:"description,omitempty"`
	Categories  []string `yaml:"categories" json:"categories"`
	// DocsURL is the provider's own page the entry was checked against.
	DocsURL string `yaml:"docs_url" json:"docs_url"`
	// Notes say where the provider's docs were unclear or what an entry
	// could not express, so a reader does not take a guess for a fact.
	Notes string   `yaml:"notes,omitempty" json:"notes,omitempty"`
	Auth  AuthType `yaml:"auth" json:"auth"`
	// BaseURL is the root of the provider's API; probe paths are relative to it.
	BaseURL string `yaml:"base_url,omitempty" json:"base_url,omitempty"`
	// Fields are what the user enters: the credentials of a keys app, or the
	// connection parameters ({subdomain}, {shop}) of an OAuth 2 app.
	Fields []Field `yaml:"fields,omitempty" json:"fields,omitempty"`
	OAuth2 *OAuth2 `yaml:"oauth2,omitempty" json:"oauth2,omitempty"`
	OAuth1 *OAuth1 `yaml:"oauth1,omitempty" json:"oauth1,omitempty"`
	// The blocks of the minted modes (see minted.go), one per auth type.
	ClientCredentials *ClientCredentials `yaml:"client_credentials,omitempty" json:"client_credentials,omitempty"`
	JWTBearer         *JWTBearer         `yaml:"jwt_bearer,omitempty" json:"jwt_bearer,omitempty"`
	TwoStep           *TwoStep           `yaml:"two_step,omitempty" json:"two_step,omitempty"`
	// RequestAuth says how credentials are put on an API request. Keys apps
	// must set it; OAuth 2 and minted apps default to "Authorization:
	// Bearer <token>".
	RequestAuth *RequestAuth `yaml:"request_auth,omitempty" json:"request_auth,omitempty"`
	// Headers are sent on every API request (Notion-Version, Accept, ...).
	Headers map[string]string `yaml:"headers,omitempty" json:"headers,omitempty"`
	// Test is a cheap request that succeeds only with valid credentials; a
	// keys account is saved only when it passes.
	Test *Probe `yaml:"test,omitempty" json:"test,omitempty"`
	// Identity is the "who am I" request whose answer labels the account.
	Identity *Probe `yaml:"identity,omitempty" json:"identity,omitempty"`
	// Actions are prebuilt requests to the app's API (see Action).
	Actions []Action `yaml:"actions,omitempty" json:"actions,omitempty"`
	// RateLimit names the app's own rate-limit reset header, which the
	// proxy reads when an answer of 429 or 503 has no Retry-After.
	RateLimit *RateLimit `yaml:"rate_limit,omitempty" json:"rate_limit,omitempty"`
	// Refusal says how the app refuses a request in a 2xx answer (see
	// refusal.go); unset, every 2xx answer is a success.
	Refusal *Refusal `yaml:"refusal,omitempty" json:"refusal,omitempty"`
}

// Field is one value the user enters when connecting.
type Field struct {
	Name  string `yaml:"name" json:"name"`
	Label string `yaml:"label" json:"label"`
	Help  string `yaml:"help,omitempty" json:"help,omitempty"`
	// Secret fields are masked in forms and never shown again once saved.
	Secret   bool `yaml:"secret,omitempty" json:"secret,omitempty"`
	Optional bool `yaml:"optional,omitempty" json:"optional,omitempty"`
	// Pattern is a regular expression the whole value must match.
	Pattern string `yaml:"pattern,omitempty" json:"pattern,omitempty"`
	Default string `yaml:"default,omitempty" json:"default,omitempty"`
	// Multiline values (a PEM key, a JSON key file) get a text area, as a
	// one-line input drops their line breaks.
	Multiline bool `yaml:"multiline,omitempty" json:"multiline,omitempty"`
}

// OAuth2 describes an app's OAuth 2 authorization code flow and its quirks.
type OAuth2 struct {
	AuthorizeURL string `yaml:"authorize_url" json:"authorize_url"`
	TokenURL     string `yaml:"token_url" json:"token_url"`
	RevokeURL    string `yaml:"revoke_url,omitempty" json:"revoke_url,omitempty"`
	// ScopeSeparator joins scopes in the authorize URL; default " ".
	ScopeSeparator string `yaml:"scope_separator,omitempty" json:"scope_separator,omitempty"`
	// ScopeParam is the authorize parameter that carries scopes; default
	// "scope" (Slack user tokens use "user_scope").
	ScopeParam     string   `yaml:"scope_param,omitempty" json:"scope_param,omitempty"`
	DefaultScopes  []string `yaml:"default_scopes,omitempty" json:"default_scopes,omitempty"`
	OptionalScopes []string `yaml:"optional_scopes,omitempty" json:"optional_scopes,omitempty"`
	// Extra parameters for the authorize URL (access_type=offline), the code
	// exchange and the refresh request.
	AuthorizeParams map[string]string `yaml:"authorize_params,omitempty" json:"authorize_params,omitempty"`
	TokenParams     map[string]string `yaml:"token_params,omitempty" json:"token_params,omitempty"`
	RefreshParams   map[string]string `yaml:"refresh_params,omitempty" json:"refresh_params,omitempty"`
	// TokenHeaders are sent with token requests (GitHub answers JSON only
	// with Accept: application/json).
	TokenHeaders map[string]string `yaml:"token_headers,omitempty" json:"token_headers,omitempty"`
	// ClientAuth is how the client authenticates at the token endpoint:
	// "basic" (HTTP Basic header) or "body" (client_id and client_secret in
	// the request body). Default "body".
	ClientAuth string `yaml:"client_auth,omitempty" json:"client_auth,omitempty"`
	// TokenBody is the token request's encoding: "form" (default) or "json".
	TokenBody string `yaml:"token_body,omitempty" json:"token_body,omitempty"`
	// PKCE turns S256 PKCE on or off; default on.
	PKCE *bool `yaml:"pkce,omitempty" json:"pkce,omitempty"`
	// TokenPath is a dot path to the object holding access_token in the
	// token response, when it is not at the top (Slack: "authed_user").
	TokenPath string `yaml:"token_path,omitempty" json:"token_path,omitempty"`
	// KeepFields are token response fields kept on the account and handed
	// out with the credentials (Salesforce: instance_url): a name, or a dot
	// path into nested objects (Teamwork: installation.id), kept under that
	// path. Numbers and booleans are kept as JSON writes them.
	KeepFields []string `yaml:"keep_fields,omitempty" json:"keep_fields,omitempty"`
	// DefaultExpiresIn is the access token's lifetime when the response has
	// no expires_in. Zero means such a token does not expire, as does an
	// expires_in of 0 (Mailchimp).
	DefaultExpiresIn Duration `yaml:"default_expires_in,omitempty" json:"default_expires_in,omitempty"`
	// RotatesRefreshToken: every refresh returns a new refresh token and
	// invalidates the old one.
	RotatesRefreshToken bool `yaml:"rotates_refresh_token,omitempty" json:"rotates_refresh_token,omitempty"`
	// RefreshTokenIdle is how long a refresh token lives unused; the
	// refresher touches accounts before that.
	RefreshTokenIdle Duration `yaml:"refresh_token_idle,omitempty" json:"refresh_token_idle,omitempty"`

	// Provider quirks beyond RFC 6749, each its own block (see quirks.go).
	Quirks `yaml:",inline"`
}

// UsesPKCE reports whether the flow uses PKCE S256.
func (o *OAuth2) UsesPKCE() bool { return o.PKCE == nil || *o.PKCE }

// Separator returns the scope separator, " " unless set.
func (o *OAuth2) Separator() string {
	if o.ScopeSeparator == "" {
		return " "
	}
	return o.ScopeSeparator
}

// OAuth1 describes an app's OAuth 1.0a flow (RFC 5849): a request token,
// the user's approval at the authorize URL, and an access token that does
// not expire. Every API request is signed with HMAC-SHA1.
type OAuth1 struct {
	RequestTokenURL string `yaml:"request_token_url" json:"request_token_url"`
	AuthorizeURL    string `yaml:"authorize_url" json:"authorize_url"`
	AccessTokenURL  string `yaml:"access_token_url" json:"access_token_url"`
	// SignatureMethod is HMAC-SHA1, the only one offered.
	SignatureMethod string `yaml:"signature_method,omitempty" json:"signature_method,omitempty"`
	// AuthorizeParams are added to the authorize URL (Trello: name, scope,
	// expiration).
	AuthorizeParams map[string]string `yaml:"authorize_params,omitempty" json:"authorize_params,omitempty"`
}

// Credential names of an OAuth 1.0a account, as code reads them:
// auths.<app>.oauth_token and so on. The consumer secret is never one.
const (
	OAuth1TokenField       = "oauth_token"
	OAuth1TokenSecretField = "oauth_token_secret"
	ConsumerKeyField       = "consumer_key"
)

// RequestAuth puts credentials on an API request: a header, HTTP Basic, or
// query parameters. OAuth 1.0a apps sign every request instead and set
// none. Values are templates over the account's credentials.
type RequestAuth struct {
	Header string            `yaml:"header,omitempty" json:"header,omitempty"`
	Value  string            `yaml:"value,omitempty" json:"value,omitempty"`
	Basic  *BasicAuth        `yaml:"basic,omitempty" json:"basic,omitempty"`
	Query  map[string]string `yaml:"query,omitempty" json:"query,omitempty"`
}

// BasicAuth is HTTP Basic authentication from templates.
type BasicAuth struct {
	Username string `yaml:"username" json:"username"`
	Password string `yaml:"password" json:"password"`
}

// Probe is a request Latchkey makes with an account's credentials: the
// keys test request or the identity request.
type Probe struct {
	// Method defaults to GET.
	Method string `yaml:"method,omitempty" json:"method,omitempty"`
	// URL is a path under the app's base URL ("/v3/user/profile") or an
	// absolute https URL template.
	URL     string            `yaml:"url" json:"url"`
	Headers map[string]string `yaml:"headers,omitempty" json:"headers,omitempty"`
	// Body is sent as is, with Content-Type application/json when it starts
	// with "{" or "[".
	Body string `yaml:"body,omitempty" json:"body,omitempty"`
	// Label (identity only) builds the account's label from the JSON
	// response: "{user} on {team}" reads dot paths such as {data.0.email}.
	Label string `yaml:"label,omitempty" json:"label,omitempty"`
}

// Duration is a time.Duration written as "24h" or "90m" in catalog files.
type Duration time.Duration

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("line %d: invalid duration %q: %w", n.Line, s, err)
	}
	if v < 0 {
		return fmt.Errorf("line %d: negative duration %q", n.Line, s)
	}
	*d = Duration(v)
	return nil
}

// MarshalText writes the duration as a Go duration string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// Categories lists the categories an app may name.
var Categories = []string{
	"accounting", "ai", "analytics", "calendar", "chat", "crm", "communication",
	"developer-tools", "e-commerce", "email", "forms", "hr", "marketing",
	"payments", "productivity", "project-management", "social", "storage",
	"support", "video", "security", "databases", "sms", "documents", "design",
	"scheduling", "monitoring", "cloud", "finance", "content",
}
