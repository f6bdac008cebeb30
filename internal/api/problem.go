package api

import (
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"

	"github.com/latchkeyhq/latchkey/internal/mcpauth"

	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/outage"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/accounts"
	"github.com/latchkeyhq/latchkey/internal/actions"
	"github.com/latchkeyhq/latchkey/internal/appapi"
	"github.com/latchkeyhq/latchkey/internal/clients"
	"github.com/latchkeyhq/latchkey/internal/connecting"
	"github.com/latchkeyhq/latchkey/internal/endusers"
	"github.com/latchkeyhq/latchkey/internal/oauth"
	"github.com/latchkeyhq/latchkey/internal/outbound"
	"github.com/latchkeyhq/latchkey/internal/proxy"
	"github.com/latchkeyhq/latchkey/internal/webhooks"
	"github.com/latchkeyhq/latchkey/internal/workflows"
)

// ProblemTypePrefix starts every problem type; the rest names the kind and
// never changes once published.
const ProblemTypePrefix = "urn:latchkey:problem:"

// Problem is an RFC 9457 problem detail; the wire type lives in the
// public client package.
type Problem = client.Problem

func problem(status int, kind, title, detail string) *Problem {
	return &Problem{Type: ProblemTypePrefix + kind, Title: title, Status: status, Detail: detail}
}

// Problems the handlers raise themselves.
func errMalformed(detail string) *Problem {
	return problem(http.StatusBadRequest, "malformed-request", "The request is malformed", detail)
}

func errUnauthorized(detail string) *Problem {
	return problem(http.StatusUnauthorized, "unauthorized", "Authentication is required", detail)
}

// ToProblem maps a service error to the problem a client sees.
func ToProblem(err error) *Problem { return toProblem(err) }

// toProblem maps a service error to the problem the client sees. Unknown
// errors become a 500 whose detail says nothing; the log has the cause.
func toProblem(err error) *Problem {
	var p *Problem
	var ie *actions.InputError
	var nr *accounts.NeedsReconnectError
	var inUse *workflows.InUseError
	var pe *connecting.ProviderError
	var oe *oauth.Error
	var ve *accounts.ValidationError
	var tf *accounts.TestFailedError
	var se *appapi.StatusError
	var wait *connecting.WaitingError
	var rl *connecting.RateLimitError
	var noClient *connecting.NoClientError
	var keyApp *accounts.KeyAppError
	var trl *identity.RateLimitError
	var pathErr *proxy.PathError
	var tooLarge *proxy.TooLargeError
	switch {
	case errors.As(err, &ie):
		return inputProblem(ie)
	case errors.Is(err, actions.ErrUnknownAction):
		return problem(http.StatusNotFound, "not-found", "Not found", err.Error())
	case errors.As(err, &p):
		return p
	case errors.As(err, &inUse):
		verb := "delete"
		if inUse.Unsharing {
			verb = "share"
		}
		pr := problem(http.StatusConflict, "account-in-use", "The account is used by workflows", inUse.Error()+"; "+verb+" with ?force=true to go ahead")
		// The facts as members, so that a client can say them in its own
		// words (the CLI's is a flag, not a query parameter).
		for _, w := range inUse.Workflows {
			pr.UsedBy = append(pr.UsedBy, client.WorkflowRef{ID: w.ID, Name: w.Name})
		}
		pr.HiddenWorkflows = inUse.Hidden
		return pr
	case errors.As(err, &nr):
		pr := problem(http.StatusConflict, "needs-reconnect", "The account needs to be reconnected", nr.Error())
		pr.AccountID = nr.AccountID
		pr.ReconnectPath = "/v1/accounts/" + nr.AccountID + "/reconnect"
		return pr
	case errors.As(err, &noClient):
		// A validation problem, as before; the members say how to fix it.
		pr := problem(http.StatusUnprocessableEntity, "validation", "The input is not valid",
			"app: "+noClient.Error()+"; an owner sets one with PUT "+oauthClientPath(noClient.App))
		pr.Field, pr.App, pr.OAuthClientPath = "app", noClient.App, oauthClientPath(noClient.App)
		return pr
	case errors.As(err, &keyApp):
		pr := problem(http.StatusUnprocessableEntity, "validation", "The input is not valid",
			"app: "+keyApp.Error()+" (PUT "+credentialsPath(keyApp.AccountID)+")")
		pr.Field, pr.AccountID, pr.CredentialsPath = "app", keyApp.AccountID, credentialsPath(keyApp.AccountID)
		return pr
	case errors.Is(err, outage.ErrOutcomeUnknown):
		// The write may have been kept: retrying blindly could do it twice.
		pr := problem(http.StatusServiceUnavailable, "outcome-unknown", "The database did not say whether the change was kept", "read the record back before retrying")
		pr.RetryAfter = 5
		return pr
	case errors.Is(err, outage.ErrUnavailable):
		pr := problem(http.StatusServiceUnavailable, "database-unavailable", "The database is unavailable", "nothing was changed; try again shortly")
		pr.RetryAfter = 5
		return pr
	case errors.Is(err, accounts.ErrRefreshUnavailable):
		return problem(http.StatusServiceUnavailable, "refresh-unavailable", "The access token could not be refreshed just now", err.Error())
	case errors.Is(err, connecting.ErrBadState):
		return problem(http.StatusBadRequest, "invalid-state", "The authorization cannot be completed", err.Error())
	case errors.Is(err, connecting.ErrOtherSession):
		return problem(http.StatusBadRequest, "other-session", "The authorization cannot be completed", err.Error())
	case errors.Is(err, connecting.ErrOtherBrowser):
		return problem(http.StatusBadRequest, "other-browser", "The authorization cannot be completed", err.Error())
	case errors.Is(err, connecting.ErrOtherFlow):
		return problem(http.StatusBadRequest, "other-flow", "The authorization cannot be completed", err.Error())
	case errors.Is(err, connecting.ErrOtherUser):
		return problem(http.StatusForbidden, "other-user", "The authorization cannot be completed", err.Error())
	case errors.Is(err, connecting.ErrTooManyAttempts):
		return problem(http.StatusForbidden, "too-many-attempts", "The authorization cannot be completed", err.Error())
	case errors.As(err, &wait):
		if wait.NeedCode {
			return problem(http.StatusUnauthorized, "one-time-code-required", "The one-time code is needed to finish", err.Error())
		}
		return problem(http.StatusUnauthorized, "sign-in-required", "Sign in to finish", err.Error())
	case errors.As(err, &rl):
		pr := problem(http.StatusTooManyRequests, "rate-limited", "Too many requests", rl.Error())
		pr.RetryAfter = int(math.Ceil(rl.RetryAfter.Seconds()))
		return pr
	case errors.Is(err, connecting.ErrMissingCode):
		return problem(http.StatusBadRequest, "missing-code", "The authorization cannot be completed", err.Error())
	case errors.As(err, &pe):
		return problem(http.StatusBadRequest, "provider-refused", "The provider did not grant access", pe.Error())
	case errors.As(err, &ve):
		pr := problem(http.StatusUnprocessableEntity, "validation", "The input is not valid", ve.Error())
		pr.Field = ve.Field
		return pr
	case errors.As(err, &tf):
		// A minted app's test is its first mint: a refused mint is a
		// refusal of the entered secret, an outage is the provider's.
		pr := problem(http.StatusUnprocessableEntity, "credentials-test-failed", "The app refused the credentials; nothing was saved", tf.Error())
		if errors.As(err, &se) {
			pr.ProviderStatus = se.Status
		} else if errors.As(err, &oe) && oe.Kind == oauth.Permanent {
			pr.ProviderStatus = oe.Status
		} else if errors.As(err, &oe) || errors.Is(err, appapi.ErrUnreachable) {
			pr.Type = ProblemTypePrefix + "provider-unreachable"
			pr.Title = "The app could not be reached to test the credentials; nothing was saved"
			pr.Status = http.StatusBadGateway
		} else if errors.Is(err, outbound.ErrRedirect) {
			pr.Type = ProblemTypePrefix + "provider-redirect"
			pr.Title = "The app answered the test with a redirect, which Latchkey does not follow; nothing was saved"
			pr.Status = http.StatusBadGateway
		}
		return pr
	case errors.As(err, &oe):
		return problem(http.StatusBadGateway, "token-exchange-failed", "The provider did not issue a token", oe.Error())
	case errors.Is(err, outbound.ErrRedirect):
		return problem(http.StatusBadGateway, "provider-redirect", "The app answered with a redirect, which Latchkey does not follow", err.Error())
	case errors.Is(err, appapi.ErrUnreachable):
		return problem(http.StatusBadGateway, "provider-unreachable", "The app could not be reached", err.Error())
	case errors.As(err, &trl):
		pr := problem(http.StatusTooManyRequests, "token-rate-limited", "The token is used too often", trl.Error())
		pr.RetryAfter = max(int(math.Ceil(trl.Wait.Seconds())), 1)
		return pr
	case errors.Is(err, identity.ErrNoToken):
		return problem(http.StatusNotFound, "not-found", "Not found", "no such API token among yours")
	case errors.Is(err, mcpauth.ErrNoGrant):
		return problem(http.StatusNotFound, "not-found", "Not found", "no such MCP client grant among yours")
	case errors.Is(err, identity.ErrTokenRotated):
		return problem(http.StatusConflict, "token-rotated", "The token was rotated already", err.Error())
	case errors.Is(err, accounts.ErrUnknownApp):
		return problem(http.StatusNotFound, "unknown-app", "No such app", err.Error())
	case errors.Is(err, identity.ErrLastOwner):
		return problem(http.StatusConflict, "last-owner", "The workspace's last owner", err.Error())
	case errors.Is(err, identity.ErrWrongPassword):
		return problem(http.StatusUnprocessableEntity, "wrong-password", "The current password is wrong", "nothing was changed")
	case errors.Is(err, identity.ErrTooManyLinkAttempts):
		pr := problem(http.StatusTooManyRequests, "rate-limited", "Too many requests", "too many attempts; wait a minute")
		pr.RetryAfter = int(identity.SignInRetryAfter.Seconds())
		return pr
	case errors.As(err, new(*identity.InputError)):
		return problem(http.StatusUnprocessableEntity, "validation", "The input is not valid", err.Error())
	case errors.Is(err, identity.ErrNoUser):
		return problem(http.StatusNotFound, "not-found", "Not found", "no such member in this workspace")
	case errors.Is(err, endusers.ErrNoEndUser):
		return problem(http.StatusNotFound, "not-found", "Not found", "no such end user, or none of their accounts you may see")
	case errors.Is(err, endusers.ErrInvalidToken):
		return problem(http.StatusGone, "connect-token-invalid", "The connect token cannot be used", err.Error())
	case errors.As(err, new(*webhooks.InputError)):
		pr := problem(http.StatusUnprocessableEntity, "validation", "The input is not valid", err.Error())
		var ie *webhooks.InputError
		errors.As(err, &ie)
		pr.Field = ie.Field
		return pr
	case errors.Is(err, webhooks.ErrNotFound):
		return problem(http.StatusNotFound, "not-found", "Not found", "no such webhook endpoint or delivery in this workspace")
	case errors.Is(err, webhooks.ErrInFlight):
		return problem(http.StatusConflict, "in-flight", "The delivery is being sent", err.Error())
	case errors.As(err, &pathErr):
		return problem(http.StatusBadRequest, "proxy-path", "The path is not one the proxy forwards", pathErr.Error())
	case errors.Is(err, proxy.ErrMethod):
		return problem(http.StatusMethodNotAllowed, "method-not-allowed", "The proxy does not forward this method", err.Error())
	case errors.As(err, &tooLarge) && tooLarge.Request:
		return problem(http.StatusRequestEntityTooLarge, "body-too-large", "The body is too large", tooLarge.Error())
	case errors.As(err, &tooLarge):
		return problem(http.StatusBadGateway, "answer-too-large", "The provider's answer is too large", tooLarge.Error())
	case errors.Is(err, proxy.ErrTimeout):
		return problem(http.StatusGatewayTimeout, "provider-timeout", "The provider did not answer in time", err.Error())
	case errors.Is(err, proxy.ErrUnreachable):
		return problem(http.StatusBadGateway, "provider-unreachable", "The provider could not be reached", err.Error())
	case isNotFound(err):
		return problem(http.StatusNotFound, "not-found", "Not found", "no such account, or you may not see it")
	case errors.Is(err, identity.ErrForbidden):
		return problem(http.StatusForbidden, "forbidden", "Not allowed", err.Error())
	case isConflict(err):
		return problem(http.StatusConflict, "conflict", "Already exists", "")
	default:
		return problem(http.StatusInternalServerError, "internal", "Something went wrong", "the error was logged")
	}
}

// oauthClientPath is where an app's OAuth client is set (PUT).
func oauthClientPath(app string) string { return "/v1/apps/" + app + "/oauth-client" }

// credentialsPath is where a key-based account is given new keys (PUT).
func credentialsPath(accountID string) string { return "/v1/accounts/" + accountID + "/credentials" }

// WriteProblem sends p as application/problem+json.
func WriteProblem(w http.ResponseWriter, p *Problem) { writeProblem(w, p) }

// writeProblem sends p as application/problem+json.
func writeProblem(w http.ResponseWriter, p *Problem) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	if p.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "30")
	}
	if p.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(p.RetryAfter))
	}
	w.WriteHeader(p.Status)
	_ = newEncoder(w).Encode(p)
}

// handlerFunc is a handler that returns its error; adapt turns the error
// into a problem response and logs what the client is not told.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (h *Handler) adapt(fn handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		err := fn(w, r)
		if err == nil {
			return
		}
		p := toProblem(err)
		level := slog.LevelDebug
		if p.Status >= 500 {
			level = slog.LevelError
		}
		h.log.Log(r.Context(), level, "request failed", "method", r.Method, "route", r.Pattern, "status", p.Status, "err", err)
		writeProblem(w, p)
	}
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
