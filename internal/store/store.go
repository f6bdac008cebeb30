// Package store defines Latchkey's records, the small interfaces its
// storage backends implement, and the sentinel errors they return.
//
// Every record belongs to a workspace, and every read and write names the
// workspace: nothing crosses workspaces. Secrets arrive here already sealed.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/latchkeyhq/latchkey/internal/outage"
)

// Sentinel errors, checked with errors.Is.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("already exists")
	// ErrUnavailable says the database could not be reached, even after
	// the store retried for a while; the same call may succeed later.
	ErrUnavailable = outage.ErrUnavailable
	// ErrOutcomeUnknown says a write's COMMIT got no answer and the store
	// could not learn afterwards whether it was kept.
	ErrOutcomeUnknown = outage.ErrOutcomeUnknown
	// ErrLastOwner refuses a write that would leave a workspace that has
	// an owner who signs in with a password without one.
	ErrLastOwner = errors.New("the workspace's last owner who signs in")
)

// Role is what a user may do in a workspace.
type Role string

const (
	RoleOwner  Role = "owner"
	RoleAdmin  Role = "admin"
	RoleMember Role = "member"
	RoleViewer Role = "viewer"
)

// Workspace is a tenant; nothing crosses workspaces.
type Workspace struct {
	ID        string
	Name      string
	CreatedAt time.Time
}

// AccountStatus is an account's health.
type AccountStatus string

const (
	StatusHealthy        AccountStatus = "healthy"
	StatusNeedsReconnect AccountStatus = "needs_reconnect"
)

// Account is one connection of one app for one owner.
type Account struct {
	ID            string
	WorkspaceID   string
	OwnerID       string
	App           string
	Nickname      string
	IdentityLabel string
	Scopes        []string
	Status        AccountStatus
	// StatusError is the last error seen for the account, empty when none.
	StatusError string
	// Shared accounts are visible to the whole workspace, not only the owner.
	Shared bool
	// SharedWith are the members, by user id and sorted, the account is
	// shared with besides its owner (and the workspace, when Shared).
	SharedWith []string
	// Untested accounts were saved without running the app's test request.
	Untested bool
	// ExternalUserID names the product's end user the account belongs to,
	// in the product's own words; empty for a member's own account.
	ExternalUserID string
	// Tags are key=value labels a list can be filtered by; nil when none.
	Tags map[string]string
	// Metadata is free JSON the product keeps with the account; nil when
	// none.
	Metadata []byte
	// OAuthClientID names the OAuth client the account was made with.
	OAuthClientID string
	// Credentials are sealed (see package seal) with the account id bound.
	Credentials     []byte
	ExpiresAt       *time.Time
	LastRefreshedAt *time.Time
	NextRefreshAt   *time.Time
	// FailingSince is when transient refresh failures began, nil when none.
	FailingSince    *time.Time
	RefreshFailures int
	// RefreshLeaseHolder is who holds the account's refresh lease (see
	// RefreshLeases), empty when nobody does; RefreshLeaseUntil is when
	// that lease lapses.
	RefreshLeaseHolder string
	RefreshLeaseUntil  *time.Time
	CreatedAt          time.Time
	UpdatedAt          time.Time
	// Outbox are webhook events that CreateAccount and UpdateAccount write
	// to the outbox in the same transaction as the account, so an event
	// is stored if and only if the change it reports is. It is never read
	// back.
	Outbox []WebhookEvent
}

// AccountFilter selects accounts of one workspace. Results are ordered by
// id, which sorts by creation time.
type AccountFilter struct {
	WorkspaceID string
	// VisibleTo limits the result to accounts owned by this user, shared
	// with the workspace or shared with this user; empty means every
	// account of the workspace.
	VisibleTo string
	// WithinIDs and WithinApps limit the result to those accounts, or to
	// the accounts of those apps (a token's limits); both empty means no
	// limit.
	WithinIDs  []string
	WithinApps []string
	App        string
	Status     AccountStatus
	// OwnerID selects the accounts one member owns.
	OwnerID string
	// ExternalUserID selects the accounts of one end user.
	ExternalUserID string
	// Tags selects the accounts that carry every one of them.
	Tags []Tag
	// Text matches nickname, identity label or app slug, case-insensitively.
	Text string
	// After is the id the previous page ended with.
	After string
	// Limit is the page size; zero means 50.
	Limit int
}

// Tag is one key=value label of an account.
type Tag struct{ Key, Value string }

// AuditEvent is one entry of the audit log.
type AuditEvent struct {
	ID          string
	WorkspaceID string
	ActorID     string
	AccountID   string
	Action      string
	// Detail holds non-secret facts about the event.
	Detail    map[string]string
	CreatedAt time.Time
}

// AuditFilter selects audit events of one workspace, newest first (or
// oldest first with OldestFirst). Zero fields select everything.
type AuditFilter struct {
	WorkspaceID string
	AccountID   string
	ActorID     string
	// Action selects one action exactly; ActionPrefix, actions that start
	// with it ("account.").
	Action       string
	ActionPrefix string
	// Since and Until bound CreatedAt: Since <= CreatedAt < Until.
	Since, Until time.Time
	// FromID and ToID bound the id: FromID <= ID < ToID. A caller whose
	// ids follow CreatedAt (ULIDs) gives them with Since and Until, so a
	// time range is read along the log's id order rather than scanned.
	FromID, ToID string
	// Before is the id the previous page ended with, newest first; After
	// the id it ended with, oldest first.
	Before, After string
	OldestFirst   bool
	Limit         int
}

// Workspaces stores workspaces.
type Workspaces interface {
	CreateWorkspace(ctx context.Context, w Workspace) error
	GetWorkspace(ctx context.Context, id string) (Workspace, error)
	// FirstWorkspace returns the oldest workspace, ErrNotFound on a fresh
	// install.
	FirstWorkspace(ctx context.Context) (Workspace, error)
	// ListWorkspaces lists every workspace, oldest first.
	ListWorkspaces(ctx context.Context) ([]Workspace, error)
}

// Accounts stores connected accounts.
type Accounts interface {
	// CreateAccount fails with ErrConflict when the id exists.
	CreateAccount(ctx context.Context, a Account) error
	// CreateAccounts stores many accounts in one transaction, all or
	// none (ErrConflict when an id exists): a bulk import such as the
	// seeding of a load test. Their Outbox is ignored.
	CreateAccounts(ctx context.Context, list []Account) error
	GetAccount(ctx context.Context, workspaceID, id string) (Account, error)
	ListAccounts(ctx context.Context, f AccountFilter) ([]Account, error)
	// AccountApps lists, sorted and once each, the apps of all the
	// accounts f selects (After and Limit are ignored): a list page's app
	// filter, whatever the page holds.
	AccountApps(ctx context.Context, f AccountFilter) ([]string, error)
	// UpdateAccount reads the account, calls fn on it and writes the result,
	// all in one transaction that holds the row's lock, so concurrent
	// updates never interleave. When fn returns an error nothing is written
	// and that error is returned. ID, WorkspaceID and CreatedAt cannot change.
	UpdateAccount(ctx context.Context, workspaceID, id string, fn func(*Account) error) (Account, error)
	DeleteAccount(ctx context.Context, workspaceID, id string) error
	// AllAccountIDs lists every account of every workspace as
	// (workspaceID, id) pairs, for maintenance such as key rotation.
	AllAccountIDs(ctx context.Context) ([][2]string, error)
}

// Audit stores the audit log. It is append-only: there is no method that
// changes or deletes an event, and nothing else in the store does either
// (deleting an account or a user keeps its events).
type Audit interface {
	// AppendAudit fails with ErrConflict when the id exists.
	AppendAudit(ctx context.Context, e AuditEvent) error
	// AppendAudits stores several events in one transaction: all or none.
	AppendAudits(ctx context.Context, events []AuditEvent) error
	ListAudit(ctx context.Context, f AuditFilter) ([]AuditEvent, error)
}

// Meta stores small values about the installation itself, such as the
// sealed canary that proves the master key is right.
type Meta interface {
	// GetMeta returns ErrNotFound when the key is unset.
	GetMeta(ctx context.Context, key string) ([]byte, error)
	// PutMetaIfAbsent stores the value unless the key is set already, and
	// reports whether it stored it.
	PutMetaIfAbsent(ctx context.Context, key string, value []byte) (bool, error)
	PutMeta(ctx context.Context, key string, value []byte) error
}

// MetaAdminUser is the Meta key under which first start records the admin
// token's principal: the installation's operator.
const MetaAdminUser = "admin_user"

// Store is everything a backend provides.
type Store interface {
	Webhooks
	Workspaces
	Users
	APITokens
	Accounts
	Audit
	Meta
	OAuthClients
	Connections
	Refreshing
	RefreshLeases
	CatalogExtras
	Sessions
	Workflows
	Invitations
	ConnectTokens
	MCPAuth
	// Ping reports whether the database answers.
	Ping(ctx context.Context) error
	Close() error
}
