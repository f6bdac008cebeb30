package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
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
	// ErrNoToken means there is no such token among the caller's. It
	// matches store.ErrNotFound, so surfaces answer "not found".
	ErrNoToken = fmt.Errorf("no such API token: %w", store.ErrNotFound)
	// ErrTokenRotated refuses rotating a token that was rotated already:
	// rotate its replacement instead.
	ErrTokenRotated = fmt.Errorf("the token was rotated already; rotate the token that replaced it: %w", store.ErrConflict)
)

// RateLimitError is a token used faster than its limit; Wait is how long
// until its next use is allowed.
type RateLimitError struct{ Wait time.Duration }

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("the API token is used too often; try again in %v", e.Wait.Round(time.Millisecond))
}

// Limits of token use and of token records.
const (
	// lastUsedEvery is how often a token's last use is written: at most
	// once a minute per token, so the hot reads stay reads.
	lastUsedEvery = time.Minute
	// TokenRate and TokenBurst limit the requests of one token on one
	// replica. The installation's own admin token is not limited: it is
	// the operator's, on the server's machine.
	TokenRate  = 100
	TokenBurst = 1000
	// maxTrackedTokens bounds the memory of that limit.
	maxTrackedTokens = 100_000
	// MaxOverlap is the longest a rotated token may keep working.
	MaxOverlap = 7 * 24 * time.Hour
	// DefaultOverlap is how long a rotated token keeps working when the
	// caller does not say.
	DefaultOverlap = time.Hour
	maxTokenName   = 100
	maxTokenLimits = 100
)

// Token is an API token as callers see one: never its hash.
type Token struct {
	ID          string
	WorkspaceID string
	UserID      string
	Name        string
	Scopes      []string
	// AccountIDs and Apps are the token's limits; both empty means none.
	AccountIDs []string
	Apps       []string
	CreatedAt  time.Time
	ExpiresAt  *time.Time
	// LastUsedAt is accurate to lastUsedEvery.
	LastUsedAt *time.Time
	// ReplacedBy and ValidUntil are set on a rotated token: the token
	// that replaced it, and when it stops working.
	ReplacedBy string
	ValidUntil *time.Time
}

func tokenView(t store.APIToken) Token {
	return Token{ID: t.ID, WorkspaceID: t.WorkspaceID, UserID: t.UserID, Name: t.Name, Scopes: t.Scopes,
		AccountIDs: t.AccountIDs, Apps: t.Apps, CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt, LastUsedAt: t.LastUsedAt,
		ReplacedBy: t.ReplacedBy, ValidUntil: t.ValidUntil}
}

// end is when the stored token stops working, nil for never.
func end(t store.APIToken) *time.Time {
	switch {
	case t.ExpiresAt == nil:
		return t.ValidUntil
	case t.ValidUntil == nil || t.ExpiresAt.Before(*t.ValidUntil):
		return t.ExpiresAt
	}
	return t.ValidUntil
}

func tokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

func newSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return TokenPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// IssueToken creates a token for a user of the workspace and returns it;
// it cannot be shown again. It checks nothing of the scopes: first start
// and tests use it; people and their tokens use CreateToken.
func (s *Service) IssueToken(ctx context.Context, workspaceID, userID, name string, scopes []string) (secret.String, Token, error) {
	if _, err := s.store.GetUser(ctx, workspaceID, userID); errors.Is(err, store.ErrNotFound) {
		return secret.String{}, Token{}, fmt.Errorf("issue token: %w", ErrNoUser)
	} else if err != nil {
		return secret.String{}, Token{}, fmt.Errorf("issue token: %w", err)
	}
	return s.issue(ctx, store.APIToken{WorkspaceID: workspaceID, UserID: userID, Name: name, Scopes: scopes})
}

// issue stores t with a new id and secret.
func (s *Service) issue(ctx context.Context, t store.APIToken) (secret.String, Token, error) {
	plain, err := newSecret()
	if err != nil {
		return secret.String{}, Token{}, fmt.Errorf("issue token: %w", err)
	}
	now := s.clock.Now().UTC()
	t.ID, t.Hash, t.CreatedAt = ids.New(ids.APIToken, now), tokenHash(plain), now
	if err := s.store.CreateAPIToken(ctx, t); err != nil {
		return secret.String{}, Token{}, fmt.Errorf("issue token: %w", err)
	}
	return secret.New(plain), tokenView(t), nil
}

// Resources answers what identity must know of accounts and apps to check
// a token's limits; the server wires the accounts service in.
type Resources interface {
	// AccountApp returns the app of an account the actor may see, and an
	// error matching store.ErrNotFound when there is none.
	AccountApp(ctx context.Context, actor Actor, id string) (string, error)
	// AppExists returns an error matching store.ErrNotFound when the
	// workspace knows no app of the slug.
	AppExists(ctx context.Context, workspaceID, slug string) error
}

// NewToken is a token to create.
type NewToken struct {
	Name   string
	Scopes []string
	// AccountIDs and Apps limit the token; both empty means no limit.
	AccountIDs []string
	Apps       []string
	// ExpiresAt is nil for a token that does not expire.
	ExpiresAt *time.Time
}

// CreateToken makes a token for the actor's own user. It is never broader
// than its maker: the scopes must be ones the user's role grants and, for
// a maker that is itself a token, ones that token carries; a limited
// maker makes only tokens limited within its own limits. Bad input is an
// *InputError, a scope beyond the maker ErrForbidden; either way nothing
// is stored.
func (s *Service) CreateToken(ctx context.Context, actor Actor, in NewToken) (secret.String, Token, error) {
	t, err := s.checkNew(ctx, actor, in)
	if err != nil {
		return secret.String{}, Token{}, err
	}
	plain, view, err := s.issue(ctx, t)
	if err != nil {
		return secret.String{}, Token{}, err
	}
	s.auditToken(ctx, actor, "token.created", view)
	return plain, view, nil
}

func (s *Service) checkNew(ctx context.Context, actor Actor, in NewToken) (store.APIToken, error) {
	name := strings.TrimSpace(in.Name)
	if name == "" || len(name) > maxTokenName || strings.ContainsAny(name, "\r\n") {
		return store.APIToken{}, &InputError{fmt.Sprintf("Give the token a name of one line, at most %d characters.", maxTokenName)}
	}
	if len(in.Scopes) == 0 {
		return store.APIToken{}, &InputError{"Give the token at least one scope: " + strings.Join(Scopes, ", ") + "."}
	}
	var scopes []string
	for _, sc := range in.Scopes {
		if sc != ScopeAll && !slices.Contains(Scopes, sc) {
			return store.APIToken{}, &InputError{fmt.Sprintf("There is no scope %q; the scopes are %s.", sc, strings.Join(Scopes, ", "))}
		}
		if !actor.Role.Grants(sc) {
			return store.APIToken{}, fmt.Errorf("%w: a %s cannot make a token with the %s scope", ErrForbidden, actor.Role, sc)
		}
		if actor.Scopes != nil && !actor.Allows(sc) || sc == ScopeAll && actor.Scopes != nil && !slices.Contains(actor.Scopes, ScopeAll) {
			return store.APIToken{}, fmt.Errorf("%w: a token without the %s scope cannot make one with it", ErrForbidden, sc)
		}
		if !slices.Contains(scopes, sc) {
			scopes = append(scopes, sc)
		}
	}
	if in.ExpiresAt != nil && !in.ExpiresAt.After(s.clock.Now()) {
		return store.APIToken{}, &InputError{"The expiry must be in the future."}
	}
	if len(in.AccountIDs) > maxTokenLimits || len(in.Apps) > maxTokenLimits {
		return store.APIToken{}, &InputError{fmt.Sprintf("Limit a token to at most %d accounts and %d apps.", maxTokenLimits, maxTokenLimits)}
	}
	if actor.Limited() && len(in.AccountIDs) == 0 && len(in.Apps) == 0 {
		return store.APIToken{}, fmt.Errorf("%w: a token limited to chosen accounts or apps makes only tokens limited within them", ErrForbidden)
	}
	var accts, apps []string
	for _, id := range in.AccountIDs {
		app, err := s.resources.AccountApp(ctx, actor, id)
		if errors.Is(err, store.ErrNotFound) {
			return store.APIToken{}, &InputError{fmt.Sprintf("There is no account %q that you may see.", id)}
		}
		if err != nil {
			return store.APIToken{}, fmt.Errorf("create token: account %s: %w", id, err)
		}
		if !actor.MayUseAccount(id, app) {
			return store.APIToken{}, &InputError{fmt.Sprintf("There is no account %q that you may see.", id)}
		}
		if !slices.Contains(accts, id) {
			accts = append(accts, id)
		}
	}
	for _, slug := range in.Apps {
		err := s.resources.AppExists(ctx, actor.WorkspaceID, slug)
		if errors.Is(err, store.ErrNotFound) {
			return store.APIToken{}, &InputError{fmt.Sprintf("There is no app %q.", slug)}
		}
		if err != nil {
			return store.APIToken{}, fmt.Errorf("create token: app %s: %w", slug, err)
		}
		if actor.Limited() && !slices.Contains(actor.Apps, slug) {
			return store.APIToken{}, fmt.Errorf("%w: this token is not limited to the app %s, so it cannot make one that is", ErrForbidden, slug)
		}
		if !slices.Contains(apps, slug) {
			apps = append(apps, slug)
		}
	}
	var exp *time.Time
	if in.ExpiresAt != nil {
		e := in.ExpiresAt.UTC()
		exp = &e
	}
	return store.APIToken{WorkspaceID: actor.WorkspaceID, UserID: actor.UserID, Name: name, Scopes: scopes,
		AccountIDs: accts, Apps: apps, ExpiresAt: exp}, nil
}

// covers reports whether the actor may manage the token: it must be the
// actor's own, and a token actor manages only tokens no broader than
// itself (so a narrow token given to a service cannot revoke its user's
// others).
func covers(actor Actor, t store.APIToken) bool {
	if t.WorkspaceID != actor.WorkspaceID || t.UserID != actor.UserID {
		return false
	}
	if actor.Scopes == nil || t.ID == actor.TokenID {
		return true
	}
	for _, sc := range t.Scopes {
		if !actor.Allows(sc) || sc == ScopeAll && !slices.Contains(actor.Scopes, ScopeAll) {
			return false
		}
	}
	if !actor.Limited() {
		return true
	}
	if len(t.AccountIDs) == 0 && len(t.Apps) == 0 {
		return false
	}
	for _, app := range t.Apps {
		if !slices.Contains(actor.Apps, app) {
			return false
		}
	}
	for _, id := range t.AccountIDs {
		// The account's app is not at hand; an id outside the actor's own
		// list is refused, which errs on the narrow side.
		if !slices.Contains(actor.Accounts, id) {
			return false
		}
	}
	return true
}

// ownToken returns a token the actor may manage, ErrNoToken for any other
// (another user's or workspace's tokens are, to the actor, not there).
func (s *Service) ownToken(ctx context.Context, actor Actor, id string) (store.APIToken, error) {
	if !ids.Valid(ids.APIToken, id) {
		return store.APIToken{}, fmt.Errorf("token %q: %w", id, ErrNoToken)
	}
	t, err := s.store.GetAPIToken(ctx, actor.WorkspaceID, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.APIToken{}, fmt.Errorf("token %s: %w", id, ErrNoToken)
	}
	if err != nil {
		return store.APIToken{}, fmt.Errorf("token %s: %w", id, err)
	}
	if t.UserID != actor.UserID {
		return store.APIToken{}, fmt.Errorf("token %s: %w", id, ErrNoToken)
	}
	if !covers(actor, t) {
		return store.APIToken{}, fmt.Errorf("%w: this token may manage only tokens no broader than itself", ErrForbidden)
	}
	return t, nil
}

// Tokens lists the actor's own tokens that it may manage, oldest first;
// a rotated token whose overlap has ended is left out.
func (s *Service) Tokens(ctx context.Context, actor Actor) ([]Token, error) {
	list, err := s.store.ListAPITokens(ctx, actor.WorkspaceID, actor.UserID)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	now := s.clock.Now()
	out := []Token{}
	for _, t := range list {
		if t.ValidUntil != nil && !now.Before(*t.ValidUntil) || !covers(actor, t) {
			continue
		}
		out = append(out, tokenView(t))
	}
	return out, nil
}

// RevokeToken deletes one of the actor's tokens, and the token it replaced
// if that one is still in its overlap. It stops working on this replica at
// once, and on the others within tokenCacheTTL.
func (s *Service) RevokeToken(ctx context.Context, actor Actor, id string) error {
	t, err := s.ownToken(ctx, actor, id)
	if err != nil {
		return err
	}
	list, err := s.store.ListAPITokens(ctx, actor.WorkspaceID, actor.UserID)
	if err != nil {
		return fmt.Errorf("revoke token %s: %w", id, err)
	}
	for _, old := range list {
		if old.ReplacedBy != t.ID {
			continue
		}
		if err := s.store.DeleteAPIToken(ctx, old.WorkspaceID, old.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("revoke token %s: the token it replaced: %w", id, err)
		}
		s.tokens.Delete(string(old.Hash))
	}
	if err := s.store.DeleteAPIToken(ctx, t.WorkspaceID, t.ID); errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("token %s: %w", id, ErrNoToken)
	} else if err != nil {
		return fmt.Errorf("revoke token %s: %w", id, err)
	}
	s.tokens.Delete(string(t.Hash))
	s.auditToken(ctx, actor, "token.revoked", tokenView(t))
	return nil
}

// RotateToken gives one of the actor's tokens a replacement with a new
// secret, the same name, scopes, limits and expiry; the old secret keeps
// working for overlap (at most MaxOverlap), then stops.
func (s *Service) RotateToken(ctx context.Context, actor Actor, id string, overlap time.Duration) (secret.String, Token, error) {
	if overlap < 0 || overlap > MaxOverlap {
		return secret.String{}, Token{}, &InputError{fmt.Sprintf("The overlap must be between 0s and %v.", MaxOverlap)}
	}
	old, err := s.ownToken(ctx, actor, id)
	if err != nil {
		return secret.String{}, Token{}, err
	}
	now := s.clock.Now()
	if e := end(old); e != nil && !now.Before(*e) {
		return secret.String{}, Token{}, fmt.Errorf("token %s has stopped working: %w", id, ErrNoToken)
	}
	if old.ReplacedBy != "" {
		return secret.String{}, Token{}, ErrTokenRotated
	}
	// The replacement is stored first and taken back if the rotation
	// loses a race: a crash in between leaves one token too many, never
	// an old one ending with no successor.
	plain, fresh, err := s.issue(ctx, store.APIToken{WorkspaceID: old.WorkspaceID, UserID: old.UserID, Name: old.Name,
		Scopes: old.Scopes, AccountIDs: old.AccountIDs, Apps: old.Apps, ExpiresAt: old.ExpiresAt})
	if err != nil {
		return secret.String{}, Token{}, err
	}
	until := now.Add(overlap).UTC()
	_, err = s.store.UpdateAPIToken(ctx, old.WorkspaceID, old.ID, func(t *store.APIToken) error {
		if t.ReplacedBy != "" {
			return ErrTokenRotated
		}
		t.ReplacedBy = fresh.ID
		if t.ValidUntil == nil || until.Before(*t.ValidUntil) {
			t.ValidUntil = &until
		}
		return nil
	})
	if err != nil {
		if derr := s.store.DeleteAPIToken(context.WithoutCancel(ctx), fresh.WorkspaceID, fresh.ID); derr != nil {
			s.log.ErrorContext(ctx, "rotate token: taking back the replacement failed", "token", fresh.ID, "err", derr)
		}
		if errors.Is(err, store.ErrNotFound) {
			return secret.String{}, Token{}, fmt.Errorf("token %s: %w", id, ErrNoToken)
		}
		return secret.String{}, Token{}, fmt.Errorf("rotate token %s: %w", id, err)
	}
	// The cached entry knows no end yet.
	s.tokens.Delete(string(old.Hash))
	s.auditToken(ctx, actor, "token.rotated", fresh, "replaces", old.ID, "overlap", overlap.String())
	return plain, fresh, nil
}

// auditToken records a change of a token; a failure is logged, as the
// change is made.
func (s *Service) auditToken(ctx context.Context, actor Actor, action string, t Token, kv ...string) {
	detail := map[string]string{"token": t.ID, "name": t.Name, "scopes": strings.Join(t.Scopes, " ")}
	if actor.TokenID != "" {
		detail["by_token"] = actor.TokenID
	}
	for i := 0; i+1 < len(kv); i += 2 {
		detail[kv[i]] = kv[i+1]
	}
	s.audit(context.WithoutCancel(ctx), event(actor, action, detail))
}
