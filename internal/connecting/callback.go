package connecting

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/latchkeyhq/latchkey/internal/accounts"
	"github.com/latchkeyhq/latchkey/internal/oauth"
	"github.com/latchkeyhq/latchkey/internal/outbound"
	"github.com/latchkeyhq/latchkey/internal/store"
)

// CallbackInput is what the provider sent to the redirect URI, and what
// the surface knows of the browser it arrived in.
type CallbackInput struct {
	// Code is an OAuth 2 code, or an OAuth 1.0a oauth_verifier.
	State, Code, Error, ErrorDescription string
	// Query holds the callback's other parameters, of which the app's
	// callback_fields are kept (QuickBooks' realmId).
	Query map[string]string
	// RequestToken is an OAuth 1.0a callback's oauth_token, which must be
	// the request token the state was issued with.
	RequestToken string
	// SessionHash is the browser session the callback arrived in, if any.
	SessionHash []byte
	// UserID is the user that session is signed in as, if any.
	UserID string
	// HoldHash is the hash of a random cookie the surface sets on the
	// browser when the connection must wait for it (see WaitingError).
	HoldHash []byte
	// LinkHash is the hash of the hosted connect page's cookie the
	// browser brought, if any.
	LinkHash []byte
}

// Errors of finishing a connection in the wrong place. None stores an
// account.
var (
	// ErrOtherSession: a connection started in one browser session came
	// back in another.
	ErrOtherSession = errors.New("this authorization was started in another browser session; start the connection again here")
	// ErrOtherUser: a connection started through the API came back to a
	// browser signed in as someone else. The connection is spent, so
	// that browser cannot try again.
	ErrOtherUser = errors.New("this connection was started by another user, and this browser is signed in as someone else; nothing was saved, and the link no longer works; whoever started it must start it again")
	// ErrOtherBrowser: a connection started on the hosted connect page
	// came back to a browser without that page's cookie (a forwarded
	// authorize URL). The connection is spent; the connect token is not.
	ErrOtherBrowser = errors.New("this authorization was started in another browser; nothing was saved; open the connect link again in the browser that finishes it")
	// ErrTooManyAttempts: the one-time code was entered wrong too often.
	ErrTooManyAttempts = errors.New("the one-time code was entered wrong too many times; nothing was saved; start the connection again")
)

// WaitingError: the provider answered, but the browser must still prove
// it may finish the connection, by signing in as the starter or by
// entering the one-time code. The provider's code is held sealed until
// then; Resume continues.
type WaitingError struct {
	ConnectionID string
	// NeedCode: the one-time code is wanted; otherwise a sign-in as the
	// starter.
	NeedCode bool
	// Starter names who started the connection.
	Starter string
	// AttemptsLeft is how many tries of the code remain.
	AttemptsLeft int
	// Wrong: the last code entered was wrong.
	Wrong bool
}

func (e *WaitingError) Error() string {
	switch {
	case e.Wrong:
		return fmt.Sprintf("that one-time code is wrong; %d attempts left", e.AttemptsLeft)
	case e.NeedCode:
		return "enter the one-time code shown where the connection was started"
	default:
		return "sign in as " + e.Starter + ", who started this connection, to finish it"
	}
}

// MaxCodeAttempts is how often a one-time code may be entered wrong before
// the connection fails.
const MaxCodeAttempts = 5

// Callback completes a connection: it claims the state (once), checks the
// browser may finish it, exchanges the code, labels the account and saves
// it. A bad state, a provider error or a missing code stores nothing.
func (s *Service) Callback(ctx context.Context, in CallbackInput) (Connection, accounts.Account, error) {
	return views(s.callback(ctx, in))
}

func (s *Service) callback(ctx context.Context, in CallbackInput) (store.Connection, store.Account, error) {
	if in.State == "" || len(in.State) > 200 {
		return store.Connection{}, store.Account{}, ErrBadState
	}
	conn, err := s.store.ClaimConnection(ctx, hashState(in.State), s.clock.Now())
	if errors.Is(err, store.ErrNotFound) {
		return store.Connection{}, store.Account{}, ErrBadState
	}
	if err != nil {
		return store.Connection{}, store.Account{}, err
	}
	want, err := s.requestToken(conn)
	if err != nil {
		return s.conclude(ctx, conn, store.Account{}, err)
	}
	var wait *WaitingError
	err = s.admit(conn, in, want)
	if errors.As(err, &wait) {
		return s.hold(ctx, conn, in, wait)
	}
	if err != nil {
		return s.conclude(ctx, conn, store.Account{}, err)
	}
	acc, err := s.complete(ctx, conn, returned{Code: in.Code, Query: in.Query})
	return s.conclude(ctx, conn, acc, err)
}

// admit decides whether the browser the callback came back to may finish
// the connection now.
// want is the OAuth 1.0a request token the connection was started with.
func (s *Service) admit(conn store.Connection, in CallbackInput, want string) error {
	if conn.ConnectTokenID != "" && (len(conn.LinkHash) == 0 || subtle.ConstantTimeCompare(conn.LinkHash, in.LinkHash) != 1) {
		return ErrOtherBrowser
	}
	if len(conn.SessionHash) > 0 && subtle.ConstantTimeCompare(conn.SessionHash, in.SessionHash) != 1 {
		return ErrOtherSession
	}
	if in.Error != "" {
		return &ProviderError{Code: clip(outbound.Clip(in.Error), 100), Description: outbound.Clip(in.ErrorDescription)}
	}
	if in.Code == "" {
		return ErrMissingCode
	}
	if want != "" && !sameToken(want, in.RequestToken) {
		return ErrOtherFlow
	}
	switch {
	case len(conn.SessionHash) > 0, conn.ConnectTokenID != "":
		return nil
	case len(conn.CodeHash) > 0:
		return &WaitingError{ConnectionID: conn.ID, NeedCode: true, AttemptsLeft: MaxCodeAttempts - conn.CodeAttempts}
	case in.UserID == conn.UserID:
		return nil
	case in.UserID != "":
		return ErrOtherUser
	default:
		return &WaitingError{ConnectionID: conn.ID}
	}
}

// hold keeps the provider's code sealed in the claimed connection, bound
// to the browser's cookie, until Resume.
func (s *Service) hold(ctx context.Context, conn store.Connection, in CallbackInput, wait *WaitingError) (store.Connection, store.Account, error) {
	if len(in.HoldHash) == 0 {
		return s.conclude(ctx, conn, store.Account{}, errors.New("the browser cannot be asked to finish this connection"))
	}
	b, err := json.Marshal(returned{Code: in.Code, Query: in.Query})
	if err != nil {
		return s.conclude(ctx, conn, store.Account{}, err)
	}
	held, err := s.ring.Seal(b, []byte(conn.ID+"/held"))
	if err != nil {
		return s.conclude(ctx, conn, store.Account{}, err)
	}
	conn, err = s.store.UpdateConnection(ctx, conn.ID, func(c *store.Connection) error {
		if c.Status != store.ConnectionClaimed {
			return ErrBadState
		}
		c.Status, c.Held, c.HoldHash = store.ConnectionWaiting, held, in.HoldHash
		return nil
	})
	if err != nil {
		return store.Connection{}, store.Account{}, err
	}
	wait.Starter = s.starterName(ctx, conn)
	return conn, store.Account{}, wait
}

// ResumeInput continues a waiting connection in the browser it is held
// for.
type ResumeInput struct {
	ConnectionID string
	HoldHash     []byte
	// UserID is the user the browser is signed in as, if any.
	UserID string
	// Code is the one-time code entered, if any.
	Code string
}

// Resume finishes a waiting connection once the browser proves it may:
// signed in as the starter, or with the right one-time code. A browser
// signed in as someone else, or too many wrong codes, spend the
// connection and store nothing.
func (s *Service) Resume(ctx context.Context, in ResumeInput) (Connection, accounts.Account, error) {
	return views(s.resume(ctx, in))
}

func (s *Service) resume(ctx context.Context, in ResumeInput) (store.Connection, store.Account, error) {
	if in.ConnectionID == "" || len(in.ConnectionID) > 100 || len(in.HoldHash) == 0 {
		return store.Connection{}, store.Account{}, ErrBadState
	}
	now := s.clock.Now()
	var held []byte
	var outcome error
	conn, err := s.store.UpdateConnection(ctx, in.ConnectionID, func(c *store.Connection) error {
		held, outcome = nil, nil
		if c.Status != store.ConnectionWaiting || !now.Before(c.ExpiresAt) || subtle.ConstantTimeCompare(c.HoldHash, in.HoldHash) != 1 {
			return ErrBadState
		}
		spend := func(err error) error {
			c.Status, c.Error, c.Held, c.HoldHash = store.ConnectionFailed, err.Error(), nil, nil
			outcome = err
			return nil
		}
		if len(c.CodeHash) > 0 {
			if strings.TrimSpace(in.Code) == "" {
				return &WaitingError{ConnectionID: c.ID, NeedCode: true, AttemptsLeft: MaxCodeAttempts - c.CodeAttempts}
			}
			c.CodeAttempts++
			if subtle.ConstantTimeCompare(c.CodeHash, hashOneTimeCode(c.ID, normalizeOneTimeCode(in.Code))) != 1 {
				if c.CodeAttempts >= MaxCodeAttempts {
					return spend(ErrTooManyAttempts)
				}
				outcome = &WaitingError{ConnectionID: c.ID, NeedCode: true, Wrong: true, AttemptsLeft: MaxCodeAttempts - c.CodeAttempts}
				return nil
			}
		} else {
			switch in.UserID {
			case c.UserID:
			case "":
				return &WaitingError{ConnectionID: c.ID}
			default:
				return spend(ErrOtherUser)
			}
		}
		held, c.Held, c.Status = c.Held, nil, store.ConnectionClaimed
		return nil
	})
	var wait *WaitingError
	if errors.As(err, &wait) {
		wait.Starter = s.starterName(ctx, conn)
		return store.Connection{}, store.Account{}, wait
	}
	if errors.Is(err, store.ErrNotFound) {
		return store.Connection{}, store.Account{}, ErrBadState
	}
	if err != nil {
		return store.Connection{}, store.Account{}, err
	}
	if outcome != nil {
		if errors.As(outcome, &wait) {
			wait.Starter = s.starterName(ctx, conn)
		} else {
			s.log.WarnContext(ctx, "connection refused", "connection", conn.ID, "app", conn.App, "err", outcome)
		}
		return conn, store.Account{}, outcome
	}
	raw, err := s.ring.Open(held, []byte(conn.ID+"/held"))
	if err != nil {
		return s.conclude(ctx, conn, store.Account{}, err)
	}
	acc, err := s.complete(ctx, conn, openReturned(raw))
	return s.conclude(ctx, conn, acc, err)
}

// conclude records a claimed connection's outcome.
func (s *Service) conclude(ctx context.Context, conn store.Connection, acc store.Account, err error) (store.Connection, store.Account, error) {
	if err != nil {
		msg := err.Error()
		var pe *ProviderError
		var oe *oauth.Error
		var mf *MissingFieldError
		if !errors.As(err, &pe) && !errors.As(err, &oe) && !errors.Is(err, ErrMissingCode) && !errors.Is(err, ErrOtherSession) &&
			!errors.Is(err, ErrOtherUser) && !errors.Is(err, ErrOtherBrowser) && !errors.Is(err, ErrOtherFlow) && !errors.As(err, &mf) && !errors.Is(err, accounts.ErrMetadata) {
			msg = "the connection could not be completed"
		}
		// A forwarded authorize URL is no attempt of the end user's own:
		// the product hears of failures of their flow only.
		if conn.ConnectTokenID != "" && s.tokens != nil && !errors.Is(err, ErrOtherBrowser) {
			s.tokens.Failed(ctx, conn.WorkspaceID, conn.ConnectTokenID, conn.App, err)
		}
		if ferr := s.store.FinishConnection(ctx, conn.ID, store.ConnectionFailed, conn.AccountID, msg); ferr != nil {
			s.log.ErrorContext(ctx, "recording a failed connection", "connection", conn.ID, "err", ferr)
		}
		s.log.WarnContext(ctx, "connection failed", "connection", conn.ID, "app", conn.App, "err", err)
		return conn, store.Account{}, err
	}
	if err := s.store.FinishConnection(ctx, conn.ID, store.ConnectionCompleted, acc.ID, ""); err != nil {
		return conn, acc, err
	}
	conn.Status, conn.AccountID = store.ConnectionCompleted, acc.ID
	return conn, acc, nil
}
