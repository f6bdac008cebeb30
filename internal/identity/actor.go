// Package identity says who is calling. It owns users, browser sessions,
// API tokens, first-run set-up and the sign-in limits, and turns a session
// cookie or a bearer token into an Actor that every service checks.
package identity

import (
	"errors"
	"fmt"
)

// ErrForbidden: the actor may not do this.
var ErrForbidden = errors.New("not allowed")

// Role is what a user may do in a workspace.
type Role string

// Roles.
const (
	RoleOwner  Role = "owner"
	RoleMember Role = "member"
)

// Scopes an API token may carry.
const (
	ScopeAll             = "*"
	ScopeAccountsRead    = "accounts:read"
	ScopeAccountsWrite   = "accounts:write"
	ScopeCredentialsRead = "credentials:read"
	ScopeClientsWrite    = "clients:write"
)

// Actor is who is calling: a user, through a session or an API token.
type Actor struct {
	WorkspaceID string
	UserID      string
	Role        Role
	// Scopes limit what an API token may do; nil means a session, which
	// may do everything its user may.
	Scopes []string
	// Operator marks the installation's operator acting through the
	// config file; the admin token's principal is recognised without it.
	Operator bool
}

// IsOwner reports whether the actor owns its workspace.
func (a Actor) IsOwner() bool { return a.Role == RoleOwner }

// Allows reports whether the actor's token carries the scope.
func (a Actor) Allows(scope string) bool {
	if a.Scopes == nil {
		return true
	}
	for _, s := range a.Scopes {
		if s == ScopeAll || s == scope {
			return true
		}
	}
	return false
}

// Require returns ErrForbidden, naming the scope, when the token lacks it.
func (a Actor) Require(scope string) error {
	if !a.Allows(scope) {
		return fmt.Errorf("%w: the token lacks the %s scope", ErrForbidden, scope)
	}
	return nil
}
