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

	"github.com/latchkeyhq/latchkey/internal/ids"
	"github.com/latchkeyhq/latchkey/internal/secret"
	"github.com/latchkeyhq/latchkey/internal/store"
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
	if err := a.Require(ScopeMembersWrite); err != nil {
		return nil, err
	}
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
	if errors.Is(err, ErrLinkInvalid) && !s.links.Try(attemptKey(addr, "link"), s.clock.Now()) {
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
	if !s.links.Try(attemptKey(addr, "link"), s.clock.Now()) {
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
