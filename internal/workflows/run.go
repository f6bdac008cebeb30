package workflows

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/latchkeyhq/latchkey/internal/accounts"
	"github.com/latchkeyhq/latchkey/internal/actions"
	"github.com/latchkeyhq/latchkey/internal/appapi"
	"github.com/latchkeyhq/latchkey/internal/catalog"
	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/ids"
	"github.com/latchkeyhq/latchkey/internal/outbound"
	"github.com/latchkeyhq/latchkey/internal/secret"
	"github.com/latchkeyhq/latchkey/internal/store"
)

// Step and run outcomes.
const (
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
	StatusSkipped   = "skipped"
	StatusRunning   = "running"
)

// Kinds of step failure that callers act on.
const (
	// ErrorCredentials: the app refused the account's credentials, or they
	// could not be refreshed; the account may need reconnecting.
	ErrorCredentials = "credentials"
	ErrorTimeout     = "timeout"
	ErrorOutput      = "output_limit"
	ErrorNoNode      = "node_missing"
	// ErrorSandbox: code and command steps cannot run on this server
	// until the sandbox's packages are installed.
	ErrorSandbox  = "sandbox_unavailable"
	ErrorUnlinked = "unlinked"
	ErrorStep     = "step"
)

// StepResult is what one step did.
type StepResult struct {
	Key    string
	Name   string
	Kind   string
	Status string
	// Result is the step's JSON result; Exports the values it gave
	// $.export.
	Result  json.RawMessage
	Exports map[string]json.RawMessage
	Logs    string
	Error   string
	// ErrorKind is one of the Error* kinds when the step failed.
	ErrorKind string
	// AccountID names the account to fix after a credentials error; the
	// surfaces say how (reconnect it, or replace its keys).
	AccountID string
	// AccountStatus is the account's status after Latchkey re-checked it.
	AccountStatus string
	DurationMS    int64
}

// Run is a run as callers see it.
type Run struct {
	ID         string
	WorkflowID string
	// ActorID is who ran it.
	ActorID    string
	Status     string
	Steps      []StepResult
	StartedAt  time.Time
	FinishedAt *time.Time
}

// Run executes a workflow now, step after step, and records the run. The
// first failing step stops it; the rest are skipped.
func (s *Service) Run(ctx context.Context, actor identity.Actor, id string) (Run, error) {
	// What the run does, the audit log records as done by a workflow run,
	// whoever started it and from where.
	actor.Surface = identity.SurfaceWorkflow
	// Running a workflow takes its own scope, and reads credentials.
	if err := actor.Require(identity.ScopeWorkflowsRun); err != nil {
		return Run{}, err
	}
	if err := actor.Require(identity.ScopeCredentialsRead); err != nil {
		return Run{}, err
	}
	if !actor.CanReadCredentials() {
		return Run{}, fmt.Errorf("%w: a viewer may not run workflows", identity.ErrForbidden)
	}
	// Only who may change a workflow runs it; a workflow shared by its
	// accounts is read, not run.
	sw, err := s.visible(ctx, actor, id)
	if err != nil {
		return Run{}, err
	}
	w, err := decode(sw)
	if err != nil {
		return Run{}, err
	}
	now := s.clock.Now().UTC()
	run := store.Run{ID: ids.New("run", now), WorkspaceID: actor.WorkspaceID, WorkflowID: w.ID, ActorID: actor.UserID, Status: StatusRunning, StartedAt: now}
	results := make([]StepResult, len(w.Steps))
	for i, st := range w.Steps {
		results[i] = StepResult{Key: st.Key, Name: st.Name, Kind: st.Kind, Status: StatusSkipped}
	}
	if err := s.put(ctx, run, results); err != nil {
		return Run{}, err
	}
	previous := map[string]any{}
	run.Status = StatusSucceeded
	owner := s.ownerOf(ctx, actor.WorkspaceID, w.OwnerID)
	for i, st := range w.Steps {
		start := time.Now()
		res := s.step(ctx, actor, owner, st, previous)
		res.DurationMS = time.Since(start).Milliseconds()
		results[i] = res
		if res.Status != StatusSucceeded {
			run.Status = StatusFailed
			break
		}
		out := map[string]any{"$return_value": json.RawMessage(orNull(res.Result))}
		for k, v := range res.Exports {
			out[k] = v
		}
		previous[st.Key] = out
	}
	done := s.clock.Now().UTC()
	run.FinishedAt = &done
	if err := s.put(ctx, run, results); err != nil {
		return Run{}, err
	}
	s.log.InfoContext(ctx, "workflow ran", "workflow", w.ID, "run", run.ID, "status", run.Status)
	return runView(run, results), nil
}

func orNull(b json.RawMessage) json.RawMessage {
	if len(b) == 0 {
		return json.RawMessage("null")
	}
	return b
}

func (s *Service) put(ctx context.Context, run store.Run, results []StepResult) error {
	b, err := encodeResults(results)
	if err != nil {
		return err
	}
	run.Steps = b
	return s.store.PutRun(context.WithoutCancel(ctx), run)
}

// GetRun returns a run.
func (s *Service) GetRun(ctx context.Context, actor identity.Actor, id string) (Run, error) {
	if err := actor.Require(identity.ScopeAccountsRead); err != nil {
		return Run{}, err
	}
	r, err := s.store.GetRun(ctx, actor.WorkspaceID, id)
	if err != nil {
		return Run{}, err
	}
	// A run is seen by whoever may see its workflow.
	if _, err := s.visible(ctx, actor, r.WorkflowID); err != nil {
		return Run{}, fmt.Errorf("run %s: %w", id, store.ErrNotFound)
	}
	return decodeRun(r)
}

// Runs lists a workflow's recent runs, newest first.
func (s *Service) Runs(ctx context.Context, actor identity.Actor, workflowID string, limit int) ([]Run, error) {
	if err := actor.Require(identity.ScopeAccountsRead); err != nil {
		return nil, err
	}
	// Runs' results are their workflow's owner's: a reader of a shared
	// workflow does not see them.
	if _, err := s.visible(ctx, actor, workflowID); err != nil {
		return nil, err
	}
	list, err := s.store.ListRuns(ctx, actor.WorkspaceID, workflowID, limit)
	if err != nil {
		return nil, err
	}
	out := make([]Run, 0, len(list))
	for _, r := range list {
		d, err := decodeRun(r)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

func decodeRun(r store.Run) (Run, error) {
	steps, err := decodeResults(r.Steps)
	if err != nil {
		return Run{}, fmt.Errorf("run %s: %w", r.ID, err)
	}
	return runView(r, steps), nil
}

func runView(r store.Run, steps []StepResult) Run {
	return Run{ID: r.ID, WorkflowID: r.WorkflowID, ActorID: r.ActorID, Status: r.Status, Steps: steps, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt}
}

// step runs one step: it gathers fresh credentials, runs the step, masks
// every secret in what it left, and turns refused credentials into a
// credentials error that points at the account.
func (s *Service) step(ctx context.Context, actor, owner identity.Actor, st Step, previous map[string]any) StepResult {
	res := StepResult{Key: st.Key, Name: st.Name, Kind: st.Kind}
	fail := func(kind, format string, args ...any) StepResult {
		res.Status, res.ErrorKind, res.Error = StatusFailed, kind, fmt.Sprintf(format, args...)
		return res
	}
	// auths are what code sees; requests are what Latchkey's own requests
	// (http and action steps) are made with, which may also sign them.
	auths, requests := map[string]appapi.Values{}, map[string]appapi.Values{}
	mask := secret.NewMasker()
	for _, app := range st.Apps {
		id := st.Accounts[app]
		if id == "" {
			return fail(ErrorUnlinked, "no %s account is linked to this step", app)
		}
		// Whoever runs it, a step uses only what the workflow's owner may:
		// an account made private since it was linked is refused.
		if _, err := s.accounts.Get(ctx, owner, id); err != nil {
			return fail(ErrorStep, "the workflow's owner may not use the %s account %s", app, id)
		}
		// A token limited to chosen accounts or apps runs only steps
		// within its limits.
		if !actor.MayUseAccount(id, app) {
			return fail(ErrorStep, "this token is not allowed the %s account %s", app, id)
		}
		_, values, err := s.accounts.StepCredentials(ctx, actor, id)
		var nr *accounts.NeedsReconnectError
		if errors.As(err, &nr) {
			res.AccountID, res.AccountStatus = id, string(store.StatusNeedsReconnect)
			return fail(ErrorCredentials, "the %s account needs to be reconnected: %s", app, nr.Reason)
		}
		if err != nil {
			return fail(ErrorStep, "the %s account could not be read: %v", app, err)
		}
		auths[app], requests[app] = values.Public(), values
		mask.Add(values)
	}
	timeout := time.Duration(st.TimeoutSeconds) * time.Second
	if timeout == 0 {
		timeout = DefaultTimeout * time.Second
	}
	var credApp string
	switch st.Kind {
	case KindCode:
		credApp = s.codeStep(ctx, &res, st, auths, previous, timeout)
	case KindCommand:
		s.commandStep(ctx, &res, st, auths, previous, timeout)
	case KindHTTP:
		credApp = s.httpStep(ctx, actor, &res, st, requests, timeout)
	case KindAction:
		credApp = s.actionStep(ctx, actor, &res, st, requests, timeout)
	}
	if res.ErrorKind == ErrorCredentials && credApp != "" {
		id := st.Accounts[credApp]
		res.AccountID = id
		// Is the account really broken? Latchkey checks it again, and
		// marks it needs_reconnect if so.
		if acc, err := s.accounts.Recheck(context.WithoutCancel(ctx), actor, id); err == nil {
			res.AccountStatus = string(acc.Status)
		}
	}
	maskResult(mask, &res)
	return res
}

// httpStep calls the app's API with the linked account's credentials.
func (s *Service) httpStep(ctx context.Context, actor identity.Actor, res *StepResult, st Step, auths map[string]appapi.Values, timeout time.Duration) string {
	h := st.HTTP
	failf := func(kind, format string, args ...any) string {
		res.Status, res.ErrorKind, res.Error = StatusFailed, kind, fmt.Sprintf(format, args...)
		return h.App
	}
	app, err := s.apps.App(ctx, actor.WorkspaceID, h.App)
	if err != nil {
		return failf(ErrorStep, "%v", err)
	}
	values := auths[h.App]
	target, err := s.target(app, h, values)
	if err != nil {
		return failf(ErrorStep, "%v", err)
	}
	method := strings.ToUpper(h.Method)
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if len(h.Body) > 0 && string(h.Body) != "null" {
		var str string
		if json.Unmarshal(h.Body, &str) == nil {
			body = strings.NewReader(str)
		} else {
			body = bytes.NewReader(h.Body)
		}
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, method, target, body)
	if err != nil {
		return failf(ErrorStep, "the request could not be built")
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	for k, v := range h.Headers {
		req.Header.Set(k, v)
	}
	if err := appapi.Authorize(req, app, values); err != nil {
		return failf(ErrorStep, "%v", err)
	}
	resp, err := s.http.Do(req)
	if err != nil {
		if rctx.Err() != nil {
			return failf(ErrorTimeout, "the request ran past its time limit of %s", timeout)
		}
		return failf(ErrorStep, "the request failed: %s", failure(err))
	}
	defer resp.Body.Close()
	if err := outbound.Redirect(resp); err != nil {
		// The answer is the provider's own; only its status is kept.
		res.Result, _ = json.Marshal(map[string]any{"status": resp.StatusCode})
		return failf(ErrorStep, "%s: %v", app.Name, err)
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, MaxOutput))
	result, _ := json.Marshal(map[string]any{"status": resp.StatusCode, "body": asResult(b)})
	res.Result = result
	return answered(res, app, h.App, resp.StatusCode, b, values)
}

// answered sets a step's outcome from the app's answer: a 401 or 403, or
// a refusal of the credentials in a 2xx body, is a credentials error (the
// caller re-checks the account); another 4xx or 5xx, or another refusal
// in the body, a failure. It returns the app to blame, if any. values
// are the step's credentials, masked in the provider's code before it is
// clipped: masking after (maskResult) would leave the part of a cut
// secret before the cut.
func answered(res *StepResult, app *catalog.App, slug string, status int, body []byte, values appapi.Values) string {
	refused, inBody := appapi.BodyRefusal(app, status, body)
	said := ""
	if refused.Code != "" {
		mask := secret.NewMasker()
		mask.Add(values)
		said = ": " + outbound.Clip(mask.Text(refused.Code))
	}
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		res.Status, res.ErrorKind, res.Error = StatusFailed, ErrorCredentials, fmt.Sprintf("%s refused the credentials (%d %s)", app.Name, status, http.StatusText(status))
		return slug
	case inBody && refused.Auth:
		res.Status, res.ErrorKind, res.Error = StatusFailed, ErrorCredentials, fmt.Sprintf("%s refused the credentials (%d %s%s)", app.Name, status, http.StatusText(status), said)
		return slug
	case inBody:
		res.Status, res.ErrorKind, res.Error = StatusFailed, ErrorStep, fmt.Sprintf("%s answered %d %s but said the request failed%s", app.Name, status, http.StatusText(status), said)
		return slug
	case status >= 400:
		res.Status, res.ErrorKind, res.Error = StatusFailed, ErrorStep, fmt.Sprintf("%s answered %d %s", app.Name, status, http.StatusText(status))
		return slug
	}
	res.Status = StatusSucceeded
	return ""
}

// target resolves the step's URL: a path under the app's base URL, or a
// full URL that must be on the app's own host.
func (s *Service) target(app *catalog.App, h *HTTPStep, values appapi.Values) (string, error) {
	base, err := appapi.ResolveURL(app, "/", values)
	if err != nil {
		return "", fmt.Errorf("the app's base URL: %w", err)
	}
	if h.Path != "" {
		return appapi.ResolveURL(app, h.Path, values)
	}
	u, err := url.Parse(h.URL)
	if err != nil {
		return "", errors.New("http.url is not a URL")
	}
	b, _ := url.Parse(base)
	if u.Host != b.Host || u.Scheme != b.Scheme {
		// Credentials go only to the app's own host.
		return "", fmt.Errorf("http.url must be on %s, the host of %s's API", b.Host, app.Name)
	}
	return u.String(), nil
}

// failure is a failed request's error without its URL (which may carry a
// credential in its query), clipped: a malformed answer is quoted in it.
func failure(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return outbound.Clip(err.Error())
}

// maskResult masks every credential handed to the step in what it left.
func maskResult(m *secret.Masker, r *StepResult) {
	if m.Empty() {
		return
	}
	r.Logs, r.Error = m.Text(r.Logs), m.Text(r.Error)
	if len(r.Result) > 0 {
		r.Result = json.RawMessage(m.Text(string(r.Result)))
	}
	for k, v := range r.Exports {
		r.Exports[k] = json.RawMessage(m.Text(string(v)))
	}
}

// actionStep runs the step's catalog action with its linked account; the
// result is the provider's status, body and the action's output.
func (s *Service) actionStep(ctx context.Context, actor identity.Actor, res *StepResult, st Step, auths map[string]appapi.Values, timeout time.Duration) string {
	appSlug := firstApp(st)
	failf := func(kind, format string, args ...any) string {
		res.Status, res.ErrorKind, res.Error = StatusFailed, kind, fmt.Sprintf(format, args...)
		return appSlug
	}
	if s.actions == nil {
		return failf(ErrorStep, "action steps are not available on this server")
	}
	app, act, err := s.actions.Lookup(ctx, actor.WorkspaceID, st.Action)
	if err != nil {
		return failf(ErrorStep, "%v", err)
	}
	input, err := actions.CheckInput(act, st.Input)
	if err != nil {
		return failf(ErrorStep, "%v", err)
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ans, err := actions.Execute(rctx, s.http, app, act, input, auths[app.Slug])
	if err != nil {
		if rctx.Err() != nil {
			return failf(ErrorTimeout, "the request ran past its time limit of %s", timeout)
		}
		return failf(ErrorStep, "%s: %s", st.Action, failure(err))
	}
	out := map[string]any{"status": ans.Status, "body": orNull(ans.Body)}
	if sel := actions.Select(act, ans.Body); sel != nil {
		out["output"] = sel
	}
	res.Result, _ = json.Marshal(out)
	return answered(res, app, appSlug, ans.Status, ans.Body, auths[app.Slug])
}
