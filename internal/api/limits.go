package api

import (
	"fmt"
	"net/http"

	"github.com/latchkeyhq/latchkey/internal/identity"
)

// A token may be limited to chosen accounts or apps (identity.Actor's
// Accounts and Apps). The accounts service enforces the limits itself (so
// workflows and the web obey them too); the API checks them here as well,
// before it calls the service, so that a route which reaches an account
// through another service (workflows, connecting) answers alike: an
// account beyond them is "not found", as one that does not exist.

// withinLimits runs fn only for an account, named by the path's {id},
// within the caller's token limits.
func (h *Handler) withinLimits(fn handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := h.mayUseAccount(r, r.PathValue("id")); err != nil {
			return err
		}
		return fn(w, r)
	}
}

// mayUseAccount returns ErrOutsideLimits (or the service's not-found) for
// an account beyond the caller's token limits.
func (h *Handler) mayUseAccount(r *http.Request, id string) error {
	a := actor(r)
	if !a.Limited() {
		return nil
	}
	// The look-up only learns the account's app, so it needs no scope;
	// the route's own call checks the scope it needs.
	look := a
	look.Scopes = nil
	acc, err := h.accounts.Get(r.Context(), look, id)
	if err != nil {
		return err
	}
	if !a.MayUseAccount(acc.ID, acc.App) {
		return fmt.Errorf("account %s: %w", id, identity.ErrOutsideLimits)
	}
	return nil
}

// mayUseApp refuses a limited token an account of an app it is not
// limited to (a token limited to accounts makes none).
func mayUseApp(a identity.Actor, app string) error {
	if a.MayUseAccount("", app) {
		return nil
	}
	return fmt.Errorf("%w: this token is limited to chosen accounts or apps, and %q is not one of its apps", identity.ErrForbidden, app)
}
