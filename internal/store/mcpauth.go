package store

import (
	"context"
	"time"
)

// MCPClient is an MCP client that registered itself (RFC 7591). Clients
// belong to the installation, not to a workspace: they register before
// anyone signs in. They are public clients and hold no secret.
type MCPClient struct {
	ID           string
	Name         string
	RedirectURIs []string
	GrantTypes   []string
	CreatedAt    time.Time
}

// MCPGrant is a member's consent to an MCP client: the authorization that
// the client's codes and tokens descend from, in the member's workspace.
type MCPGrant struct {
	ID          string
	WorkspaceID string
	UserID      string
	ClientID    string
	// ClientName is the client's, read with the grant.
	ClientName string
	// RedirectURI is where the member's consent sent the browser back.
	RedirectURI string
	Scopes      []string
	// Resource is the audience of the grant's tokens (RFC 8707).
	Resource  string
	CreatedAt time.Time
}

// MCPTokenKind is what an MCPToken row holds.
type MCPTokenKind string

// Kinds of MCP token rows.
const (
	MCPAuthorizeCode MCPTokenKind = "code"
	MCPPKCE          MCPTokenKind = "pkce"
	MCPAccessToken   MCPTokenKind = "access"
	MCPRefreshToken  MCPTokenKind = "refresh"
)

// MCPToken is one authorization code, PKCE request, access or refresh
// token of a grant, stored by its signature (never the code or token
// itself), with the request it was issued for.
type MCPToken struct {
	Kind      MCPTokenKind
	Signature string
	GrantID   string
	// Active is false for a used code or a rotated refresh token, kept
	// so that their reuse is seen.
	Active bool
	// Request is the serialized request: no secret is in it.
	Request   []byte
	ExpiresAt time.Time
}

// MCPAuth stores the MCP authorization server's clients, grants and
// tokens.
type MCPAuth interface {
	// CreateMCPClient fails with ErrConflict when the id exists.
	CreateMCPClient(ctx context.Context, c MCPClient) error
	GetMCPClient(ctx context.Context, id string) (MCPClient, error)
	// CreateMCPGrant fails with ErrConflict when the id exists.
	CreateMCPGrant(ctx context.Context, g MCPGrant) error
	// GetMCPGrant finds a grant by id alone, for the tokens that name it.
	GetMCPGrant(ctx context.Context, id string) (MCPGrant, error)
	// ListMCPGrants lists the user's grants in the workspace, newest
	// first.
	ListMCPGrants(ctx context.Context, workspaceID, userID string) ([]MCPGrant, error)
	// DeleteMCPGrant deletes the user's grant and all its tokens in one
	// transaction; ErrNotFound when the user has no such grant.
	DeleteMCPGrant(ctx context.Context, workspaceID, userID, id string) error
	// CreateMCPToken fails with ErrConflict when (kind, signature) exists.
	CreateMCPToken(ctx context.Context, t MCPToken) error
	GetMCPToken(ctx context.Context, kind MCPTokenKind, signature string) (MCPToken, error)
	DeleteMCPToken(ctx context.Context, kind MCPTokenKind, signature string) error
	// DeactivateMCPToken is the compare-and-swap that uses a code or
	// rotates a refresh token: it turns an active row inactive, and
	// reports false when the row was not active (or is gone), so that of
	// two concurrent uses one wins.
	DeactivateMCPToken(ctx context.Context, kind MCPTokenKind, signature string) (bool, error)
	// DeactivateMCPTokens turns every row of the kind of the grant
	// inactive.
	DeactivateMCPTokens(ctx context.Context, kind MCPTokenKind, grantID string) error
	// DeleteMCPTokens deletes every row of the kind of the grant.
	DeleteMCPTokens(ctx context.Context, kind MCPTokenKind, grantID string) error
	// DeleteExpiredMCPTokens deletes the rows that expired at or before
	// the time, and the grants created before it that have no row left.
	DeleteExpiredMCPTokens(ctx context.Context, before time.Time) (int, error)
	// DeleteUnusedMCPClients deletes the clients registered at or before
	// the time that no grant names.
	DeleteUnusedMCPClients(ctx context.Context, before time.Time) (int, error)
}
