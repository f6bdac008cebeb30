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
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/latchkeyhq/latchkey/internal/catalog"
	"github.com/latchkeyhq/latchkey/internal/outbound"
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

func (f *Flow) expand(tpl string) (string, error) {
	return catalog.Expand(tpl, catalog.MapLookup(f.Fields))
}

func (f *Flow) config() (*oauth2.Config, error) {
	o := f.App.OAuth2
	authURL, err := f.expand(o.AuthorizeURL)
	if err != nil {
		return nil, fmt.Errorf("authorize_url: %w", err)
	}
	tokenURL, err := f.expand(o.TokenURL)
	if err != nil {
		return nil, fmt.Errorf("token_url: %w", err)
	}
	style := oauth2.AuthStyleInParams
	if o.ClientAuth == "basic" {
		style = oauth2.AuthStyleInHeader
	}
	return &oauth2.Config{
		ClientID:     f.Client.ID,
		ClientSecret: f.Client.Secret.Reveal(),
		RedirectURL:  f.RedirectURI,
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
	return cfg.AuthCodeURL(state, opts...), nil
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
	cfg, err := f.config()
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
	case f.App.OAuth2.DefaultExpiresIn > 0:
		t.Expiry = now().Add(time.Duration(f.App.OAuth2.DefaultExpiresIn))
	}
	if s, ok := tok.Extra("scope").(string); ok && s != "" {
		t.Scopes = splitScopes(s)
	}
	for _, k := range f.App.OAuth2.KeepFields {
		if v, ok := tok.Extra(k).(string); ok && v != "" {
			if t.Kept == nil {
				t.Kept = map[string]string{}
			}
			t.Kept[k] = v
		}
	}
	return t
}

// splitScopes reads a granted scope string, which providers separate with
// spaces or commas whatever they take in the authorize URL.
func splitScopes(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' })
}

// Revoke revokes a token at the app's RFC 7009 endpoint. ErrNoRevocation
// when the app has none.
func (f *Flow) Revoke(ctx context.Context, token secret.String, hint string) error {
	if f.App.OAuth2.RevokeURL == "" {
		return ErrNoRevocation
	}
	u, err := f.expand(f.App.OAuth2.RevokeURL)
	if err != nil {
		return fmt.Errorf("revoke_url: %w", err)
	}
	form := url.Values{"token": {token.Reveal()}}
	if hint != "" {
		form.Set("token_type_hint", hint)
	}
	if f.App.OAuth2.ClientAuth != "basic" {
		form.Set("client_id", f.Client.ID)
		form.Set("client_secret", f.Client.Secret.Reveal())
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("revoke: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if f.App.OAuth2.ClientAuth == "basic" {
		req.SetBasicAuth(url.QueryEscape(f.Client.ID), url.QueryEscape(f.Client.Secret.Reveal()))
	}
	hc := f.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		if be := blocked(err); be != nil {
			return be
		}
		return &Error{Kind: Transient, Description: "the revocation endpoint could not be reached"}
	}
	defer resp.Body.Close()
	if err := outbound.Redirect(resp); err != nil {
		return &Error{Kind: Transient, Status: resp.StatusCode, Description: err.Error(), cause: err}
	}
	if resp.StatusCode != http.StatusOK {
		// resp.Status carries the provider's own reason phrase; say the
		// standard one.
		return &Error{Kind: kindForStatus(resp.StatusCode), Status: resp.StatusCode,
			Description: fmt.Sprintf("the revocation endpoint answered %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))}
	}
	return nil
}

// ErrNoRevocation means the app has no revocation endpoint.
var ErrNoRevocation = errors.New("the app has no token revocation endpoint")
