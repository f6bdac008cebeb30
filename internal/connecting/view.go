package connecting

import (
	"time"

	"github.com/latchkeyhq/latchkey/internal/accounts"
	"github.com/latchkeyhq/latchkey/internal/store"
)

// Connection is a connection as its starter sees it: where it is, and the
// account it made; never its state, verifier or held code.
type Connection struct {
	ID          string
	WorkspaceID string
	UserID      string
	App         string
	// Status is pending, claimed, waiting, completed or failed.
	Status string
	// AccountID is the account reconnected, or made once done.
	AccountID string
	Error     string
	// ConnectTokenID is the connect token of a connection of the hosted
	// connect page, whose outcome that page shows.
	ConnectTokenID string
	CreatedAt      time.Time
	ExpiresAt      time.Time
}

func viewOf(c store.Connection) Connection {
	return Connection{ID: c.ID, WorkspaceID: c.WorkspaceID, UserID: c.UserID, App: c.App, Status: string(c.Status),
		AccountID: c.AccountID, Error: c.Error, ConnectTokenID: c.ConnectTokenID, CreatedAt: c.CreatedAt, ExpiresAt: c.ExpiresAt}
}

// views turns what the flow ended with into what its callers see.
func views(c store.Connection, a store.Account, err error) (Connection, accounts.Account, error) {
	return viewOf(c), accounts.View(a), err
}
