package identity

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/latchkeyhq/latchkey/internal/store"
)

// cachedToken is a verified token as the cache keeps it.
type cachedToken struct {
	actor Actor
	// until is when the token stops working, nil for never.
	until    *time.Time
	operator bool
}

// VerifyToken returns the actor a presented API token speaks for. Errors
// matching ErrInvalidToken are the token's fault, a *RateLimitError its
// use too often; any other is the service's. A verified token is trusted
// for tokenCacheTTL without another look at the database.
func (s *Service) VerifyToken(ctx context.Context, presented string) (Actor, error) {
	if !strings.HasPrefix(presented, TokenPrefix) || len(presented) > 200 {
		return Actor{}, ErrInvalidToken
	}
	hash := tokenHash(presented)
	key := string(hash)
	now := s.clock.Now()
	c, ok := s.tokens.Get(key)
	if !ok {
		var err error
		if c, err = s.lookUp(ctx, hash); err != nil {
			return Actor{}, err
		}
		s.tokens.Set(key, c)
	}
	if c.until != nil && !now.Before(*c.until) {
		return Actor{}, ErrInvalidToken
	}
	if !c.operator {
		if wait, ok := s.tokenUse.Allow(c.actor.TokenID, now); !ok {
			return Actor{}, &RateLimitError{Wait: wait}
		}
	}
	s.touch(ctx, c.actor.TokenID, now)
	return c.actor, nil
}

func (s *Service) lookUp(ctx context.Context, hash []byte) (cachedToken, error) {
	t, err := s.store.APITokenByHash(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return cachedToken{}, ErrInvalidToken
	}
	if err != nil {
		return cachedToken{}, fmt.Errorf("verify token: %w", err)
	}
	// The user is looked up in the token's own workspace, so a token row
	// can never lend its user another workspace.
	u, err := s.store.GetUser(ctx, t.WorkspaceID, t.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return cachedToken{}, ErrTokenUserGone
	}
	if err != nil {
		return cachedToken{}, fmt.Errorf("verify token: %w", err)
	}
	scopes := t.Scopes
	if scopes == nil {
		// A token's actor always has scopes; nil would mean a session.
		scopes = []string{}
	}
	a := Actor{WorkspaceID: u.WorkspaceID, UserID: u.ID, Role: Role(u.Role), Scopes: scopes, TokenID: t.ID, TokenName: t.Name,
		Accounts: t.AccountIDs, Apps: t.Apps}
	op, err := s.IsOperator(ctx, a)
	if err != nil {
		return cachedToken{}, fmt.Errorf("verify token: %w", err)
	}
	return cachedToken{actor: a, until: end(t), operator: op}, nil
}

// touch records a use of the token, writing at most once per
// lastUsedEvery per token on this replica (and, the write being
// conditional, once between replicas). A failed write is logged: it must
// not fail the request.
func (s *Service) touch(ctx context.Context, id string, now time.Time) {
	if _, ok := s.touched.Get(id); ok {
		return
	}
	s.touched.Set(id, struct{}{})
	if _, err := s.store.TouchAPIToken(context.WithoutCancel(ctx), id, now.UTC(), lastUsedEvery); err != nil {
		s.log.WarnContext(ctx, "recording a token's last use failed", "token", id, "err", err)
	}
}
