package accounts

import (
	"time"

	"github.com/latchkeyhq/latchkey/internal/store"
)

// Errors the surfaces classify. They are the store's own values, so that
// errors.Is matches either name: a surface need not import the store.
var (
	// ErrNotFound: no such account, or the actor may not see it.
	ErrNotFound = store.ErrNotFound
	// ErrConflict: the record exists already.
	ErrConflict = store.ErrConflict
)

// Status is an account's health.
type Status string

const (
	StatusHealthy        Status = Status(store.StatusHealthy)
	StatusNeedsReconnect Status = Status(store.StatusNeedsReconnect)
)

// Account is an account as callers see it: no credentials (sealed or
// not), and none of the refresher's bookkeeping.
type Account struct {
	ID            string
	WorkspaceID   string
	OwnerID       string
	App           string
	Nickname      string
	IdentityLabel string
	Scopes        []string
	Status        Status
	// StatusError is the last error seen for the account, empty when none.
	StatusError string
	// Shared accounts are visible to the whole workspace.
	Shared bool
	// SharedWith are the members (user ids) it is shared with besides.
	SharedWith []string
	// Untested accounts were saved without running the app's test request.
	Untested bool
	// ExternalUserID is the product's end user the account belongs to;
	// Tags and Metadata what the product keeps with it.
	ExternalUserID  string
	Tags            map[string]string
	Metadata        []byte
	ExpiresAt       *time.Time
	LastRefreshedAt *time.Time
	NextRefreshAt   *time.Time
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// View is the caller's view of a stored account, for the services that
// save accounts through this one (connecting) and answer their callers.
func View(a store.Account) Account { return viewOf(a) }

// viewOf is the caller's view of a stored account.
func viewOf(a store.Account) Account {
	return Account{
		ID: a.ID, WorkspaceID: a.WorkspaceID, OwnerID: a.OwnerID, App: a.App, Nickname: a.Nickname,
		IdentityLabel: a.IdentityLabel, Scopes: a.Scopes, Status: Status(a.Status), StatusError: a.StatusError,
		Shared: a.Shared, SharedWith: a.SharedWith, Untested: a.Untested, ExpiresAt: a.ExpiresAt, LastRefreshedAt: a.LastRefreshedAt,
		NextRefreshAt: a.NextRefreshAt, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt,
		ExternalUserID: a.ExternalUserID, Tags: a.Tags, Metadata: a.Metadata,
	}
}

func viewsOf(list []store.Account) []Account {
	out := make([]Account, len(list))
	for i, a := range list {
		out[i] = viewOf(a)
	}
	return out
}

// CanSee reports whether the actor may see the account, by the rule the
// service applies (see canSee).
func CanSee(actor Actor, a Account) bool {
	return canSee(actor, store.Account{ID: a.ID, WorkspaceID: a.WorkspaceID, OwnerID: a.OwnerID, App: a.App, Shared: a.Shared, SharedWith: a.SharedWith})
}

// CanChange reports whether the actor may rename, share, reconnect, give
// new keys to or delete the account (see canChange): the surfaces show
// those controls only then.
func CanChange(actor Actor, a Account) bool {
	return canChange(actor, store.Account{ID: a.ID, WorkspaceID: a.WorkspaceID, OwnerID: a.OwnerID, App: a.App, Shared: a.Shared, SharedWith: a.SharedWith})
}
