package identity

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"golang.org/x/crypto/bcrypt"

	"github.com/latchkeyhq/latchkey/internal/store"
)

// PasswordResetLink makes a single-use link that lets a member set a new
// password, open for PasswordResetTTL; earlier open links for the member
// stop working.
func (s *Service) PasswordResetLink(ctx context.Context, a Actor, id string) (Link, error) {
	u, err := s.member(ctx, a, id, "")
	if err != nil {
		return Link{}, err
	}
	open, err := s.store.ListInvitations(ctx, a.WorkspaceID, store.KindPasswordReset)
	if err != nil {
		return Link{}, fmt.Errorf("password reset: %w", err)
	}
	for _, inv := range open {
		if inv.UserID == id {
			if err := s.store.DeleteInvitation(ctx, a.WorkspaceID, inv.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
				return Link{}, fmt.Errorf("password reset: %w", err)
			}
		}
	}
	l, err := s.createLink(ctx, a.WorkspaceID, a.UserID, store.KindPasswordReset, u.Email, Role(u.Role), u.ID, PasswordResetTTL)
	if err != nil {
		return Link{}, fmt.Errorf("password reset: %w", err)
	}
	s.audit(ctx, event(a, "password.reset_link", map[string]string{"user": id, "email": u.Email}))
	return l, nil
}

// Reset is a member's new password through a reset link.
type Reset struct {
	Addr, Token, Password string
}

// ResetPassword sets the password of the link's member in the link's
// workspace only, ends their other sessions there (whoever knew the old
// password may be signed in), and signs them in.
func (s *Service) ResetPassword(ctx context.Context, in Reset) (SignedIn, error) {
	inv, err := s.link(ctx, in.Addr, in.Token, store.KindPasswordReset)
	if err != nil {
		return SignedIn{}, err
	}
	hash, err := s.hashPassword(in.Password)
	if err != nil {
		return SignedIn{}, err
	}
	if err := s.use(ctx, inv); err != nil {
		return SignedIn{}, err
	}
	u, err := s.store.UpdateUser(ctx, inv.WorkspaceID, inv.UserID, func(old store.User) (store.User, error) {
		old.PasswordHash = string(hash)
		return old, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return SignedIn{}, ErrLinkInvalid
	}
	if err != nil {
		return SignedIn{}, fmt.Errorf("reset password: %w", err)
	}
	ended, err := s.store.DeleteUserSessions(ctx, u.WorkspaceID, u.ID, nil)
	if err != nil {
		return SignedIn{}, fmt.Errorf("reset password: %w", err)
	}
	detail := map[string]string{"email": u.Email, "link_by": inv.CreatedBy, "addr": in.Addr, "sessions_ended": strconv.Itoa(ended)}
	if s.onReset != nil {
		// Whoever knew the old password may have consented an MCP client
		// with it, and its refresh token outlives any session.
		revoked, err := s.onReset(ctx, u.WorkspaceID, u.ID)
		if err != nil {
			return SignedIn{}, fmt.Errorf("reset password: %w", err)
		}
		detail["mcp_grants_revoked"] = strconv.Itoa(revoked)
	}
	s.audit(ctx, store.AuditEvent{WorkspaceID: u.WorkspaceID, ActorID: u.ID, Action: "password.reset", Detail: detail})
	return s.startSession(ctx, u)
}

// ChangePassword sets the actor's new password after checking the
// current one. Memberships of other workspaces that share the password
// (see Memberships) change with it. Every session of those memberships
// ends but keep, the session the change was made in (nil, from the API,
// keeps none); API tokens stay, as they are not the password.
func (s *Service) ChangePassword(ctx context.Context, a Actor, current, next string, keep []byte) error {
	// A narrow token speaks for a task, not for the person's sign-in.
	if err := a.Require(ScopeAll); err != nil {
		return err
	}
	if !s.links.Try(attemptKey("user", a.UserID), s.clock.Now()) {
		return ErrTooManyLinkAttempts
	}
	u, err := s.store.GetUser(ctx, a.WorkspaceID, a.UserID)
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	if u.PasswordHash == "" || len(current) > MaxPassword || bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(current)) != nil {
		return ErrWrongPassword
	}
	hash, err := s.hashPassword(next)
	if err != nil {
		return err
	}
	linked, err := s.linked(ctx, u)
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	for _, m := range linked {
		_, err := s.store.UpdateUser(ctx, m.WorkspaceID, m.ID, func(old store.User) (store.User, error) {
			if old.PasswordHash != u.PasswordHash {
				// Reset meanwhile: no longer the same person's password.
				return old, errSkip
			}
			old.PasswordHash = string(hash)
			return old, nil
		})
		if errors.Is(err, errSkip) || errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("change password: %w", err)
		}
		ended, err := s.store.DeleteUserSessions(ctx, m.WorkspaceID, m.ID, keep)
		if err != nil {
			return fmt.Errorf("change password: %w", err)
		}
		s.audit(ctx, store.AuditEvent{WorkspaceID: m.WorkspaceID, ActorID: m.ID, Action: "password.changed", Detail: map[string]string{"email": m.Email, "sessions_ended": strconv.Itoa(ended)}})
	}
	return nil
}

var errSkip = errors.New("skip")

// linked are the memberships, u's own included, that share u's password:
// one person's.
func (s *Service) linked(ctx context.Context, u store.User) ([]store.User, error) {
	if u.PasswordHash == "" {
		return []store.User{u}, nil
	}
	all, err := s.store.UsersByEmail(ctx, u.Email)
	if err != nil {
		return nil, err
	}
	var out []store.User
	for _, m := range all {
		if m.PasswordHash == u.PasswordHash {
			out = append(out, m)
		}
	}
	return out, nil
}
