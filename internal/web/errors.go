package web

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/accounts"
	"github.com/latchkeyhq/latchkey/internal/appapi"
	"github.com/latchkeyhq/latchkey/internal/connecting"
	"github.com/latchkeyhq/latchkey/internal/endusers"
	"github.com/latchkeyhq/latchkey/internal/errkind"
	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/mcpauth"
	"github.com/latchkeyhq/latchkey/internal/oauth"
	"github.com/latchkeyhq/latchkey/internal/outage"
)

// pageFunc is a signed-in page that returns its error instead of writing
// it; one adapter (signedIn in Register) renders it. A page that shows a
// form again with the error beside it does so itself and returns nil.
type pageFunc func(w http.ResponseWriter, r *http.Request, s *session) error

// publicFunc is a page for anyone, such as the OAuth callback.
type publicFunc func(w http.ResponseWriter, r *http.Request) error

// webError is what a browser is told of an error: nothing in it comes
// from an error's text unless the error is the user's to fix (4xx).
type webError struct {
	Status int
	// Kind names the problem for the callback's JSON answer, as the API
	// names it.
	Kind    string
	Title   string
	Message string
	// ProviderStatus is the status an app's test request got.
	ProviderStatus int
	RetryAfter     int
	// Link is the page that fixes the error, if there is one.
	Link *errorLink
}

// errorLink points from an error to the page that fixes it.
type errorLink struct {
	Href, Text string
	// OwnersOnly: only a workspace owner may open the page, so nobody
	// else is shown the link.
	OwnersOnly bool
}

// internal reports whether the error is the server's or a provider's, not
// the user's: the page says so in general words and the log has the rest.
func (e webError) internal() bool { return e.Status >= 500 }

// classify is the one place the web decides what a service error means:
// errkind gives the status and kind, and this says it in the web's words.
// Unknown errors are internal.
func classify(err error) webError {
	if w, ok := browserError(err); ok {
		return w
	}
	c := errkind.Of(err)
	w := webError{Status: c.Status, Kind: c.Kind, Title: c.Title, RetryAfter: c.RetryAfter, ProviderStatus: c.ProviderStatus}
	if !w.internal() {
		w.Message = c.Detail
	}
	switch m := c.Match.(type) {
	case *connecting.NoClientError:
		w.Message = m.Error() + "; a workspace owner sets one on the OAuth clients page."
		w.Link = &errorLink{Href: "/oauth-clients?app=" + url.QueryEscape(m.App), Text: "Set an OAuth client for " + m.AppName, OwnersOnly: true}
	case *accounts.KeyAppError:
		w.Message = m.Error() + "."
		w.Link = &errorLink{Href: "/accounts/" + url.PathEscape(m.AccountID) + "#credentials", Text: "Replace its keys"}
	case *appapi.StatusError, *oauth.Error:
		if c.Kind == "credentials-test-failed" {
			// The app refused the test: its answer says why.
			w.Message = "The app answered " + answerOf(c.ProviderStatus, err) + "."
		}
	}
	switch c.Match {
	case outage.ErrOutcomeUnknown:
		w.Message = "Reload the page to see whether it was, before trying again."
	case outage.ErrUnavailable:
		w.Message = "Nothing was changed. Try again in a few seconds."
	case mcpauth.ErrNoGrant:
		w.Message = "no such MCP client among yours"
	case endusers.ErrInvalidToken:
		// Whoever meets it followed a link: the page names the link.
		w.Kind, w.Title = "connect-link-invalid", "This connect link does not work"
		w.Message = "It was used already or it expired. Go back to the app that sent you here and start again."
	}
	return w
}

// browserError classifies the errors that only a browser's flows meet:
// the OAuth callback, a connect or invitation link, a session, an MCP
// client's sign-in. The API never sees them, so they are not among its
// problem types.
func browserError(err error) (webError, bool) {
	e := func(status int, kind, title, msg string) (webError, bool) {
		return webError{Status: status, Kind: kind, Title: title, Message: msg}, true
	}
	switch {
	case errors.As(err, new(*connecting.MissingFieldError)):
		return e(http.StatusBadRequest, "callback-field-missing", errkind.NotCompleted, err.Error())
	case errors.Is(err, accounts.ErrMetadata):
		return e(http.StatusBadGateway, "provider-metadata", "The provider's account details could not be read", "")
	case errors.Is(err, endusers.ErrAppNotOffered):
		return e(http.StatusNotFound, "app-not-offered", "No such app here", "This connect link does not offer that app.")
	case errors.Is(err, identity.ErrLinkInvalid):
		return e(http.StatusNotFound, "link-invalid", "This link does not work", "It was used, revoked or replaced by a newer one, or it expired. Ask whoever sent it for a new one.")
	case errors.Is(err, identity.ErrNoSession):
		return e(http.StatusUnauthorized, "sign-in-required", "Sign in first", "")
	case errors.As(err, new(*mcpauth.BadRequestError)):
		return e(http.StatusBadRequest, "invalid-request", "This sign-in request is not valid", err.Error())
	}
	return webError{}, false
}

// friendly is what every internal error page says, by kind or status: short, and
// nothing of the error itself.
func friendly(e webError) string {
	switch e.Kind {
	case "database-unavailable", "outcome-unknown":
		// Written for people, and nothing in it comes from the cause.
		return e.Message
	}
	switch e.Status {
	case http.StatusBadGateway:
		return "An app's server did not answer as expected, so nothing was saved. Try again in a moment."
	case http.StatusServiceUnavailable:
		return "A provider could not be reached just now. Try again shortly."
	}
	return "Latchkey hit an error it did not expect; nothing you did caused it. Try again, and if it keeps happening, tell whoever runs this Latchkey."
}

// errorContent is the error page's content.
type errorContent struct {
	// Ref ties the page to the log line that has the detail.
	Ref string
}

// logFailure logs an internal error's detail under a reference the page
// shows, and returns the reference.
func (h *Handler) logFailure(r *http.Request, status int, err error) string {
	ref := rand.Text()[:10]
	h.log.ErrorContext(r.Context(), "page failed", "method", r.Method, "path", logPath(r), "status", status, "ref", ref, "err", err)
	return ref
}

// renderError answers a handler's error: a page (or, for a script, JSON)
// with the status it means. s may be nil (signed out).
func (h *Handler) renderError(w http.ResponseWriter, r *http.Request, s *session, err error) {
	e := classify(err)
	if e.Link != nil && e.Link.OwnersOnly && (s == nil || !s.actor.CanManageWorkspace()) {
		e.Link = nil
	}
	v := view{Title: e.Title, Error: e.Message, ErrorLink: e.Link}
	if s != nil {
		v = h.view(s, e.Title, "", nil)
		v.Error, v.ErrorLink = e.Message, e.Link
	}
	if e.internal() {
		ref := h.logFailure(r, e.Status, err)
		v.Title, v.Error, v.Content = "Something went wrong", friendly(e), errorContent{Ref: ref}
	} else {
		h.log.DebugContext(r.Context(), "page refused", "method", r.Method, "path", logPath(r), "status", e.Status, "err", err)
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	if wantsJSON(r) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(e.Status)
		answer := map[string]string{"error": messageOf(v)}
		if v.ErrorLink != nil {
			answer["link"], answer["link_text"] = v.ErrorLink.Href, v.ErrorLink.Text
		}
		writeJSON(w, answer)
		return
	}
	h.render(w, r, e.Status, "error.html", v)
}

// messageOf is a page's error in one line, for a script.
func messageOf(v view) string {
	if v.Error == "" {
		return v.Title
	}
	return v.Error
}

// internalError marks an error as the server's, whatever it wraps: it
// has no Unwrap, so classify sees none of it.
type internalError struct{ err error }

func (e internalError) Error() string { return e.err.Error() }

// writeProblem answers the callback's JSON form as the API would:
// application/problem+json, nothing internal in it.
func writeProblem(w http.ResponseWriter, e webError) {
	p := client.Problem{Type: "urn:latchkey:problem:" + e.Kind, Title: e.Title, Status: e.Status, Detail: e.Message}
	if e.internal() && e.Kind == "internal" {
		p.Detail = "the error was logged"
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// logPath is the request's path for a log line: an invitation or reset
// link's token is as good as the link, so it stays out.
func logPath(r *http.Request) string {
	for _, p := range []string{invitePath, resetPath} {
		if strings.HasPrefix(r.URL.Path, p) {
			return p + "[redacted]"
		}
	}
	return r.URL.Path
}
