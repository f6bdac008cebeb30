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
)

// Sentinel errors, checked with errors.Is.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("already exists")
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

// ConnectToken is a single-use, short-lived link a product's backend
// mints so that one of its end users can connect an account. Only the
// SHA-256 of the token is stored.
type ConnectToken struct {
	ID             string
	WorkspaceID    string
	TokenHash      []byte
	ExternalUserID string
	// AccountID is the account to reconnect; empty to connect a new one.
	AccountID string
	// Apps are the apps the end user may connect; empty means any.
	Apps               []string
	Tags               map[string]string
	SuccessRedirectURI string
	ErrorRedirectURI   string
	AllowedOrigins     []string
	WebhookURL         string
	// CreatedBy is the user whose API token minted it.
	CreatedBy string
	CreatedAt time.Time
	ExpiresAt time.Time
	// UsedAt is when the token was used; nil while it is open.
	UsedAt *time.Time
}

// ConnectTokens stores connect tokens.
type ConnectTokens interface {
	// CreateConnectToken fails with ErrConflict when its id or hash exists.
	CreateConnectToken(ctx context.Context, t ConnectToken) error
	GetConnectToken(ctx context.Context, workspaceID, id string) (ConnectToken, error)
	// ConnectTokenByHash finds a token by its hash, across workspaces.
	ConnectTokenByHash(ctx context.Context, hash []byte) (ConnectToken, error)
	// UpdateConnectToken is the compare-and-swap of one token: fn sees it
	// under its row lock, and the used time it returns is written in the
	// same transaction (nothing else may change). An error from fn writes
	// nothing and is returned. fn must not call the store.
	UpdateConnectToken(ctx context.Context, workspaceID, id string, fn func(old ConnectToken) (ConnectToken, error)) (ConnectToken, error)
	// DeleteExpiredConnectTokens deletes the tokens that expired at or
	// before the given time, and says how many.
	DeleteExpiredConnectTokens(ctx context.Context, before time.Time) (int, error)
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

// Accounts stores connected accounts.
type Accounts interface {
	// CreateAccount fails with ErrConflict when the id exists.
	CreateAccount(ctx context.Context, a Account) error
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

// OAuthClient is the client id and secret Latchkey uses with an app's
// authorization server. A managed client (WorkspaceID "") is the operator's
// and serves every workspace that has no client of its own for the app.
type OAuthClient struct {
	ID          string
	WorkspaceID string
	App         string
	ClientID    string
	// Secret is sealed with the client's id bound.
	Secret    []byte
	CreatedAt time.Time
	UpdatedAt time.Time
}

// OAuthClients stores OAuth clients.
type OAuthClients interface {
	// UpdateOAuthClient is the compare-and-swap of the client of
	// (workspaceID, app), "" for the managed one. In one transaction that
	// holds the row's lock it reads the client, calls fn with it (nil when
	// there is none) and writes what fn returns: a new client's ID must be
	// set by fn, and an existing client keeps its ID (fn returning another
	// is an error, since the secret is bound to the ID) and CreatedAt. So
	// fn may seal the secret with the ID the row will have. fn may run more
	// than once when a concurrent call creates the client first; an error
	// from fn writes nothing and is returned. ErrConflict when a new
	// client's ID is another client's.
	UpdateOAuthClient(ctx context.Context, workspaceID, app string, fn func(old *OAuthClient) (OAuthClient, error)) (OAuthClient, error)
	// GetOAuthClient finds a client by id; workspaceID must be the client's
	// or "" for a managed client.
	GetOAuthClient(ctx context.Context, workspaceID, id string) (OAuthClient, error)
	// FindOAuthClient returns the workspace's client for the app, else the
	// managed one, else ErrNotFound.
	FindOAuthClient(ctx context.Context, workspaceID, app string) (OAuthClient, error)
	// ListOAuthClients lists the workspace's clients and the managed ones,
	// by app.
	ListOAuthClients(ctx context.Context, workspaceID string) ([]OAuthClient, error)
	DeleteOAuthClient(ctx context.Context, workspaceID, id string) error
}

// ConnectionStatus is where an OAuth authorization is.
type ConnectionStatus string

const (
	ConnectionPending   ConnectionStatus = "pending"
	ConnectionClaimed   ConnectionStatus = "claimed"
	ConnectionCompleted ConnectionStatus = "completed"
	ConnectionFailed    ConnectionStatus = "failed"
	// ConnectionWaiting: the provider answered, and the browser must still
	// prove it may finish (sign in as the starter, or enter the one-time
	// code). The provider's code is held sealed meanwhile.
	ConnectionWaiting ConnectionStatus = "waiting"
)

// Connection is an OAuth authorization started by a user: the hash of its
// state parameter, what it was started for, and later its outcome.
type Connection struct {
	ID          string
	WorkspaceID string
	UserID      string
	App         string
	// StateHash is the SHA-256 of the state parameter; the state itself is
	// never stored.
	StateHash []byte
	Nickname  string
	Scopes    []string
	Shared    bool
	// AccountID is the account to reconnect, or the new account once done.
	AccountID     string
	OAuthClientID string
	// Sealed holds the PKCE verifier and the connection fields, sealed with
	// the connection's id bound.
	Sealed []byte
	// SessionHash binds a connection started in the browser to that
	// browser's session; empty for connections started through the API.
	SessionHash []byte
	// CodeHash is the hash of the one-time code a connection started by a
	// principal that cannot sign in on the web must be finished with;
	// empty when the starter signs in instead.
	CodeHash     []byte
	CodeAttempts int
	// Held is the provider's authorization code, sealed with the
	// connection's id bound, while the connection is waiting; HoldHash is
	// the SHA-256 of the cookie of the browser it came back to.
	Held      []byte
	HoldHash  []byte
	Status    ConnectionStatus
	Error     string
	ExpiresAt time.Time
	CreatedAt time.Time
}

// Connections stores OAuth authorizations in progress.
type Connections interface {
	CreateConnection(ctx context.Context, c Connection) error
	// ClaimConnection turns the pending, unexpired connection with the
	// state hash into a claimed one and returns it. Anything else is
	// ErrNotFound, so a state works once.
	ClaimConnection(ctx context.Context, stateHash []byte, now time.Time) (Connection, error)
	// UpdateConnection reads the connection under its row lock, lets fn
	// change it and writes status, error, account id, code attempts and
	// the held code back in one transaction. An error from fn writes
	// nothing and is returned.
	UpdateConnection(ctx context.Context, id string, fn func(*Connection) error) (Connection, error)
	// FinishConnection records a claimed connection's outcome.
	FinishConnection(ctx context.Context, id string, status ConnectionStatus, accountID, errMsg string) error
	GetConnection(ctx context.Context, workspaceID, id string) (Connection, error)
	// DeleteExpiredConnections deletes the connections, in any status,
	// that expired at or before the given time, and says how many.
	DeleteExpiredConnections(ctx context.Context, before time.Time) (int, error)
}

// Refreshing is what the token refresher needs of the store.
type Refreshing interface {
	// RefreshDue calls fn on up to limit accounts whose NextRefreshAt is at
	// or before now, earliest first, each in its own transaction holding
	// the row's lock, and writes what fn leaves. fn must be quick (take a
	// refresh lease, not call a provider): the transaction is open while it
	// runs. Rows another process holds
	// are skipped, so replicas share the work without doing any twice. fn
	// must move NextRefreshAt on (or clear it); an error from fn stops the
	// run, and that row is not written.
	RefreshDue(ctx context.Context, now time.Time, limit int, fn func(*Account) error) (int, error)
	// CountAccountsByStatus counts every account by status.
	CountAccountsByStatus(ctx context.Context) (map[AccountStatus]int, error)
}

// RefreshLeases hand out the short lease a token refresh holds on its
// account while it waits on the provider, so that no transaction (and, in
// SQLite, no write lock) stays open meanwhile. The holder writes its result
// with UpdateAccount, checking that it still holds the lease, and clears it
// there; a lease whose holder died lapses at its time.
type RefreshLeases interface {
	// TakeRefreshLease gives the account's lease to holder until the time
	// given, unless a lease that has not lapsed by now is held, and reports
	// whether holder won it: one conditional write, no lock held after.
	// ErrNotFound when there is no such account.
	TakeRefreshLease(ctx context.Context, workspaceID, id, holder string, now, until time.Time) (bool, error)
	// ReleaseRefreshLease clears the lease if holder holds it; otherwise it
	// does nothing.
	ReleaseRefreshLease(ctx context.Context, workspaceID, id, holder string) error
}

// CustomApp is an app a workspace defined for itself, in the catalog's
// schema.
type CustomApp struct {
	WorkspaceID string
	Slug        string
	// Definition is the app's YAML (or JSON) as the workspace gave it.
	Definition []byte
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// AppRequest is a user's request for an app the catalog lacks.
type AppRequest struct {
	ID          string
	WorkspaceID string
	UserID      string
	Name        string
	Reason      string
	URL         string
	CreatedAt   time.Time
}

// CatalogExtras stores workspaces' own apps and requests for new ones.
type CatalogExtras interface {
	// PutCustomApp creates or replaces the workspace's app with the slug.
	PutCustomApp(ctx context.Context, a CustomApp) error
	GetCustomApp(ctx context.Context, workspaceID, slug string) (CustomApp, error)
	ListCustomApps(ctx context.Context, workspaceID string) ([]CustomApp, error)
	DeleteCustomApp(ctx context.Context, workspaceID, slug string) error
	CreateAppRequest(ctx context.Context, r AppRequest) error
	// ListAppRequests lists the workspace's requests, newest first.
	ListAppRequests(ctx context.Context, workspaceID string) ([]AppRequest, error)
}

// Workflow is an ordered list of steps. Steps are kept as the JSON the
// workflows package defines; Links say which account each step uses for
// each app, for "used by" questions.
type Workflow struct {
	ID          string
	WorkspaceID string
	OwnerID     string
	Name        string
	Steps       []byte
	Links       []Link
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// WorkflowRef names a workflow and who may see it, for "used by" lists.
type WorkflowRef struct {
	ID          string
	WorkspaceID string
	OwnerID     string
	Name        string
}

// Link ties one app of one step to an account.
type Link struct {
	Step      string
	App       string
	AccountID string
}

// Run is one execution of a workflow; its step results are JSON.
type Run struct {
	ID          string
	WorkspaceID string
	WorkflowID  string
	ActorID     string
	Status      string
	Steps       []byte
	StartedAt   time.Time
	FinishedAt  *time.Time
}

// Workflows stores workflows and their runs.
type Workflows interface {
	// CreateWorkflow stores a new workflow with its links; ErrConflict
	// when the id exists.
	CreateWorkflow(ctx context.Context, w Workflow) error
	// UpdateWorkflow reads the workflow with its links, calls fn on it and
	// writes what fn returns (the workflow and its links together), all
	// in one transaction that holds the row's lock, so concurrent updates
	// never lose each other. When fn returns an error nothing is written
	// and that error is returned; a workflow not in the workspace is
	// ErrNotFound. ID, WorkspaceID and CreatedAt cannot change. fn must
	// not call the store: the transaction holds a connection and, in
	// SQLite, the database's write lock.
	UpdateWorkflow(ctx context.Context, workspaceID, id string, fn func(old Workflow) (Workflow, error)) (Workflow, error)
	GetWorkflow(ctx context.Context, workspaceID, id string) (Workflow, error)
	ListWorkflows(ctx context.Context, workspaceID string) ([]Workflow, error)
	DeleteWorkflow(ctx context.Context, workspaceID, id string) error
	// WorkflowsUsing lists the workflows with a step linked to the account.
	WorkflowsUsing(ctx context.Context, workspaceID, accountID string) ([]Workflow, error)
	// WorkflowsUsingAccounts is WorkflowsUsing for many accounts at once,
	// in one query: for each account with a linked workflow, those
	// workflows (each once, by id). Accounts with none are absent.
	WorkflowsUsingAccounts(ctx context.Context, workspaceID string, accountIDs []string) (map[string][]WorkflowRef, error)
	PutRun(ctx context.Context, r Run) error
	GetRun(ctx context.Context, workspaceID, id string) (Run, error)
	// ListRuns lists a workflow's runs, newest first.
	ListRuns(ctx context.Context, workspaceID, workflowID string, limit int) ([]Run, error)
}

// WebhookEndpoint is where a workspace wants its events delivered.
type WebhookEndpoint struct {
	ID          string
	WorkspaceID string
	URL         string
	// EventTypes filters the events sent; empty means every type.
	EventTypes []string
	// Secrets are the signing secrets, sealed with the endpoint's id bound.
	Secrets []byte
	Enabled bool
	// DisabledReason says why an endpoint was disabled, empty when enabled.
	DisabledReason string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Takes reports whether the endpoint is sent events of the type.
func (e WebhookEndpoint) Takes(eventType string) bool {
	if len(e.EventTypes) == 0 {
		return true
	}
	for _, t := range e.EventTypes {
		if t == eventType {
			return true
		}
	}
	return false
}

// WebhookEvent is one event in the outbox. Payload is the JSON body every
// endpoint is sent; it never holds a credential.
type WebhookEvent struct {
	ID          string
	WorkspaceID string
	Type        string
	Payload     []byte
	CreatedAt   time.Time
}

// DeliveryStatus is where one event's delivery to one endpoint is.
type DeliveryStatus string

const (
	DeliveryPending   DeliveryStatus = "pending"
	DeliveryDelivered DeliveryStatus = "delivered"
	// DeliveryFailed: retries ran out, or the endpoint went away (410).
	DeliveryFailed DeliveryStatus = "failed"
)

// WebhookDelivery is one event's delivery to one endpoint. EventType,
// Payload and EventCreatedAt are the event's, read with it.
type WebhookDelivery struct {
	ID             string
	WorkspaceID    string
	EventID        string
	EndpointID     string
	EventType      string
	Payload        []byte
	EventCreatedAt time.Time
	Status         DeliveryStatus
	Attempts       int
	// NextAttemptAt is when the delivery is due; nil once it is done.
	NextAttemptAt *time.Time
	// LeaseHolder holds the delivery while it is sent, until LeaseUntil.
	LeaseHolder    string
	LeaseUntil     *time.Time
	LastStatusCode int
	LastError      string
	LastAttemptAt  *time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Webhooks stores webhook endpoints and the outbox of their deliveries.
type Webhooks interface {
	// CreateWebhookEndpoint fails with ErrConflict when the id exists.
	CreateWebhookEndpoint(ctx context.Context, e WebhookEndpoint) error
	GetWebhookEndpoint(ctx context.Context, workspaceID, id string) (WebhookEndpoint, error)
	// ListWebhookEndpoints lists the workspace's endpoints, oldest first.
	ListWebhookEndpoints(ctx context.Context, workspaceID string) ([]WebhookEndpoint, error)
	// UpdateWebhookEndpoint is the compare-and-swap of one endpoint: fn
	// sees it under its row lock and what it leaves (url, event types,
	// secrets, enabled, reason, updated) is written in that transaction.
	// An error from fn writes nothing and is returned.
	UpdateWebhookEndpoint(ctx context.Context, workspaceID, id string, fn func(*WebhookEndpoint) error) (WebhookEndpoint, error)
	// DeleteWebhookEndpoint deletes the endpoint with its deliveries.
	DeleteWebhookEndpoint(ctx context.Context, workspaceID, id string) error
	// AppendWebhookEvents writes events to the outbox in one transaction,
	// with a pending delivery, due at its event's time, for every enabled
	// endpoint of the event's workspace that takes its type.
	AppendWebhookEvents(ctx context.Context, events []WebhookEvent) error
	// DeleteAccountWithEvents is DeleteAccount that appends events to the
	// outbox in the same transaction.
	DeleteAccountWithEvents(ctx context.Context, workspaceID, id string, events []WebhookEvent) error
	// LeaseWebhookDeliveries gives holder, until the time given, up to
	// limit pending deliveries due by now whose lease is free or lapsed,
	// earliest due first. Each is one conditional write, so no delivery
	// goes to two holders at once, whichever process asks.
	LeaseWebhookDeliveries(ctx context.Context, holder string, now, until time.Time, limit int) ([]WebhookDelivery, error)
	GetWebhookDelivery(ctx context.Context, workspaceID, id string) (WebhookDelivery, error)
	// ListWebhookDeliveries lists an endpoint's deliveries, newest first;
	// before is the id the previous page ended with.
	ListWebhookDeliveries(ctx context.Context, workspaceID, endpointID, before string, limit int) ([]WebhookDelivery, error)
	// UpdateWebhookDelivery is the compare-and-swap of one delivery: what
	// fn leaves of status, attempts, next attempt, lease and last outcome
	// is written under the row's lock. An error from fn writes nothing.
	UpdateWebhookDelivery(ctx context.Context, workspaceID, id string, fn func(*WebhookDelivery) error) (WebhookDelivery, error)
}

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
	// Ping reports whether the database answers.
	Ping(ctx context.Context) error
	Close() error
}
