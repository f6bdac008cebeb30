package oauth

import (
	"context"
	"errors"
	"net/http"

	"golang.org/x/oauth2"

	"github.com/latchkeyhq/latchkey/internal/outbound"
)

// Kind says whether retrying can help.
type Kind int

const (
	// Transient failures (network, time-outs, 5xx, 429) may pass.
	Transient Kind = iota
	// Permanent failures (the grant was revoked, the client is wrong) need
	// the user to reconnect.
	Permanent
)

// Error is a classified failure of a token request. It never holds a
// token, a code or a client secret.
type Error struct {
	Kind Kind
	// Code is the OAuth error code (invalid_grant, ...), when there is one.
	Code        string
	Status      int
	Description string
	// cause is what Latchkey itself refused (an address, a redirect), for
	// errors.Is; it holds no secret.
	cause error
}

func (e *Error) Unwrap() error { return e.cause }

func (e *Error) Error() string {
	msg := e.Code
	if msg == "" && e.Status != 0 {
		msg = "status " + http.StatusText(e.Status)
	}
	if e.Description != "" {
		if msg != "" {
			msg += ": "
		}
		msg += e.Description
	}
	return msg
}

// IsPermanent reports whether err says the grant is gone for good.
func IsPermanent(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Kind == Permanent
}

// permanentCodes are errors that retrying never fixes: RFC 6749 section
// 5.2, and providers' own words for a revoked or expired refresh token.
var permanentCodes = map[string]bool{
	"invalid_grant":         true,
	"invalid_client":        true,
	"unauthorized_client":   true,
	"invalid_refresh_token": true, // Slack
	"token_revoked":         true, // Slack
	"token_expired":         true,
	"access_denied":         true,
}

func kindForStatus(status int) Kind {
	switch {
	case status == http.StatusTooManyRequests, status == http.StatusRequestTimeout, status >= 500:
		return Transient
	case status == http.StatusBadRequest, status == http.StatusUnauthorized, status == http.StatusForbidden:
		return Permanent
	default:
		return Transient
	}
}

// classify turns an x/oauth2 error into an *Error, keeping no secret: the
// response body is dropped, only the error code and description are kept,
// and in those every secret the request sent (red) is redacted before the
// text goes anywhere (an error, a log, an account's status, an event).
func classify(err error, red redactor) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		if re.Response != nil {
			if rerr := outbound.Redirect(re.Response); rerr != nil {
				return &Error{Kind: Transient, Status: re.Response.StatusCode, Description: rerr.Error(), cause: rerr}
			}
		}
		e := &Error{Code: outbound.Clip(red.text(re.ErrorCode)), Description: red.text(re.ErrorDescription)}
		if re.Response != nil {
			e.Status = re.Response.StatusCode
		}
		switch {
		case permanentCodes[re.ErrorCode]:
			e.Kind = Permanent
		case re.ErrorCode != "" && e.Status < 500 && e.Status != http.StatusTooManyRequests:
			e.Kind = Permanent
		default:
			e.Kind = kindForStatus(e.Status)
		}
		e.Description = outbound.Clip(e.Description)
		return e
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	if be := blocked(err); be != nil {
		return be
	}
	// Network failures, time-outs, and answers that are not a token at all
	// (a proxy's HTML page) are worth retrying; their text may name the
	// URL, which holds no secret, so keep only a summary.
	return &Error{Kind: Transient, Description: "the token endpoint did not answer with a token"}
}

// blocked is the classified form of a dial the guarded client refused, or
// nil. Retrying may help (a name may resolve elsewhere later), so it is
// transient; its text names the host and the address, never a secret.
func blocked(err error) *Error {
	var be *outbound.BlockedError
	if !errors.As(err, &be) {
		return nil
	}
	return &Error{Kind: Transient, Description: be.Error(), cause: be}
}
