// Package proxy is the authenticating proxy: it forwards a caller's
// request to an app's API under the app's base URL, with an account's
// credentials put where the app wants them, through the guarded outbound
// client. The caller never sees the credentials. Bodies stream both ways
// within limits; idempotent requests are retried on 429 and 503 as the
// provider asks; every proxied call is audited without its bodies.
package proxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/latchkeyhq/latchkey/internal/accounts"
	"github.com/latchkeyhq/latchkey/internal/appapi"
	"github.com/latchkeyhq/latchkey/internal/audit"
	"github.com/latchkeyhq/latchkey/internal/catalog"
	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/outbound"
)

// ActionRequest is the audit action of one proxied call.
const ActionRequest = "proxy.request"

// Defaults of Options.
const (
	DefaultMaxRequestBody  = 16 << 20
	DefaultMaxResponseBody = 32 << 20
	// DefaultMaxWait is the longest wait a provider may ask for that the
	// proxy sits out before retrying; a longer one is handed back.
	DefaultMaxWait  = 10 * time.Second
	DefaultAttempts = 3
	// ReplayMax is the largest body kept in memory so that an idempotent
	// request can be sent again; a larger one is streamed and not retried.
	ReplayMax = 64 << 10
	// defaultWait is the wait before a retry when the provider names none.
	defaultWait = time.Second
)

// Accounts is what the proxy needs of the accounts service.
type Accounts interface {
	ForRequest(ctx context.Context, actor identity.Actor, id, scope string) (accounts.Account, *catalog.App, appapi.Values, error)
	Recheck(ctx context.Context, actor identity.Actor, id string) (accounts.Account, error)
}

// Options configure the service; zero limits mean the defaults.
type Options struct {
	Accounts Accounts
	// Client is the guarded outbound client (internal/outbound).
	Client *http.Client
	Audit  *audit.Log
	Clock  clockwork.Clock
	Log    *slog.Logger

	MaxRequestBody  int64
	MaxResponseBody int64
	MaxWait         time.Duration
	Attempts        int
}

// Service forwards requests.
type Service struct {
	accounts Accounts
	client   *http.Client
	audit    *audit.Log
	clock    clockwork.Clock
	log      *slog.Logger
	maxReq   int64
	maxResp  int64
	maxWait  time.Duration
	attempts int
}

// New returns the proxy.
func New(o Options) *Service {
	s := &Service{accounts: o.Accounts, client: o.Client, audit: o.Audit, clock: o.Clock, log: o.Log,
		maxReq: o.MaxRequestBody, maxResp: o.MaxResponseBody, maxWait: o.MaxWait, attempts: o.Attempts}
	if s.maxReq <= 0 {
		s.maxReq = DefaultMaxRequestBody
	}
	if s.maxResp <= 0 {
		s.maxResp = DefaultMaxResponseBody
	}
	if s.maxWait <= 0 {
		s.maxWait = DefaultMaxWait
	}
	if s.attempts <= 0 {
		s.attempts = DefaultAttempts
	}
	if s.clock == nil {
		s.clock = clockwork.NewRealClock()
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s
}

// Request is a caller's request to forward.
type Request struct {
	AccountID string
	Method    string
	// Path is the path under the app's base URL, escaped as the caller
	// sent it, without its leading slash ("v3/user/profile").
	Path     string
	RawQuery string
	Header   http.Header
	// Body is nil for none; ContentLength is -1 when unknown.
	Body          io.Reader
	ContentLength int64
}

// Response is the provider's answer, to pass on.
type Response struct {
	Status int
	// Header is the answer's headers without hop-by-hop ones, cookies or
	// any credential value.
	Header http.Header
	// Body streams the answer, at most the response limit: past it, Read
	// fails with a *TooLargeError. Closing it audits the call.
	Body io.ReadCloser
	// AccountStatus is the account's status after the app refused its
	// credentials (401, 403) and Latchkey checked it again; else "".
	AccountStatus string
	// Attempts is how many times the request was sent.
	Attempts int
}

// Errors the surfaces render.
var (
	// ErrMethod: a method the proxy does not forward.
	ErrMethod = errors.New("method not forwarded")
	// ErrUnreachable: the provider could not be reached, or answered
	// nothing usable.
	ErrUnreachable = errors.New("the provider could not be reached")
	// ErrTimeout: the provider did not answer in time.
	ErrTimeout = errors.New("the provider did not answer in time")
)

// PathError is a path that would leave the app's base URL, or is not a
// path at all.
type PathError struct{ Reason string }

func (e *PathError) Error() string { return "the path " + e.Reason }

// TooLargeError is a body past its limit: the caller's request (Request
// true) or the provider's answer.
type TooLargeError struct {
	Request bool
	Limit   int64
}

func (e *TooLargeError) Error() string {
	if e.Request {
		return fmt.Sprintf("the request body is larger than the proxy's limit of %d bytes", e.Limit)
	}
	return fmt.Sprintf("the provider's answer is larger than the proxy's limit of %d bytes", e.Limit)
}

// idempotent methods are retried on 429 and 503.
var idempotent = []string{http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete}

// Forward sends the request to the account's app and returns its answer,
// redirects included (they are never followed). The caller must close
// the answer's body.
func (s *Service) Forward(ctx context.Context, actor identity.Actor, in Request) (*Response, error) {
	switch in.Method {
	case http.MethodConnect, http.MethodTrace:
		// TRACE would echo the credentials back to the caller.
		return nil, fmt.Errorf("%w: %s", ErrMethod, in.Method)
	}
	if err := CheckPath(in.Path); err != nil {
		return nil, err
	}
	if in.ContentLength > s.maxReq {
		return nil, &TooLargeError{Request: true, Limit: s.maxReq}
	}
	acc, app, values, err := s.accounts.ForRequest(ctx, actor, in.AccountID, identity.ScopeProxy)
	if err != nil {
		return nil, err
	}
	target, err := s.target(app, values, in.Path, in.RawQuery)
	if err != nil {
		return nil, err
	}
	body, err := s.prepareBody(in)
	if err != nil {
		return nil, err
	}
	start := s.clock.Now()
	resp, attempts, err := s.send(ctx, app, values, in, target, body)
	call := &call{s: s, actor: actor, accountID: acc.ID, method: in.Method, path: in.Path, query: in.RawQuery, start: start, attempts: attempts}
	if err != nil {
		call.done(0, err)
		return nil, err
	}
	out := &Response{Status: resp.StatusCode, Header: answerHeader(resp.Header, values), Attempts: attempts}
	if resp.ContentLength > s.maxResp {
		resp.Body.Close()
		err := &TooLargeError{Limit: s.maxResp}
		call.done(resp.StatusCode, err)
		return nil, err
	}
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		// Is the account really broken? As for http steps: Latchkey
		// checks it again, and marks it needs_reconnect if so.
		if checked, err := s.accounts.Recheck(context.WithoutCancel(ctx), actor, acc.ID); err == nil {
			out.AccountStatus = string(checked.Status)
		}
	}
	call.status = resp.StatusCode
	out.Body = &answerBody{capped: capped{r: resp.Body, left: s.maxResp, limit: s.maxResp}, closer: resp.Body, call: call}
	return out, nil
}

// target is the request URL: the app's base URL with the caller's path
// appended as is. The path is never a template, so a caller cannot have
// a credential ({api_key}) filled into the URL.
func (s *Service) target(app *catalog.App, values appapi.Values, path, rawQuery string) (string, error) {
	if app.BaseURL == "" {
		return "", &PathError{Reason: "has no API to go to: the app " + app.Slug + " has no base URL"}
	}
	base, err := appapi.ResolveURL(app, "/", values)
	if err != nil {
		return "", fmt.Errorf("the app's base URL: %w", err)
	}
	u := strings.TrimSuffix(base, "/") + "/" + path
	if err := within(base, u); err != nil {
		return "", err
	}
	if rawQuery != "" {
		u += "?" + rawQuery
	}
	return u, nil
}

// prepared is a request body ready to send once, or (replay) again.
type prepared struct {
	replay []byte
	stream io.Reader
	length int64
	// counted guards the stream; it says when the caller sent too much.
	counted *capped
	none    bool
}

// prepareBody keeps a small body of an idempotent request in memory, so
// that it can be sent again; anything else streams, within the limit.
func (s *Service) prepareBody(in Request) (*prepared, error) {
	if in.Body == nil || in.ContentLength == 0 {
		return &prepared{none: true}, nil
	}
	lr := &capped{r: in.Body, left: s.maxReq, limit: s.maxReq, request: true}
	p := &prepared{length: in.ContentLength, counted: lr}
	if !slices.Contains(idempotent, in.Method) || in.ContentLength > ReplayMax {
		p.stream = lr
		return p, nil
	}
	head, err := io.ReadAll(io.LimitReader(lr, ReplayMax+1))
	if err != nil {
		var tl *TooLargeError
		if errors.As(err, &tl) {
			return nil, tl
		}
		return nil, fmt.Errorf("reading the request body: %w", err)
	}
	if len(head) <= ReplayMax {
		if len(head) == 0 {
			return &prepared{none: true}, nil
		}
		p.replay = head
		return p, nil
	}
	p.stream = io.MultiReader(bytes.NewReader(head), lr)
	return p, nil
}

func (p *prepared) body() (io.Reader, int64) {
	switch {
	case p.none:
		return http.NoBody, 0
	case p.replay != nil:
		return bytes.NewReader(p.replay), int64(len(p.replay))
	default:
		return p.stream, p.length
	}
}

// replayable reports whether the body can be sent again.
func (p *prepared) replayable() bool { return p.none || p.replay != nil }

// send makes the request, retrying an idempotent one with a replayable
// body on 429 and 503 as the provider asks, within MaxWait each time.
func (s *Service) send(ctx context.Context, app *catalog.App, values appapi.Values, in Request, target string, body *prepared) (*http.Response, int, error) {
	retry := slices.Contains(idempotent, in.Method) && body.replayable()
	for attempt := 1; ; attempt++ {
		b, n := body.body()
		req, err := http.NewRequestWithContext(ctx, in.Method, target, b)
		if err != nil {
			return nil, attempt, &PathError{Reason: "does not make a request URL"}
		}
		req.ContentLength = n
		if n < 0 {
			req.ContentLength = -1
		}
		req.Header = requestHeader(in.Header)
		if err := appapi.Authorize(req, app, values); err != nil {
			return nil, attempt, err
		}
		resp, err := s.client.Do(req)
		if err != nil {
			return nil, attempt, s.failure(ctx, err, body)
		}
		if !retry || attempt >= s.attempts || (resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable) {
			return resp, attempt, nil
		}
		wait := RetryWait(resp.Header, app.RateLimit, s.clock.Now())
		if wait > s.maxWait || !fits(ctx, s.clock.Now(), wait) {
			// Too long to sit out here: the caller gets the answer, and
			// its Retry-After, to decide.
			return resp, attempt, nil
		}
		// Drain a little so the connection can be reused.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		select {
		case <-s.clock.After(wait):
		case <-ctx.Done():
			return nil, attempt, fmt.Errorf("%w: the caller went away while waiting to retry", ErrUnreachable)
		}
	}
}

// fits reports whether a wait ends before ctx's deadline.
func fits(ctx context.Context, now time.Time, wait time.Duration) bool {
	dl, ok := ctx.Deadline()
	return !ok || now.Add(wait).Before(dl)
}

// failure turns a failed exchange into an error that names no URL (its
// query may carry a credential).
func (s *Service) failure(ctx context.Context, err error, body *prepared) error {
	if body.counted != nil && body.counted.over {
		return &TooLargeError{Request: true, Limit: body.counted.limit}
	}
	var be *outbound.BlockedError
	if errors.As(err, &be) {
		return fmt.Errorf("%w: %w", ErrUnreachable, be)
	}
	if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
		return ErrTimeout
	}
	if ctx.Err() != nil {
		return fmt.Errorf("%w: the caller went away", ErrUnreachable)
	}
	return fmt.Errorf("%w: %s", ErrUnreachable, outbound.Clip(kind(err)))
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// kind is err without the URL net/http wraps it in.
func kind(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return err.Error()
}

// call is one proxied call, audited once it is over.
type call struct {
	s         *Service
	actor     identity.Actor
	accountID string
	method    string
	path      string
	query     string
	start     time.Time
	attempts  int
	status    int
	audited   bool
}

func (c *call) done(status int, err error) {
	if c.audited || c.s.audit == nil {
		return
	}
	c.audited = true
	d := map[string]string{
		"method":      c.method,
		"path":        outbound.Clip("/" + c.path),
		"status":      strconv.Itoa(status),
		"duration_ms": strconv.FormatInt(c.s.clock.Since(c.start).Milliseconds(), 10),
	}
	if keys := queryKeys(c.query); keys != "" {
		d["query_keys"] = keys
	}
	if c.attempts > 1 {
		d["attempts"] = strconv.Itoa(c.attempts)
	}
	if err != nil {
		d["error"] = outbound.Clip(err.Error())
	}
	c.s.audit.Record(c.actor, c.accountID, ActionRequest, d, c.s.clock.Now())
}

// queryKeys are the query's parameter names, sorted, without their
// values, which may be secret (a code, a signature).
func queryKeys(raw string) string {
	if raw == "" {
		return ""
	}
	var keys []string
	for _, part := range strings.Split(raw, "&") {
		k, _, _ := strings.Cut(part, "=")
		if k != "" && !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return outbound.Clip(strings.Join(keys, ","))
}
