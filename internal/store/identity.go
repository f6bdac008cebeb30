package store

import (
	"context"
	"time"
)

// User is a person (or the admin principal) in a workspace.
type User struct {
	ID          string
	WorkspaceID string
	Email       string
	Name        string
	Role        Role
	// PasswordHash is empty for users that cannot sign in with a password.
	PasswordHash string
	CreatedAt    time.Time
}

// APIToken is a bearer token; only its SHA-256 hash is stored.
type APIToken struct {
	ID          string
	WorkspaceID string
	UserID      string
	Name        string
	Hash        []byte
	Scopes      []string
	CreatedAt   time.Time
	LastUsedAt  *time.Time
	ExpiresAt   *time.Time
	// AccountIDs and Apps limit the token to those accounts, or to the
	// accounts of those apps; both empty means no limit.
	AccountIDs []string
	Apps       []string
	// ReplacedBy is the id of the token a rotation made in this one's
	// place; ValidUntil is when this one stops working, the end of the
	// rotation's overlap. Both are unset on a token never rotated.
	ReplacedBy string
	ValidUntil *time.Time
}

// Users stores users.
type Users interface {
	CreateUser(ctx context.Context, u User) error
	GetUser(ctx context.Context, workspaceID, id string) (User, error)
	GetUserByEmail(ctx context.Context, workspaceID, email string) (User, error)
	// CountPasswordUsers counts the workspace's users who can sign in with
	// a password.
	CountPasswordUsers(ctx context.Context, workspaceID string) (int, error)
	// ListUsers lists the workspace's users, oldest first.
	ListUsers(ctx context.Context, workspaceID string) ([]User, error)
	// UsersByEmail lists the users with the email in every workspace,
	// oldest workspace first: one person's memberships, for sign-in.
	UsersByEmail(ctx context.Context, email string) ([]User, error)
	// UpdateUser reads the user, calls fn on it and writes what fn
	// returns (name, role, password hash), in one transaction holding the
	// row's lock. ID, WorkspaceID, Email and CreatedAt cannot change. A
	// result that leaves the workspace without an owner who signs in,
	// where it had one, is ErrLastOwner and writes nothing; so is an
	// error from fn, which is returned. fn must not call the store.
	UpdateUser(ctx context.Context, workspaceID, id string, fn func(old User) (User, error)) (User, error)
	// DeleteUser deletes the user with their sessions and API tokens in
	// one transaction; ErrLastOwner as UpdateUser.
	DeleteUser(ctx context.Context, workspaceID, id string) error
	// ReassignAccounts gives every account of the workspace owned by from
	// to to, and returns the ids of the accounts it moved.
	ReassignAccounts(ctx context.Context, workspaceID, from, to string) ([]string, error)
}

// InvitationKind says what a link is for.
type InvitationKind string

const (
	// KindInvite asks a person to join a workspace with a role.
	KindInvite InvitationKind = "invite"
	// KindPasswordReset lets a user set a new password.
	KindPasswordReset InvitationKind = "password_reset"
)

// Invitation is a single-use link: an invitation to join a workspace, or
// a password reset. Only the SHA-256 of its token is stored.
type Invitation struct {
	ID          string
	WorkspaceID string
	Kind        InvitationKind
	Email       string
	Role        Role
	// UserID is the user whose password a reset sets; empty for an
	// invitation.
	UserID    string
	TokenHash []byte
	CreatedBy string
	CreatedAt time.Time
	ExpiresAt time.Time
	// UsedAt is when the link was used; nil while it is open.
	UsedAt *time.Time
}

// Invitations stores invitations and password-reset links.
type Invitations interface {
	// CreateInvitation fails with ErrConflict when its id or hash exists.
	CreateInvitation(ctx context.Context, inv Invitation) error
	GetInvitation(ctx context.Context, workspaceID, id string) (Invitation, error)
	// InvitationByHash finds a link by its token's hash, across workspaces.
	InvitationByHash(ctx context.Context, hash []byte) (Invitation, error)
	// ListInvitations lists the workspace's unused links of the kind,
	// oldest first.
	ListInvitations(ctx context.Context, workspaceID string, kind InvitationKind) ([]Invitation, error)
	// UpdateInvitation is the compare-and-swap of one link: fn sees it
	// under its row lock, and what it returns (token hash, expiry, used
	// time) is written in the same transaction. An error from fn writes
	// nothing and is returned. fn must not call the store.
	UpdateInvitation(ctx context.Context, workspaceID, id string, fn func(old Invitation) (Invitation, error)) (Invitation, error)
	DeleteInvitation(ctx context.Context, workspaceID, id string) error
}

// Session is a signed-in browser; only the SHA-256 of its cookie is stored.
type Session struct {
	Hash        []byte
	WorkspaceID string
	UserID      string
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

// Sessions stores browser sessions.
type Sessions interface {
	CreateSession(ctx context.Context, s Session) error
	// GetSession returns the session with the hash; ErrNotFound when there
	// is none or it expired before now.
	GetSession(ctx context.Context, hash []byte, now time.Time) (Session, error)
	DeleteSession(ctx context.Context, hash []byte) error
	// DeleteUserSessions ends every session of the user in the workspace
	// but the one whose hash is keep (nil keeps none), and says how many.
	DeleteUserSessions(ctx context.Context, workspaceID, userID string, keep []byte) (int, error)
	// DeleteExpiredSessions deletes the sessions that expired at or before
	// now (those GetSession no longer returns) and says how many.
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error)
}

// APITokens stores hashed API tokens.
type APITokens interface {
	CreateAPIToken(ctx context.Context, t APIToken) error
	// APITokenByHash finds a token by its hash, across workspaces.
	APITokenByHash(ctx context.Context, hash []byte) (APIToken, error)
	GetAPIToken(ctx context.Context, workspaceID, id string) (APIToken, error)
	// ListAPITokens lists the workspace's tokens, oldest first; a userID
	// limits the list to that user's.
	ListAPITokens(ctx context.Context, workspaceID, userID string) ([]APIToken, error)
	// UpdateAPIToken reads the token under its row lock, calls fn on it and
	// writes name, scopes, limits, expiry, ReplacedBy and ValidUntil back in
	// one transaction. An error from fn writes nothing and is returned.
	// ID, WorkspaceID, UserID, Hash and CreatedAt cannot change.
	UpdateAPIToken(ctx context.Context, workspaceID, id string, fn func(*APIToken) error) (APIToken, error)
	// TouchAPIToken sets the token's LastUsedAt to at, unless it is set to
	// a time after at minus every already: one conditional write, so that
	// replicas write a token's last use at most once per every between them.
	// It reports whether it wrote.
	TouchAPIToken(ctx context.Context, id string, at time.Time, every time.Duration) (bool, error)
	DeleteAPIToken(ctx context.Context, workspaceID, id string) error
}
