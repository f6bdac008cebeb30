package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"github.com/latchkeyhq/latchkey/internal/identity"
	"net"
	"net/http"
	"net/mail"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/time/rate"

	"github.com/latchkeyhq/latchkey/internal/ids"
	"github.com/latchkeyhq/latchkey/internal/store"
)

const (
	cookieName = "latchkey_session"
	// secureCookieName is the cookie's name under https. The __Host-
	// prefix makes browsers refuse it unless it is Secure, for path / and
	// for this host alone, so no sibling subdomain or plain-http page can
	// set or shadow it.
	secureCookieName = "__Host-latchkey_session"
	// sessionTTL is how long a sign-in lasts.
	sessionTTL = 12 * time.Hour
	// minPassword is the shortest password accepted.
	minPassword = 10
	// maxPassword is the longest, in bytes: bcrypt ignores the rest, so a
	// longer one would sign in with any ending.
	maxPassword = 72
)

// session is a signed-in browser.
type session struct {
	hash  []byte
	user  store.User
	actor identity.Actor
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
	if err != nil || c.Value == "" || len(c.Value) > 100 {
		return nil
	}
	hash := hashCookie(c.Value)
	se, err := h.store.GetSession(r.Context(), hash, h.clock.Now())
	if err != nil {
		return nil
	}
	u, err := h.store.GetUser(r.Context(), se.WorkspaceID, se.UserID)
	if err != nil {
		return nil
	}
	return &session{hash: hash, user: u, actor: identity.Actor{WorkspaceID: u.WorkspaceID, UserID: u.ID, Role: identity.Role(u.Role)}}
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

func (h *Handler) workspace(ctx context.Context) (store.Workspace, error) {
	return h.store.FirstWorkspace(ctx)
}

// needsSetup reports whether nobody can sign in yet.
func (h *Handler) needsSetup(ctx context.Context) bool {
	ws, err := h.workspace(ctx)
	if err != nil {
		return false
	}
	n, err := h.store.CountPasswordUsers(ctx, ws.ID)
	return err == nil && n == 0
}

// startSession signs the browser in.
func (h *Handler) startSession(w http.ResponseWriter, r *http.Request, u store.User) error {
	v, err := randomValue()
	if err != nil {
		return err
	}
	now := h.clock.Now().UTC()
	if err := h.store.CreateSession(r.Context(), store.Session{Hash: hashCookie(v), WorkspaceID: u.WorkspaceID, UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(sessionTTL)}); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{
		Name: h.cookieName(), Value: v, Path: "/", HttpOnly: true, Secure: h.secure,
		// Lax, so the provider's redirect back to the callback (a top-level
		// GET) carries the cookie that the connection is bound to.
		SameSite: http.SameSiteLaxMode,
		Expires:  now.Add(sessionTTL),
	})
	return nil
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
	form := authForm{Email: strings.ToLower(strings.TrimSpace(r.PostFormValue("email"))), Name: strings.TrimSpace(r.PostFormValue("name"))}
	password := r.PostFormValue("password")
	fail := func(msg string) {
		h.render(w, r, http.StatusUnprocessableEntity, "setup.html", view{Title: "Set up Latchkey", Error: msg, Content: form})
	}
	if _, err := mail.ParseAddress(form.Email); err != nil || len(form.Email) > 200 {
		fail("Enter a valid email address.")
		return
	}
	if len(form.Name) > 100 {
		fail("The name is too long.")
		return
	}
	if len(password) < minPassword || len(password) > maxPassword {
		fail(fmt.Sprintf("Choose a password of %d to %d bytes (a letter with an accent takes two).", minPassword, maxPassword))
		return
	}
	if password != r.PostFormValue("confirm") {
		fail("The two passwords differ.")
		return
	}
	ws, err := h.workspace(ctx)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	won, err := h.store.PutMetaIfAbsent(ctx, "web_setup", []byte(form.Email))
	if err != nil || !won {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), h.cost)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if form.Name == "" {
		form.Name = form.Email
	}
	now := h.clock.Now().UTC()
	u := store.User{ID: ids.New(ids.User, now), WorkspaceID: ws.ID, Email: form.Email, Name: form.Name, Role: store.RoleOwner, PasswordHash: string(hash), CreatedAt: now}
	if err := h.store.CreateUser(ctx, u); err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.InfoContext(ctx, "first owner created", "user", u.ID)
	if err := h.startSession(w, r, u); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request) {
	if h.needsSetup(r.Context()) {
		http.Redirect(w, r, "/setup", http.StatusSeeOther)
		return
	}
	h.render(w, r, http.StatusOK, "login.html", view{Title: "Sign in", Content: authForm{Next: safeNext(r.URL.Query().Get("next"))}})
}

// dummy returns a hash to compare against when there is no user, so that
// a sign-in for an unknown email is as slow as for a known one.
func (h *Handler) dummy() []byte {
	h.dummyOnce.Do(func() {
		h.dummyHash, _ = bcrypt.GenerateFromPassword([]byte("latchkey-no-such-user"), h.cost)
	})
	return h.dummyHash
}

func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	form := authForm{Email: strings.ToLower(strings.TrimSpace(r.PostFormValue("email"))), Next: safeNext(r.PostFormValue("next"))}
	fail := func(status int, msg string) {
		h.render(w, r, status, "login.html", view{Title: "Sign in", Error: msg, Content: form})
	}
	if !h.limiter.allow(clientIP(r), form.Email) {
		w.Header().Set("Retry-After", "60")
		fail(http.StatusTooManyRequests, "Too many attempts. Wait a minute and try again.")
		return
	}
	password := r.PostFormValue("password")
	if len(password) > maxPassword {
		// bcrypt would compare only the first 72 bytes; no password set
		// here is longer, so this one is wrong whoever it is for.
		fail(http.StatusUnauthorized, fmt.Sprintf("The email or the password is wrong: passwords here are at most %d bytes.", maxPassword))
		return
	}
	ws, err := h.workspace(ctx)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	u, err := h.store.GetUserByEmail(ctx, ws.ID, form.Email)
	hash := []byte(u.PasswordHash)
	if err != nil || len(hash) == 0 {
		hash = h.dummy()
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil || err != nil || u.PasswordHash == "" {
		fail(http.StatusUnauthorized, "The email or the password is wrong.")
		return
	}
	if err := h.startSession(w, r, u); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, form.Next, http.StatusSeeOther)
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(h.cookieName()); err == nil {
		_ = h.store.DeleteSession(r.Context(), hashCookie(c.Value))
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

// limiter allows five sign-in attempts a minute per address and email.
type limiter struct {
	clock clockwork.Clock
	mu    sync.Mutex
	m     map[string]*rate.Limiter
}

func newLimiter(clock clockwork.Clock) *limiter {
	return &limiter{clock: clock, m: map[string]*rate.Limiter{}}
}

func (l *limiter) allow(ip, email string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.m) > 10000 {
		l.m = map[string]*rate.Limiter{}
	}
	key := ip + "|" + email
	lim, ok := l.m[key]
	if !ok {
		lim = rate.NewLimiter(rate.Every(12*time.Second), 5)
		l.m[key] = lim
	}
	return lim.AllowN(l.clock.Now(), 1)
}

// fail answers an unexpected error with the friendly page; the log has
// the detail.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	h.renderError(w, r, nil, internalError{err})
}
