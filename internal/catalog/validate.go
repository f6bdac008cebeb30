package catalog

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/latchkeyhq/latchkey/internal/netpolicy"
)

var (
	slugRE  = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)
	fieldRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)
	// A kept token response field is a name or a dot path into nested
	// objects, as the provider spells it.
	keepRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z0-9_]{1,62}){0,5}$`)
)

// AccessTokenField is the credential name of an OAuth 2 access token, as
// code reads it: auths.<app>.oauth_access_token.
const AccessTokenField = "oauth_access_token"

// Validate checks an app against the schema's rules. Each problem names the
// field it is about; all problems are reported together.
func (a *App) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}

	if !slugRE.MatchString(a.Slug) {
		bad("slug", "%q must be lower case letters, digits and underscores, starting with a letter", a.Slug)
	}
	if strings.TrimSpace(a.Name) == "" {
		bad("name", "is required")
	}
	if len(a.Categories) == 0 || len(a.Categories) > 3 {
		bad("categories", "give one to three")
	}
	for _, c := range a.Categories {
		if !slices.Contains(Categories, c) {
			bad("categories", "%q is not one of %s", c, strings.Join(Categories, ", "))
		}
	}
	if a.DocsURL == "" {
		bad("docs_url", "is required: the provider's page this entry was checked against")
	} else if err := checkURL(a.DocsURL, nil); err != nil {
		bad("docs_url", "%v", err)
	}

	// Names a template may use: declared fields, and for OAuth 2 the access
	// token and the kept response fields.
	names := map[string]bool{}
	for i, f := range a.Fields {
		where := fmt.Sprintf("fields[%d]", i)
		if !fieldRE.MatchString(f.Name) {
			bad(where+".name", "%q must be lower case letters, digits and underscores", f.Name)
		}
		if names[f.Name] {
			bad(where+".name", "%q is declared twice", f.Name)
		}
		names[f.Name] = true
		if strings.TrimSpace(f.Label) == "" {
			bad(where+".label", "is required")
		}
		if f.Pattern != "" {
			if _, err := regexp.Compile(f.Pattern); err != nil {
				bad(where+".pattern", "%v", err)
			}
		}
	}

	switch a.Auth {
	case AuthOAuth2:
		if a.OAuth2 == nil {
			bad("oauth2", "is required when auth is oauth2")
		} else {
			for _, reserved := range []string{AccessTokenField, OAuthClientIDField, RedirectURIName} {
				if names[reserved] {
					bad("fields", "%q is a name Latchkey gives an OAuth 2 account; give the field another", reserved)
				}
			}
			names[AccessTokenField] = true
			names[OAuthClientIDField] = true
			for _, k := range a.OAuth2.KeepFields {
				if !keepRE.MatchString(k) {
					bad("oauth2.keep_fields", "%q must be a response field's name or a dot path to one (installation.id)", k)
				}
				names[k] = true
			}
			for _, k := range a.OAuth2.providerValues() {
				if names[k] {
					bad("oauth2", "%q is kept twice (a field, a kept field, a callback field or a metadata value)", k)
				}
				names[k] = true
			}
			errs = append(errs, a.OAuth2.validate(names, a.patterned())...)
			errs = append(errs, a.OAuth2.validateQuirks(names, a.patternedOr(names), a.patterned(), a.BaseURL != "")...)
		}
		if a.Test != nil {
			bad("test", "is for keys apps; OAuth 2 apps are checked by their identity request")
		}
	case AuthOAuth1:
		if a.OAuth2 != nil {
			bad("oauth2", "is only for auth oauth2")
		}
		if a.OAuth1 == nil {
			bad("oauth1", "is required when auth is oauth1")
		} else {
			for _, n := range []string{OAuth1TokenField, OAuth1TokenSecretField, ConsumerKeyField} {
				if names[n] {
					bad("fields", "%q is the name of an OAuth 1.0a credential", n)
				}
				names[n] = true
			}
			errs = append(errs, a.OAuth1.validate(names, a.patterned())...)
		}
		if a.RequestAuth != nil {
			bad("request_auth", "an OAuth 1.0a app signs every request; it sets no request_auth")
		}
		if a.Test != nil {
			bad("test", "is for keys apps; OAuth 1.0a apps are checked by their identity request")
		}
	case AuthKeys, AuthBasic:
		if a.OAuth2 != nil {
			bad("oauth2", "is only for auth oauth2")
		}
		if len(a.Fields) == 0 {
			bad("fields", "a keys app needs at least one field")
		}
		if a.RequestAuth == nil {
			bad("request_auth", "a keys app must say how its credentials are sent")
		}
		if a.Auth == AuthBasic {
			if a.RequestAuth != nil && a.RequestAuth.Basic == nil {
				bad("request_auth", "a basic app sends its credentials with request_auth.basic")
			}
			if a.Test == nil {
				bad("test", "a basic app needs a test request, to check the pair before it is saved")
			}
		}
	case AuthClientCredentials, AuthJWTBearer, AuthTwoStep:
		if a.OAuth2 != nil {
			bad("oauth2", "is only for auth oauth2")
		}
		// The token request may name every field; everything else only
		// what code may read too, never the secret the token is minted from.
		all := maps.Clone(names)
		for _, f := range a.Fields {
			if f.Secret {
				delete(names, f.Name)
			}
		}
		names[AccessTokenField] = true
		for _, k := range a.mintedKept() {
			names[k] = true
		}
		errs = append(errs, a.validateMinted(all, a.patterned())...)
	case AuthNone:
		if a.OAuth2 != nil {
			bad("oauth2", "is only for auth oauth2")
		}
	default:
		bad("auth", "%q must be oauth2, oauth1, keys, basic, none, client_credentials, jwt_bearer or two_step", a.Auth)
	}
	if a.OAuth1 != nil && a.Auth != AuthOAuth1 {
		bad("oauth1", "is only for auth oauth1")
	}
	if !a.Minted() && (a.ClientCredentials != nil || a.JWTBearer != nil || a.TwoStep != nil) {
		bad("auth", "the client_credentials, jwt_bearer and two_step blocks go with the auth of that name")
	}

	if a.BaseURL != "" {
		if err := checkURL(a.BaseURL, a.patternedOr(names)); err != nil {
			bad("base_url", "%v", err)
		}
	}
	if ra := a.RequestAuth; ra != nil {
		errs = append(errs, ra.validate(names)...)
	}
	for k, v := range a.Headers {
		if err := checkHeader(k, v, names); err != nil {
			bad("headers."+k, "%v", err)
		}
	}
	if a.RateLimit != nil {
		errs = append(errs, a.RateLimit.validate()...)
	}
	if a.Refusal != nil {
		errs = append(errs, a.Refusal.validate()...)
	}
	for _, p := range []struct {
		name  string
		probe *Probe
	}{{"test", a.Test}, {"identity", a.Identity}} {
		if p.probe == nil {
			continue
		}
		errs = append(errs, p.probe.validate(p.name, a.BaseURL != "", a.patternedOr(names), names)...)
		if p.name == "identity" && strings.TrimSpace(p.probe.Label) == "" {
			bad("identity.label", "is required: it labels the account")
		}
		if p.name == "test" && p.probe.Label != "" {
			bad("test.label", "only the identity request has a label")
		}
	}
	errs = append(errs, a.validateActions(names)...)
	return errors.Join(errs...)
}

// patterned is the set of fields that may appear in a URL: a value pasted
// into a host or path must be held to a pattern, or it could redirect the
// request elsewhere.
func (a *App) patterned() map[string]bool {
	m := map[string]bool{}
	for _, f := range a.Fields {
		if f.Pattern != "" && !f.Secret {
			m[f.Name] = true
		}
	}
	return m
}

// patternedOr is patterned plus the OAuth 2 kept fields, which come from the
// provider rather than the user.
func (a *App) patternedOr(names map[string]bool) map[string]bool {
	m := a.patterned()
	if a.OAuth2 != nil {
		for _, k := range a.OAuth2.KeepFields {
			m[k] = true
		}
		for _, k := range a.OAuth2.providerValues() {
			m[k] = true
		}
	}
	for _, k := range a.mintedKept() {
		m[k] = true
	}
	return m
}

func (o *OAuth2) validate(names, urlNames map[string]bool) []error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("oauth2.%s: %s", field, fmt.Sprintf(format, args...)))
	}
	for _, u := range []struct{ field, v string }{
		{"authorize_url", o.AuthorizeURL}, {"token_url", o.TokenURL}, {"revoke_url", o.RevokeURL},
	} {
		if u.v == "" {
			if u.field != "revoke_url" {
				bad(u.field, "is required")
			}
			continue
		}
		if err := checkURL(u.v, urlNames); err != nil {
			bad(u.field, "%v", err)
		}
	}
	switch o.ClientAuth {
	case "", "basic", "body":
	default:
		bad("client_auth", "%q must be basic or body", o.ClientAuth)
	}
	switch o.TokenBody {
	case "", "form", "json":
	default:
		bad("token_body", "%q must be form or json", o.TokenBody)
	}
	for _, s := range append(slices.Clone(o.DefaultScopes), o.OptionalScopes...) {
		if s == "" || strings.Contains(s, o.Separator()) {
			bad("default_scopes", "scope %q is empty or contains the separator %q", s, o.Separator())
		}
	}
	for _, m := range []struct {
		field string
		v     map[string]string
	}{{"authorize_params", o.AuthorizeParams}, {"token_params", o.TokenParams}, {"refresh_params", o.RefreshParams}} {
		allowed := names
		if m.field != "authorize_params" {
			allowed = with(names, RedirectURIName)
		}
		for k, v := range m.v {
			if err := checkTemplate(v, allowed); err != nil {
				bad(m.field+"."+k, "%v", err)
			}
		}
	}
	for k, v := range o.TokenHeaders {
		if err := checkHeader(k, v, names); err != nil {
			bad("token_headers."+k, "%v", err)
		}
	}
	return errs
}

func (o *OAuth1) validate(names, urlNames map[string]bool) []error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("oauth1.%s: %s", field, fmt.Sprintf(format, args...)))
	}
	for _, u := range []struct{ field, v string }{
		{"request_token_url", o.RequestTokenURL}, {"authorize_url", o.AuthorizeURL}, {"access_token_url", o.AccessTokenURL},
	} {
		if u.v == "" {
			bad(u.field, "is required")
		} else if err := checkURL(u.v, urlNames); err != nil {
			bad(u.field, "%v", err)
		}
	}
	switch o.SignatureMethod {
	case "", "HMAC-SHA1":
	default:
		bad("signature_method", "%q: only HMAC-SHA1 is offered", o.SignatureMethod)
	}
	for k, v := range o.AuthorizeParams {
		switch k {
		case "oauth_token", "oauth_callback":
			bad("authorize_params."+k, "is set by the flow itself")
		}
		// The authorize URL is built before any token exists: only the
		// user's connection fields may be named.
		allowed := map[string]bool{}
		for n := range names {
			if n != OAuth1TokenField && n != OAuth1TokenSecretField && n != ConsumerKeyField {
				allowed[n] = true
			}
		}
		if err := checkTemplate(v, allowed); err != nil {
			bad("authorize_params."+k, "%v", err)
		}
	}
	return errs
}

func (r *RequestAuth) validate(names map[string]bool) []error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("request_auth.%s: %s", field, fmt.Sprintf(format, args...)))
	}
	kinds := 0
	if r.Header != "" || r.Value != "" {
		kinds++
		if r.Header == "" || r.Value == "" {
			bad("header", "header and value go together")
		} else if err := checkHeader(r.Header, r.Value, names); err != nil {
			bad("value", "%v", err)
		}
	}
	if r.Basic != nil {
		kinds++
		if err := checkTemplate(r.Basic.Username, names); err != nil {
			bad("basic.username", "%v", err)
		}
		if err := checkTemplate(r.Basic.Password, names); err != nil {
			bad("basic.password", "%v", err)
		}
	}
	if len(r.Query) > 0 {
		kinds++
		for k, v := range r.Query {
			if err := checkTemplate(v, names); err != nil {
				bad("query."+k, "%v", err)
			}
		}
	}
	if kinds != 1 {
		bad("header", "give exactly one of header+value, basic or query")
	}
	return errs
}

func (p *Probe) validate(name string, hasBase bool, urlNames, names map[string]bool) []error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s.%s: %s", name, field, fmt.Sprintf(format, args...)))
	}
	switch {
	case p.URL == "":
		bad("url", "is required")
	case strings.HasPrefix(p.URL, "/"):
		if !hasBase {
			bad("url", "%q is a path, but the app has no base_url", p.URL)
		}
		if err := checkTemplate(p.URL, urlNames); err != nil {
			bad("url", "%v%s", err, urlHint)
		}
	default:
		if err := checkURL(p.URL, urlNames); err != nil {
			bad("url", "%v", err)
		}
	}
	switch p.Method {
	case "", http.MethodGet, http.MethodPost, http.MethodHead:
	default:
		bad("method", "%q must be GET, POST or HEAD", p.Method)
	}
	for k, v := range p.Headers {
		if err := checkHeader(k, v, names); err != nil {
			bad("headers."+k, "%v", err)
		}
	}
	if err := checkTemplate(p.Body, names); err != nil {
		bad("body", "%v", err)
	}
	return errs
}

// checkURL requires an absolute https URL whose template names are allowed.
func checkURL(raw string, allowed map[string]bool) error {
	if err := checkTemplate(raw, allowed); err != nil {
		return fmt.Errorf("%w%s", err, urlHint)
	}
	// Fill the template with placeholders to check the URL's shape; a URL
	// may start with a provider-given origin such as {instance_url}.
	filled, _ := Expand(raw, func(string) (string, bool) { return "x", true })
	if strings.HasPrefix(raw, "{") {
		filled = "https://" + filled
	}
	u, err := url.Parse(filled)
	if err != nil {
		return fmt.Errorf("%q is not a URL", raw)
	}
	if u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("%q must be an absolute https URL", raw)
	}
	// An address written into the entry, in any spelling a resolver reads
	// ("127.1", "2130706433", "[::ffff:7f00:1]"), must be a public one. A
	// name is judged where it resolves, when it is dialled.
	if a, ok := netpolicy.ParseHost(u.Hostname()); ok {
		if err := netpolicy.Check(a); err != nil {
			return fmt.Errorf("%q: %w; Latchkey calls only public internet addresses", raw, err)
		}
	}
	if !netpolicy.PlainHost(u.Host) {
		return fmt.Errorf("%q: the host may hold only letters, digits, dots, hyphens and a port", raw)
	}
	return nil
}

func checkTemplate(tpl string, allowed map[string]bool) error {
	for _, n := range TemplateNames(tpl) {
		if !allowed[n] {
			return fmt.Errorf("template names {%s}, which is not allowed here (allowed: %s)", n, allowedList(allowed))
		}
	}
	return nil
}

// urlHint explains why a declared field may still be refused in a URL: a
// value pasted into a host or path must be held to a pattern, or it could
// send the request elsewhere, and a secret in a URL ends up in logs.
const urlHint = "; a URL may name only non-secret fields with a pattern and kept OAuth fields"

func allowedList(allowed map[string]bool) string {
	if len(allowed) == 0 {
		return "none"
	}
	var ks []string
	for k := range allowed {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return strings.Join(ks, ", ")
}

func checkHeader(name, value string, names map[string]bool) error {
	if name == "" || strings.ContainsAny(name, " :\r\n") {
		return fmt.Errorf("%q is not a header name", name)
	}
	if strings.ContainsAny(value, "\r\n") {
		return errors.New("header value has a line break")
	}
	return checkTemplate(value, names)
}
