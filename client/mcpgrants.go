package client

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// MCPGrant is an MCP client the caller allowed, through OAuth, to act as
// them on the MCP server.
type MCPGrant struct {
	ID       string `json:"id"`
	ClientID string `json:"client_id"`
	// ClientName is the name the client registered itself with.
	ClientName string `json:"client_name"`
	// RedirectHost is where the consent sent the browser back to.
	RedirectHost string   `json:"redirect_host"`
	Scopes       []string `json:"scopes"`
	// Resource is the MCP URL, the only audience of the grant's tokens.
	Resource  string    `json:"resource"`
	CreatedAt time.Time `json:"created_at"`
}

// ListMCPGrants lists the caller's grants to MCP clients, newest first.
func (c *Client) ListMCPGrants(ctx context.Context) ([]MCPGrant, error) {
	var p Page[MCPGrant]
	return p.Data, c.do(ctx, http.MethodGet, "/v1/mcp-grants", nil, nil, &p)
}

// RevokeMCPGrant revokes one of the caller's grants and all its tokens.
func (c *Client) RevokeMCPGrant(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/v1/mcp-grants/"+url.PathEscape(id), nil, nil, nil)
}
