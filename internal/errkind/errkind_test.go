package errkind

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/latchkeyhq/latchkey/internal/accounts"
	"github.com/latchkeyhq/latchkey/internal/actions"
	"github.com/latchkeyhq/latchkey/internal/appapi"
	"github.com/latchkeyhq/latchkey/internal/catalog"
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

// TestOf: every error a service names means one status and kind, whether
// it comes as is or wrapped in a caller's context.
func TestOf(t *testing.T) {
	statusErr := &appapi.StatusError{Status: 401, Message: "bad key"}
	refusedMint := &oauth.Error{Kind: oauth.Permanent, Code: "invalid_client", Status: 400}
	tests := []struct {
		name   string
		err    error
		status int
		kind   string
		// retry and provider are RetryAfter and ProviderStatus.
		retry, provider int
		// match is the error a surface reads more from; nil: not checked.
		match error
	}{
		{name: "action input", err: &actions.InputError{Problems: []catalog.Problem{{Field: "channel", Message: "is required"}}}, status: 422, kind: "invalid-input"},
		{name: "unknown action", err: fmt.Errorf("%w %q: name an action as app.action", actions.ErrUnknownAction, "x"), status: 404, kind: "not-found", match: actions.ErrUnknownAction},
		// The action is what was asked for, whatever its app.
		{name: "unknown action of an unknown app", err: fmt.Errorf("%w %q: %w", actions.ErrUnknownAction, "nope.x", accounts.ErrUnknownApp), status: 404, kind: "not-found", match: actions.ErrUnknownAction},
		{name: "account in use", err: &workflows.InUseError{Workflows: []workflows.Ref{{ID: "wf_1", Name: "Digest"}}}, status: 409, kind: "account-in-use"},
		{name: "needs reconnect", err: &accounts.NeedsReconnectError{AccountID: "acc_1", Reason: "invalid_grant"}, status: 409, kind: "needs-reconnect"},
		// Reconnecting is the fix, not the provider's refusal under it.
		{name: "needs reconnect over an OAuth error", err: fmt.Errorf("%w: %w", &accounts.NeedsReconnectError{AccountID: "acc_1"}, refusedMint), status: 409, kind: "needs-reconnect"},
		{name: "no OAuth client", err: &connecting.NoClientError{App: "github", AppName: "GitHub"}, status: 422, kind: "validation"},
		{name: "a key app reconnected", err: &accounts.KeyAppError{AccountID: "acc_1", AppName: "SendGrid", Auth: catalog.AuthKeys}, status: 422, kind: "validation"},
		{name: "outcome unknown", err: fmt.Errorf("rename: %w: i/o timeout", outage.ErrOutcomeUnknown), status: 503, kind: "outcome-unknown", retry: 5, match: outage.ErrOutcomeUnknown},
		{name: "database unavailable", err: fmt.Errorf("list: %w: connection refused", outage.ErrUnavailable), status: 503, kind: "database-unavailable", retry: 5, match: outage.ErrUnavailable},
		// A refresh that failed because the database did is the database's.
		{name: "refresh failed on an outage", err: fmt.Errorf("%w: %w", accounts.ErrRefreshUnavailable, outage.ErrUnavailable), status: 503, kind: "database-unavailable", retry: 5},
		{name: "refresh unavailable", err: accounts.ErrRefreshUnavailable, status: 503, kind: "refresh-unavailable"},
		{name: "bad state", err: connecting.ErrBadState, status: 400, kind: "invalid-state"},
		{name: "other session", err: connecting.ErrOtherSession, status: 400, kind: "other-session"},
		{name: "other browser", err: connecting.ErrOtherBrowser, status: 400, kind: "other-browser"},
		{name: "other flow", err: connecting.ErrOtherFlow, status: 400, kind: "other-flow"},
		{name: "other user", err: connecting.ErrOtherUser, status: 403, kind: "other-user"},
		{name: "code tried too often", err: connecting.ErrTooManyAttempts, status: 403, kind: "too-many-attempts"},
		{name: "waiting for the code", err: &connecting.WaitingError{ConnectionID: "conn_1", NeedCode: true}, status: 401, kind: "one-time-code-required"},
		{name: "waiting for a sign-in", err: &connecting.WaitingError{ConnectionID: "conn_1"}, status: 401, kind: "sign-in-required"},
		{name: "connections rate-limited", err: &connecting.RateLimitError{RetryAfter: 1500 * time.Millisecond}, status: 429, kind: "rate-limited", retry: 2},
		{name: "missing code", err: connecting.ErrMissingCode, status: 400, kind: "missing-code"},
		{name: "provider refused", err: &connecting.ProviderError{Code: "access_denied"}, status: 400, kind: "provider-refused"},
		{name: "validation", err: &accounts.ValidationError{Field: "nickname", Message: "is too long"}, status: 422, kind: "validation"},
		{name: "test refused", err: &accounts.TestFailedError{Err: statusErr}, status: 422, kind: "credentials-test-failed", provider: 401, match: statusErr},
		{name: "first mint refused", err: &accounts.TestFailedError{Err: refusedMint}, status: 422, kind: "credentials-test-failed", provider: 400, match: refusedMint},
		{name: "first mint failed for now", err: &accounts.TestFailedError{Err: &oauth.Error{Kind: oauth.Transient, Status: 503}}, status: 502, kind: "provider-unreachable"},
		{name: "test unreachable", err: &accounts.TestFailedError{Err: fmt.Errorf("%w: timed out", appapi.ErrUnreachable)}, status: 502, kind: "provider-unreachable"},
		{name: "test redirected", err: &accounts.TestFailedError{Err: &outbound.RedirectError{Status: 302}}, status: 502, kind: "provider-redirect"},
		{name: "test failed otherwise", err: &accounts.TestFailedError{Err: errors.New("the answer has no id")}, status: 422, kind: "credentials-test-failed"},
		{name: "token exchange failed", err: &oauth.Error{Kind: oauth.Transient, Status: 502}, status: 502, kind: "token-exchange-failed"},
		{name: "redirect", err: &outbound.RedirectError{Status: 302}, status: 502, kind: "provider-redirect"},
		{name: "app unreachable", err: fmt.Errorf("%w: timed out", appapi.ErrUnreachable), status: 502, kind: "provider-unreachable"},
		// Never a Retry-After of 0, which would say "now".
		{name: "token rate-limited", err: &identity.RateLimitError{Wait: 200 * time.Millisecond}, status: 429, kind: "token-rate-limited", retry: 1},
		{name: "no such token", err: identity.ErrNoToken, status: 404, kind: "not-found", match: identity.ErrNoToken},
		{name: "no such MCP grant", err: mcpauth.ErrNoGrant, status: 404, kind: "not-found", match: mcpauth.ErrNoGrant},
		{name: "token rotated", err: identity.ErrTokenRotated, status: 409, kind: "token-rotated"},
		{name: "unknown app", err: fmt.Errorf("%w %q", accounts.ErrUnknownApp, "nope"), status: 404, kind: "unknown-app"},
		{name: "last owner", err: identity.ErrLastOwner, status: 409, kind: "last-owner"},
		{name: "wrong password", err: identity.ErrWrongPassword, status: 422, kind: "wrong-password"},
		{name: "too many link attempts", err: identity.ErrTooManyLinkAttempts, status: 429, kind: "rate-limited", retry: int(identity.SignInRetryAfter.Seconds())},
		{name: "identity input", err: &identity.InputError{Message: "Give a name."}, status: 422, kind: "validation"},
		{name: "no such member", err: identity.ErrNoUser, status: 404, kind: "not-found", match: identity.ErrNoUser},
		{name: "no such end user", err: endusers.ErrNoEndUser, status: 404, kind: "not-found", match: endusers.ErrNoEndUser},
		{name: "connect token invalid", err: endusers.ErrInvalidToken, status: 410, kind: "connect-token-invalid"},
		{name: "webhook input", err: &webhooks.InputError{Field: "url", Message: "must be https"}, status: 422, kind: "validation"},
		{name: "no such webhook", err: webhooks.ErrNotFound, status: 404, kind: "not-found", match: webhooks.ErrNotFound},
		{name: "delivery in flight", err: webhooks.ErrInFlight, status: 409, kind: "in-flight"},
		{name: "proxy path", err: &proxy.PathError{Reason: "is absolute"}, status: 400, kind: "proxy-path"},
		{name: "proxy method", err: proxy.ErrMethod, status: 405, kind: "method-not-allowed"},
		{name: "request too large", err: &proxy.TooLargeError{Request: true, Limit: 10}, status: 413, kind: "body-too-large"},
		{name: "answer too large", err: &proxy.TooLargeError{Limit: 10}, status: 502, kind: "answer-too-large"},
		{name: "proxy timeout", err: proxy.ErrTimeout, status: 504, kind: "provider-timeout"},
		{name: "proxy unreachable", err: fmt.Errorf("%w: connection reset", proxy.ErrUnreachable), status: 502, kind: "provider-unreachable"},
		{name: "account not found", err: accounts.ErrNotFound, status: 404, kind: "not-found"},
		{name: "client not found", err: clients.ErrNotFound, status: 404, kind: "not-found"},
		{name: "workflow not found", err: workflows.ErrNotFound, status: 404, kind: "not-found"},
		{name: "forbidden", err: fmt.Errorf("%w: a viewer may not", identity.ErrForbidden), status: 403, kind: "forbidden"},
		{name: "conflict", err: accounts.ErrConflict, status: 409, kind: "conflict"},
		{name: "workflow conflict", err: workflows.ErrConflict, status: 409, kind: "conflict"},
		{name: "joined with a not-found", err: errors.Join(errors.New("x"), accounts.ErrNotFound), status: 404, kind: "not-found"},
	}
	for _, tt := range tests {
		for _, wrapped := range []bool{false, true} {
			err, name := tt.err, tt.name
			if wrapped {
				err, name = fmt.Errorf("handling the request: %w", tt.err), "wrapped "+tt.name
			}
			t.Run(name, func(t *testing.T) {
				c := Of(err)
				if c.Status != tt.status || c.Kind != tt.kind || c.Title == "" {
					t.Fatalf("Of(%v) = %d %q %q, want %d %q", err, c.Status, c.Kind, c.Title, tt.status, tt.kind)
				}
				if c.RetryAfter != tt.retry || c.ProviderStatus != tt.provider {
					t.Errorf("RetryAfter %d, ProviderStatus %d; want %d, %d", c.RetryAfter, c.ProviderStatus, tt.retry, tt.provider)
				}
				if c.Match == nil || !errors.Is(err, c.Match) {
					t.Errorf("Match %v is not in the chain of %v", c.Match, err)
				}
				if tt.match != nil && c.Match != tt.match {
					t.Errorf("Match %v, want %v", c.Match, tt.match)
				}
			})
		}
	}
}

// TestOfUnknown: an error nobody named is the server's; nothing of its
// text reaches a caller, however it is wrapped.
func TestOfUnknown(t *testing.T) {
	const cause = "pq: password authentication failed for 10.1.2.3"
	for _, err := range []error{
		errors.New(cause),
		fmt.Errorf("list accounts: %w", errors.New(cause)),
		fmt.Errorf("list accounts: %v", accounts.ErrNotFound), // %v: not in the chain
	} {
		c := Of(err)
		if c.Status != http.StatusInternalServerError || c.Kind != "internal" || c.Detail != "" || c.Match != nil {
			t.Errorf("Of(%v) = %+v, want a 500 that says nothing", err, c)
		}
		if strings.Contains(c.Title, "10.1.2.3") {
			t.Errorf("the title shows the cause: %q", c.Title)
		}
	}
}

// TestOfOutagesSayNothingOfTheCause: the database's own words (an
// address, a driver's message) are not a caller's to read.
func TestOfOutagesSayNothingOfTheCause(t *testing.T) {
	for _, sentinel := range []error{outage.ErrUnavailable, outage.ErrOutcomeUnknown} {
		c := Of(fmt.Errorf("save: %w: dial tcp 10.9.8.7:5432: connection refused", sentinel))
		if c.Detail != "" {
			t.Errorf("%v: detail %q", sentinel, c.Detail)
		}
	}
}
