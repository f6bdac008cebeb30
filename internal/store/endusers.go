package store

import (
	"context"
	"time"
)

// ConnectToken is a single-use, short-lived link a product's backend
// mints so that one of its end users can connect an account. Only the
// SHA-256 of the token is stored.
type ConnectToken struct {
	ID             string
	WorkspaceID    string
	TokenHash      []byte
	ExternalUserID string
	// AccountID is the account to reconnect; empty to connect a new one.
	AccountID string
	// Apps are the apps the end user may connect; empty means any.
	Apps               []string
	Tags               map[string]string
	SuccessRedirectURI string
	ErrorRedirectURI   string
	AllowedOrigins     []string
	WebhookURL         string
	// CreatedBy is the user whose API token minted it.
	CreatedBy string
	CreatedAt time.Time
	ExpiresAt time.Time
	// UsedAt is when the token was used; nil while it is open.
	UsedAt *time.Time
}

// ConnectTokens stores connect tokens.
type ConnectTokens interface {
	// CreateConnectToken fails with ErrConflict when its id or hash exists.
	CreateConnectToken(ctx context.Context, t ConnectToken) error
	GetConnectToken(ctx context.Context, workspaceID, id string) (ConnectToken, error)
	// ConnectTokenByHash finds a token by its hash, across workspaces.
	ConnectTokenByHash(ctx context.Context, hash []byte) (ConnectToken, error)
	// UpdateConnectToken is the compare-and-swap of one token: fn sees it
	// under its row lock, and the used time it returns is written in the
	// same transaction (nothing else may change). An error from fn writes
	// nothing and is returned. fn must not call the store.
	UpdateConnectToken(ctx context.Context, workspaceID, id string, fn func(old ConnectToken) (ConnectToken, error)) (ConnectToken, error)
	// DeleteExpiredConnectTokens deletes the tokens that expired at or
	// before the given time, and says how many.
	DeleteExpiredConnectTokens(ctx context.Context, before time.Time) (int, error)
}
