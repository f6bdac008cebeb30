// Package workflows is a small workflow engine whose steps use connected
// accounts: a workflow is an ordered list of code (Node.js), command and
// HTTP steps; each step links the apps it uses to accounts, receives them
// fresh as auths.<app>, and records its result, logs and duration in a run.
// It owns workflows, their links and runs, changes them only by
// compare-and-swap, answers "which workflows use this account", and
// refuses to delete an account that workflows still use.
package workflows

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/latchkeyhq/latchkey/internal/accounts"
	"github.com/latchkeyhq/latchkey/internal/audit"
	"github.com/latchkeyhq/latchkey/internal/catalog"
	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/ids"
	"github.com/latchkeyhq/latchkey/internal/outbound"
	"github.com/latchkeyhq/latchkey/internal/sandbox"
	"github.com/latchkeyhq/latchkey/internal/store"
)

// Step kinds.
const (
	KindCode    = "code"
	KindCommand = "command"
	KindHTTP    = "http"
)

// Limits of a step.
const (
	DefaultTimeout = 30
	MaxTimeout     = 300
	MaxSteps       = 50
	MaxCode        = 256 << 10
)

// Step is one step of a workflow as callers write it. Its JSON is the
// steps format the web's editor and the README show; the API converts the
// public client's type to it, and the database keeps steps in a format of
// its own (see stored.go), so that each can change without the others.
type Step struct {
	// Key names the step: steps.<key> in later steps.
	Key  string `json:"key"`
	Name string `json:"name,omitempty"`
	Kind string `json:"kind"`
	// Apps are the apps whose accounts the step gets as auths.<app>;
	// Accounts links each to an account.
	Apps     []string          `json:"apps,omitempty"`
	Accounts map[string]string `json:"accounts,omitempty"`
	// Code is the body of an async function of (auths, steps, $).
	Code string `json:"code,omitempty"`
	// Command is an executable and its arguments.
	Command []string  `json:"command,omitempty"`
	HTTP    *HTTPStep `json:"http,omitempty"`
	// Env are extra, non-secret environment variables for code and
	// command steps.
	Env            map[string]string `json:"env,omitempty"`
	TimeoutSeconds int               `json:"timeout_seconds,omitempty"`
}

// HTTPStep is an http step's request to an app's API: a Path under its
// base URL, or a full URL on its host.
type HTTPStep struct {
	App     string            `json:"app"`
	Method  string            `json:"method,omitempty"`
	Path    string            `json:"path,omitempty"`
	URL     string            `json:"url,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    json.RawMessage   `json:"body,omitempty"`
}

// Workflow is a workflow as callers see it.
type Workflow struct {
	ID        string
	OwnerID   string
	Name      string
	Steps     []Step
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Ref names a workflow, as "used by" lists show it.
type Ref struct {
	ID   string
	Name string
}

// Store is what the service needs of the store: its own records, and the
// role of a workflow's owner.
type Store interface {
	store.Workflows
	GetUser(ctx context.Context, workspaceID, id string) (store.User, error)
}

// Service manages and runs workflows.
type Service struct {
	store    Store
	accounts *accounts.Service
	apps     Apps
	clock    clockwork.Clock
	log      *slog.Logger
	http     *http.Client
	// node is the Node.js binary; empty when none was found.
	node    string
	sandbox *sandbox.Sandbox
	audit   *audit.Log
}

// Options configure a Service.
type Options struct {
	Store    Store
	Accounts *accounts.Service
	// Apps looks apps up as the workspace sees them (package apps).
	Apps  Apps
	Clock clockwork.Clock
	Log   *slog.Logger
	// HTTP makes the http steps' requests; nil means the guarded client
	// with no exceptions. The step's own time limit bounds each request.
	HTTP *http.Client
	// Node is the Node.js binary for code steps; empty means look on PATH.
	Node string
	// Sandbox runs code and command steps.
	Sandbox *sandbox.Sandbox
	// Audit records changes to workflows; nil records none.
	Audit *audit.Log
}

// Apps looks apps up as the workspace sees them.
type Apps interface {
	App(ctx context.Context, workspaceID, slug string) (*catalog.App, error)
}

// New returns a Service.
func New(o Options) *Service {
	if o.HTTP == nil {
		o.HTTP = outbound.New(outbound.Options{})
	}
	if o.Node == "" {
		o.Node = findNode()
	}
	return &Service{store: o.Store, accounts: o.Accounts, apps: o.Apps, clock: o.Clock, log: o.Log, http: o.HTTP, node: o.Node, sandbox: o.Sandbox, audit: o.Audit}
}

// SandboxWarning says, for the workflow pages, what is wrong with the
// steps' sandbox: turned off by the operator, or impossible here. It is
// empty when code and command steps run sandboxed.
func (s *Service) SandboxWarning() string {
	switch {
	case s.sandbox == nil:
		return "Code and command steps are turned off on this server."
	case s.sandbox.Unsandboxed():
		return "Steps run unsandboxed: the operator set steps_unsandboxed, so code and command steps run as the server's own user and can read its files, its key and its database. Use this only on a single-user machine."
	case s.sandbox.Available() != nil:
		return "Code and command steps cannot run: " + s.sandbox.Available().Error()
	}
	return ""
}

var (
	keyRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)
	envRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,100}$`)
)

// ErrInUse: the account is linked to workflows; the caller must say so.
var ErrInUse = errors.New("the account is used by workflows")

// ErrNotFound (no such workflow or run, or the actor may not see it) and
// ErrConflict (it changed meanwhile, or the id exists) are the store's own
// values, so errors.Is matches either name.
var (
	ErrNotFound = store.ErrNotFound
	ErrConflict = store.ErrConflict
)

func invalid(field, format string, args ...any) error {
	return &accounts.ValidationError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// check validates steps and the accounts they link, and returns the links.
// A step may link only accounts the workflow's owner may use, whoever
// edits it.
func (s *Service) check(ctx context.Context, actor, owner identity.Actor, name string, steps []Step) ([]store.Link, error) {
	if strings.TrimSpace(name) == "" || len(name) > 200 {
		return nil, invalid("name", "give a name of at most 200 characters")
	}
	if len(steps) == 0 || len(steps) > MaxSteps {
		return nil, invalid("steps", "give one to %d steps", MaxSteps)
	}
	seen := map[string]bool{}
	var links []store.Link
	for i := range steps {
		st := &steps[i]
		where := fmt.Sprintf("steps[%d]", i)
		if !keyRE.MatchString(st.Key) {
			return nil, invalid(where+".key", "%q must be lower case letters, digits and underscores", st.Key)
		}
		if seen[st.Key] {
			return nil, invalid(where+".key", "%q is used twice", st.Key)
		}
		seen[st.Key] = true
		switch st.Kind {
		case KindCode:
			if strings.TrimSpace(st.Code) == "" || len(st.Code) > MaxCode {
				return nil, invalid(where+".code", "a code step needs code, at most %d bytes", MaxCode)
			}
		case KindCommand:
			if len(st.Command) == 0 || st.Command[0] == "" {
				return nil, invalid(where+".command", "a command step needs an executable")
			}
		case KindHTTP:
			if st.HTTP == nil || st.HTTP.App == "" {
				return nil, invalid(where+".http", "an http step needs http.app")
			}
			if (st.HTTP.Path == "") == (st.HTTP.URL == "") {
				return nil, invalid(where+".http", "give http.path or http.url")
			}
			if st.HTTP.Path != "" && !strings.HasPrefix(st.HTTP.Path, "/") {
				return nil, invalid(where+".http.path", "must start with /")
			}
			switch strings.ToUpper(st.HTTP.Method) {
			case "", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD":
			default:
				return nil, invalid(where+".http.method", "%q is not an HTTP method", st.HTTP.Method)
			}
			if !contains(st.Apps, st.HTTP.App) {
				st.Apps = append(st.Apps, st.HTTP.App)
			}
		default:
			return nil, invalid(where+".kind", "%q must be code, command or http", st.Kind)
		}
		if st.TimeoutSeconds < 0 || st.TimeoutSeconds > MaxTimeout {
			return nil, invalid(where+".timeout_seconds", "must be from 1 to %d", MaxTimeout)
		}
		for k := range st.Env {
			if !envRE.MatchString(k) || strings.HasPrefix(strings.ToUpper(k), "LATCHKEY_") {
				return nil, invalid(where+".env", "%q is not an allowed variable name", k)
			}
		}
		for app := range st.Accounts {
			if !contains(st.Apps, app) {
				return nil, invalid(where+".accounts", "%q is linked but not among the step's apps", app)
			}
		}
		for _, app := range st.Apps {
			if _, err := s.apps.App(ctx, actor.WorkspaceID, app); err != nil {
				return nil, invalid(where+".apps", "%v", err)
			}
			id := st.Accounts[app]
			if id == "" {
				continue
			}
			acc, err := s.accounts.Get(ctx, owner, id)
			if err == nil {
				// The editor must be able to see it too.
				_, err = s.accounts.Get(ctx, actor, id)
			}
			if err != nil {
				return nil, invalid(where+".accounts."+app, "account %q: %v", id, err)
			}
			if acc.App != app {
				return nil, invalid(where+".accounts."+app, "account %s is a %s account", id, acc.App)
			}
			links = append(links, store.Link{Step: st.Key, App: app, AccountID: id})
		}
	}
	return links, nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// Save creates (id "") or replaces a workflow. A new workflow belongs to
// its creator; a workflow the actor may not see is not found.
func (s *Service) Save(ctx context.Context, actor identity.Actor, id, name string, steps []Step) (Workflow, error) {
	if err := mayChange(actor); err != nil {
		return Workflow{}, err
	}
	if id != "" {
		// A replacement does not depend on what it replaces.
		w, err := s.edit(ctx, actor, id, false, func(Workflow) (string, []Step, error) { return name, steps, nil })
		if err == nil {
			s.record(actor, "workflow.updated", w.ID, w.Name)
		}
		return w, err
	}
	now := s.clock.Now().UTC()
	w := store.Workflow{ID: ids.New("wfl", now), WorkspaceID: actor.WorkspaceID, OwnerID: actor.UserID, Name: strings.TrimSpace(name), CreatedAt: now, UpdatedAt: now}
	links, err := s.check(ctx, actor, s.ownerOf(ctx, w.WorkspaceID, w.OwnerID), name, steps)
	if err != nil {
		return Workflow{}, err
	}
	if w.Steps, err = encodeSteps(steps); err != nil {
		return Workflow{}, err
	}
	w.Links = links
	if err := s.store.CreateWorkflow(ctx, w); err != nil {
		return Workflow{}, err
	}
	s.record(actor, "workflow.created", w.ID, w.Name)
	return view(w, steps), nil
}

// maxAttempts bounds how often an edit starts again because the workflow
// changed under it: each round some edit wins, so only far more
// concurrent edits of one workflow than this run out.
const maxAttempts = 50

// edit changes a visible workflow by compare-and-swap. It reads the
// workflow, lets change make the new name and steps from it, and checks
// them, reading accounts, which is why that happens before the row lock
// is taken (under it, SQLite's one writer would wait on readers that
// wait on it). Under the lock the write goes through only if the
// workflow is still as read: the same owner (whose access bounds the
// links) and, when fromOld is set because change built on what it read,
// the same name and steps. Otherwise the edit starts again from the new
// version, so concurrent edits never lose each other.
func (s *Service) edit(ctx context.Context, actor identity.Actor, id string, fromOld bool, change func(Workflow) (string, []Step, error)) (Workflow, error) {
	for range maxAttempts {
		read, err := s.visible(ctx, actor, id)
		if err != nil {
			return Workflow{}, err
		}
		cur, err := decode(read)
		if err != nil {
			return Workflow{}, err
		}
		name, steps, err := change(cur)
		if err != nil {
			return Workflow{}, err
		}
		links, err := s.check(ctx, actor, s.ownerOf(ctx, read.WorkspaceID, read.OwnerID), name, steps)
		if err != nil {
			return Workflow{}, err
		}
		encoded, err := encodeSteps(steps)
		if err != nil {
			return Workflow{}, err
		}
		now := s.clock.Now().UTC()
		saved, err := s.store.UpdateWorkflow(ctx, actor.WorkspaceID, id, func(old store.Workflow) (store.Workflow, error) {
			if !canSee(actor, old) {
				return store.Workflow{}, fmt.Errorf("workflow %s: %w", id, store.ErrNotFound)
			}
			if old.OwnerID != read.OwnerID || fromOld && (old.Name != read.Name || string(old.Steps) != string(read.Steps)) {
				return store.Workflow{}, errChanged
			}
			old.Name, old.Steps, old.Links, old.UpdatedAt = strings.TrimSpace(name), encoded, links, now
			return old, nil
		})
		if errors.Is(err, errChanged) {
			continue
		}
		if err != nil {
			return Workflow{}, err
		}
		return view(saved, steps), nil
	}
	return Workflow{}, fmt.Errorf("workflow %s kept changing while it was saved; try again: %w", id, store.ErrConflict)
}

// errChanged: the workflow changed between an edit's read and its write.
var errChanged = errors.New("the workflow changed")

func view(w store.Workflow, steps []Step) Workflow {
	return Workflow{ID: w.ID, OwnerID: w.OwnerID, Name: w.Name, Steps: steps, CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt}
}

// mayChange refuses a token without accounts:write, and a viewer, who
// changes no workflow.
func mayChange(actor identity.Actor) error {
	if err := actor.Require(identity.ScopeAccountsWrite); err != nil {
		return err
	}
	if !actor.CanChangeAccounts() {
		return fmt.Errorf("%w: a viewer may not change workflows", identity.ErrForbidden)
	}
	return nil
}

// canSee: a workflow is its owner's, and the workspace owners': they
// change it, run it and read its runs.
func canSee(actor identity.Actor, w store.Workflow) bool {
	return canSeeRef(actor, store.WorkflowRef{ID: w.ID, WorkspaceID: w.WorkspaceID, OwnerID: w.OwnerID})
}

func canSeeRef(actor identity.Actor, w store.WorkflowRef) bool {
	return w.WorkspaceID == actor.WorkspaceID && (actor.IsOwner() || w.OwnerID == actor.UserID)
}

// visible returns the workflow when the actor may see it, else
// store.ErrNotFound: a name is not revealed by a 403.
func (s *Service) visible(ctx context.Context, actor identity.Actor, id string) (store.Workflow, error) {
	w, err := s.store.GetWorkflow(ctx, actor.WorkspaceID, id)
	if err != nil {
		return store.Workflow{}, err
	}
	if !canSee(actor, w) {
		return store.Workflow{}, fmt.Errorf("workflow %s: %w", id, store.ErrNotFound)
	}
	return w, nil
}

// ownerOf is the workflow's owner as an actor, whose access bounds the
// accounts its steps may use. An owner who no longer exists may use only
// what a member may.
func (s *Service) ownerOf(ctx context.Context, workspaceID, ownerID string) identity.Actor {
	a := identity.Actor{WorkspaceID: workspaceID, UserID: ownerID, Role: identity.RoleMember}
	if u, err := s.store.GetUser(ctx, workspaceID, ownerID); err == nil {
		a.Role = identity.Role(u.Role)
	}
	return a
}

// LinkChoice points one app of one step at an account; an empty
// AccountID unlinks it.
type LinkChoice struct {
	Step, App, AccountID string
}

// Link points one app of one step at an account.
func (s *Service) Link(ctx context.Context, actor identity.Actor, id, step, app, accountID string) (Workflow, error) {
	return s.LinkSteps(ctx, actor, id, []LinkChoice{{Step: step, App: app, AccountID: accountID}})
}

// LinkSteps makes several link choices in one change of the workflow,
// applied to its latest version: links made meanwhile, to other steps or
// by other callers, stay.
func (s *Service) LinkSteps(ctx context.Context, actor identity.Actor, id string, choices []LinkChoice) (Workflow, error) {
	if err := actor.Require(identity.ScopeAccountsRead); err != nil {
		return Workflow{}, err
	}
	if err := mayChange(actor); err != nil {
		return Workflow{}, err
	}
	w, err := s.edit(ctx, actor, id, true, func(w Workflow) (string, []Step, error) {
		for _, c := range choices {
			if err := link(w.Steps, c); err != nil {
				return "", nil, err
			}
		}
		return w.Name, w.Steps, nil
	})
	if err == nil {
		s.record(actor, "workflow.linked", w.ID, w.Name)
	}
	return w, err
}

// record writes a change to a workflow in the audit log.
func (s *Service) record(actor identity.Actor, action, id, name string) {
	if s.audit != nil {
		s.audit.Record(actor, "", action, map[string]string{"workflow": id, "name": name}, s.clock.Now())
	}
}

// link makes one choice in steps.
func link(steps []Step, c LinkChoice) error {
	for i := range steps {
		st := &steps[i]
		if st.Key != c.Step {
			continue
		}
		if !contains(st.Apps, c.App) {
			return invalid("app", "step %s does not use %s", c.Step, c.App)
		}
		if c.AccountID == "" {
			delete(st.Accounts, c.App)
			return nil
		}
		if st.Accounts == nil {
			st.Accounts = map[string]string{}
		}
		st.Accounts[c.App] = c.AccountID
		return nil
	}
	return invalid("step", "the workflow has no step %q", c.Step)
}

// Get returns a workflow.
func (s *Service) Get(ctx context.Context, actor identity.Actor, id string) (Workflow, error) {
	if err := actor.Require(identity.ScopeAccountsRead); err != nil {
		return Workflow{}, err
	}
	w, err := s.store.GetWorkflow(ctx, actor.WorkspaceID, id)
	if err != nil {
		return Workflow{}, err
	}
	d, err := decode(w)
	if err != nil {
		return Workflow{}, err
	}
	if !canSee(actor, w) && !s.shared(ctx, actor, d) {
		return Workflow{}, fmt.Errorf("workflow %s: %w", id, store.ErrNotFound)
	}
	return d, nil
}

// shared reports whether the workflow counts as shared with the actor,
// who may then read it (not change it, run it or read its runs).
// Workflows have no sharing of their own: one is shared with whoever may
// see every account its steps link, when they link at least one, so
// that a workflow built on accounts shared with the workspace is shared
// with it too, and reading it reveals no account the reader may not see.
func (s *Service) shared(ctx context.Context, actor identity.Actor, w Workflow) bool {
	linked := 0
	for _, st := range w.Steps {
		for _, id := range st.Accounts {
			if _, err := s.accounts.Get(ctx, actor, id); err != nil {
				return false
			}
			linked++
		}
	}
	return linked > 0
}

func decode(w store.Workflow) (Workflow, error) {
	steps, err := decodeSteps(w.Steps)
	if err != nil {
		return Workflow{}, fmt.Errorf("workflow %s: %w", w.ID, err)
	}
	return view(w, steps), nil
}

// List returns the workflows the actor may see.
func (s *Service) List(ctx context.Context, actor identity.Actor) ([]Workflow, error) {
	if err := actor.Require(identity.ScopeAccountsRead); err != nil {
		return nil, err
	}
	list, err := s.store.ListWorkflows(ctx, actor.WorkspaceID)
	if err != nil {
		return nil, err
	}
	out := make([]Workflow, 0, len(list))
	for _, w := range list {
		d, err := decode(w)
		if err != nil {
			return nil, err
		}
		if canSee(actor, w) || s.shared(ctx, actor, d) {
			out = append(out, d)
		}
	}
	return out, nil
}

// Delete deletes a workflow and its runs.
func (s *Service) Delete(ctx context.Context, actor identity.Actor, id string) error {
	if err := mayChange(actor); err != nil {
		return err
	}
	w, err := s.visible(ctx, actor, id)
	if err != nil {
		return err
	}
	if err := s.store.DeleteWorkflow(ctx, actor.WorkspaceID, id); err != nil {
		return err
	}
	s.record(actor, "workflow.deleted", id, w.Name)
	return nil
}

// UsedBy lists the workflows the actor may see with a step linked to the
// account.
func (s *Service) UsedBy(ctx context.Context, actor identity.Actor, accountID string) ([]Ref, error) {
	seen, _, err := s.using(ctx, actor, accountID)
	return seen, err
}

// Usage is who uses an account: the workflows the actor may see, by
// name, and how many others.
type Usage struct {
	Workflows []Ref
	Hidden    int
}

// UsedByAccounts is UsedBy for a page of accounts the accounts service
// gave the actor, in one query whatever their number. Accounts no workflow
// uses are absent; an account the actor may not see is left out.
func (s *Service) UsedByAccounts(ctx context.Context, actor identity.Actor, accs []accounts.Account) (map[string]Usage, error) {
	if err := actor.Require(identity.ScopeAccountsRead); err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(accs))
	for _, a := range accs {
		if accounts.CanSee(actor, a) {
			ids = append(ids, a.ID)
		}
	}
	all, err := s.store.WorkflowsUsingAccounts(ctx, actor.WorkspaceID, ids)
	if err != nil {
		return nil, fmt.Errorf("workflows using %d accounts: %w", len(ids), err)
	}
	out := make(map[string]Usage, len(all))
	for id, list := range all {
		var u Usage
		for _, w := range list {
			if canSeeRef(actor, w) {
				u.Workflows = append(u.Workflows, Ref{ID: w.ID, Name: w.Name})
			} else {
				u.Hidden++
			}
		}
		out[id] = u
	}
	return out, nil
}

// using splits the workflows linked to the account into those the actor
// may see and a count of the others.
func (s *Service) using(ctx context.Context, actor identity.Actor, accountID string) ([]Ref, int, error) {
	if _, err := s.accounts.Get(ctx, actor, accountID); err != nil {
		return nil, 0, err
	}
	all, err := s.store.WorkflowsUsing(ctx, actor.WorkspaceID, accountID)
	if err != nil {
		return nil, 0, err
	}
	var seen []Ref
	for _, w := range all {
		if canSee(actor, w) {
			seen = append(seen, Ref{ID: w.ID, Name: w.Name})
		}
	}
	return seen, len(all) - len(seen), nil
}

// InUseError names the workflows that would break, those the caller may
// see by name and the others only by number.
type InUseError struct {
	Workflows []Ref
	Hidden    int
	// Unsharing says the change is an unsharing, not a deletion.
	Unsharing bool
}

func (e *InUseError) Error() string {
	var names []string
	for _, w := range e.Workflows {
		names = append(names, fmt.Sprintf("%q (%s)", w.Name, w.ID))
	}
	switch {
	case e.Hidden == 1:
		names = append(names, "1 workflow you cannot see")
	case e.Hidden > 1:
		names = append(names, fmt.Sprintf("%d workflows you cannot see", e.Hidden))
	}
	if e.Unsharing {
		return "the account is used by " + strings.Join(names, ", ") + " of members it would no longer be shared with; they will break if it is unshared"
	}
	return "the account is used by " + strings.Join(names, ", ") + "; they will break if it is deleted"
}

func (e *InUseError) Unwrap() error { return ErrInUse }

// CheckDelete returns an *InUseError when workflows use the account.
func (s *Service) CheckDelete(ctx context.Context, actor identity.Actor, accountID string) error {
	seen, hidden, err := s.using(ctx, actor, accountID)
	if err != nil {
		return err
	}
	if len(seen) > 0 || hidden > 0 {
		return &InUseError{Workflows: seen, Hidden: hidden}
	}
	return nil
}

// DeleteAccount deletes an account (revoking its grant at the provider
// if asked) unless workflows use it: then it deletes nothing and returns
// an *InUseError, unless force says the caller was told and goes ahead.
// The API and the web both delete accounts through it, so both refuse
// alike.
func (s *Service) DeleteAccount(ctx context.Context, actor identity.Actor, accountID string, revoke, force bool) (outcome, detail string, err error) {
	if !force {
		if err := s.CheckDelete(ctx, actor, accountID); err != nil {
			return "", "", err
		}
	}
	return s.accounts.Delete(ctx, actor, accountID, revoke)
}

// ShareAccount sets who the account is shared with (accounts.Service's
// Share) unless that would take it away from workflows that use it, of
// members who would no longer see it: then it changes nothing and
// returns an *InUseError, unless force says the caller was told and goes
// ahead, as deleting does. Those workflows' steps then fail when run,
// saying their owner may not use the account. The API and the web both
// share through it.
func (s *Service) ShareAccount(ctx context.Context, actor identity.Actor, accountID string, sh accounts.Sharing, force bool) (accounts.Account, error) {
	acc, sh, err := s.accounts.CheckSharing(ctx, actor, accountID, sh)
	if err != nil {
		return accounts.Account{}, err
	}
	if !force {
		all, err := s.store.WorkflowsUsing(ctx, actor.WorkspaceID, accountID)
		if err != nil {
			return accounts.Account{}, err
		}
		var lose []store.Workflow
		for _, w := range all {
			owner := s.ownerOf(ctx, w.WorkspaceID, w.OwnerID)
			if accounts.SeenBy(acc, accounts.SharingOf(acc), owner) && !accounts.SeenBy(acc, sh, owner) {
				lose = append(lose, w)
			}
		}
		if len(lose) > 0 {
			e := &InUseError{Unsharing: true}
			for _, w := range lose {
				if canSee(actor, w) {
					e.Workflows = append(e.Workflows, Ref{ID: w.ID, Name: w.Name})
				} else {
					e.Hidden++
				}
			}
			return accounts.Account{}, e
		}
	}
	return s.accounts.Share(ctx, actor, accountID, sh)
}
