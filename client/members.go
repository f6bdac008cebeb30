package client

import (
	"context"
	"net/http"
	"net/url"
)

// Member is a user of the caller's workspace.
type Member struct {
	ID        string `json:"id"`
	Email     string `json:"email"`
	Name      string `json:"name"`
	Role      string `json:"role"`
	SignsIn   bool   `json:"signs_in"`
	CreatedAt string `json:"created_at"`
}

// Invitation is an open invitation. URL is set only when the link was
// just made: it is shown once and cannot be read again.
type Invitation struct {
	ID        string `json:"id"`
	Email     string `json:"email"`
	Role      string `json:"role"`
	InvitedBy string `json:"invited_by"`
	CreatedAt string `json:"created_at"`
	ExpiresAt string `json:"expires_at"`
	Expired   bool   `json:"expired"`
	URL       string `json:"url,omitempty"`
}

// Invite is the body of POST /v1/invitations.
type Invite struct {
	Email string `json:"email"`
	Role  string `json:"role"`
}

// ChangeRole is the body of PATCH /v1/members/{id}.
type ChangeRole struct {
	Role string `json:"role"`
}

// PasswordReset is a new single-use reset link, shown once.
type PasswordReset struct {
	UserID    string `json:"user_id"`
	URL       string `json:"url"`
	ExpiresAt string `json:"expires_at"`
}

// ChangePassword is the body of POST /v1/me/password.
type ChangePassword struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

// Workspace is a tenant of the server.
type Workspace struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	CreatedAt string `json:"created_at"`
}

// CreateWorkspace is the body of POST /v1/workspaces.
type CreateWorkspace struct {
	Name       string `json:"name"`
	OwnerEmail string `json:"owner_email"`
}

// NewWorkspace is a created workspace with its owner: attached (Owner)
// when the email already signs in here, else invited (Invitation, whose
// URL is shown once).
type NewWorkspace struct {
	Workspace
	Owner      *Member     `json:"owner,omitempty"`
	Invitation *Invitation `json:"invitation,omitempty"`
}

// Members lists the workspace's members.
func (c *Client) Members(ctx context.Context) ([]Member, error) {
	var out struct{ Data []Member }
	return out.Data, c.do(ctx, http.MethodGet, "/v1/members", nil, nil, &out)
}

// ChangeRole gives a member another role.
func (c *Client) ChangeRole(ctx context.Context, id, role string) (Member, error) {
	var m Member
	return m, c.do(ctx, http.MethodPatch, "/v1/members/"+url.PathEscape(id), nil, ChangeRole{Role: role}, &m)
}

// RemoveMember removes a member; their accounts pass to the caller.
func (c *Client) RemoveMember(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/v1/members/"+url.PathEscape(id), nil, nil, nil)
}

// PasswordReset makes a single-use reset link for a member.
func (c *Client) PasswordReset(ctx context.Context, id string) (PasswordReset, error) {
	var p PasswordReset
	return p, c.do(ctx, http.MethodPost, "/v1/members/"+url.PathEscape(id)+"/password-reset", nil, nil, &p)
}

// Invite invites an email with a role and returns the link, shown once.
func (c *Client) Invite(ctx context.Context, in Invite) (Invitation, error) {
	var inv Invitation
	return inv, c.do(ctx, http.MethodPost, "/v1/invitations", nil, in, &inv)
}

// Invitations lists the open invitations.
func (c *Client) Invitations(ctx context.Context) ([]Invitation, error) {
	var out struct{ Data []Invitation }
	return out.Data, c.do(ctx, http.MethodGet, "/v1/invitations", nil, nil, &out)
}

// RevokeInvitation revokes an invitation; its link stops working.
func (c *Client) RevokeInvitation(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/v1/invitations/"+url.PathEscape(id), nil, nil, nil)
}

// ResendInvitation makes a new link for an invitation; the old one stops
// working.
func (c *Client) ResendInvitation(ctx context.Context, id string) (Invitation, error) {
	var inv Invitation
	return inv, c.do(ctx, http.MethodPost, "/v1/invitations/"+url.PathEscape(id)+"/resend", nil, nil, &inv)
}

// ChangePassword changes the caller's password.
func (c *Client) ChangePassword(ctx context.Context, in ChangePassword) error {
	return c.do(ctx, http.MethodPost, "/v1/me/password", nil, in, nil)
}

// Workspaces lists every workspace (the server's admin only).
func (c *Client) Workspaces(ctx context.Context) ([]Workspace, error) {
	var out struct{ Data []Workspace }
	return out.Data, c.do(ctx, http.MethodGet, "/v1/workspaces", nil, nil, &out)
}

// CreateWorkspace creates a workspace (the server's admin only).
func (c *Client) CreateWorkspace(ctx context.Context, in CreateWorkspace) (NewWorkspace, error) {
	var w NewWorkspace
	return w, c.do(ctx, http.MethodPost, "/v1/workspaces", nil, in, &w)
}
