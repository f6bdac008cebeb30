package api

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/accounts"
	"github.com/latchkeyhq/latchkey/internal/actions"
	"github.com/latchkeyhq/latchkey/internal/connecting"
	"github.com/latchkeyhq/latchkey/internal/errkind"
	"github.com/latchkeyhq/latchkey/internal/outage"
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

// toProblem maps a service error to the problem the client sees:
// errkind decides the status and kind, and this says the detail and the
// members a client reads. Unknown errors become a 500 whose detail says
// nothing; the log has the cause.
func toProblem(err error) *Problem {
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	c := errkind.Of(err)
	pr := problem(c.Status, c.Kind, c.Title, c.Detail)
	pr.RetryAfter, pr.ProviderStatus = c.RetryAfter, c.ProviderStatus
	switch m := c.Match.(type) {
	case *actions.InputError:
		for _, x := range m.Problems {
			pr.Problems = append(pr.Problems, client.InputProblem(x))
		}
	case *workflows.InUseError:
		verb := "delete"
		if m.Unsharing {
			verb = "share"
		}
		pr.Detail += "; " + verb + " with ?force=true to go ahead"
		// The facts as members, so that a client can say them in its own
		// words (the CLI's is a flag, not a query parameter).
		for _, w := range m.Workflows {
			pr.UsedBy = append(pr.UsedBy, client.WorkflowRef{ID: w.ID, Name: w.Name})
		}
		pr.HiddenWorkflows = m.Hidden
	case *accounts.NeedsReconnectError:
		pr.AccountID = m.AccountID
		pr.ReconnectPath = "/v1/accounts/" + m.AccountID + "/reconnect"
	case *connecting.NoClientError:
		// A validation problem, as before; the members say how to fix it.
		pr.Detail = "app: " + m.Error() + "; an owner sets one with PUT " + oauthClientPath(m.App)
		pr.Field, pr.App, pr.OAuthClientPath = "app", m.App, oauthClientPath(m.App)
	case *accounts.KeyAppError:
		pr.Detail = "app: " + m.Error() + " (PUT " + credentialsPath(m.AccountID) + ")"
		pr.Field, pr.AccountID, pr.CredentialsPath = "app", m.AccountID, credentialsPath(m.AccountID)
	case *accounts.ValidationError:
		pr.Field = m.Field
	case *webhooks.InputError:
		pr.Field = m.Field
	}
	switch c.Match {
	case outage.ErrOutcomeUnknown:
		pr.Detail = "read the record back before retrying"
	case outage.ErrUnavailable:
		pr.Detail = "nothing was changed; try again shortly"
	case nil:
		pr.Detail = "the error was logged"
	}
	return pr
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
