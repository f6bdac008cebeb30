package connecting

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"

	"github.com/latchkeyhq/latchkey/internal/catalog"
	"github.com/latchkeyhq/latchkey/internal/store"
)

// ErrOtherFlow: an OAuth 1.0a callback named a request token that is not
// the one its state was issued with (another connection's, or a forged
// one). The connection is spent; nothing is saved.
var ErrOtherFlow = errors.New("the provider's answer is for another authorization; nothing was saved; start the connection again")

// start1 asks the provider for an OAuth 1.0a request token whose approval
// comes back to Latchkey's callback with the connection's state, keeps
// the token and its secret in p (sealed with the connection, never in a
// URL or a cookie), and returns the authorize URL.
func (s *Service) start1(ctx context.Context, app *catalog.App, client store.OAuthClient, fields map[string]string, state string, p *pending) (string, error) {
	flow, err := s.clients.Flow1With(app, client, fields)
	if err != nil {
		return "", err
	}
	// OAuth 1.0a has no state parameter: the callback URL carries it, and
	// the provider adds oauth_token and oauth_verifier to it.
	cb, err := url.Parse(s.clients.RedirectURI())
	if err != nil {
		return "", fmt.Errorf("redirect URI: %w", err)
	}
	q := cb.Query()
	q.Set("state", state)
	cb.RawQuery = q.Encode()
	rt, err := flow.RequestToken(ctx, cb.String())
	if err != nil {
		return "", err
	}
	p.RequestToken, p.RequestSecret = rt.Token, rt.Secret.Reveal()
	return flow.AuthorizeURL(rt.Token)
}

// requestToken is the OAuth 1.0a request token a connection was started
// with, "" for OAuth 2 connections.
func (s *Service) requestToken(conn store.Connection) (string, error) {
	raw, err := s.ring.Open(conn.Sealed, []byte(conn.ID))
	if err != nil {
		return "", err
	}
	var p pending
	if err := json.Unmarshal(raw, &p); err != nil {
		return "", fmt.Errorf("connection %s: %w", conn.ID, err)
	}
	return p.RequestToken, nil
}

// sameToken compares the callback's oauth_token with the one issued.
func sameToken(want, got string) bool {
	return subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}
