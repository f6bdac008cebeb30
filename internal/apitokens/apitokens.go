// Package apitokens issues and verifies API bearer tokens. A token is shown
// once, when issued; only its SHA-256 hash is stored.
package apitokens

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/latchkeyhq/latchkey/internal/ids"
	"github.com/latchkeyhq/latchkey/internal/secret"
	"github.com/latchkeyhq/latchkey/internal/store"
)

// Prefix starts every token, so a leaked one is easy to recognise.
const Prefix = "lk_"

// ErrInvalid means the token is unknown, malformed or expired.
var ErrInvalid = errors.New("invalid API token")

// Hash is what the store keeps of a token.
func Hash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// Issue creates a token for a user and returns it; it cannot be shown again.
func Issue(ctx context.Context, s store.APITokens, workspaceID, userID, name string, scopes []string, now time.Time) (secret.String, store.APIToken, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return secret.String{}, store.APIToken{}, fmt.Errorf("issue token: %w", err)
	}
	plain := Prefix + base64.RawURLEncoding.EncodeToString(b)
	t := store.APIToken{
		ID:          ids.New(ids.APIToken, now),
		WorkspaceID: workspaceID,
		UserID:      userID,
		Name:        name,
		Hash:        Hash(plain),
		Scopes:      scopes,
		CreatedAt:   now.UTC(),
	}
	if err := s.CreateAPIToken(ctx, t); err != nil {
		return secret.String{}, store.APIToken{}, fmt.Errorf("issue token: %w", err)
	}
	return secret.New(plain), t, nil
}

// Verify finds the stored token for a presented one.
func Verify(ctx context.Context, s store.APITokens, presented string, now time.Time) (store.APIToken, error) {
	if !strings.HasPrefix(presented, Prefix) || len(presented) > 200 {
		return store.APIToken{}, ErrInvalid
	}
	t, err := s.APITokenByHash(ctx, Hash(presented))
	if errors.Is(err, store.ErrNotFound) {
		return store.APIToken{}, ErrInvalid
	}
	if err != nil {
		return store.APIToken{}, fmt.Errorf("verify token: %w", err)
	}
	if t.ExpiresAt != nil && !now.Before(*t.ExpiresAt) {
		return store.APIToken{}, ErrInvalid
	}
	return t, nil
}
