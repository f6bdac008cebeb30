// Package errkind says what a service error means to whoever called: the
// HTTP status, the problem kind, a title, and how long to wait before a
// retry. The surfaces (the API, the web UI) share it, so that one error
// means one thing on both; each says the rest (detail, links, members) in
// its own words. Its kinds are the API's problem types, which the API's
// document lists; errors that only a browser's flows meet (a callback, a
// sign-in, an invitation link) the web classifies itself.
package errkind

import (
	"errors"
	"math"
	"net/http"

	"github.com/latchkeyhq/latchkey/internal/accounts"
	"github.com/latchkeyhq/latchkey/internal/actions"
	"github.com/latchkeyhq/latchkey/internal/appapi"
	"github.com/latchkeyhq/latchkey/internal/clients"
	"github.com/latchkeyhq/latchkey/internal/connecting"
	"github.com/latchkeyhq/latchkey/internal/endusers"
	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/mcpauth"
	"github.com/latchkeyhq/latchkey/internal/oauth"
	"github.com/latchkeyhq/latchkey/internal/outage"
	"github.com/latchkeyhq/latchkey/internal/outbound"
	"github.com/latchkeyhq/latchkey/internal/proxy"
	"github.com/latchkeyhq/latchkey/internal/webhooks"
	"github.com/latchkeyhq/latchkey/internal/workflows"
)

// Class is what an error means.
type Class struct {
	Status int
	// Kind names the problem; it ends the API's problem type and never
	// changes once published.
	Kind  string
	Title string
	// Detail is what a caller may be told of this error: its own text
	// when it is the caller's to read, a fixed phrase where the text would
	// say more than the caller may know, empty when the title says it all
	// or the error is internal.
	Detail string
	// RetryAfter is how many seconds to wait before trying again; zero
	// says nothing.
	RetryAfter int
	// ProviderStatus is the status an app answered a credentials test with,
	// when the app refused it.
	ProviderStatus int
	// Match is the error in the chain that decided the class: a sentinel
	// (compare with ==) or a typed error (use a type switch), for a
	// surface that says more of it. Nil for an internal error.
	Match error
}

// NotCompleted is the title of every error that ends an OAuth callback,
// here and in the web's own callback errors.
const NotCompleted = "The authorization cannot be completed"

// Of classifies err by its sentinels and types; the first case that
// matches decides, so a specific error comes before the one it wraps.
// An error nobody named is a 500 of kind "internal" that says nothing.
func Of(err error) Class {
	var (
		ie       *actions.InputError
		inUse    *workflows.InUseError
		nr       *accounts.NeedsReconnectError
		noClient *connecting.NoClientError
		keyApp   *accounts.KeyAppError
		wait     *connecting.WaitingError
		rl       *connecting.RateLimitError
		pe       *connecting.ProviderError
		ve       *accounts.ValidationError
		tf       *accounts.TestFailedError
		oe       *oauth.Error
		trl      *identity.RateLimitError
		idIn     *identity.InputError
		whIn     *webhooks.InputError
		pathErr  *proxy.PathError
		tooLarge *proxy.TooLargeError
	)
	switch {
	case errors.As(err, &ie):
		return class(http.StatusUnprocessableEntity, "invalid-input", "The input does not match the action's schema", ie.Error(), ie)
	case errors.Is(err, actions.ErrUnknownAction):
		return class(http.StatusNotFound, "not-found", "Not found", err.Error(), actions.ErrUnknownAction)
	case errors.As(err, &inUse):
		return class(http.StatusConflict, "account-in-use", "The account is used by workflows", inUse.Error(), inUse)
	case errors.As(err, &nr):
		return class(http.StatusConflict, "needs-reconnect", "The account needs to be reconnected", nr.Error(), nr)
	case errors.As(err, &noClient):
		return class(http.StatusUnprocessableEntity, "validation", "The input is not valid", noClient.Error(), noClient)
	case errors.As(err, &keyApp):
		return class(http.StatusUnprocessableEntity, "validation", "The input is not valid", keyApp.Error(), keyApp)
	case errors.Is(err, outage.ErrOutcomeUnknown):
		// The write may have been kept: retrying blindly could do it
		// twice. The cause names the database; each surface says what
		// to do instead.
		w := class(http.StatusServiceUnavailable, "outcome-unknown", "The database did not say whether the change was kept", "", outage.ErrOutcomeUnknown)
		w.RetryAfter = 5
		return w
	case errors.Is(err, outage.ErrUnavailable):
		w := class(http.StatusServiceUnavailable, "database-unavailable", "The database is unavailable", "", outage.ErrUnavailable)
		w.RetryAfter = 5
		return w
	case errors.Is(err, accounts.ErrRefreshUnavailable):
		return class(http.StatusServiceUnavailable, "refresh-unavailable", "The access token could not be refreshed just now", err.Error(), accounts.ErrRefreshUnavailable)
	case errors.Is(err, connecting.ErrBadState):
		return class(http.StatusBadRequest, "invalid-state", NotCompleted, err.Error(), connecting.ErrBadState)
	case errors.Is(err, connecting.ErrOtherSession):
		return class(http.StatusBadRequest, "other-session", NotCompleted, err.Error(), connecting.ErrOtherSession)
	case errors.Is(err, connecting.ErrOtherBrowser):
		return class(http.StatusBadRequest, "other-browser", NotCompleted, err.Error(), connecting.ErrOtherBrowser)
	case errors.Is(err, connecting.ErrOtherFlow):
		return class(http.StatusBadRequest, "other-flow", NotCompleted, err.Error(), connecting.ErrOtherFlow)
	case errors.Is(err, connecting.ErrOtherUser):
		return class(http.StatusForbidden, "other-user", NotCompleted, err.Error(), connecting.ErrOtherUser)
	case errors.Is(err, connecting.ErrTooManyAttempts):
		return class(http.StatusForbidden, "too-many-attempts", NotCompleted, err.Error(), connecting.ErrTooManyAttempts)
	case errors.As(err, &wait):
		if wait.NeedCode {
			return class(http.StatusUnauthorized, "one-time-code-required", "The one-time code is needed to finish", err.Error(), wait)
		}
		return class(http.StatusUnauthorized, "sign-in-required", "Sign in to finish", err.Error(), wait)
	case errors.As(err, &rl):
		w := class(http.StatusTooManyRequests, "rate-limited", "Too many requests", rl.Error(), rl)
		w.RetryAfter = int(math.Ceil(rl.RetryAfter.Seconds()))
		return w
	case errors.Is(err, connecting.ErrMissingCode):
		return class(http.StatusBadRequest, "missing-code", NotCompleted, err.Error(), connecting.ErrMissingCode)
	case errors.As(err, &pe):
		return class(http.StatusBadRequest, "provider-refused", "The provider did not grant access", pe.Error(), pe)
	case errors.As(err, &ve):
		return class(http.StatusUnprocessableEntity, "validation", "The input is not valid", ve.Error(), ve)
	case errors.As(err, &tf):
		return testFailed(err, tf)
	case errors.As(err, &oe):
		return class(http.StatusBadGateway, "token-exchange-failed", "The provider did not issue a token", oe.Error(), oe)
	case errors.Is(err, outbound.ErrRedirect):
		return class(http.StatusBadGateway, "provider-redirect", "The app answered with a redirect, which Latchkey does not follow", err.Error(), outbound.ErrRedirect)
	case errors.Is(err, appapi.ErrUnreachable):
		return class(http.StatusBadGateway, "provider-unreachable", "The app could not be reached", err.Error(), appapi.ErrUnreachable)
	case errors.As(err, &trl):
		w := class(http.StatusTooManyRequests, "token-rate-limited", "The token is used too often", trl.Error(), trl)
		w.RetryAfter = max(int(math.Ceil(trl.Wait.Seconds())), 1)
		return w
	// The not-founds below wrap the store's, so they come before it.
	case errors.Is(err, identity.ErrNoToken):
		return class(http.StatusNotFound, "not-found", "Not found", "no such API token among yours", identity.ErrNoToken)
	case errors.Is(err, mcpauth.ErrNoGrant):
		return class(http.StatusNotFound, "not-found", "Not found", "no such MCP client grant among yours", mcpauth.ErrNoGrant)
	case errors.Is(err, identity.ErrTokenRotated):
		return class(http.StatusConflict, "token-rotated", "The token was rotated already", err.Error(), identity.ErrTokenRotated)
	case errors.Is(err, accounts.ErrUnknownApp):
		return class(http.StatusNotFound, "unknown-app", "No such app", err.Error(), accounts.ErrUnknownApp)
	case errors.Is(err, identity.ErrLastOwner):
		return class(http.StatusConflict, "last-owner", "The workspace's last owner", err.Error(), identity.ErrLastOwner)
	// An *identity.InputError of its own.
	case errors.Is(err, identity.ErrWrongPassword):
		return class(http.StatusUnprocessableEntity, "wrong-password", "The current password is wrong", "nothing was changed", identity.ErrWrongPassword)
	case errors.Is(err, identity.ErrTooManyLinkAttempts):
		w := class(http.StatusTooManyRequests, "rate-limited", "Too many requests", "too many attempts; wait a minute", identity.ErrTooManyLinkAttempts)
		w.RetryAfter = int(identity.SignInRetryAfter.Seconds())
		return w
	case errors.As(err, &idIn):
		return class(http.StatusUnprocessableEntity, "validation", "The input is not valid", err.Error(), idIn)
	case errors.Is(err, identity.ErrNoUser):
		return class(http.StatusNotFound, "not-found", "Not found", "no such member in this workspace", identity.ErrNoUser)
	case errors.Is(err, endusers.ErrNoEndUser):
		return class(http.StatusNotFound, "not-found", "Not found", "no such end user, or none of their accounts you may see", endusers.ErrNoEndUser)
	case errors.Is(err, endusers.ErrInvalidToken):
		return class(http.StatusGone, "connect-token-invalid", "The connect token cannot be used", err.Error(), endusers.ErrInvalidToken)
	case errors.As(err, &whIn):
		return class(http.StatusUnprocessableEntity, "validation", "The input is not valid", err.Error(), whIn)
	case errors.Is(err, webhooks.ErrNotFound):
		return class(http.StatusNotFound, "not-found", "Not found", "no such webhook endpoint or delivery in this workspace", webhooks.ErrNotFound)
	case errors.Is(err, webhooks.ErrInFlight):
		return class(http.StatusConflict, "in-flight", "The delivery is being sent", err.Error(), webhooks.ErrInFlight)
	case errors.As(err, &pathErr):
		return class(http.StatusBadRequest, "proxy-path", "The path is not one the proxy forwards", pathErr.Error(), pathErr)
	case errors.Is(err, proxy.ErrMethod):
		return class(http.StatusMethodNotAllowed, "method-not-allowed", "The proxy does not forward this method", err.Error(), proxy.ErrMethod)
	case errors.As(err, &tooLarge) && tooLarge.Request:
		return class(http.StatusRequestEntityTooLarge, "body-too-large", "The body is too large", tooLarge.Error(), tooLarge)
	case errors.As(err, &tooLarge):
		return class(http.StatusBadGateway, "answer-too-large", "The provider's answer is too large", tooLarge.Error(), tooLarge)
	case errors.Is(err, proxy.ErrTimeout):
		return class(http.StatusGatewayTimeout, "provider-timeout", "The provider did not answer in time", err.Error(), proxy.ErrTimeout)
	case errors.Is(err, proxy.ErrUnreachable):
		return class(http.StatusBadGateway, "provider-unreachable", "The provider could not be reached", err.Error(), proxy.ErrUnreachable)
	// The services' own not-found and conflict (one value today, the
	// store's; naming each service keeps this true if one gets its own).
	case errors.Is(err, accounts.ErrNotFound), errors.Is(err, clients.ErrNotFound), errors.Is(err, workflows.ErrNotFound):
		return class(http.StatusNotFound, "not-found", "Not found", "no such account, or you may not see it", accounts.ErrNotFound)
	case errors.Is(err, identity.ErrForbidden):
		return class(http.StatusForbidden, "forbidden", "Not allowed", err.Error(), identity.ErrForbidden)
	case errors.Is(err, accounts.ErrConflict), errors.Is(err, workflows.ErrConflict):
		return class(http.StatusConflict, "conflict", "Already exists", "", accounts.ErrConflict)
	}
	return class(http.StatusInternalServerError, "internal", "Something went wrong", "", nil)
}

// class is a Class of no retry and no provider status.
func class(status int, kind, title, detail string, match error) Class {
	return Class{Status: status, Kind: kind, Title: title, Detail: detail, Match: match}
}

// testFailed classifies a key app's failed test request. A minted app's
// test is its first mint: a refused mint is a refusal of the entered
// secret, an outage is the provider's. Match is the app's answer when
// the app refused, so that a surface can quote it.
func testFailed(err error, tf *accounts.TestFailedError) Class {
	const refused = "The app refused the credentials; nothing was saved"
	var se *appapi.StatusError
	var oe *oauth.Error
	switch {
	case errors.As(err, &se):
		w := class(http.StatusUnprocessableEntity, "credentials-test-failed", refused, tf.Error(), se)
		w.ProviderStatus = se.Status
		return w
	case errors.As(err, &oe) && oe.Kind == oauth.Permanent:
		w := class(http.StatusUnprocessableEntity, "credentials-test-failed", refused, tf.Error(), oe)
		w.ProviderStatus = oe.Status
		return w
	case errors.As(err, &oe), errors.Is(err, appapi.ErrUnreachable):
		return class(http.StatusBadGateway, "provider-unreachable", "The app could not be reached to test the credentials; nothing was saved", tf.Error(), tf)
	case errors.Is(err, outbound.ErrRedirect):
		return class(http.StatusBadGateway, "provider-redirect", "The app answered the test with a redirect, which Latchkey does not follow; nothing was saved", tf.Error(), tf)
	}
	return class(http.StatusUnprocessableEntity, "credentials-test-failed", refused, tf.Error(), tf)
}
