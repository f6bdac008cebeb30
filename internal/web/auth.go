package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/latchkeyhq/latchkey/internal/identity"
)

const (
	cookieName = "latchkey_session"
	// secureCookieName is the cookie's name under https. The __Host-
	// prefix makes browsers refuse it unless it is Secure, for path / and
	// for this host alone, so no sibling subdomain or plain-http page can
	// set or shadow it.
	secureCookieName = "__Host-latchkey_session"
)

// session is a signed-in browser, as identity knows it.
type session struct {
	// hash is the session's key, which a connection started in it is
	// bound to.
	hash  []byte
	user  identity.User
	actor identity.Actor
	// workspaces are the person's memberships, for the switcher.
	workspaces []identity.Membership
}

// cookieName is the session cookie's name.
func (h *Handler) cookieName() string {
	if h.secure {
		return secureCookieName
	}
	return cookieName
}

func hashCookie(v string) []byte {
	h := sha256.Sum256([]byte(v))
	return h[:]
}

// current returns the request's session, or nil.
func (h *Handler) current(r *http.Request) *session {
	c, err := r.Cookie(h.cookieName())
	if err != nil {
		return nil
	}
	se, err := h.identity.Session(r.Context(), c.Value)
	if err != nil {
		return nil
	}
	ms, err := h.identity.Memberships(r.Context(), se)
	if err != nil {
		// The switcher is missing; the page works all the same.
		h.log.WarnContext(r.Context(), "memberships", "err", err)
	}
	// The audit log records where and how the browser came.
	a := se.Actor
	a.Addr, a.Surface = clientIP(r), identity.SurfaceWeb
	return &session{hash: se.Key, user: se.User, actor: a, workspaces: ms}
}

// requireSession sends a signed-out browser to sign in (or, on a fresh
// install, to set-up).
func (h *Handler) requireSession(fn func(http.ResponseWriter, *http.Request, *session)) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		if s := h.current(r); s != nil {
			fn(w, r, s)
			return
		}
		if strings.HasPrefix(r.URL.Path, "/ui/") || r.Method != http.MethodGet {
			http.Error(w, "sign in first", http.StatusUnauthorized)
			return
		}
		if h.needsSetup(r.Context()) {
			http.Redirect(w, r, "/setup", http.StatusSeeOther)
			return
		}
		http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
	}
}

// needsSetup reports whether nobody can sign in yet; when that cannot be
// told, the browser is sent to sign in, as on an installation set up.
func (h *Handler) needsSetup(ctx context.Context) bool {
	need, err := h.identity.NeedsSetup(ctx)
	return err == nil && need
}

// setCookie gives the browser the new session's cookie.
func (h *Handler) setCookie(w http.ResponseWriter, in identity.SignedIn) {
	http.SetCookie(w, &http.Cookie{
		Name: h.cookieName(), Value: in.Value.Reveal(), Path: "/", HttpOnly: true, Secure: h.secure,
		// Lax, so the provider's redirect back to the callback (a top-level
		// GET) carries the cookie that the connection is bound to.
		SameSite: http.SameSiteLaxMode,
		Expires:  in.ExpiresAt,
	})
}

// randomValue is a fresh cookie value.
func randomValue() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

type authForm struct {
	Email, Name, Next string
}

func (h *Handler) setupPage(w http.ResponseWriter, r *http.Request) {
	if !h.needsSetup(r.Context()) {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	h.render(w, r, http.StatusOK, "setup.html", view{Title: "Set up Latchkey", Content: authForm{}})
}

// setup creates the first owner who signs in with a password. Only one
// set-up can win, however many browsers race.
func (h *Handler) setup(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if !h.needsSetup(ctx) {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	owner := identity.FirstOwner{Email: r.PostFormValue("email"), Name: r.PostFormValue("name"), Password: r.PostFormValue("password")}
	form := authForm{Email: identity.NormalEmail(owner.Email), Name: strings.TrimSpace(owner.Name)}
	fail := func(msg string) {
		h.render(w, r, http.StatusUnprocessableEntity, "setup.html", view{Title: "Set up Latchkey", Error: msg, Content: form})
	}
	// The form is checked whole before set-up starts, so the first thing
	// wrong is what the page says, the confirmation included.
	if ie, ok := errors.AsType[*identity.InputError](owner.Check()); ok {
		fail(ie.Message)
		return
	}
	if owner.Password != r.PostFormValue("confirm") {
		fail("The two passwords differ.")
		return
	}
	in, err := h.identity.SetUp(ctx, owner)
	if errors.Is(err, identity.ErrSetUpDone) {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.setCookie(w, in)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request) {
	if h.needsSetup(r.Context()) {
		http.Redirect(w, r, "/setup", http.StatusSeeOther)
		return
	}
	h.render(w, r, http.StatusOK, "login.html", view{Title: "Sign in", Content: authForm{Next: safeNext(r.URL.Query().Get("next"))}})
}

func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	form := authForm{Email: identity.NormalEmail(r.PostFormValue("email")), Next: safeNext(r.PostFormValue("next"))}
	fail := func(status int, msg string) {
		h.render(w, r, status, "login.html", view{Title: "Sign in", Error: msg, Content: form})
	}
	in, err := h.identity.SignIn(r.Context(), identity.SignInInput{Addr: clientIP(r), Email: form.Email, Password: r.PostFormValue("password")})
	switch {
	case errors.Is(err, identity.ErrTooManyAttempts):
		w.Header().Set("Retry-After", strconv.Itoa(int(identity.SignInRetryAfter.Seconds())))
		fail(http.StatusTooManyRequests, "Too many attempts. Wait a minute and try again.")
	case errors.Is(err, identity.ErrPasswordTooLong):
		fail(http.StatusUnauthorized, "The email or the password is wrong: passwords here are at most "+strconv.Itoa(identity.MaxPassword)+" bytes.")
	case errors.Is(err, identity.ErrWrongCredentials):
		fail(http.StatusUnauthorized, "The email or the password is wrong.")
	case err != nil:
		h.fail(w, r, err)
	default:
		h.setCookie(w, in)
		http.Redirect(w, r, form.Next, http.StatusSeeOther)
	}
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(h.cookieName()); err == nil {
		if err := h.identity.SignOut(r.Context(), c.Value); err != nil {
			// The cookie goes all the same; the session lapses by itself.
			h.log.WarnContext(r.Context(), "sign-out", "err", err)
		}
	}
	http.SetCookie(w, &http.Cookie{Name: h.cookieName(), Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// fail answers an unexpected error with the friendly page; the log has
// the detail.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	h.renderError(w, r, nil, internalError{err})
}
