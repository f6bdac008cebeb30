package web

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/accounts"
	"github.com/latchkeyhq/latchkey/internal/appapi"
	"github.com/latchkeyhq/latchkey/internal/clients"
	"github.com/latchkeyhq/latchkey/internal/connecting"
	"github.com/latchkeyhq/latchkey/internal/endusers"
	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/mcpauth"
	"github.com/latchkeyhq/latchkey/internal/oauth"
	"github.com/latchkeyhq/latchkey/internal/outage"
	"github.com/latchkeyhq/latchkey/internal/outbound"
	"github.com/latchkeyhq/latchkey/internal/webhooks"
	"github.com/latchkeyhq/latchkey/internal/workflows"
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

// classify is the one place the web decides what a service error means,
// by its sentinel or type. Unknown errors are internal.
func classify(err error) webError {
	e := func(status int, kind, title, msg string) webError {
		return webError{Status: status, Kind: kind, Title: title, Message: msg}
	}
	var (
		nr    *accounts.NeedsReconnectError
		inUse *workflows.InUseError
		pe    *connecting.ProviderError
		oe    *oauth.Error
		ve    *accounts.ValidationError
		tf    *accounts.TestFailedError
		se    *appapi.StatusError
		wait  *connecting.WaitingError
		rl    *connecting.RateLimitError
		noCl  *connecting.NoClientError
		keys  *accounts.KeyAppError
	)
	switch {
	case errors.As(err, &noCl):
		w := e(http.StatusUnprocessableEntity, "validation", "The input is not valid", noCl.Error()+"; a workspace owner sets one on the OAuth clients page.")
		w.Link = &errorLink{Href: "/oauth-clients?app=" + url.QueryEscape(noCl.App), Text: "Set an OAuth client for " + noCl.AppName, OwnersOnly: true}
		return w
	case errors.As(err, &keys):
		w := e(http.StatusUnprocessableEntity, "validation", "The input is not valid", keys.Error()+".")
		w.Link = &errorLink{Href: "/accounts/" + url.PathEscape(keys.AccountID) + "#credentials", Text: "Replace its keys"}
		return w
	case errors.Is(err, identity.ErrNoToken):
		return e(http.StatusNotFound, "not-found", "Not found", "no such API token among yours")
	case errors.Is(err, identity.ErrTokenRotated):
		return e(http.StatusConflict, "token-rotated", "The token was rotated already", err.Error())
	case errors.As(err, &inUse):
		return e(http.StatusConflict, "account-in-use", "The account is used by workflows", inUse.Error())
	case errors.As(err, &nr):
		return e(http.StatusConflict, "needs-reconnect", "The account needs to be reconnected", nr.Error())
	case errors.Is(err, outage.ErrOutcomeUnknown):
		w := e(http.StatusServiceUnavailable, "outcome-unknown", "The database did not say whether the change was kept", "Reload the page to see whether it was, before trying again.")
		w.RetryAfter = 5
		return w
	case errors.Is(err, outage.ErrUnavailable):
		w := e(http.StatusServiceUnavailable, "database-unavailable", "The database is unavailable", "Nothing was changed. Try again in a few seconds.")
		w.RetryAfter = 5
		return w
	case errors.Is(err, accounts.ErrRefreshUnavailable):
		return e(http.StatusServiceUnavailable, "refresh-unavailable", "The access token could not be refreshed just now", "")
	case errors.Is(err, connecting.ErrBadState):
		return e(http.StatusBadRequest, "invalid-state", "The authorization cannot be completed", err.Error())
	case errors.Is(err, connecting.ErrOtherSession):
		return e(http.StatusBadRequest, "other-session", "The authorization cannot be completed", err.Error())
	case errors.Is(err, connecting.ErrOtherBrowser):
		return e(http.StatusBadRequest, "other-browser", "The authorization cannot be completed", err.Error())
	case errors.Is(err, connecting.ErrOtherFlow):
		return e(http.StatusBadRequest, "other-flow", "The authorization cannot be completed", err.Error())
	case errors.Is(err, connecting.ErrOtherUser):
		return e(http.StatusForbidden, "other-user", "The authorization cannot be completed", err.Error())
	case errors.Is(err, connecting.ErrTooManyAttempts):
		return e(http.StatusForbidden, "too-many-attempts", "The authorization cannot be completed", err.Error())
	case errors.Is(err, connecting.ErrMissingCode):
		return e(http.StatusBadRequest, "missing-code", "The authorization cannot be completed", err.Error())
	case errors.As(err, new(*connecting.MissingFieldError)):
		return e(http.StatusBadRequest, "callback-field-missing", "The authorization cannot be completed", err.Error())
	case errors.Is(err, accounts.ErrMetadata):
		return e(http.StatusBadGateway, "provider-metadata", "The provider's account details could not be read", "")
	case errors.As(err, &wait):
		if wait.NeedCode {
			return e(http.StatusUnauthorized, "one-time-code-required", "The one-time code is needed to finish", err.Error())
		}
		return e(http.StatusUnauthorized, "sign-in-required", "Sign in to finish", err.Error())
	case errors.As(err, &rl):
		w := e(http.StatusTooManyRequests, "rate-limited", "Too many requests", rl.Error())
		w.RetryAfter = int(math.Ceil(rl.RetryAfter.Seconds()))
		return w
	case errors.As(err, &pe):
		return e(http.StatusBadRequest, "provider-refused", "The provider did not grant access", pe.Error())
	case errors.As(err, &ve):
		return e(http.StatusUnprocessableEntity, "validation", "The input is not valid", ve.Error())
	case errors.As(err, &tf):
		switch {
		case errors.As(err, &se):
			w := e(http.StatusUnprocessableEntity, "credentials-test-failed", "The app refused the credentials; nothing was saved", "The app answered "+answerOf(se.Status, err)+".")
			w.ProviderStatus = se.Status
			return w
		case errors.As(err, &oe) && oe.Kind == oauth.Permanent:
			// A minted app's first mint, refused: the secret is wrong.
			w := e(http.StatusUnprocessableEntity, "credentials-test-failed", "The app refused the credentials; nothing was saved", "The app answered "+answerOf(oe.Status, err)+".")
			w.ProviderStatus = oe.Status
			return w
		case errors.As(err, &oe):
			return e(http.StatusBadGateway, "provider-unreachable", "The app could not be reached to test the credentials; nothing was saved", "")
		case errors.Is(err, outbound.ErrRedirect):
			return e(http.StatusBadGateway, "provider-redirect", "The app answered the test with a redirect, which Latchkey does not follow; nothing was saved", "")
		case errors.Is(err, appapi.ErrUnreachable):
			return e(http.StatusBadGateway, "provider-unreachable", "The app could not be reached to test the credentials; nothing was saved", "")
		}
		return e(http.StatusUnprocessableEntity, "credentials-test-failed", "The app refused the credentials; nothing was saved", tf.Error())
	case errors.As(err, &oe):
		return e(http.StatusBadGateway, "token-exchange-failed", "The provider did not issue a token", "")
	case errors.Is(err, accounts.ErrUnknownApp):
		return e(http.StatusNotFound, "unknown-app", "No such app", err.Error())
	case errors.Is(err, endusers.ErrInvalidToken):
		return e(http.StatusGone, "connect-link-invalid", "This connect link does not work", "It was used already or it expired. Go back to the app that sent you here and start again.")
	case errors.Is(err, endusers.ErrAppNotOffered):
		return e(http.StatusNotFound, "app-not-offered", "No such app here", "This connect link does not offer that app.")
	case errors.Is(err, identity.ErrLinkInvalid):
		return e(http.StatusNotFound, "link-invalid", "This link does not work", "It was used, revoked or replaced by a newer one, or it expired. Ask whoever sent it for a new one.")
	case errors.Is(err, identity.ErrLastOwner):
		return e(http.StatusConflict, "last-owner", "The workspace's last owner", err.Error())
	case errors.As(err, new(*identity.InputError)):
		return e(http.StatusUnprocessableEntity, "validation", "The input is not valid", err.Error())
	case errors.Is(err, identity.ErrNoUser):
		return e(http.StatusNotFound, "not-found", "Not found", "no such member in this workspace")
	case errors.Is(err, identity.ErrNoSession):
		return e(http.StatusUnauthorized, "sign-in-required", "Sign in first", "")
	case errors.As(err, new(*mcpauth.BadRequestError)):
		return e(http.StatusBadRequest, "invalid-request", "This sign-in request is not valid", err.Error())
	case errors.Is(err, mcpauth.ErrNoGrant):
		return e(http.StatusNotFound, "not-found", "Not found", "no such MCP client among yours")
	case errors.Is(err, webhooks.ErrNotFound):
		return e(http.StatusNotFound, "not-found", "Not found", "no such webhook endpoint or delivery in this workspace")
	case errors.As(err, new(*webhooks.InputError)):
		return e(http.StatusUnprocessableEntity, "invalid", "Check the form", err.Error())
	case errors.Is(err, webhooks.ErrInFlight):
		return e(http.StatusConflict, "in-flight", "Being sent", err.Error())
	case isNotFound(err):
		return e(http.StatusNotFound, "not-found", "Not found", "no such account, or you may not see it")
	case errors.Is(err, identity.ErrForbidden):
		return e(http.StatusForbidden, "forbidden", "Not allowed", err.Error())
	case isConflict(err):
		return e(http.StatusConflict, "conflict", "Already exists", "")
	}
	return e(http.StatusInternalServerError, "internal", "Something went wrong", "")
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

// isNotFound and isConflict read the services' sentinels. (They are one
// value today, the store's; naming each service keeps this true if one
// gets its own.)
func isNotFound(err error) bool {
	return errors.Is(err, accounts.ErrNotFound) || errors.Is(err, clients.ErrNotFound) || errors.Is(err, workflows.ErrNotFound)
}

func isConflict(err error) bool {
	return errors.Is(err, accounts.ErrConflict) || errors.Is(err, workflows.ErrConflict)
}
