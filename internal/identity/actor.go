// Package identity says who is calling. It owns users, browser sessions,
// API tokens, first-run set-up and the sign-in limits, and turns a session
// cookie or a bearer token into an Actor that every service checks.
package identity

import (
	"errors"
	"fmt"
	"slices"

	"github.com/latchkeyhq/latchkey/internal/store"
)

// ErrForbidden: the actor may not do this.
var ErrForbidden = errors.New("not allowed")

// ErrOutsideLimits: the account is beyond the token's limits. It matches
// store.ErrNotFound, so a limited token is told "not found", never that
// the account exists.
var ErrOutsideLimits = fmt.Errorf("outside the token's limits: %w", store.ErrNotFound)

// Role is what a user may do in a workspace.
type Role string

// Roles.
const (
	// RoleOwner may do everything in the workspace.
	RoleOwner Role = "owner"
	// RoleAdmin manages members (except owners) and the workspace's OAuth
	// clients and custom apps, but sees only shared accounts and their own.
	RoleAdmin Role = "admin"
	// RoleMember uses their own and shared accounts and workflows.
	RoleMember Role = "member"
	// RoleViewer lists shared accounts and workflows and cannot read
	// credentials.
	RoleViewer Role = "viewer"
)

// Roles lists every role, most powerful first.
var Roles = []Role{RoleOwner, RoleAdmin, RoleMember, RoleViewer}

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool {
	for _, v := range Roles {
		if r == v {
			return true
		}
	}
	return false
}

// Scopes an API token may carry.
const (
	ScopeAll             = "*"
	ScopeAccountsRead    = "accounts:read"
	ScopeAccountsWrite   = "accounts:write"
	ScopeCredentialsRead = "credentials:read"
	ScopeClientsWrite    = "clients:write"
	ScopeWorkflowsRun    = "workflows:run"
	// ScopeMembersWrite lets a token invite, change and remove members.
	ScopeMembersWrite = "members:write"
	// ScopeAuditRead lets a token read and export the workspace's audit
	// log (its user must be an owner or an admin besides).
	ScopeAuditRead = "audit:read"
	// ScopeConnectWrite lets a token mint connect tokens for the
	// product's end users, and read and delete those end users.
	ScopeConnectWrite = "connect:write"
	// ScopeWebhooksWrite lets a token manage the workspace's webhook
	// endpoints (its user must be an owner or an admin besides).
	ScopeWebhooksWrite = "webhooks:write"
	// ScopeActionsRun lets a token run an app's prebuilt actions with an
	// account it may use; Latchkey adds the credentials, the caller never
	// sees them.
	ScopeActionsRun = "actions:run"
	// ScopeProxy lets a token call an app's API through Latchkey's
	// authenticating proxy with an account it may use, without seeing its
	// credentials.
	ScopeProxy = "proxy"
)

// Surfaces a caller reaches Latchkey through, as the audit log records
// them.
const (
	SurfaceAPI      = "api"
	SurfaceWeb      = "web"
	SurfaceWorkflow = "workflow"
	// SurfaceMCP is the MCP server, for agents.
	SurfaceMCP = "mcp"
	// SurfaceCLIExec is the CLI's exec command, which says so in a header
	// of its API requests. A client can claim it falsely; it tells a
	// reader of the log what the caller meant, not what it proved.
	SurfaceCLIExec = "cli-exec"
)

// Scopes lists every scope a token may be given, ScopeAll aside.
var Scopes = []string{ScopeAccountsRead, ScopeAccountsWrite, ScopeCredentialsRead, ScopeClientsWrite,
	ScopeWorkflowsRun, ScopeMembersWrite, ScopeAuditRead, ScopeConnectWrite, ScopeWebhooksWrite, ScopeActionsRun, ScopeProxy}

// roleScopes are the scopes each role may put on a token: a token is never
// broader than the person who made it. An owner may grant every scope.
var roleScopes = map[Role][]string{
	RoleOwner:  Scopes,
	RoleAdmin:  {ScopeAccountsRead, ScopeAccountsWrite, ScopeCredentialsRead, ScopeClientsWrite, ScopeWorkflowsRun, ScopeMembersWrite, ScopeAuditRead, ScopeConnectWrite, ScopeWebhooksWrite, ScopeActionsRun, ScopeProxy},
	RoleMember: {ScopeAccountsRead, ScopeAccountsWrite, ScopeCredentialsRead, ScopeWorkflowsRun, ScopeActionsRun, ScopeProxy},
	RoleViewer: {ScopeAccountsRead},
}

// Grants reports whether a user of the role may put the scope on a token.
// Only a role that may grant every scope may grant ScopeAll.
func (r Role) Grants(scope string) bool {
	granted := roleScopes[r]
	if scope == ScopeAll {
		return len(granted) == len(Scopes)
	}
	return slices.Contains(granted, scope)
}

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
	// Accounts and Apps limit a token to those accounts, or to the
	// accounts of those apps; both empty means no limit. See MayUseAccount.
	Accounts []string
	Apps     []string

	// The caller's facts, which the audit log records with each event.
	// TokenID and TokenName name the API token; empty for a session.
	TokenID, TokenName string
	// Addr is the client's address, as the surface saw it.
	Addr string
	// Surface is how the caller came: one of the Surface constants.
	Surface string
}

// Limited reports whether the actor's token is limited to chosen accounts
// or apps.
func (a Actor) Limited() bool { return len(a.Accounts) > 0 || len(a.Apps) > 0 }

// MayUseAccount reports whether the actor's token limits allow the
// account with the id, of the app: always when the token has no limits
// (or the actor is a session), else when the id is one of Accounts or
// the app one of Apps. It says nothing of whether the actor may see the
// account otherwise (ownership, sharing, role): callers check both, and
// answer "not found" when either fails, so a limited token learns nothing
// of the accounts beyond its limits.
func (a Actor) MayUseAccount(id, app string) bool {
	if !a.Limited() {
		return true
	}
	return slices.Contains(a.Accounts, id) || slices.Contains(a.Apps, app)
}

// Audit detail keys that hold the actor's facts; AuditDetail sets them,
// over any a caller put there.
const (
	DetailTokenID   = "token_id"
	DetailTokenName = "token_name"
	DetailAddr      = "addr"
	DetailSurface   = "surface"
)

// AuditDetail returns detail with the actor's facts added: a copy, so a
// map the caller keeps is never changed. Every audit event goes through
// it, whichever service writes it.
func (a Actor) AuditDetail(detail map[string]string) map[string]string {
	if a.TokenID == "" && a.TokenName == "" && a.Addr == "" && a.Surface == "" {
		return detail
	}
	out := make(map[string]string, len(detail)+4)
	for k, v := range detail {
		out[k] = v
	}
	set := func(k, v string) {
		if v != "" {
			out[k] = v
		}
	}
	set(DetailTokenID, a.TokenID)
	set(DetailTokenName, a.TokenName)
	set(DetailAddr, a.Addr)
	set(DetailSurface, a.Surface)
	return out
}

// CanReadAudit reports whether the actor's role may read the workspace's
// audit log: owners and admins.
func (a Actor) CanReadAudit() bool { return a.Role == RoleOwner || a.Role == RoleAdmin }

// IsOwner reports whether the actor owns its workspace.
func (a Actor) IsOwner() bool { return a.Role == RoleOwner }

// CanManageMembers reports whether the actor's role may invite members,
// change their roles, remove them and reset their passwords. An admin may
// do so only for members who are not owners, and may not make an owner.
func (a Actor) CanManageMembers() bool { return a.Role == RoleOwner || a.Role == RoleAdmin }

// CanManageWorkspace reports whether the actor's role may change the
// workspace's settings: its OAuth clients and custom apps.
func (a Actor) CanManageWorkspace() bool { return a.Role == RoleOwner || a.Role == RoleAdmin }

// CanReadCredentials reports whether the actor's role may read an
// account's credentials at all (a viewer may not); which accounts, and the
// token's credentials:read scope, are checked besides.
func (a Actor) CanReadCredentials() bool { return a.Role.Valid() && a.Role != RoleViewer }

// CanChangeAccounts reports whether the actor's role may connect, change
// or delete accounts and workflows (a viewer may not).
func (a Actor) CanChangeAccounts() bool { return a.Role.Valid() && a.Role != RoleViewer }

// SeesAllAccounts reports whether the actor sees every account of the
// workspace, private ones included; everyone else sees shared accounts
// and their own.
func (a Actor) SeesAllAccounts() bool { return a.Role == RoleOwner }

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
