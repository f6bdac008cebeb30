package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/time/rate"

	"github.com/latchkeyhq/latchkey/internal/ratelimit"
	"github.com/latchkeyhq/latchkey/internal/secret"
	"github.com/latchkeyhq/latchkey/internal/store"
)

// SessionTTL is how long a sign-in lasts.
const SessionTTL = 12 * time.Hour

// maxCookie is the longest session value looked up; a real one is 43
// bytes.
const maxCookie = 100

// Sign-in errors.
var (
	// ErrNoSession means the value names no live session.
	ErrNoSession = errors.New("not signed in")
	// ErrWrongCredentials means the email or the password is wrong; which
	// one is not said.
	ErrWrongCredentials = errors.New("the email or the password is wrong")
	// ErrPasswordTooLong is a sign-in with a password longer than
	// MaxPassword: no password set here is, so it is wrong whoever it is
	// for.
	ErrPasswordTooLong = fmt.Errorf("%w: passwords here are at most %d bytes", ErrWrongCredentials, MaxPassword)
	// ErrTooManyAttempts means the address has tried this email too often;
	// SignInRetryAfter says how long to wait.
	ErrTooManyAttempts = errors.New("too many sign-in attempts")
)

// SignInRetryAfter is what a caller refused with ErrTooManyAttempts is told
// to wait.
const SignInRetryAfter = time.Minute

// Session is a signed-in browser.
type Session struct {
	// Key identifies the session without being its cookie value (it is the
	// value's SHA-256), for binding other records to it.
	Key   []byte
	User  User
	Actor Actor
}

// SignedIn is a new session: Value goes in the browser's cookie, which
// should expire at ExpiresAt.
type SignedIn struct {
	Value     secret.String
	ExpiresAt time.Time
	Session   Session
}

// SessionKey is the Key of the session a cookie value names.
func SessionKey(value string) []byte {
	h := sha256.Sum256([]byte(value))
	return h[:]
}

// Session returns the live session a cookie value names, or ErrNoSession.
func (s *Service) Session(ctx context.Context, value string) (Session, error) {
	if value == "" || len(value) > maxCookie {
		return Session{}, ErrNoSession
	}
	key := SessionKey(value)
	se, err := s.store.GetSession(ctx, key, s.clock.Now())
	if errors.Is(err, store.ErrNotFound) {
		return Session{}, ErrNoSession
	}
	if err != nil {
		return Session{}, fmt.Errorf("session: %w", err)
	}
	// The user is looked up in the session's own workspace, so a session
	// row can never lend its user another workspace.
	u, err := s.store.GetUser(ctx, se.WorkspaceID, se.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return Session{}, ErrNoSession
	}
	if err != nil {
		return Session{}, fmt.Errorf("session: %w", err)
	}
	return sessionOf(key, u), nil
}

func sessionOf(key []byte, u store.User) Session {
	return Session{Key: key, User: userView(u), Actor: Actor{WorkspaceID: u.WorkspaceID, UserID: u.ID, Role: Role(u.Role)}}
}

// SignInInput is a sign-in attempt.
type SignInInput struct {
	// Addr is the client's address; attempts are limited per address and
	// email.
	Addr     string
	Email    string
	Password string
}

// SignIn checks an email and password and starts a session. A person may
// belong to several workspaces (a user row in each); the session goes to
// the oldest workspace where the email has that password.
func (s *Service) SignIn(ctx context.Context, in SignInInput) (SignedIn, error) {
	email := NormalEmail(in.Email)
	if !s.signIn.Try(attemptKey(in.Addr, email), s.clock.Now()) {
		return SignedIn{}, ErrTooManyAttempts
	}
	if len(in.Password) > MaxPassword {
		// bcrypt would compare only the first 72 bytes.
		return SignedIn{}, ErrPasswordTooLong
	}
	users, err := s.store.UsersByEmail(ctx, email)
	if err != nil {
		return SignedIn{}, fmt.Errorf("sign in: %w", err)
	}
	if u, ok := s.matchPassword(users, in.Password); ok {
		out, err := s.startSession(ctx, u)
		if err == nil {
			s.audit(ctx, signInEvent(u, "session.signed_in", in.Addr))
		}
		return out, err
	}
	// A wrong password is not recorded: a write only for emails that
	// exist would tell them apart by time, which the dummy hash prevents.
	return SignedIn{}, ErrWrongCredentials
}

// signInEvent is a sign-in's audit event, from the web at addr.
func signInEvent(u store.User, action, addr string) store.AuditEvent {
	a := Actor{WorkspaceID: u.WorkspaceID, UserID: u.ID, Addr: addr, Surface: SurfaceWeb}
	return event(a, action, map[string]string{"email": u.Email})
}

// matchPassword returns the first of users whose password is pw. Each
// distinct hash is compared once; with none, the dummy is, so that an
// unknown email is as slow as a known one.
func (s *Service) matchPassword(users []store.User, pw string) (store.User, bool) {
	tried := map[string]bool{}
	for _, u := range users {
		if u.PasswordHash == "" || tried[u.PasswordHash] {
			continue
		}
		tried[u.PasswordHash] = true
		if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(pw)) == nil {
			return u, true
		}
	}
	if len(tried) == 0 {
		_ = bcrypt.CompareHashAndPassword(s.dummy(), []byte(pw))
	}
	return store.User{}, false
}

// dummy returns a hash to compare against when there is no user, so that
// a sign-in for an unknown email is as slow as for a known one.
func (s *Service) dummy() []byte {
	s.dummyOnce.Do(func() {
		s.dummyHash, _ = bcrypt.GenerateFromPassword([]byte("latchkey-no-such-user"), s.cost)
	})
	return s.dummyHash
}

// startSession stores a new session for u.
func (s *Service) startSession(ctx context.Context, u store.User) (SignedIn, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return SignedIn{}, fmt.Errorf("start session: %w", err)
	}
	v := base64.RawURLEncoding.EncodeToString(b)
	now := s.clock.Now().UTC()
	key := SessionKey(v)
	se := store.Session{Hash: key, WorkspaceID: u.WorkspaceID, UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(SessionTTL)}
	if err := s.store.CreateSession(ctx, se); err != nil {
		return SignedIn{}, fmt.Errorf("start session: %w", err)
	}
	return SignedIn{Value: secret.New(v), ExpiresAt: se.ExpiresAt, Session: sessionOf(key, u)}, nil
}

// SignOut ends the session a cookie value names; one already gone is no
// error.
func (s *Service) SignOut(ctx context.Context, value string) error {
	if value == "" || len(value) > maxCookie {
		return nil
	}
	if err := s.store.DeleteSession(ctx, SessionKey(value)); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("sign out: %w", err)
	}
	return nil
}

// newAttemptLimiter limits attempts to sign in, use a link or change a
// password: five a minute per address and email (or user), for up to
// 10,000 of them (past that, those not held back are forgotten first).
func newAttemptLimiter() *ratelimit.Limiter {
	return ratelimit.New(rate.Every(12*time.Second), 5, 10000)
}

// attemptKey is the key attempts are counted under: who makes them (an
// address) at what (an email).
func attemptKey(who, what string) string { return who + "|" + what }
