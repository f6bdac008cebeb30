package catalog

import (
	"net/http"
	"regexp"
)

// Quirks are the parts of an OAuth 2 entry for providers that step outside
// RFC 6749 and RFC 7009. Each is a block of its own, unset for most apps.
type Quirks struct {
	// ClientIDParam is the name the provider gives the client id in the
	// authorize URL and the token requests (TikTok: "client_key").
	ClientIDParam string `yaml:"client_id_param,omitempty" json:"client_id_param,omitempty"`

	// RedirectName: the provider takes as redirect_uri not Latchkey's
	// callback URL but a name the client registered for it (eBay's
	// RuName). Each OAuth client of the app gives its own.
	RedirectName bool `yaml:"redirect_name,omitempty" json:"redirect_name,omitempty"`

	// RefreshURL is where refresh requests go when not to TokenURL
	// (Figma, Dropbox Sign).
	RefreshURL string `yaml:"refresh_url,omitempty" json:"refresh_url,omitempty"`

	// CallbackFields are query parameters of the callback kept on the
	// account, by name: {realm_id: realmId} keeps QuickBooks' company id
	// as {realm_id}.
	CallbackFields map[string]string `yaml:"callback_fields,omitempty" json:"callback_fields,omitempty"`

	// Metadata is a request made once an account is connected, whose JSON
	// answer gives values kept on the account, such as a data centre that
	// the base URL names (Mailchimp's dc, Atlassian's cloud id).
	Metadata *Metadata `yaml:"metadata,omitempty" json:"metadata,omitempty"`

	// Revoke is a revocation call that is not RFC 7009's (GitHub's DELETE
	// of the grant, Dropbox's bearer call). It replaces RevokeURL.
	Revoke *Revocation `yaml:"revoke,omitempty" json:"revoke,omitempty"`

	// Provider names a family of entries that share one authorization
	// server and client setup on purpose (Google's apps, Atlassian's), so
	// the catalog's copy-paste check lets them be alike.
	Provider string `yaml:"provider,omitempty" json:"provider,omitempty"`
}

// Metadata is the post-connect request: a probe whose answer's dot paths
// are kept under names.
type Metadata struct {
	URL     string            `yaml:"url" json:"url"`
	Headers map[string]string `yaml:"headers,omitempty" json:"headers,omitempty"`
	// Keep maps a kept name to a dot path in the answer ("0.id").
	Keep map[string]string `yaml:"keep" json:"keep"`
}

// Probe is the metadata request as a probe.
func (m *Metadata) Probe() *Probe { return &Probe{URL: m.URL, Headers: m.Headers} }

// Revocation is a revocation request template. Templates may name the
// token being revoked ({token}, {token_type_hint}), the client
// ({oauth_client_id}; {oauth_client_secret} in headers and body only) and
// the app's fields.
type Revocation struct {
	// Method defaults to POST.
	Method string `yaml:"method,omitempty" json:"method,omitempty"`
	URL    string `yaml:"url" json:"url"`
	// Auth is "basic" (the client id and secret), "bearer" (the token
	// being revoked) or "none" (the default).
	Auth    string            `yaml:"auth,omitempty" json:"auth,omitempty"`
	Headers map[string]string `yaml:"headers,omitempty" json:"headers,omitempty"`
	// Body is sent as JSON when it starts with "{", else as a form; the
	// values put into it are escaped for that encoding.
	Body string `yaml:"body,omitempty" json:"body,omitempty"`
	// Tokens are the tokens revoked, one call each, in order:
	// refresh_token and access_token (the default is both).
	Tokens []string `yaml:"tokens,omitempty" json:"tokens,omitempty"`
}

// Template names a revocation may use besides the app's fields.
const (
	RevokeTokenName    = "token"
	RevokeHintName     = "token_type_hint"
	OAuthClientIDField = "oauth_client_id"
	OAuthClientSecret  = "oauth_client_secret"
	// RedirectURIName is Latchkey's callback URL (or the entry's
	// redirect_uri), for token and refresh parameters (Deel wants it in
	// the refresh request).
	RedirectURIName = "redirect_uri"
)

// RevokeMethod is the revocation's method, POST unless set.
func (r *Revocation) RevokeMethod() string {
	if r.Method == "" {
		return http.MethodPost
	}
	return r.Method
}

// RevokeTokens are the token kinds revoked, refresh then access unless set.
func (r *Revocation) RevokeTokens() []string {
	if len(r.Tokens) == 0 {
		return []string{"refresh_token", "access_token"}
	}
	return r.Tokens
}

// CanRevoke reports whether the app has a revocation call of either kind.
func (o *OAuth2) CanRevoke() bool { return o.RevokeURL != "" || o.Revoke != nil }

// SafeValue is what a value the provider gives (a callback field, a
// metadata value) must look like to be kept: such values may be put into
// a host or a path, so they may not carry a slash, a colon or an @.
var SafeValue = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._~-]{0,127}$`)
