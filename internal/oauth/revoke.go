package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/latchkeyhq/latchkey/internal/catalog"
	"github.com/latchkeyhq/latchkey/internal/outbound"
	"github.com/latchkeyhq/latchkey/internal/secret"
)

// ErrNoRevocation means the app has no revocation endpoint.
var ErrNoRevocation = errors.New("the app has no token revocation endpoint")

// Revoke revokes a token: at the app's RFC 7009 endpoint, or with the
// entry's own revocation call. hint is "refresh_token" or
// "access_token". ErrNoRevocation when the app has neither.
func (f *Flow) Revoke(ctx context.Context, token secret.String, hint string) error {
	o := f.App.OAuth2
	var req *http.Request
	var err error
	switch {
	case o.Revoke != nil:
		req, err = f.revokeRequest(ctx, o.Revoke, token, hint)
	case o.RevokeURL != "":
		req, err = f.rfc7009Request(ctx, token, hint)
	default:
		return ErrNoRevocation
	}
	if err != nil {
		return err
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
		// The error names the URL, which may hold the token (HubSpot):
		// say only what happened.
		return &Error{Kind: Transient, Description: "the revocation endpoint could not be reached"}
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxTokenBody))
	if err := outbound.Redirect(resp); err != nil {
		return &Error{Kind: Transient, Status: resp.StatusCode, Description: err.Error(), cause: err}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		// resp.Status carries the provider's own reason phrase; say the
		// standard one.
		return &Error{Kind: kindForStatus(resp.StatusCode), Status: resp.StatusCode,
			Description: fmt.Sprintf("the revocation endpoint answered %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))}
	}
	return nil
}

func (f *Flow) rfc7009Request(ctx context.Context, token secret.String, hint string) (*http.Request, error) {
	o := f.App.OAuth2
	u, err := f.expand(o.RevokeURL)
	if err != nil {
		return nil, fmt.Errorf("revoke_url: %w", err)
	}
	form := url.Values{"token": {token.Reveal()}}
	if hint != "" {
		form.Set("token_type_hint", hint)
	}
	if o.ClientAuth != "basic" {
		form.Set("client_id", f.Client.ID)
		form.Set("client_secret", f.Client.Secret.Reveal())
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, errors.New("revoke: the request could not be made")
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if o.ClientAuth == "basic" {
		req.SetBasicAuth(url.QueryEscape(f.Client.ID), url.QueryEscape(f.Client.Secret.Reveal()))
	}
	return req, nil
}

// revokeRequest fills the entry's revocation template. Each value is
// escaped for where it goes: a URL path, a JSON string, a form value.
func (f *Flow) revokeRequest(ctx context.Context, r *catalog.Revocation, token secret.String, hint string) (*http.Request, error) {
	values := func(escape func(string) string) func(string) (string, bool) {
		return func(name string) (string, bool) {
			var v string
			switch name {
			case catalog.RevokeTokenName:
				v = token.Reveal()
			case catalog.RevokeHintName:
				v = hint
			case catalog.OAuthClientIDField:
				v = f.Client.ID
			case catalog.OAuthClientSecret:
				v = f.Client.Secret.Reveal()
			default:
				var ok bool
				if v, ok = f.Fields[name]; !ok {
					return "", false
				}
			}
			return escape(v), true
		}
	}
	// A failed expansion names only the template's name, never a value.
	u, err := catalog.Expand(r.URL, values(url.PathEscape))
	if err != nil {
		return nil, fmt.Errorf("revoke.url: %w", err)
	}
	var body io.Reader
	contentType := ""
	if r.Body != "" {
		escape, ct := url.QueryEscape, "application/x-www-form-urlencoded"
		if strings.HasPrefix(strings.TrimSpace(r.Body), "{") {
			escape, ct = jsonEscape, "application/json"
		}
		b, err := catalog.Expand(r.Body, values(escape))
		if err != nil {
			return nil, fmt.Errorf("revoke.body: %w", err)
		}
		body, contentType = strings.NewReader(b), ct
	}
	req, err := http.NewRequestWithContext(ctx, r.RevokeMethod(), u, body)
	if err != nil {
		return nil, errors.New("revoke: the request could not be made")
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, tpl := range r.Headers {
		v, err := catalog.Expand(tpl, values(func(s string) string { return s }))
		if err != nil {
			return nil, fmt.Errorf("revoke.headers.%s: %w", k, err)
		}
		req.Header.Set(k, v)
	}
	switch r.Auth {
	case "basic":
		req.SetBasicAuth(f.Client.ID, f.Client.Secret.Reveal())
	case "bearer":
		req.Header.Set("Authorization", "Bearer "+token.Reveal())
	}
	return req, nil
}

// jsonEscape is s as the inside of a JSON string.
func jsonEscape(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}
