// Package actions runs the catalog's prebuilt actions: it lists them as a
// workspace sees them, checks an input against the action's JSON Schema,
// builds the request from the action's template with an account's
// credentials put where the app wants them, sends it through the guarded
// client, and returns the provider's status and body with every credential
// masked. A 401 or 403, or a refusal of the credentials in a 2xx body,
// has the account checked again, as for http steps.
package actions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/jonboulle/clockwork"

	"github.com/latchkeyhq/latchkey/internal/accounts"
	"github.com/latchkeyhq/latchkey/internal/appapi"
	"github.com/latchkeyhq/latchkey/internal/audit"
	"github.com/latchkeyhq/latchkey/internal/catalog"
	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/outbound"
	"github.com/latchkeyhq/latchkey/internal/secret"
	"github.com/latchkeyhq/latchkey/internal/validation"
)

// ErrUnknownAction: no app of the workspace's catalog has that action.
var ErrUnknownAction = errors.New("unknown action")

// ActionRun is the audit action of a run: which action, the provider's
// status and how long it took, never a body.
const ActionRun = "action.run"

// InputError is an input that breaks the action's schema, with every
// problem found. Nothing was sent.
type InputError struct{ Problems []catalog.Problem }

func (e *InputError) Error() string {
	var parts []string
	for _, p := range e.Problems {
		if p.Field != "" {
			parts = append(parts, p.Field+": "+p.Message)
		} else {
			parts = append(parts, p.Message)
		}
	}
	return "the input is not valid: " + strings.Join(parts, "; ")
}

// Apps looks apps up as the workspace sees them (package apps).
type Apps interface {
	App(ctx context.Context, workspaceID, slug string) (*catalog.App, error)
	CatalogFor(ctx context.Context, actor identity.Actor) (*catalog.Catalog, error)
}

// Options configure a Service.
type Options struct {
	Apps     Apps
	Accounts *accounts.Service
	// HTTP sends the requests; nil means the guarded client with no
	// exceptions.
	HTTP  *http.Client
	Audit *audit.Log
	Clock clockwork.Clock
	Log   *slog.Logger
}

// Service lists and runs actions.
type Service struct {
	apps     Apps
	accounts *accounts.Service
	http     *http.Client
	audit    *audit.Log
	clock    clockwork.Clock
	log      *slog.Logger
}

// New returns a Service.
func New(o Options) *Service {
	if o.HTTP == nil {
		o.HTTP = outbound.New(outbound.Options{})
	}
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return &Service{apps: o.Apps, accounts: o.Accounts, http: o.HTTP, audit: o.Audit, clock: o.Clock, log: o.Log}
}

// View is an action with the app it belongs to.
type View struct {
	App     string
	AppName string
	// AppAuth is how the app connects, for a "Connect" offer.
	AppAuth catalog.AuthType
	Action  *catalog.Action
}

// Ref is "app.action".
func (v View) Ref() string { return catalog.Ref(v.App, v.Action.Name) }

// List returns the actions of the workspace's catalog, by app name, then
// in the order the app lists them; app, when set, keeps one app's.
func (s *Service) List(ctx context.Context, actor identity.Actor, app string) ([]View, error) {
	cat, err := s.apps.CatalogFor(ctx, actor)
	if err != nil {
		return nil, err
	}
	var out []View
	for _, a := range cat.All() {
		if app != "" && a.Slug != app {
			continue
		}
		for i := range a.Actions {
			out = append(out, View{App: a.Slug, AppName: a.Name, AppAuth: a.Auth, Action: &a.Actions[i]})
		}
	}
	return out, nil
}

// Get returns one action by its "app.action" name.
func (s *Service) Get(ctx context.Context, actor identity.Actor, ref string) (View, error) {
	app, act, err := s.Lookup(ctx, actor.WorkspaceID, ref)
	if err != nil {
		return View{}, err
	}
	return View{App: app.Slug, AppName: app.Name, AppAuth: app.Auth, Action: act}, nil
}

// Lookup finds an action and its app (as this server calls it).
func (s *Service) Lookup(ctx context.Context, workspaceID, ref string) (*catalog.App, *catalog.Action, error) {
	slug, name, ok := catalog.SplitRef(ref)
	if !ok {
		return nil, nil, fmt.Errorf("%w %q: name an action as app.action", ErrUnknownAction, ref)
	}
	app, err := s.apps.App(ctx, workspaceID, slug)
	if err != nil {
		return nil, nil, fmt.Errorf("%w %q: %w", ErrUnknownAction, ref, err)
	}
	act, ok := app.Action(name)
	if !ok {
		return nil, nil, fmt.Errorf("%w %q: %s has no action %q", ErrUnknownAction, ref, app.Name, name)
	}
	return app, act, nil
}

// CheckInput decodes an input (a JSON object; empty means {}) and checks
// it against the action's schema, listing every problem.
func CheckInput(act *catalog.Action, raw json.RawMessage) (map[string]any, error) {
	if t := strings.TrimSpace(string(raw)); t == "" || t == "null" {
		raw = json.RawMessage("{}")
	}
	var input any
	if err := json.Unmarshal(raw, &input); err != nil {
		return nil, &InputError{Problems: []catalog.Problem{{Message: "the input is not JSON"}}}
	}
	obj, ok := input.(map[string]any)
	if !ok {
		return nil, &InputError{Problems: []catalog.Problem{{Message: "the input must be a JSON object"}}}
	}
	if problems := act.Input.Check(obj); len(problems) > 0 {
		return nil, &InputError{Problems: problems}
	}
	return obj, nil
}

// Result is what a run did.
type Result struct {
	Action    string
	AccountID string
	// Status and Body are the provider's answer, every credential of the
	// account masked; Output is the action's selection from Body.
	Status int
	Body   json.RawMessage
	Output json.RawMessage
	// CredentialsRefused: the app answered 401 or 403, or refused the
	// credentials in a 2xx body (the app's refusal rule). Latchkey checked
	// the account again; AccountStatus is its status after that.
	CredentialsRefused bool
	AccountStatus      string
	// Failed: the app answered 2xx but its body says the request failed;
	// ProviderError is its error code, if it gave one. Status stays the
	// app's own.
	Failed        bool
	ProviderError string
	DurationMS    int64
}

// Run runs an action with an account the caller may use. Bad input is an
// *InputError and sends nothing. The caller never sees the credentials:
// it needs actions:run, not credentials:read.
func (s *Service) Run(ctx context.Context, actor identity.Actor, ref, accountID string, raw json.RawMessage) (Result, error) {
	if err := actor.Require(identity.ScopeActionsRun); err != nil {
		return Result{}, err
	}
	// An action acts with the account's credentials, which a viewer may
	// not use; say so before anything else, bad input included.
	if !actor.CanReadCredentials() {
		return Result{}, fmt.Errorf("%w: a viewer may not run actions", identity.ErrForbidden)
	}
	app, act, err := s.Lookup(ctx, actor.WorkspaceID, ref)
	if err != nil {
		return Result{}, err
	}
	input, err := CheckInput(act, raw)
	if err != nil {
		return Result{}, err
	}
	if accountID == "" {
		return Result{}, validation.Invalid("account_id", "name the %s account to run %s with", app.Name, ref)
	}
	acc, accApp, values, err := s.accounts.ForRequest(ctx, actor, accountID, identity.ScopeActionsRun)
	if err != nil {
		return Result{}, err
	}
	if acc.App != app.Slug {
		return Result{}, validation.Invalid("account_id", "account %s is a %s account; %s needs a %s account", accountID, acc.App, ref, app.Name)
	}
	res := Result{Action: ref, AccountID: accountID}
	start := s.clock.Now()
	ans, err := Execute(ctx, s.http, accApp, act, input, values)
	res.DurationMS = s.clock.Since(start).Milliseconds()
	detail := map[string]string{"action": ref, "duration_ms": strconv.FormatInt(res.DurationMS, 10)}
	if err != nil {
		var ie *InputError
		if !errors.As(err, &ie) {
			detail["error"] = outbound.Clip(err.Error())
			s.record(actor, accountID, detail)
		}
		return Result{}, err
	}
	mask := secret.NewMasker()
	mask.Add(values)
	res.Status = ans.Status
	res.Body = json.RawMessage(mask.Text(string(ans.Body)))
	res.Output = Select(act, res.Body)
	detail["status"] = strconv.Itoa(ans.Status)
	refused, inBody := appapi.BodyRefusal(accApp, ans.Status, ans.Body)
	if inBody {
		res.Failed, res.ProviderError = true, outbound.Clip(mask.Text(refused.Code))
		detail["refused_in_body"] = "true"
	}
	if ans.Status == http.StatusUnauthorized || ans.Status == http.StatusForbidden || refused.Auth {
		// Is the account really broken? The same re-check as an http
		// step's: it is marked needs_reconnect if so.
		res.CredentialsRefused = true
		res.AccountStatus = string(acc.Status)
		if after, err := s.accounts.Recheck(context.WithoutCancel(ctx), actor, accountID); err == nil {
			res.AccountStatus = string(after.Status)
		}
	}
	s.record(actor, accountID, detail)
	s.log.InfoContext(ctx, "action ran", "action", ref, "account", accountID, "status", ans.Status, "duration_ms", res.DurationMS)
	return res, nil
}

func (s *Service) record(actor identity.Actor, accountID string, detail map[string]string) {
	if s.audit != nil {
		s.audit.Record(actor, accountID, ActionRun, detail, s.clock.Now())
	}
}

// Execute builds the action's request and sends it through client. The
// answer is not masked: the caller masks it with the credentials it holds.
func Execute(ctx context.Context, client *http.Client, app *catalog.App, act *catalog.Action, input map[string]any, values map[string]string) (Answer, error) {
	req, err := Build(ctx, app, act, input, values)
	if err != nil {
		return Answer{}, err
	}
	return Send(client, req)
}
