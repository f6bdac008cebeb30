package mcpauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/ory/fosite"

	"github.com/latchkeyhq/latchkey/internal/store"
)

// session is what a grant's codes and tokens carry: whose they are, and
// when each expires. Nothing in it is secret.
type session struct {
	WorkspaceID string                         `json:"workspace_id"`
	UserID      string                         `json:"user_id"`
	ClientName  string                         `json:"client_name"`
	Expires     map[fosite.TokenType]time.Time `json:"expires"`
}

func (s *session) SetExpiresAt(key fosite.TokenType, exp time.Time) {
	if s.Expires == nil {
		s.Expires = map[fosite.TokenType]time.Time{}
	}
	s.Expires[key] = exp
}

func (s *session) GetExpiresAt(key fosite.TokenType) time.Time { return s.Expires[key] }
func (s *session) GetUsername() string                         { return "" }
func (s *session) GetSubject() string                          { return s.UserID }

func (s *session) Clone() fosite.Session {
	c := *s
	c.Expires = make(map[fosite.TokenType]time.Time, len(s.Expires))
	for k, v := range s.Expires {
		c.Expires[k] = v
	}
	return &c
}

// keptForm are the request parameters a later step reads: the token
// endpoint compares redirect_uri, PKCE reads the challenge.
var keptForm = []string{"redirect_uri", "code_challenge", "code_challenge_method", "resource"}

// storedRequest is a request as a token row keeps it.
type storedRequest struct {
	ID              string     `json:"id"`
	RequestedAt     time.Time  `json:"requested_at"`
	ClientID        string     `json:"client_id"`
	Scopes          []string   `json:"scopes"`
	GrantedScopes   []string   `json:"granted_scopes"`
	Audience        []string   `json:"audience"`
	GrantedAudience []string   `json:"granted_audience"`
	Form            url.Values `json:"form"`
	Session         *session   `json:"session"`
}

// storage is fosite's storage over the store: clients, codes, PKCE
// requests, access and refresh tokens, by signature.
type storage struct {
	store    store.MCPAuth
	clock    clockwork.Clock
	resource string
}

func storageError(err error) error { return fmt.Errorf("%w: %w", errStorage, err) }

// client is fosite's view of a registered MCP client: public, code and
// refresh grants, Latchkey's scopes, the MCP URL as its only audience.
func (st *storage) client(c store.MCPClient) *fosite.DefaultClient {
	return &fosite.DefaultClient{
		ID:            c.ID,
		RedirectURIs:  c.RedirectURIs,
		GrantTypes:    c.GrantTypes,
		ResponseTypes: []string{"code"},
		Scopes:        append(append([]string(nil), Scopes...), ScopeOfflineAccess),
		Audience:      []string{st.resource},
		Public:        true,
	}
}

func (st *storage) GetClient(ctx context.Context, id string) (fosite.Client, error) {
	c, err := st.store.GetMCPClient(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fosite.ErrNotFound
	}
	if err != nil {
		return nil, storageError(err)
	}
	return st.client(c), nil
}

// Clients authenticate with nothing, so no JWT assertion is ever valid.
func (st *storage) ClientAssertionJWTValid(context.Context, string) error { return fosite.ErrJTIKnown }
func (st *storage) SetClientAssertionJWT(context.Context, string, time.Time) error {
	return errors.New("client assertions are not supported")
}

func (st *storage) create(ctx context.Context, kind store.MCPTokenKind, signature string, req fosite.Requester, expires time.Time) error {
	sess, _ := req.GetSession().(*session)
	if sess == nil {
		return storageError(errors.New("a request without Latchkey's session"))
	}
	form := url.Values{}
	for _, k := range keptForm {
		if v := req.GetRequestForm().Get(k); v != "" {
			form.Set(k, v)
		}
	}
	body, err := json.Marshal(storedRequest{
		ID: req.GetID(), RequestedAt: req.GetRequestedAt(), ClientID: req.GetClient().GetID(),
		Scopes: req.GetRequestedScopes(), GrantedScopes: req.GetGrantedScopes(),
		Audience: req.GetRequestedAudience(), GrantedAudience: req.GetGrantedAudience(),
		Form: form, Session: sess,
	})
	if err != nil {
		return storageError(err)
	}
	if expires.IsZero() {
		expires = st.clock.Now().Add(CodeTTL)
	}
	if err := st.store.CreateMCPToken(ctx, store.MCPToken{Kind: kind, Signature: signature, GrantID: req.GetID(), Active: true,
		Request: body, ExpiresAt: expires}); err != nil {
		return storageError(err)
	}
	return nil
}

// get reads a row back as a request; inactive is the error for a row
// that is no longer active, returned with the request.
func (st *storage) get(ctx context.Context, kind store.MCPTokenKind, signature string, inactive error) (fosite.Requester, error) {
	row, err := st.store.GetMCPToken(ctx, kind, signature)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fosite.ErrNotFound
	}
	if err != nil {
		return nil, storageError(err)
	}
	var sr storedRequest
	if err := json.Unmarshal(row.Request, &sr); err != nil || sr.Session == nil {
		return nil, storageError(fmt.Errorf("mcp %s of grant %s: %w", kind, row.GrantID, err))
	}
	client, err := st.GetClient(ctx, sr.ClientID)
	if err != nil {
		return nil, err
	}
	req := &fosite.Request{
		ID: sr.ID, RequestedAt: sr.RequestedAt, Client: client,
		RequestedScope: sr.Scopes, GrantedScope: sr.GrantedScopes,
		RequestedAudience: sr.Audience, GrantedAudience: sr.GrantedAudience,
		Form: sr.Form, Session: sr.Session,
	}
	if !row.Active {
		return req, inactive
	}
	return req, nil
}

func (st *storage) CreateAuthorizeCodeSession(ctx context.Context, code string, req fosite.Requester) error {
	return st.create(ctx, store.MCPAuthorizeCode, code, req, req.GetSession().GetExpiresAt(fosite.AuthorizeCode))
}

func (st *storage) GetAuthorizeCodeSession(ctx context.Context, code string, _ fosite.Session) (fosite.Requester, error) {
	return st.get(ctx, store.MCPAuthorizeCode, code, fosite.ErrInvalidatedAuthorizeCode)
}

// InvalidateAuthorizeCodeSession uses the code: of two exchanges of one
// code at once, on any replicas, one fails here.
func (st *storage) InvalidateAuthorizeCodeSession(ctx context.Context, code string) error {
	ok, err := st.store.DeactivateMCPToken(ctx, store.MCPAuthorizeCode, code)
	if err != nil {
		return storageError(err)
	}
	if !ok {
		return fosite.ErrInvalidatedAuthorizeCode
	}
	return nil
}

func (st *storage) CreatePKCERequestSession(ctx context.Context, signature string, req fosite.Requester) error {
	return st.create(ctx, store.MCPPKCE, signature, req, req.GetSession().GetExpiresAt(fosite.AuthorizeCode))
}

func (st *storage) GetPKCERequestSession(ctx context.Context, signature string, _ fosite.Session) (fosite.Requester, error) {
	return st.get(ctx, store.MCPPKCE, signature, fosite.ErrNotFound)
}

func (st *storage) DeletePKCERequestSession(ctx context.Context, signature string) error {
	return st.delete(ctx, store.MCPPKCE, signature)
}

func (st *storage) delete(ctx context.Context, kind store.MCPTokenKind, signature string) error {
	if err := st.store.DeleteMCPToken(ctx, kind, signature); err != nil {
		return storageError(err)
	}
	return nil
}

func (st *storage) CreateAccessTokenSession(ctx context.Context, signature string, req fosite.Requester) error {
	return st.create(ctx, store.MCPAccessToken, signature, req, req.GetSession().GetExpiresAt(fosite.AccessToken))
}

func (st *storage) GetAccessTokenSession(ctx context.Context, signature string, _ fosite.Session) (fosite.Requester, error) {
	return st.get(ctx, store.MCPAccessToken, signature, fosite.ErrInactiveToken)
}

func (st *storage) DeleteAccessTokenSession(ctx context.Context, signature string) error {
	return st.delete(ctx, store.MCPAccessToken, signature)
}

func (st *storage) CreateRefreshTokenSession(ctx context.Context, signature, _ string, req fosite.Requester) error {
	exp := req.GetSession().GetExpiresAt(fosite.RefreshToken)
	if exp.IsZero() {
		exp = st.clock.Now().Add(RefreshTTL)
	}
	return st.create(ctx, store.MCPRefreshToken, signature, req, exp)
}

func (st *storage) GetRefreshTokenSession(ctx context.Context, signature string, _ fosite.Session) (fosite.Requester, error) {
	return st.get(ctx, store.MCPRefreshToken, signature, fosite.ErrInactiveToken)
}

func (st *storage) DeleteRefreshTokenSession(ctx context.Context, signature string) error {
	return st.delete(ctx, store.MCPRefreshToken, signature)
}

// RotateRefreshToken retires the refresh token used and the grant's
// access tokens. The retiring is a compare-and-swap: of two refreshes
// with one token at once, on any replicas, one fails here. The retired
// row stays (inactive) until it expires, so that its reuse is seen and
// revokes the grant's tokens.
func (st *storage) RotateRefreshToken(ctx context.Context, requestID, signature string) error {
	ok, err := st.store.DeactivateMCPToken(ctx, store.MCPRefreshToken, signature)
	if err != nil {
		return storageError(err)
	}
	if !ok {
		return fosite.ErrInactiveToken
	}
	return st.RevokeAccessToken(ctx, requestID)
}

func (st *storage) RevokeRefreshToken(ctx context.Context, requestID string) error {
	if err := st.store.DeactivateMCPTokens(ctx, store.MCPRefreshToken, requestID); err != nil {
		return storageError(err)
	}
	return nil
}

func (st *storage) RevokeAccessToken(ctx context.Context, requestID string) error {
	if err := st.store.DeleteMCPTokens(ctx, store.MCPAccessToken, requestID); err != nil {
		return storageError(err)
	}
	return nil
}
