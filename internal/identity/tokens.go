package identity

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

// TokenPrefix starts every API token, so a leaked one is easy to
// recognise. A token is shown once, when issued; only its SHA-256 is
// stored.
const TokenPrefix = "lk_"

// Token errors.
var (
	// ErrInvalidToken means the token is unknown, malformed or expired.
	ErrInvalidToken = errors.New("invalid API token")
	// ErrTokenUserGone means the token is stored but its user is not.
	ErrTokenUserGone = fmt.Errorf("%w: its user no longer exists", ErrInvalidToken)
)

// Token is an API token as callers see one: never its hash.
type Token struct {
	ID          string
	WorkspaceID string
	UserID      string
	Name        string
	Scopes      []string
	CreatedAt   time.Time
	ExpiresAt   *time.Time
}

func tokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// IssueToken creates a token for a user of the workspace and returns it;
// it cannot be shown again.
func (s *Service) IssueToken(ctx context.Context, workspaceID, userID, name string, scopes []string) (secret.String, Token, error) {
	if _, err := s.store.GetUser(ctx, workspaceID, userID); errors.Is(err, store.ErrNotFound) {
		return secret.String{}, Token{}, fmt.Errorf("issue token: %w", ErrNoUser)
	} else if err != nil {
		return secret.String{}, Token{}, fmt.Errorf("issue token: %w", err)
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return secret.String{}, Token{}, fmt.Errorf("issue token: %w", err)
	}
	plain := TokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	now := s.clock.Now().UTC()
	t := store.APIToken{
		ID:          ids.New(ids.APIToken, now),
		WorkspaceID: workspaceID,
		UserID:      userID,
		Name:        name,
		Hash:        tokenHash(plain),
		Scopes:      scopes,
		CreatedAt:   now,
	}
	if err := s.store.CreateAPIToken(ctx, t); err != nil {
		return secret.String{}, Token{}, fmt.Errorf("issue token: %w", err)
	}
	return secret.New(plain), Token{ID: t.ID, WorkspaceID: t.WorkspaceID, UserID: t.UserID, Name: t.Name,
		Scopes: t.Scopes, CreatedAt: t.CreatedAt}, nil
}

// VerifyToken returns the actor a presented API token speaks for. Errors
// matching ErrInvalidToken are the token's fault; any other is the
// service's. A verified token is trusted for tokenCacheTTL without another
// look at the database.
func (s *Service) VerifyToken(ctx context.Context, presented string) (Actor, error) {
	if !strings.HasPrefix(presented, TokenPrefix) || len(presented) > 200 {
		return Actor{}, ErrInvalidToken
	}
	hash := tokenHash(presented)
	key := string(hash)
	if a, ok := s.tokens.Get(key); ok {
		return a, nil
	}
	t, err := s.store.APITokenByHash(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return Actor{}, ErrInvalidToken
	}
	if err != nil {
		return Actor{}, fmt.Errorf("verify token: %w", err)
	}
	if t.ExpiresAt != nil && !s.clock.Now().Before(*t.ExpiresAt) {
		return Actor{}, ErrInvalidToken
	}
	// The user is looked up in the token's own workspace, so a token row
	// can never lend its user another workspace.
	u, err := s.store.GetUser(ctx, t.WorkspaceID, t.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return Actor{}, ErrTokenUserGone
	}
	if err != nil {
		return Actor{}, fmt.Errorf("verify token: %w", err)
	}
	scopes := t.Scopes
	if scopes == nil {
		// A token's actor always has scopes; nil would mean a session.
		scopes = []string{}
	}
	a := Actor{WorkspaceID: u.WorkspaceID, UserID: u.ID, Role: Role(u.Role), Scopes: scopes, TokenID: t.ID, TokenName: t.Name}
	s.tokens.Set(key, a)
	return a, nil
}
