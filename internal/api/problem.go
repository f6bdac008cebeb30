package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/accounts"
	"github.com/latchkeyhq/latchkey/internal/appapi"
	"github.com/latchkeyhq/latchkey/internal/store"
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

// toProblem maps a service error to the problem the client sees. Unknown
// errors become a 500 whose detail says nothing; the log has the cause.
func toProblem(err error) *Problem {
	var p *Problem
	var ve *accounts.ValidationError
	var tf *accounts.TestFailedError
	var se *appapi.StatusError
	switch {
	case errors.As(err, &p):
		return p
	case errors.As(err, &ve):
		pr := problem(http.StatusUnprocessableEntity, "validation", "The input is not valid", ve.Error())
		pr.Field = ve.Field
		return pr
	case errors.As(err, &tf):
		pr := problem(http.StatusUnprocessableEntity, "credentials-test-failed", "The app refused the credentials; nothing was saved", tf.Error())
		if errors.As(err, &se) {
			pr.ProviderStatus = se.Status
		} else if errors.Is(err, appapi.ErrUnreachable) {
			pr.Type = ProblemTypePrefix + "provider-unreachable"
			pr.Title = "The app could not be reached to test the credentials; nothing was saved"
			pr.Status = http.StatusBadGateway
		}
		return pr
	case errors.Is(err, accounts.ErrUnknownApp):
		return problem(http.StatusNotFound, "unknown-app", "No such app", err.Error())
	case errors.Is(err, store.ErrNotFound):
		return problem(http.StatusNotFound, "not-found", "Not found", "no such account, or you may not see it")
	case errors.Is(err, accounts.ErrForbidden):
		return problem(http.StatusForbidden, "forbidden", "Not allowed", err.Error())
	case errors.Is(err, store.ErrConflict):
		return problem(http.StatusConflict, "conflict", "Already exists", "")
	default:
		return problem(http.StatusInternalServerError, "internal", "Something went wrong", "the error was logged")
	}
}

// writeProblem sends p as application/problem+json.
func writeProblem(w http.ResponseWriter, p *Problem) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
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
