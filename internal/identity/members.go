package identity

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/latchkeyhq/latchkey/internal/ids"
	"github.com/latchkeyhq/latchkey/internal/secret"
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

// Invitation is an open invitation (or reset link) as callers see one:
// never its token.
type Invitation struct {
	ID          string
	WorkspaceID string
	Email       string
	Role        Role
	CreatedBy   string
	CreatedAt   time.Time
	ExpiresAt   time.Time
	// Expired is true once ExpiresAt has passed.
	Expired bool
}

// Link is a new invitation or reset link's token, which cannot be shown
// again, with what it is for.
type Link struct {
	Token      secret.String
	Invitation Invitation
}

func (s *Service) invitationView(inv store.Invitation) Invitation {
	return Invitation{ID: inv.ID, WorkspaceID: inv.WorkspaceID, Email: inv.Email, Role: Role(inv.Role), CreatedBy: inv.CreatedBy,
		CreatedAt: inv.CreatedAt, ExpiresAt: inv.ExpiresAt, Expired: !s.clock.Now().Before(inv.ExpiresAt)}
}

// newLinkToken is a random link token and its hash.
func newLinkToken() (secret.String, []byte, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return secret.String{}, nil, fmt.Errorf("link token: %w", err)
	}
	t := base64.RawURLEncoding.EncodeToString(b)
	return secret.New(t), tokenHash(t), nil
}

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

// Invite makes a single-use link that lets the person with the email join
// the actor's workspace with the role; it expires after InvitationTTL.
func (s *Service) Invite(ctx context.Context, a Actor, email string, role Role) (Link, error) {
	if !role.Valid() {
		return Link{}, errNoRole(role)
	}
	if err := mayManage(a, "", role); err != nil {
		return Link{}, err
	}
	email = NormalEmail(email)
	if err := checkEmail(email); err != nil {
		return Link{}, err
	}
	if _, err := s.store.GetUserByEmail(ctx, a.WorkspaceID, email); err == nil {
		return Link{}, &InputError{email + " is a member already."}
	} else if !errors.Is(err, store.ErrNotFound) {
		return Link{}, fmt.Errorf("invite: %w", err)
	}
	open, err := s.store.ListInvitations(ctx, a.WorkspaceID, store.KindInvite)
	if err != nil {
		return Link{}, fmt.Errorf("invite: %w", err)
	}
	if slices.ContainsFunc(open, func(inv store.Invitation) bool { return inv.Email == email }) {
		return Link{}, &InputError{email + " is invited already: resend that invitation for a new link."}
	}
	l, err := s.createLink(ctx, a.WorkspaceID, a.UserID, store.KindInvite, email, role, "", InvitationTTL)
	if err != nil {
		return Link{}, fmt.Errorf("invite: %w", err)
	}
	s.audit(ctx, event(a, "member.invited", map[string]string{"email": email, "role": string(role), "invitation": l.Invitation.ID}))
	return l, nil
}

func checkEmail(email string) error {
	if _, err := mail.ParseAddress(email); err != nil || len(email) > 200 || strings.ContainsAny(email, "<> ") {
		return &InputError{"Enter a valid email address."}
	}
	return nil
}

func (s *Service) createLink(ctx context.Context, ws, by string, kind store.InvitationKind, email string, role Role, userID string, ttl time.Duration) (Link, error) {
	tok, hash, err := newLinkToken()
	if err != nil {
		return Link{}, err
	}
	now := s.clock.Now().UTC()
	inv := store.Invitation{ID: ids.New(ids.Invitation, now), WorkspaceID: ws, Kind: kind, Email: email, Role: store.Role(role),
		UserID: userID, TokenHash: hash, CreatedBy: by, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	if err := s.store.CreateInvitation(ctx, inv); err != nil {
		return Link{}, err
	}
	return Link{Token: tok, Invitation: s.invitationView(inv)}, nil
}

// Invitations lists the workspace's open invitations, expired ones too
// (so they can be resent or revoked).
func (s *Service) Invitations(ctx context.Context, a Actor) ([]Invitation, error) {
	if !a.CanManageMembers() {
		return nil, fmt.Errorf("%w: only owners and admins see invitations", ErrForbidden)
	}
	list, err := s.store.ListInvitations(ctx, a.WorkspaceID, store.KindInvite)
	if err != nil {
		return nil, fmt.Errorf("invitations: %w", err)
	}
	out := make([]Invitation, 0, len(list))
	for _, inv := range list {
		out = append(out, s.invitationView(inv))
	}
	return out, nil
}

// openInvitation is the workspace's unused invitation with the id, which
// the actor may manage.
func (s *Service) openInvitation(ctx context.Context, a Actor, id string) (store.Invitation, error) {
	inv, err := s.store.GetInvitation(ctx, a.WorkspaceID, id)
	if err == nil && (inv.Kind != store.KindInvite || inv.UsedAt != nil) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Invitation{}, fmt.Errorf("invitation %s: %w", id, err)
	}
	return inv, mayManage(a, "", Role(inv.Role))
}

// RevokeInvitation deletes an open invitation; its link stops working.
func (s *Service) RevokeInvitation(ctx context.Context, a Actor, id string) error {
	inv, err := s.openInvitation(ctx, a, id)
	if err != nil {
		return err
	}
	if err := s.store.DeleteInvitation(ctx, a.WorkspaceID, id); err != nil {
		return fmt.Errorf("revoke invitation: %w", err)
	}
	s.audit(ctx, event(a, "invitation.revoked", map[string]string{"email": inv.Email, "invitation": id}))
	return nil
}

// ResendInvitation gives an open invitation a new link and a new expiry;
// the old link stops working.
func (s *Service) ResendInvitation(ctx context.Context, a Actor, id string) (Link, error) {
	if _, err := s.openInvitation(ctx, a, id); err != nil {
		return Link{}, err
	}
	tok, hash, err := newLinkToken()
	if err != nil {
		return Link{}, err
	}
	now := s.clock.Now().UTC()
	inv, err := s.store.UpdateInvitation(ctx, a.WorkspaceID, id, func(old store.Invitation) (store.Invitation, error) {
		if old.UsedAt != nil {
			return old, fmt.Errorf("resend invitation %s: %w", id, store.ErrNotFound)
		}
		old.TokenHash, old.ExpiresAt = hash, now.Add(InvitationTTL)
		return old, nil
	})
	if err != nil {
		return Link{}, fmt.Errorf("resend invitation: %w", err)
	}
	s.audit(ctx, event(a, "invitation.resent", map[string]string{"email": inv.Email, "invitation": id}))
	return Link{Token: tok, Invitation: s.invitationView(inv)}, nil
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

// OpenLink is what an invitation or reset link is for, for its page.
type OpenLink struct {
	Email         string
	Role          Role
	WorkspaceName string
	// ExistingPassword says the email already signs in to another
	// workspace here, so joining takes that password.
	ExistingPassword bool
}

// LookUpLink says what a link is for, or ErrLinkInvalid. Only a link
// that does not work counts against the address's limit: a person who
// opens a good one and mistypes a password keeps their attempts for it.
func (s *Service) LookUpLink(ctx context.Context, addr, token string, kind store.InvitationKind) (OpenLink, error) {
	inv, err := s.find(ctx, token, kind)
	if errors.Is(err, ErrLinkInvalid) && !s.links.allow(addr, "link") {
		return OpenLink{}, ErrTooManyLinkAttempts
	}
	if err != nil {
		return OpenLink{}, err
	}
	ws, err := s.store.GetWorkspace(ctx, inv.WorkspaceID)
	if err != nil {
		return OpenLink{}, fmt.Errorf("link: %w", err)
	}
	o := OpenLink{Email: inv.Email, Role: Role(inv.Role), WorkspaceName: ws.Name}
	if kind == store.KindInvite {
		users, err := s.store.UsersByEmail(ctx, inv.Email)
		if err != nil {
			return OpenLink{}, fmt.Errorf("link: %w", err)
		}
		o.ExistingPassword = slices.ContainsFunc(users, func(u store.User) bool { return u.PasswordHash != "" })
	}
	return o, nil
}

// Link kinds, for LookUpLink.
const (
	LinkInvite        = store.KindInvite
	LinkPasswordReset = store.KindPasswordReset
)

// link finds the open link of the kind, counting the attempt.
func (s *Service) link(ctx context.Context, addr, token string, kind store.InvitationKind) (store.Invitation, error) {
	if !s.links.allow(addr, "link") {
		return store.Invitation{}, ErrTooManyLinkAttempts
	}
	return s.find(ctx, token, kind)
}

// find returns the open link of the kind the token names.
func (s *Service) find(ctx context.Context, token string, kind store.InvitationKind) (store.Invitation, error) {
	if token == "" || len(token) > 100 {
		return store.Invitation{}, ErrLinkInvalid
	}
	inv, err := s.store.InvitationByHash(ctx, tokenHash(token))
	if errors.Is(err, store.ErrNotFound) {
		return store.Invitation{}, ErrLinkInvalid
	}
	if err != nil {
		return store.Invitation{}, fmt.Errorf("link: %w", err)
	}
	if inv.Kind != kind || inv.UsedAt != nil || !s.clock.Now().Before(inv.ExpiresAt) {
		return store.Invitation{}, ErrLinkInvalid
	}
	return inv, nil
}

// use marks the link used, once: of two racing uses one gets
// ErrLinkInvalid.
func (s *Service) use(ctx context.Context, inv store.Invitation) error {
	now := s.clock.Now().UTC()
	_, err := s.store.UpdateInvitation(ctx, inv.WorkspaceID, inv.ID, func(old store.Invitation) (store.Invitation, error) {
		if old.UsedAt != nil || !now.Before(old.ExpiresAt) || string(old.TokenHash) != string(inv.TokenHash) {
			return old, ErrLinkInvalid
		}
		old.UsedAt = &now
		return old, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return ErrLinkInvalid
	}
	return err
}

// Accept is an invitee's answer to an invitation.
type Accept struct {
	Addr, Token, Name, Password string
}

// AcceptInvitation makes the invitee a member with the invitation's role
// and signs them in there. An email that signs in to another workspace
// here must give that password, and keeps it: the two memberships are one
// person's (see Memberships).
func (s *Service) AcceptInvitation(ctx context.Context, in Accept) (SignedIn, error) {
	inv, err := s.link(ctx, in.Addr, in.Token, store.KindInvite)
	if err != nil {
		return SignedIn{}, err
	}
	name := strings.TrimSpace(in.Name)
	if len(name) > 100 {
		return SignedIn{}, &InputError{"The name is too long."}
	}
	if name == "" {
		name = inv.Email
	}
	if len(in.Password) > MaxPassword {
		return SignedIn{}, ErrPasswordLength
	}
	users, err := s.store.UsersByEmail(ctx, inv.Email)
	if err != nil {
		return SignedIn{}, fmt.Errorf("accept: %w", err)
	}
	var hash string
	if slices.ContainsFunc(users, func(u store.User) bool { return u.PasswordHash != "" }) {
		u, ok := s.matchPassword(users, in.Password)
		if !ok {
			return SignedIn{}, ErrExistingPassword
		}
		hash = u.PasswordHash
	} else {
		h, err := s.hashPassword(in.Password)
		if err != nil {
			return SignedIn{}, err
		}
		hash = string(h)
	}
	if _, err := s.store.GetUserByEmail(ctx, inv.WorkspaceID, inv.Email); err == nil {
		return SignedIn{}, ErrLinkInvalid
	}
	if err := s.use(ctx, inv); err != nil {
		return SignedIn{}, err
	}
	u, err := s.createUserWithHash(ctx, NewUser{WorkspaceID: inv.WorkspaceID, Email: inv.Email, Name: name, Role: Role(inv.Role)}, hash)
	if err != nil {
		return SignedIn{}, fmt.Errorf("accept: %w", err)
	}
	s.audit(ctx, store.AuditEvent{WorkspaceID: u.WorkspaceID, ActorID: u.ID, Action: "member.joined",
		Detail: map[string]string{"email": u.Email, "role": string(u.Role), "invitation": inv.ID, "invited_by": inv.CreatedBy, "addr": in.Addr}})
	return s.startSession(ctx, u)
}

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
// workspace only, and signs them in there.
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
	s.audit(ctx, store.AuditEvent{WorkspaceID: u.WorkspaceID, ActorID: u.ID, Action: "password.reset",
		Detail: map[string]string{"email": u.Email, "link_by": inv.CreatedBy, "addr": in.Addr}})
	return s.startSession(ctx, u)
}

// ChangePassword sets the actor's new password after checking the
// current one. Memberships of other workspaces that share the password
// (see Memberships) change with it.
func (s *Service) ChangePassword(ctx context.Context, a Actor, current, next string) error {
	if !s.links.allow("user", a.UserID) {
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
		s.audit(ctx, store.AuditEvent{WorkspaceID: m.WorkspaceID, ActorID: m.ID, Action: "password.changed", Detail: map[string]string{"email": m.Email}})
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
