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
	"github.com/latchkeyhq/latchkey/internal/actions"
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
	// KindAction runs a catalog action with the step's account of its app.
	KindAction = "action"
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
	// Action names an action step's catalog action ("app.action"); Input
	// is its input, checked against the action's schema when saved.
	Action string          `json:"action,omitempty"`
	Input  json.RawMessage `json:"input,omitempty"`
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
	actions *actions.Service
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
	// Actions finds the catalog actions of action steps.
	Actions *actions.Service
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
	return &Service{store: o.Store, accounts: o.Accounts, apps: o.Apps, clock: o.Clock, log: o.Log, http: o.HTTP, node: o.Node, sandbox: o.Sandbox, audit: o.Audit, actions: o.Actions}
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
