package store

import (
	"context"
	"time"
)

// Workflow is an ordered list of steps. Steps are kept as the JSON the
// workflows package defines; Links say which account each step uses for
// each app, for "used by" questions.
type Workflow struct {
	ID          string
	WorkspaceID string
	OwnerID     string
	Name        string
	Steps       []byte
	Links       []Link
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// WorkflowRef names a workflow and who may see it, for "used by" lists.
type WorkflowRef struct {
	ID          string
	WorkspaceID string
	OwnerID     string
	Name        string
}

// Link ties one app of one step to an account.
type Link struct {
	Step      string
	App       string
	AccountID string
}

// Run is one execution of a workflow; its step results are JSON.
type Run struct {
	ID          string
	WorkspaceID string
	WorkflowID  string
	ActorID     string
	Status      string
	Steps       []byte
	StartedAt   time.Time
	FinishedAt  *time.Time
}

// Workflows stores workflows and their runs.
type Workflows interface {
	// CreateWorkflow stores a new workflow with its links; ErrConflict
	// when the id exists.
	CreateWorkflow(ctx context.Context, w Workflow) error
	// UpdateWorkflow reads the workflow with its links, calls fn on it and
	// writes what fn returns (the workflow and its links together), all
	// in one transaction that holds the row's lock, so concurrent updates
	// never lose each other. When fn returns an error nothing is written
	// and that error is returned; a workflow not in the workspace is
	// ErrNotFound. ID, WorkspaceID and CreatedAt cannot change. fn must
	// not call the store: the transaction holds a connection and, in
	// SQLite, the database's write lock.
	UpdateWorkflow(ctx context.Context, workspaceID, id string, fn func(old Workflow) (Workflow, error)) (Workflow, error)
	GetWorkflow(ctx context.Context, workspaceID, id string) (Workflow, error)
	ListWorkflows(ctx context.Context, workspaceID string) ([]Workflow, error)
	DeleteWorkflow(ctx context.Context, workspaceID, id string) error
	// WorkflowsUsing lists the workflows with a step linked to the account.
	WorkflowsUsing(ctx context.Context, workspaceID, accountID string) ([]Workflow, error)
	// WorkflowsUsingAccounts is WorkflowsUsing for many accounts at once,
	// in one query: for each account with a linked workflow, those
	// workflows (each once, by id). Accounts with none are absent.
	WorkflowsUsingAccounts(ctx context.Context, workspaceID string, accountIDs []string) (map[string][]WorkflowRef, error)
	PutRun(ctx context.Context, r Run) error
	GetRun(ctx context.Context, workspaceID, id string) (Run, error)
	// ListRuns lists a workflow's runs, newest first.
	ListRuns(ctx context.Context, workspaceID, workflowID string, limit int) ([]Run, error)
}
