package api

import (
	"net/http"
	"strings"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/identity"
)

// Where the web serves links; the API returns them whole, as Latchkey
// sends no mail.
const (
	InvitePath = "/invite/"
	ResetPath  = "/reset/"
)

// SetPublicURL sets the base of the invitation and reset links returned.
func (h *Handler) SetPublicURL(u string) { h.publicURL = strings.TrimSuffix(u, "/") }

func memberView(u identity.User) client.Member {
	return client.Member{ID: u.ID, Email: u.Email, Name: u.Name, Role: string(u.Role), SignsIn: u.SignsIn, CreatedAt: *timestamp(&u.CreatedAt)}
}

func invitationView(inv identity.Invitation) client.Invitation {
	return client.Invitation{ID: inv.ID, Email: inv.Email, Role: string(inv.Role), InvitedBy: inv.CreatedBy,
		CreatedAt: *timestamp(&inv.CreatedAt), ExpiresAt: *timestamp(&inv.ExpiresAt), Expired: inv.Expired}
}

func (h *Handler) linkView(l identity.Link) client.Invitation {
	v := invitationView(l.Invitation)
	v.URL = h.publicURL + InvitePath + l.Token.Reveal()
	return v
}

func (h *Handler) listMembers(w http.ResponseWriter, r *http.Request) error {
	list, err := h.identity.Members(r.Context(), actor(r))
	if err != nil {
		return err
	}
	out := struct {
		Data []client.Member `json:"data"`
	}{Data: []client.Member{}}
	for _, u := range list {
		out.Data = append(out.Data, memberView(u))
	}
	return reply(w, http.StatusOK, out)
}

func (h *Handler) changeRole(w http.ResponseWriter, r *http.Request) error {
	var req client.ChangeRole
	if err := decode(w, r, &req); err != nil {
		return err
	}
	u, err := h.identity.ChangeRole(r.Context(), actor(r), r.PathValue("id"), identity.Role(req.Role))
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, memberView(u))
}

func (h *Handler) removeMember(w http.ResponseWriter, r *http.Request) error {
	if err := h.identity.RemoveMember(r.Context(), actor(r), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) passwordReset(w http.ResponseWriter, r *http.Request) error {
	l, err := h.identity.PasswordResetLink(r.Context(), actor(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return reply(w, http.StatusCreated, client.PasswordReset{UserID: r.PathValue("id"), URL: h.publicURL + ResetPath + l.Token.Reveal(),
		ExpiresAt: *timestamp(&l.Invitation.ExpiresAt)})
}

func (h *Handler) invite(w http.ResponseWriter, r *http.Request) error {
	var req client.Invite
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if req.Role == "" {
		req.Role = string(identity.RoleMember)
	}
	l, err := h.identity.Invite(r.Context(), actor(r), req.Email, identity.Role(req.Role))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return reply(w, http.StatusCreated, h.linkView(l))
}

func (h *Handler) listInvitations(w http.ResponseWriter, r *http.Request) error {
	list, err := h.identity.Invitations(r.Context(), actor(r))
	if err != nil {
		return err
	}
	out := struct {
		Data []client.Invitation `json:"data"`
	}{Data: []client.Invitation{}}
	for _, inv := range list {
		out.Data = append(out.Data, invitationView(inv))
	}
	return reply(w, http.StatusOK, out)
}

func (h *Handler) revokeInvitation(w http.ResponseWriter, r *http.Request) error {
	if err := h.identity.RevokeInvitation(r.Context(), actor(r), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) resendInvitation(w http.ResponseWriter, r *http.Request) error {
	l, err := h.identity.ResendInvitation(r.Context(), actor(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return reply(w, http.StatusOK, h.linkView(l))
}

func (h *Handler) changePassword(w http.ResponseWriter, r *http.Request) error {
	var req client.ChangePassword
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if err := h.identity.ChangePassword(r.Context(), actor(r), req.CurrentPassword, req.NewPassword, nil); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func workspaceView(ws identity.Workspace) client.Workspace {
	return client.Workspace{ID: ws.ID, Name: ws.Name, CreatedAt: *timestamp(&ws.CreatedAt)}
}

func (h *Handler) listWorkspaces(w http.ResponseWriter, r *http.Request) error {
	list, err := h.identity.Workspaces(r.Context(), actor(r))
	if err != nil {
		return err
	}
	out := struct {
		Data []client.Workspace `json:"data"`
	}{Data: []client.Workspace{}}
	for _, ws := range list {
		out.Data = append(out.Data, workspaceView(ws))
	}
	return reply(w, http.StatusOK, out)
}

func (h *Handler) createWorkspace(w http.ResponseWriter, r *http.Request) error {
	var req client.CreateWorkspace
	if err := decode(w, r, &req); err != nil {
		return err
	}
	nw, err := h.identity.CreateWorkspace(r.Context(), actor(r), req.Name, req.OwnerEmail)
	if err != nil {
		return err
	}
	out := client.NewWorkspace{Workspace: workspaceView(nw.Workspace)}
	if nw.Owner != nil {
		m := memberView(*nw.Owner)
		out.Owner = &m
	}
	if nw.Invite != nil {
		inv := h.linkView(*nw.Invite)
		out.Invitation = &inv
	}
	w.Header().Set("Cache-Control", "no-store")
	return reply(w, http.StatusCreated, out)
}
