package identity

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/latchkeyhq/latchkey/internal/ids"
	"github.com/latchkeyhq/latchkey/internal/store"
)

// Workspace is a tenant as callers see one.
type Workspace struct {
	ID        string
	Name      string
	CreatedAt time.Time
}

// NewWorkspace is what CreateWorkspace made: the workspace and either its
// owner (an existing person attached by email) or the owner's invitation.
type NewWorkspace struct {
	Workspace Workspace
	Owner     *User
	Invite    *Link
}

func (s *Service) requireOperator(ctx context.Context, a Actor) error {
	// Only the operator's unscoped token (or session): a narrow token of
	// the admin principal does not make workspaces.
	if err := a.Require(ScopeAll); err != nil {
		return err
	}
	op, err := s.IsOperator(ctx, a)
	if err != nil {
		return err
	}
	if !op {
		return fmt.Errorf("%w: only the server's admin creates and lists workspaces", ErrForbidden)
	}
	return nil
}

// CreateWorkspace makes a workspace, for the operator only. Its owner is
// the person with the email: attached at once if the email signs in to
// another workspace here (with that password), else invited.
func (s *Service) CreateWorkspace(ctx context.Context, a Actor, name, ownerEmail string) (NewWorkspace, error) {
	if err := s.requireOperator(ctx, a); err != nil {
		return NewWorkspace{}, err
	}
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 {
		return NewWorkspace{}, &InputError{"Give the workspace a name of 1 to 100 bytes."}
	}
	email := NormalEmail(ownerEmail)
	if err := checkEmail(email); err != nil {
		return NewWorkspace{}, err
	}
	existing, err := s.store.UsersByEmail(ctx, email)
	if err != nil {
		return NewWorkspace{}, fmt.Errorf("create workspace: %w", err)
	}
	now := s.clock.Now().UTC()
	ws := store.Workspace{ID: ids.New(ids.Workspace, now), Name: name, CreatedAt: now}
	if err := s.store.CreateWorkspace(ctx, ws); err != nil {
		return NewWorkspace{}, fmt.Errorf("create workspace: %w", err)
	}
	out := NewWorkspace{Workspace: Workspace{ID: ws.ID, Name: ws.Name, CreatedAt: ws.CreatedAt}}
	audit := store.AuditEvent{WorkspaceID: ws.ID, ActorID: a.UserID, Action: "workspace.created", Detail: a.AuditDetail(map[string]string{"name": name, "owner": email})}
	for _, u := range existing {
		if u.PasswordHash == "" {
			continue
		}
		owner, err := s.createUserWithHash(ctx, NewUser{WorkspaceID: ws.ID, Email: email, Name: u.Name, Role: RoleOwner}, u.PasswordHash)
		if err != nil {
			return NewWorkspace{}, fmt.Errorf("create workspace: owner: %w", err)
		}
		v := userView(owner)
		out.Owner = &v
		s.audit(ctx, audit)
		return out, nil
	}
	l, err := s.createLink(ctx, ws.ID, a.UserID, store.KindInvite, email, RoleOwner, "", InvitationTTL)
	if err != nil {
		return NewWorkspace{}, fmt.Errorf("create workspace: invitation: %w", err)
	}
	out.Invite = &l
	s.audit(ctx, audit)
	return out, nil
}

// Workspaces lists every workspace, for the operator only.
func (s *Service) Workspaces(ctx context.Context, a Actor) ([]Workspace, error) {
	if err := s.requireOperator(ctx, a); err != nil {
		return nil, err
	}
	list, err := s.store.ListWorkspaces(ctx)
	if err != nil {
		return nil, fmt.Errorf("workspaces: %w", err)
	}
	out := make([]Workspace, 0, len(list))
	for _, w := range list {
		out = append(out, Workspace{ID: w.ID, Name: w.Name, CreatedAt: w.CreatedAt})
	}
	return out, nil
}

// Membership is one workspace a person belongs to.
type Membership struct {
	Workspace Workspace
	UserID    string
	Role      Role
	Current   bool
}

// Memberships lists the workspaces the session's person belongs to: the
// memberships of the same email that share its password. A password set
// through an owner's reset link belongs to that workspace alone, so an
// owner who resets a member's password (or invites their email) never
// gains the member's other workspaces.
func (s *Service) Memberships(ctx context.Context, se Session) ([]Membership, error) {
	u, err := s.store.GetUser(ctx, se.Actor.WorkspaceID, se.Actor.UserID)
	if err != nil {
		return nil, fmt.Errorf("memberships: %w", err)
	}
	linked, err := s.linked(ctx, u)
	if err != nil {
		return nil, fmt.Errorf("memberships: %w", err)
	}
	out := make([]Membership, 0, len(linked))
	for _, m := range linked {
		ws, err := s.store.GetWorkspace(ctx, m.WorkspaceID)
		if err != nil {
			return nil, fmt.Errorf("memberships: %w", err)
		}
		out = append(out, Membership{Workspace: Workspace{ID: ws.ID, Name: ws.Name, CreatedAt: ws.CreatedAt},
			UserID: m.ID, Role: Role(m.Role), Current: m.ID == u.ID})
	}
	return out, nil
}

// SwitchWorkspace moves the browser's session to another of its person's
// workspaces, after checking the membership again: the old session ends
// and a new one starts there.
func (s *Service) SwitchWorkspace(ctx context.Context, cookie, workspaceID string) (SignedIn, error) {
	se, err := s.Session(ctx, cookie)
	if err != nil {
		return SignedIn{}, err
	}
	ms, err := s.Memberships(ctx, se)
	if err != nil {
		return SignedIn{}, err
	}
	for _, m := range ms {
		if m.Workspace.ID != workspaceID {
			continue
		}
		u, err := s.store.GetUser(ctx, workspaceID, m.UserID)
		if errors.Is(err, store.ErrNotFound) {
			break
		}
		if err != nil {
			return SignedIn{}, fmt.Errorf("switch workspace: %w", err)
		}
		in, err := s.startSession(ctx, u)
		if err != nil {
			return SignedIn{}, err
		}
		if err := s.SignOut(ctx, cookie); err != nil {
			s.log.WarnContext(ctx, "switch workspace: ending the old session", "err", err)
		}
		return in, nil
	}
	return SignedIn{}, fmt.Errorf("switch workspace %s: %w", workspaceID, ErrNoUser)
}
