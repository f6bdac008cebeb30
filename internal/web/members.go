package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/latchkeyhq/latchkey/internal/identity"
)

// Where links are served; the API builds the same URLs.
const (
	invitePath = "/invite/"
	resetPath  = "/reset/"
)

type membersContent struct {
	Members     []identity.User
	Invitations []identity.Invitation
	Roles       []identity.Role
	Me          string
	Manage      bool
	// NewLink is a link just made, shown this once; LinkFor says whom it
	// is for, LinkKind what it does.
	NewLink, LinkFor, LinkKind string
	InviteEmail                string
}

// membersPage renders the Members page; lk is a link to show once.
func (h *Handler) membersPage(w http.ResponseWriter, r *http.Request, s *session) error {
	return h.renderMembers(w, r, s, http.StatusOK, membersContent{}, "")
}

func (h *Handler) renderMembers(w http.ResponseWriter, r *http.Request, s *session, status int, c membersContent, formErr string) error {
	ctx := r.Context()
	list, err := h.identity.Members(ctx, s.actor)
	if err != nil {
		return internalError{err}
	}
	c.Members, c.Me, c.Manage, c.Roles = list, s.user.ID, s.actor.CanManageMembers(), identity.Roles
	if c.Manage {
		if c.Invitations, err = h.identity.Invitations(ctx, s.actor); err != nil {
			return internalError{err}
		}
	}
	v := h.view(s, "Members", "members", c)
	v.Error = formErr
	switch r.URL.Query().Get("done") {
	case "role":
		v.Flash = "The role is changed; it takes effect at once."
	case "removed":
		v.Flash = "The member is removed. The accounts they owned are yours now."
	case "revoked":
		v.Flash = "The invitation is revoked; its link no longer works."
	}
	h.render(w, r, status, "members.html", v)
	return nil
}

// inputMessage is the words of an error the person can fix, or "".
func inputMessage(err error) string {
	if ie, ok := errors.AsType[*identity.InputError](err); ok {
		return ie.Message
	}
	return ""
}

func (h *Handler) invite(w http.ResponseWriter, r *http.Request, s *session) error {
	email, role := r.PostFormValue("email"), identity.Role(r.PostFormValue("role"))
	l, err := h.identity.Invite(r.Context(), s.actor, email, role)
	if msg := inputMessage(err); msg != "" {
		return h.renderMembers(w, r, s, http.StatusUnprocessableEntity, membersContent{InviteEmail: email}, msg)
	}
	if err != nil {
		return err
	}
	return h.renderMembers(w, r, s, http.StatusOK, membersContent{NewLink: h.linkURL(r, invitePath, l.Token.Reveal()),
		LinkFor: l.Invitation.Email, LinkKind: "invitation"}, "")
}

// linkURL is a link on this server, as the browser reached it.
func (h *Handler) linkURL(r *http.Request, path, token string) string {
	scheme := "http"
	if h.secure {
		scheme = "https"
	}
	return scheme + "://" + r.Host + path + token
}

func (h *Handler) resendInvitation(w http.ResponseWriter, r *http.Request, s *session) error {
	l, err := h.identity.ResendInvitation(r.Context(), s.actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	return h.renderMembers(w, r, s, http.StatusOK, membersContent{NewLink: h.linkURL(r, invitePath, l.Token.Reveal()),
		LinkFor: l.Invitation.Email, LinkKind: "invitation"}, "")
}

func (h *Handler) revokeInvitation(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := h.identity.RevokeInvitation(r.Context(), s.actor, r.PathValue("id")); err != nil {
		return err
	}
	http.Redirect(w, r, "/members?done=revoked", http.StatusSeeOther)
	return nil
}

func (h *Handler) changeRole(w http.ResponseWriter, r *http.Request, s *session) error {
	_, err := h.identity.ChangeRole(r.Context(), s.actor, r.PathValue("id"), identity.Role(r.PostFormValue("role")))
	if msg := inputMessage(err); msg != "" || errors.Is(err, identity.ErrLastOwner) {
		if msg == "" {
			msg = "The workspace's last owner cannot step down: make another owner first."
		}
		return h.renderMembers(w, r, s, http.StatusUnprocessableEntity, membersContent{}, msg)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/members?done=role", http.StatusSeeOther)
	return nil
}

func (h *Handler) removeMember(w http.ResponseWriter, r *http.Request, s *session) error {
	err := h.identity.RemoveMember(r.Context(), s.actor, r.PathValue("id"))
	if errors.Is(err, identity.ErrLastOwner) {
		return h.renderMembers(w, r, s, http.StatusConflict, membersContent{}, "The workspace's last owner cannot be removed.")
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/members?done=removed", http.StatusSeeOther)
	return nil
}

func (h *Handler) resetLink(w http.ResponseWriter, r *http.Request, s *session) error {
	l, err := h.identity.PasswordResetLink(r.Context(), s.actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	return h.renderMembers(w, r, s, http.StatusOK, membersContent{NewLink: h.linkURL(r, resetPath, l.Token.Reveal()),
		LinkFor: l.Invitation.Email, LinkKind: "password reset link"}, "")
}

// linkContent is the invitation or reset page.
type linkContent struct {
	Link  identity.OpenLink
	Reset bool
	Token string
	Name  string
}

// tooMany answers a link used too often from one address.
func (h *Handler) tooMany(w http.ResponseWriter, r *http.Request, title string) {
	w.Header().Set("Retry-After", strconv.Itoa(int(identity.SignInRetryAfter.Seconds())))
	h.render(w, r, http.StatusTooManyRequests, "error.html", view{Title: title, Error: "Too many attempts. Wait a minute and try again."})
}

func (h *Handler) linkPage(reset bool) publicFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		kind, title := identity.LinkInvite, "Join the workspace"
		if reset {
			kind, title = identity.LinkPasswordReset, "Set a new password"
		}
		token := r.PathValue("token")
		lk, err := h.identity.LookUpLink(r.Context(), clientIP(r), token, kind)
		if errors.Is(err, identity.ErrTooManyLinkAttempts) {
			h.tooMany(w, r, title)
			return nil
		}
		if err != nil {
			return err
		}
		c := linkContent{Link: lk, Reset: reset, Token: token}
		if r.Method == http.MethodGet {
			h.render(w, r, http.StatusOK, "link.html", view{Title: title, Content: c})
			return nil
		}
		fail := func(msg string) error {
			c.Name = r.PostFormValue("name")
			h.render(w, r, http.StatusUnprocessableEntity, "link.html", view{Title: title, Error: msg, Content: c})
			return nil
		}
		pw := r.PostFormValue("password")
		if !lk.ExistingPassword && pw != r.PostFormValue("confirm") {
			return fail("The two passwords differ.")
		}
		var in identity.SignedIn
		if reset {
			in, err = h.identity.ResetPassword(r.Context(), identity.Reset{Addr: clientIP(r), Token: token, Password: pw})
		} else {
			in, err = h.identity.AcceptInvitation(r.Context(), identity.Accept{Addr: clientIP(r), Token: token, Name: r.PostFormValue("name"), Password: pw})
		}
		if msg := inputMessage(err); msg != "" {
			return fail(msg)
		}
		if errors.Is(err, identity.ErrTooManyLinkAttempts) {
			h.tooMany(w, r, title)
			return nil
		}
		if err != nil {
			return err
		}
		h.setCookie(w, in)
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return nil
	}
}

func (h *Handler) passwordPage(w http.ResponseWriter, r *http.Request, s *session) error {
	v := h.view(s, "Change your password", "", nil)
	if r.URL.Query().Get("done") == "1" {
		v.Flash = "Your password is changed."
	}
	h.render(w, r, http.StatusOK, "password.html", v)
	return nil
}

func (h *Handler) changePassword(w http.ResponseWriter, r *http.Request, s *session) error {
	fail := func(status int, msg string) error {
		v := h.view(s, "Change your password", "", nil)
		v.Error = msg
		h.render(w, r, status, "password.html", v)
		return nil
	}
	next := r.PostFormValue("new")
	if next != r.PostFormValue("confirm") {
		return fail(http.StatusUnprocessableEntity, "The two new passwords differ.")
	}
	err := h.identity.ChangePassword(r.Context(), s.actor, r.PostFormValue("current"), next, s.hash)
	if msg := inputMessage(err); msg != "" {
		return fail(http.StatusUnprocessableEntity, msg)
	}
	if errors.Is(err, identity.ErrTooManyLinkAttempts) {
		w.Header().Set("Retry-After", strconv.Itoa(int(identity.SignInRetryAfter.Seconds())))
		return fail(http.StatusTooManyRequests, "Too many attempts. Wait a minute and try again.")
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/password?done=1", http.StatusSeeOther)
	return nil
}

// switchWorkspace moves the session to another of the person's
// workspaces; identity checks the membership again.
func (h *Handler) switchWorkspace(w http.ResponseWriter, r *http.Request, s *session) error {
	c, err := r.Cookie(h.cookieName())
	if err != nil {
		return identity.ErrNoSession
	}
	in, err := h.identity.SwitchWorkspace(r.Context(), c.Value, r.PostFormValue("workspace"))
	if err != nil {
		return err
	}
	h.setCookie(w, in)
	http.Redirect(w, r, "/", http.StatusSeeOther)
	return nil
}
