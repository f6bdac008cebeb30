package identity

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"golang.org/x/crypto/bcrypt"

	"github.com/latchkeyhq/latchkey/internal/ids"
	"github.com/latchkeyhq/latchkey/internal/ratelimit"
	"github.com/latchkeyhq/latchkey/internal/store"
	"github.com/latchkeyhq/latchkey/internal/ttlcache"
)

// Store is what identity keeps its records in; store.Store is one.
type Store interface {
	store.Workspaces
	store.Users
	store.Sessions
	store.APITokens
	store.Meta
	store.Invitations
	store.Audit
}

// DefaultPasswordCost is the bcrypt cost of password hashes.
const DefaultPasswordCost = 12

// Options configure the service.
type Options struct {
	Store Store
	Clock clockwork.Clock
	Log   *slog.Logger
	// PasswordCost is the bcrypt cost of new password hashes; zero means
	// DefaultPasswordCost. Tests lower it to keep set-up fast.
	PasswordCost int
	// Resources checks the accounts and apps a token is limited to; nil
	// refuses every limit.
	Resources Resources
	// OnPasswordReset, if set, runs when a member's password is reset,
	// after their sessions end: it ends what else the old password let
	// someone get (MCP grants), and says how many it ended. A password
	// change does not run it: whoever changes it knew it.
	OnPasswordReset func(ctx context.Context, workspaceID, userID string) (int, error)
}

// Service says who is calling, and keeps the users, sessions and tokens
// that decide it.
type Service struct {
	store Store
	clock clockwork.Clock
	log   *slog.Logger
	// tokens spares the database two reads per API request. A token
	// revoked or rotated here takes effect at once (its entry is dropped);
	// one deleted elsewhere, or a user's role changed, within tokenCacheTTL.
	tokens *ttlcache.Cache[string, cachedToken]
	// touched holds the tokens whose last use was written within
	// lastUsedEvery.
	touched   *ttlcache.Cache[string, struct{}]
	tokenUse  *ratelimit.Limiter
	resources Resources
	onReset   func(ctx context.Context, workspaceID, userID string) (int, error)
	signIn    *ratelimit.Limiter
	// links limits attempts to use invitation and password-reset links,
	// and to change a password, per address (or user).
	links *ratelimit.Limiter
	// cost is the bcrypt cost; dummyHash, made at that cost on first use,
	// keeps a sign-in for an unknown email as slow as for a known one.
	cost      int
	dummyOnce sync.Once
	dummyHash []byte
}

// tokenCacheTTL bounds how long a verified token is trusted unchecked.
const tokenCacheTTL = 5 * time.Second

// New returns the service.
func New(o Options) *Service {
	clock := o.Clock
	if clock == nil {
		clock = clockwork.NewRealClock()
	}
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Service{store: o.Store, clock: clock, log: log, cost: o.PasswordCost,
		tokens: ttlcache.New[string, cachedToken](tokenCacheTTL, clock.Now), signIn: newAttemptLimiter(), links: newAttemptLimiter(),
		tokenUse: ratelimit.New(TokenRate, TokenBurst, maxTrackedTokens),
		touched:  ttlcache.New[string, struct{}](lastUsedEvery, clock.Now), resources: o.Resources, onReset: o.OnPasswordReset}
	if s.resources == nil {
		s.resources = noResources{}
	}
	if s.cost == 0 {
		s.cost = DefaultPasswordCost
	}
	return s
}

// ErrNoUser means there is no such user in the workspace. It matches
// store.ErrNotFound too, so a surface that answers "not found" for any
// missing record keeps doing so.
var ErrNoUser = fmt.Errorf("no such user: %w", store.ErrNotFound)

// User is a person (or the admin principal) in a workspace, as callers see
// one: never with its password hash.
type User struct {
	ID          string
	WorkspaceID string
	Email       string
	Name        string
	Role        Role
	// SignsIn says whether the user has a password to sign in with.
	SignsIn   bool
	CreatedAt time.Time
}

func userView(u store.User) User {
	return User{ID: u.ID, WorkspaceID: u.WorkspaceID, Email: u.Email, Name: u.Name, Role: Role(u.Role),
		SignsIn: u.PasswordHash != "", CreatedAt: u.CreatedAt}
}

// NewUser is a user to create.
type NewUser struct {
	WorkspaceID string
	Email       string
	Name        string
	Role        Role
	// Password is empty for a user who cannot sign in with one.
	Password string
}

// Password lengths, in bytes.
const (
	// MinPassword is the shortest password accepted.
	MinPassword = 10
	// MaxPassword is the longest: bcrypt ignores the rest, so a longer
	// one would sign in with any ending.
	MaxPassword = 72
)

// InputError is input refused before anything changed; Message says why,
// in words for the person who typed it.
type InputError struct{ Message string }

func (e *InputError) Error() string { return e.Message }

// ErrPasswordLength is the InputError of a password too short or too long.
var ErrPasswordLength = &InputError{fmt.Sprintf("Choose a password of %d to %d bytes (a letter with an accent takes two).", MinPassword, MaxPassword)}

// NormalEmail is an email as identity keeps it: trimmed, lower case.
func NormalEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// CreateUser adds a user, hashing the password if there is one.
func (s *Service) CreateUser(ctx context.Context, in NewUser) (User, error) {
	u, err := s.createUser(ctx, in)
	if err != nil {
		return User{}, err
	}
	return userView(u), nil
}

func (s *Service) createUser(ctx context.Context, in NewUser) (store.User, error) {
	var hash []byte
	if in.Password != "" {
		var err error
		if hash, err = s.hashPassword(in.Password); err != nil {
			return store.User{}, err
		}
	}
	return s.createUserWithHash(ctx, in, string(hash))
}

// errNoRole is the InputError of a role that does not exist.
func errNoRole(r Role) error {
	return &InputError{fmt.Sprintf("There is no role %q: choose owner, admin, member or viewer.", r)}
}

// hashPassword checks a new password's length and hashes it.
func (s *Service) hashPassword(pw string) ([]byte, error) {
	if len(pw) < MinPassword || len(pw) > MaxPassword {
		return nil, ErrPasswordLength
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(pw), s.cost)
	if err != nil {
		return nil, fmt.Errorf("hash password: %w", err)
	}
	return hash, nil
}

func (s *Service) createUserWithHash(ctx context.Context, in NewUser, hash string) (store.User, error) {
	if !in.Role.Valid() {
		return store.User{}, errNoRole(in.Role)
	}
	now := s.clock.Now().UTC()
	u := store.User{ID: ids.New(ids.User, now), WorkspaceID: in.WorkspaceID, Email: NormalEmail(in.Email), Name: in.Name,
		Role: store.Role(in.Role), PasswordHash: hash, CreatedAt: now}
	if err := s.store.CreateUser(ctx, u); err != nil {
		return store.User{}, fmt.Errorf("create user: %w", err)
	}
	return u, nil
}

// User returns a user of the workspace.
func (s *Service) User(ctx context.Context, workspaceID, id string) (User, error) {
	u, err := s.store.GetUser(ctx, workspaceID, id)
	if errors.Is(err, store.ErrNotFound) {
		return User{}, ErrNoUser
	}
	if err != nil {
		return User{}, fmt.Errorf("user %s: %w", id, err)
	}
	return userView(u), nil
}

// UserByEmail returns the workspace's user with the email.
func (s *Service) UserByEmail(ctx context.Context, workspaceID, email string) (User, error) {
	u, err := s.store.GetUserByEmail(ctx, workspaceID, NormalEmail(email))
	if errors.Is(err, store.ErrNotFound) {
		return User{}, ErrNoUser
	}
	if err != nil {
		return User{}, fmt.Errorf("user by email: %w", err)
	}
	return userView(u), nil
}

// CountPasswordUsers counts the workspace's users who can sign in with a
// password.
func (s *Service) CountPasswordUsers(ctx context.Context, workspaceID string) (int, error) {
	n, err := s.store.CountPasswordUsers(ctx, workspaceID)
	if err != nil {
		return 0, fmt.Errorf("count password users: %w", err)
	}
	return n, nil
}

// ConfigOperator is the operator acting through the config file, in the
// workspace given: it sets the managed OAuth clients at start-up.
func ConfigOperator(workspaceID string) Actor {
	return Actor{WorkspaceID: workspaceID, UserID: "system", Role: RoleOwner, Operator: true}
}

// IsOperator reports whether the actor runs this installation: the config
// file (an Operator actor) or the admin token's principal from first start.
func (s *Service) IsOperator(ctx context.Context, a Actor) (bool, error) {
	if a.Operator {
		return true, nil
	}
	if a.UserID == "" {
		return false, nil
	}
	id, err := s.store.GetMeta(ctx, store.MetaAdminUser)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("operator: %w", err)
	}
	return string(id) == a.UserID, nil
}

// noResources knows no account and no app.
type noResources struct{}

func (noResources) AccountApp(context.Context, Actor, string) (string, error) {
	return "", store.ErrNotFound
}

func (noResources) AppExists(context.Context, string, string) error { return store.ErrNotFound }
