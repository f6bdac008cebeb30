package mcpauth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/store"
)

// ErrNoGrant: the member has no such grant.
var ErrNoGrant = fmt.Errorf("no such MCP client grant: %w", store.ErrNotFound)

// Grant is a member's consent to an MCP client, as the member sees it.
type Grant struct {
	ID, ClientID, ClientName string
	// RedirectHost is where the consent sent the browser back to.
	RedirectHost string
	Scopes       []string
	// Resource is the MCP URL, the only audience of the grant's tokens.
	Resource  string
	CreatedAt time.Time
}

// Grants lists the actor's own grants to MCP clients, newest first.
// They are the member's: a token may list them only with its user's
// say-so, so an MCP client's own token may not.
func (s *Service) Grants(ctx context.Context, actor identity.Actor) ([]Grant, error) {
	if err := mayManage(actor); err != nil {
		return nil, err
	}
	list, err := s.o.Store.ListMCPGrants(ctx, actor.WorkspaceID, actor.UserID)
	if err != nil {
		return nil, fmt.Errorf("list mcp grants: %w", err)
	}
	out := make([]Grant, 0, len(list))
	for _, g := range list {
		out = append(out, Grant{ID: g.ID, ClientID: g.ClientID, ClientName: g.ClientName, RedirectHost: redirectHost(g.RedirectURI),
			Scopes: g.Scopes, Resource: g.Resource, CreatedAt: g.CreatedAt})
	}
	return out, nil
}

// Revoke deletes one of the actor's grants and every code and token of
// it; the client's next request is refused, on every replica.
func (s *Service) Revoke(ctx context.Context, actor identity.Actor, id string) error {
	if err := mayManage(actor); err != nil {
		return err
	}
	g, err := s.o.Store.GetMCPGrant(ctx, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && (g.WorkspaceID != actor.WorkspaceID || g.UserID != actor.UserID) {
		return ErrNoGrant
	}
	if err != nil {
		return fmt.Errorf("revoke mcp grant %s: %w", id, err)
	}
	if err := s.o.Store.DeleteMCPGrant(ctx, actor.WorkspaceID, actor.UserID, id); errors.Is(err, store.ErrNotFound) {
		return ErrNoGrant
	} else if err != nil {
		return fmt.Errorf("revoke mcp grant %s: %w", id, err)
	}
	s.record(actor, ActionRevoked, map[string]string{"grant_id": id, "client_id": g.ClientID, "client_name": g.ClientName})
	return nil
}

// RevokeAll deletes every grant of the member in the workspace, and
// their codes and tokens, and says how many went: identity runs it when
// the member's password is reset, since whoever knew the old one may have
// consented a client with it. Each grant's end is audited.
func (s *Service) RevokeAll(ctx context.Context, workspaceID, userID string) (int, error) {
	list, err := s.o.Store.ListMCPGrants(ctx, workspaceID, userID)
	if err != nil {
		return 0, fmt.Errorf("revoke mcp grants of %s: %w", userID, err)
	}
	actor := identity.Actor{WorkspaceID: workspaceID, UserID: userID}
	n := 0
	for _, g := range list {
		err := s.o.Store.DeleteMCPGrant(ctx, workspaceID, userID, g.ID)
		if errors.Is(err, store.ErrNotFound) {
			continue // revoked meanwhile
		}
		if err != nil {
			return n, fmt.Errorf("revoke mcp grant %s: %w", g.ID, err)
		}
		n++
		s.record(actor, ActionRevoked, map[string]string{"grant_id": g.ID, "client_id": g.ClientID, "client_name": g.ClientName,
			"reason": "password.reset"})
	}
	return n, nil
}

// mayManage: a session, or an API token of the member's; never a grant's
// own token, which would let an MCP client see the member's other ones.
func mayManage(actor identity.Actor) error {
	if actor.WorkspaceID == "" || actor.UserID == "" {
		return identity.ErrForbidden
	}
	if actor.Surface == identity.SurfaceMCP {
		return fmt.Errorf("%w: an MCP client's token may not manage MCP grants", identity.ErrForbidden)
	}
	return nil
}
