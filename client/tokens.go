package client

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// Token is an API token as the API shows it: never its secret, which is
// shown once, when the token is created or rotated.
type Token struct {
	ID     string   `json:"id"`
	Name   string   `json:"name"`
	Scopes []string `json:"scopes"`
	// AccountIDs and Apps limit the token to those accounts, or to the
	// accounts of those apps; both empty means no limit.
	AccountIDs []string   `json:"account_ids"`
	Apps       []string   `json:"apps"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	// LastUsedAt is accurate to a minute.
	LastUsedAt *time.Time `json:"last_used_at"`
	// ReplacedBy and ValidUntil are set on a rotated token: the token that
	// replaced it, and when it stops working.
	ReplacedBy string     `json:"replaced_by,omitempty"`
	ValidUntil *time.Time `json:"valid_until,omitempty"`
}

// CreateToken is the body of POST /v1/tokens.
type CreateToken struct {
	Name       string     `json:"name"`
	Scopes     []string   `json:"scopes"`
	AccountIDs []string   `json:"account_ids,omitempty"`
	Apps       []string   `json:"apps,omitempty"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
}

// RotateToken is the body of POST /v1/tokens/{id}/rotate. Overlap is a
// duration ("1h", "0s") the old secret keeps working; empty means an hour.
type RotateToken struct {
	Overlap string `json:"overlap,omitempty"`
}

// NewToken is a token with its secret, shown this once.
type NewToken struct {
	Token  Token  `json:"token"`
	Secret string `json:"secret"`
}

// CreateToken makes an API token for the caller, no broader than the caller.
func (c *Client) CreateToken(ctx context.Context, in CreateToken) (NewToken, error) {
	var out NewToken
	return out, c.do(ctx, http.MethodPost, "/v1/tokens", nil, in, &out)
}

// ListTokens lists the caller's tokens.
func (c *Client) ListTokens(ctx context.Context) ([]Token, error) {
	var p Page[Token]
	return p.Data, c.do(ctx, http.MethodGet, "/v1/tokens", nil, nil, &p)
}

// RevokeToken deletes one of the caller's tokens.
func (c *Client) RevokeToken(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/v1/tokens/"+url.PathEscape(id), nil, nil, nil)
}

// RotateToken replaces a token's secret; the old one works for the overlap.
func (c *Client) RotateToken(ctx context.Context, id string, in RotateToken) (NewToken, error) {
	var out NewToken
	return out, c.do(ctx, http.MethodPost, "/v1/tokens/"+url.PathEscape(id)+"/rotate", nil, in, &out)
}
