// Package oauth runs the OAuth 2 authorization code flow, token refresh and
// revocation for catalog apps. golang.org/x/oauth2 does the protocol; this
// package feeds it the app's quirks (scope separator and parameter, extra
// parameters, client authentication style, JSON token bodies, nested token
// responses) as data, and classifies the failures.
package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/latchkeyhq/latchkey/internal/catalog"
	"github.com/latchkeyhq/latchkey/internal/secret"
)

// Client is the OAuth client Latchkey uses with an app.
type Client struct {
	ID     string
	Secret secret.String
}

// Flow is one app's OAuth 2 flow with one client.
type Flow struct {
	App    *catalog.App
	Client Client
	// RedirectURI is the fixed callback URL registered with the provider.
	RedirectURI string
	// RedirectName is the name the client registered for that URL, sent
	// in its place where the app says so (eBay's RuName).
	RedirectName string
	// Fields are the connection fields ({subdomain}, {shop}) the app's
	// URLs need.
	Fields map[string]string
	// HTTP makes the token and revocation requests; its Timeout bounds
	// each one.
	HTTP *http.Client
	// Now is the clock that turns expires_in into an expiry.
	Now func() time.Time
}

// Token is what a code exchange or refresh returned.
type Token struct {
	AccessToken  secret.String
	RefreshToken secret.String
	// TokenSecret is an OAuth 1.0a token's secret (AccessToken is its
	// oauth_token); empty for OAuth 2.
	TokenSecret secret.String
	// Expiry is zero when the token does not expire.
	Expiry time.Time
	// Scopes granted, when the provider says; nil when it does not.
	Scopes []string
	// Kept are the response fields the app keeps (instance_url, ...).
	Kept map[string]string
}

// expand fills a template from the connection fields, the redirect URI and
// the client id.
func (f *Flow) expand(tpl string) (string, error) {
	return catalog.Expand(tpl, func(name string) (string, bool) {
		if v, ok := f.Fields[name]; ok {
			return v, true
		}
		switch name {
		case catalog.RedirectURIName:
			u, err := f.redirectURI()
			return u, err == nil
		case catalog.OAuthClientIDField:
			return f.Client.ID, true
		}
		return "", false
	})
}

// redirectURI is the redirect_uri value the provider is sent: the
// callback URL, or the client's name for it (eBay's RuName).
func (f *Flow) redirectURI() (string, error) {
	if !f.App.OAuth2.RedirectName {
		return f.RedirectURI, nil
	}
	if f.RedirectName == "" {
		return "", ErrNoRedirectName
	}
	return f.RedirectName, nil
}

// ErrNoRedirectName: the app sends the client's name for the callback URL
// as redirect_uri, and the client gives none.
var ErrNoRedirectName = errors.New("the OAuth client gives no redirect name (the provider's name for Latchkey's callback URL), which this app needs")

func (f *Flow) config() (*oauth2.Config, error) { return f.configAt(f.App.OAuth2.TokenURL) }

// refreshConfig is config with the app's own refresh endpoint, if any.
func (f *Flow) refreshConfig() (*oauth2.Config, error) {
	if u := f.App.OAuth2.RefreshURL; u != "" {
		return f.configAt(u)
	}
	return f.config()
}

func (f *Flow) configAt(tokenTemplate string) (*oauth2.Config, error) {
	o := f.App.OAuth2
	authURL, err := f.expand(o.AuthorizeURL)
	if err != nil {
		return nil, fmt.Errorf("authorize_url: %w", err)
	}
	tokenURL, err := f.expand(tokenTemplate)
	if err != nil {
		return nil, fmt.Errorf("token_url: %w", err)
	}
	redirect, err := f.redirectURI()
	if err != nil {
		return nil, err
	}
	style := oauth2.AuthStyleInParams
	if o.ClientAuth == "basic" {
		style = oauth2.AuthStyleInHeader
	}
	return &oauth2.Config{
		ClientID:     f.Client.ID,
		ClientSecret: f.Client.Secret.Reveal(),
		RedirectURL:  redirect,
		Endpoint:     oauth2.Endpoint{AuthURL: authURL, TokenURL: tokenURL, AuthStyle: style},
	}, nil
}

// AuthCodeURL is the provider URL the user approves the connection at.
func (f *Flow) AuthCodeURL(state, verifier string, scopes []string) (string, error) {
	cfg, err := f.config()
	if err != nil {
		return "", err
	}
	o := f.App.OAuth2
	var opts []oauth2.AuthCodeOption
	if len(scopes) > 0 {
		param := o.ScopeParam
		if param == "" {
			param = "scope"
		}
		opts = append(opts, oauth2.SetAuthURLParam(param, strings.Join(scopes, o.Separator())))
	}
	for k, v := range o.AuthorizeParams {
		if v, err = f.expand(v); err != nil {
			return "", fmt.Errorf("authorize_params.%s: %w", k, err)
		}
		opts = append(opts, oauth2.SetAuthURLParam(k, v))
	}
	if o.UsesPKCE() {
		opts = append(opts, oauth2.S256ChallengeOption(verifier))
	}
	u := cfg.AuthCodeURL(state, opts...)
	if p := o.ClientIDParam; p != "" {
		return renameParam(u, "client_id", p)
	}
	return u, nil
}

// renameParam renames one query parameter of a URL.
func renameParam(raw, from, to string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("authorize_url: %w", err)
	}
	q := u.Query()
	if v, ok := q[from]; ok {
		q.Del(from)
		q[to] = v
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// Exchange trades an authorization code for tokens.
func (f *Flow) Exchange(ctx context.Context, code, verifier string) (*Token, error) {
	cfg, err := f.config()
	if err != nil {
		return nil, err
	}
	var opts []oauth2.AuthCodeOption
	if f.App.OAuth2.UsesPKCE() {
		opts = append(opts, oauth2.VerifierOption(verifier))
	}
	for k, v := range f.App.OAuth2.TokenParams {
		if v, err = f.expand(v); err != nil {
			return nil, fmt.Errorf("token_params.%s: %w", k, err)
		}
		opts = append(opts, oauth2.SetAuthURLParam(k, v))
	}
	tok, err := cfg.Exchange(f.context(ctx), code, opts...)
	if err != nil {
		return nil, classify(err, f.redactor(code, verifier))
	}
	return f.token(tok), nil
}

// Refresh gets a new access token with a refresh token. A response without
// a refresh token keeps the old one.
func (f *Flow) Refresh(ctx context.Context, refreshToken secret.String) (*Token, error) {
	if refreshToken.IsZero() {
		return nil, &Error{Kind: Permanent, Code: "no_refresh_token", Description: "the account has no refresh token"}
	}
	cfg, err := f.refreshConfig()
	if err != nil {
		return nil, err
	}
	// An expired token makes the token source refresh at once.
	src := cfg.TokenSource(f.context(ctx), &oauth2.Token{RefreshToken: refreshToken.Reveal(), Expiry: time.Unix(1, 0)})
	tok, err := src.Token()
	if err != nil {
		return nil, classify(err, f.redactor(refreshToken.Reveal()))
	}
	t := f.token(tok)
	if t.RefreshToken.IsZero() {
		t.RefreshToken = refreshToken
	}
	return t, nil
}

// context carries the quirks transport to x/oauth2.
func (f *Flow) context(ctx context.Context) context.Context {
	base := f.HTTP
	if base == nil {
		base = http.DefaultClient
	}
	refreshParams := map[string]string{}
	for k, v := range f.App.OAuth2.RefreshParams {
		if e, err := f.expand(v); err == nil {
			refreshParams[k] = e
		}
	}
	// A copy of the base client keeps its redirect policy (the guarded
	// client follows none) as well as its timeout.
	c := *base
	c.Transport = &quirks{
		next:          transport(base),
		app:           f.App.OAuth2,
		refreshParams: refreshParams,
	}
	return context.WithValue(ctx, oauth2.HTTPClient, &c)
}

func transport(c *http.Client) http.RoundTripper {
	if c.Transport != nil {
		return c.Transport
	}
	return http.DefaultTransport
}

func (f *Flow) token(tok *oauth2.Token) *Token {
	now := time.Now
	if f.Now != nil {
		now = f.Now
	}
	t := &Token{AccessToken: secret.New(tok.AccessToken), RefreshToken: secret.New(tok.RefreshToken)}
	switch {
	case tok.ExpiresIn > 0:
		t.Expiry = now().Add(time.Duration(tok.ExpiresIn) * time.Second)
	case saysNoExpiry(tok):
		// "expires_in": 0 is the provider saying the token lasts
		// (Mailchimp); nobody issues a token that is already dead.
	case f.App.OAuth2.DefaultExpiresIn > 0:
		t.Expiry = now().Add(time.Duration(f.App.OAuth2.DefaultExpiresIn))
	}
	if s, ok := tok.Extra("scope").(string); ok && s != "" {
		t.Scopes = splitScopes(s)
	}
	for _, k := range f.App.OAuth2.KeepFields {
		if v, ok := keptValue(tok, k); ok {
			if t.Kept == nil {
				t.Kept = map[string]string{}
			}
			t.Kept[k] = v
		}
	}
	return t
}

// saysNoExpiry reports a response whose expires_in is there and zero.
func saysNoExpiry(tok *oauth2.Token) bool {
	switch v := tok.Extra("expires_in").(type) {
	case float64:
		return v == 0
	case string:
		return strings.TrimSpace(v) == "0"
	}
	return false
}

// keptValue reads a kept field, a name or a dot path into nested objects
// (installation.id), as text: numbers and booleans as JSON writes them.
func keptValue(tok *oauth2.Token, path string) (string, bool) {
	first, rest, nested := strings.Cut(path, ".")
	v := tok.Extra(first)
	if nested {
		v, _ = lookupValue(v, rest)
	}
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case float64:
		s = strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		s = strconv.FormatBool(x)
	default:
		return "", false
	}
	return s, s != ""
}

// splitScopes reads a granted scope string, which providers separate with
// spaces or commas whatever they take in the authorize URL.
func splitScopes(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' })
}
