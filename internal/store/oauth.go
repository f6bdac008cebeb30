package store

import (
	"context"
	"time"
)

// OAuthClient is the client id and secret Latchkey uses with an app's
// authorization server. A managed client (WorkspaceID "") is the operator's
// and serves every workspace that has no client of its own for the app.
type OAuthClient struct {
	ID          string
	WorkspaceID string
	App         string
	ClientID    string
	// Secret is sealed with the client's id bound.
	Secret []byte
	// RedirectName is the name the client registered with the provider
	// for Latchkey's callback URL, sent as redirect_uri in its place
	// (eBay's RuName); empty for other providers.
	RedirectName string
	CreatedAt    time.Time
	UpdatedAt    time.Time
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
	// ConnectTokenID is the connect token a connection started on the
	// hosted connect page spends; LinkHash is the SHA-256 of that page's
	// cookie, which the callback must bring back. Both empty otherwise.
	ConnectTokenID string
	LinkHash       []byte
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
	// NextRefreshAt is the earliest NextRefreshAt of any account, due or
	// not; false when no account has one.
	NextRefreshAt(ctx context.Context) (time.Time, bool, error)
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
