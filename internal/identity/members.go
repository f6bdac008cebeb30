package identity

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/latchkeyhq/latchkey/internal/ids"
	"github.com/latchkeyhq/latchkey/internal/store"
)

// How long links stay open.
const (
	InvitationTTL    = 7 * 24 * time.Hour
	PasswordResetTTL = 24 * time.Hour
)

// Member errors.
var (
	// ErrLastOwner: the change would leave the workspace without an owner
	// who signs in.
	ErrLastOwner = fmt.Errorf("%w: the workspace's last owner cannot be removed or demoted; make another owner first", ErrForbidden)
	// ErrLinkInvalid: an invitation or reset link that is unknown, used,
	// revoked, replaced by a newer one, or expired. Which is not said.
	ErrLinkInvalid = errors.New("this link is not valid: it was used, revoked or replaced, or it expired")
	// ErrTooManyLinkAttempts: the address tried links (or a password)
	// too often; wait SignInRetryAfter.
	ErrTooManyLinkAttempts = errors.New("too many attempts")
	// ErrWrongPassword: the current password given is not the user's.
	ErrWrongPassword = &InputError{"The current password is wrong."}
	// ErrExistingPassword: the invited email already signs in to another
	// workspace here, and joining takes that password.
	ErrExistingPassword = &InputError{"This email already signs in to another workspace here: enter that password to join."}
)

// audit records member events in the workspace's audit log. The change
// has happened by now, so a failed write is logged loudly, not returned.
func (s *Service) audit(ctx context.Context, events ...store.AuditEvent) {
	now := s.clock.Now().UTC()
	for i := range events {
		events[i].ID, events[i].CreatedAt = ids.New(ids.Event, now), now
	}
	if err := s.store.AppendAudits(ctx, events); err != nil {
		s.log.ErrorContext(ctx, "audit write failed", "events", len(events), "err", err)
	}
}

func event(a Actor, action string, detail map[string]string) store.AuditEvent {
	return store.AuditEvent{WorkspaceID: a.WorkspaceID, ActorID: a.UserID, Action: action, Detail: a.AuditDetail(detail)}
}

// mayManage returns ErrForbidden unless the actor may give a member of
// role from the role to (from is "" for a new member).
func mayManage(a Actor, from, to Role) error {
	if err := a.Require(ScopeMembersWrite); err != nil {
		return err
	}
	if !a.CanManageMembers() {
		return fmt.Errorf("%w: only owners and admins manage members", ErrForbidden)
	}
	if a.Role != RoleOwner && (from == RoleOwner || to == RoleOwner) {
		return fmt.Errorf("%w: only owners make, change or remove owners", ErrForbidden)
	}
	return nil
}

// operatorPrincipal returns ErrForbidden for the admin token's principal,
// which the CLI on the server's machine depends on.
func (s *Service) operatorPrincipal(ctx context.Context, userID string) error {
	if op, err := s.IsOperator(ctx, Actor{UserID: userID}); err != nil {
		return err
	} else if op {
		return fmt.Errorf("%w: the admin token's principal belongs to the installation and cannot be changed or removed", ErrForbidden)
	}
	return nil
}

// Members lists the actor's workspace's users, oldest first.
func (s *Service) Members(ctx context.Context, a Actor) ([]User, error) {
	list, err := s.store.ListUsers(ctx, a.WorkspaceID)
	if err != nil {
		return nil, fmt.Errorf("members: %w", err)
	}
	out := make([]User, 0, len(list))
	for _, u := range list {
		out = append(out, userView(u))
	}
	return out, nil
}

// member is the workspace's user with the id, whom the actor may give
// the role to (to is "" when removing).
func (s *Service) member(ctx context.Context, a Actor, id string, to Role) (store.User, error) {
	u, err := s.store.GetUser(ctx, a.WorkspaceID, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, ErrNoUser
	}
	if err != nil {
		return store.User{}, fmt.Errorf("member %s: %w", id, err)
	}
	if err := mayManage(a, Role(u.Role), to); err != nil {
		return store.User{}, err
	}
	return u, s.operatorPrincipal(ctx, id)
}

func lastOwner(err error) error {
	if errors.Is(err, store.ErrLastOwner) {
		return ErrLastOwner
	}
	return err
}

// ChangeRole gives a member another role. It takes effect at once on
// this replica, and within tokenCacheTTL on the others.
func (s *Service) ChangeRole(ctx context.Context, a Actor, id string, role Role) (User, error) {
	if !role.Valid() {
		return User{}, errNoRole(role)
	}
	if _, err := s.member(ctx, a, id, role); err != nil {
		return User{}, err
	}
	var from Role
	u, err := s.store.UpdateUser(ctx, a.WorkspaceID, id, func(old store.User) (store.User, error) {
		// Checked again under the lock: the role may have changed since.
		if err := mayManage(a, Role(old.Role), role); err != nil {
			return old, err
		}
		from = Role(old.Role)
		old.Role = store.Role(role)
		return old, nil
	})
	if err != nil {
		return User{}, lastOwner(err)
	}
	s.tokens.Clear()
	if from != role {
		s.audit(ctx, event(a, "member.role_changed", map[string]string{"user": id, "email": u.Email, "from": string(from), "to": string(role)}))
	}
	return userView(u), nil
}

// RemoveMember removes a member from the workspace: their sessions and
// tokens end at once (within tokenCacheTTL on other replicas), and the
// accounts they owned pass to the actor, each recorded in the audit log.
func (s *Service) RemoveMember(ctx context.Context, a Actor, id string) error {
	if id == a.UserID {
		return fmt.Errorf("%w: you cannot remove yourself; another owner or admin can", ErrForbidden)
	}
	u, err := s.member(ctx, a, id, "")
	if err != nil {
		return err
	}
	// The store refuses to remove the last owner in any case; asking
	// first keeps their accounts from moving before that refusal.
	if u.Role == store.RoleOwner && u.PasswordHash != "" {
		list, err := s.store.ListUsers(ctx, a.WorkspaceID)
		if err != nil {
			return fmt.Errorf("remove member: %w", err)
		}
		owners := 0
		for _, m := range list {
			if m.Role == store.RoleOwner && m.PasswordHash != "" {
				owners++
			}
		}
		if owners <= 1 {
			return ErrLastOwner
		}
	}
	// The accounts move first, so that none is ever left with no owner;
	// if the removal then fails, the member is still there to retry.
	moved, err := s.store.ReassignAccounts(ctx, a.WorkspaceID, id, a.UserID)
	if err != nil {
		return fmt.Errorf("remove member: %w", err)
	}
	if err := s.store.DeleteUser(ctx, a.WorkspaceID, id); err != nil {
		s.auditMoved(ctx, a, id, moved)
		return lastOwner(fmt.Errorf("remove member: %w", err))
	}
	s.tokens.Clear()
	s.auditMoved(ctx, a, id, moved)
	s.audit(ctx, event(a, "member.removed", map[string]string{"user": id, "email": u.Email, "role": string(u.Role),
		"accounts_reassigned": fmt.Sprint(len(moved)), "accounts_to": a.UserID}))
	return nil
}

func (s *Service) auditMoved(ctx context.Context, a Actor, from string, moved []string) {
	if len(moved) == 0 {
		return
	}
	events := make([]store.AuditEvent, 0, len(moved))
	for _, acc := range moved {
		e := event(a, "account.owner_changed", map[string]string{"from": from, "to": a.UserID, "reason": "member removed"})
		e.AccountID = acc
		events = append(events, e)
	}
	s.audit(ctx, events...)
}
