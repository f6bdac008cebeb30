package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/latchkeyhq/latchkey/internal/store"
)

// CreateWorkflow stores a new workflow and its links in one transaction;
// ErrConflict when the id exists.
func (s *Store) CreateWorkflow(ctx context.Context, w store.Workflow) error {
	return s.inTx(ctx, fmt.Sprintf("create workflow %s", w.ID), func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO workflows (`+workflowColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			w.ID, w.WorkspaceID, w.OwnerID, w.Name, nonNil(w.Steps), micros(w.CreatedAt), micros(w.UpdatedAt)); err != nil {
			return s.conflict(err, "create workflow %s", w.ID)
		}
		if err := s.insertLinks(ctx, tx, w); err != nil {
			return err
		}
		return nil
	})
}

// UpdateWorkflow reads the workflow and its links under the row's lock,
// lets fn change them and writes both back, all in one transaction.
func (s *Store) UpdateWorkflow(ctx context.Context, workspaceID, id string, fn func(store.Workflow) (store.Workflow, error)) (store.Workflow, error) {
	return inTxValue(ctx, s, fmt.Sprintf("update workflow %s", id), func(tx *sql.Tx) (store.Workflow, error) {
		old, err := scanWorkflow(tx.QueryRowContext(ctx,
			`SELECT `+workflowColumns+` FROM workflows WHERE workspace_id = $1 AND id = $2`+s.d.LockRows, workspaceID, id))
		if err != nil {
			return store.Workflow{}, notFound(err, "update workflow %s", id)
		}
		if old.Links, err = links(ctx, tx, id); err != nil {
			return store.Workflow{}, fmt.Errorf("update workflow %s: %w", id, err)
		}
		w, err := fn(old)
		if err != nil {
			return store.Workflow{}, err
		}
		w.ID, w.WorkspaceID, w.CreatedAt = old.ID, old.WorkspaceID, old.CreatedAt
		if _, err := tx.ExecContext(ctx, `UPDATE workflows SET owner_id = $3, name = $4, steps = $5, updated_at = $6 WHERE workspace_id = $1 AND id = $2`,
			w.WorkspaceID, w.ID, w.OwnerID, w.Name, nonNil(w.Steps), micros(w.UpdatedAt)); err != nil {
			return store.Workflow{}, fmt.Errorf("update workflow %s: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM workflow_links WHERE workflow_id = $1`, id); err != nil {
			return store.Workflow{}, fmt.Errorf("update workflow %s: links: %w", id, err)
		}
		if err := s.insertLinks(ctx, tx, w); err != nil {
			return store.Workflow{}, err
		}
		return storedWorkflow(w), nil
	})
}

func (s *Store) insertLinks(ctx context.Context, tx *sql.Tx, w store.Workflow) error {
	for _, l := range w.Links {
		if _, err := tx.ExecContext(ctx, `INSERT INTO workflow_links (workflow_id, workspace_id, step, app, account_id) VALUES ($1, $2, $3, $4, $5)`,
			w.ID, w.WorkspaceID, l.Step, l.App, l.AccountID); err != nil {
			return s.conflict(err, "workflow %s: link %s.%s", w.ID, l.Step, l.App)
		}
	}
	return nil
}

// storedWorkflow returns w as GetWorkflow reads it back.
func storedWorkflow(w store.Workflow) store.Workflow {
	w.Steps = nonNil(w.Steps)
	w.CreatedAt, w.UpdatedAt = stored(w.CreatedAt), stored(w.UpdatedAt)
	if len(w.Links) == 0 {
		w.Links = nil
	} else {
		w.Links = slices.Clone(w.Links)
		sortLinks(w.Links)
	}
	return w
}

// sortLinks orders links by step and app, byte-wise: in Go rather than SQL,
// whose collation may differ between databases.
func sortLinks(l []store.Link) {
	slices.SortFunc(l, func(a, b store.Link) int {
		return cmp.Or(strings.Compare(a.Step, b.Step), strings.Compare(a.App, b.App))
	})
}

const workflowColumns = `id, workspace_id, owner_id, name, steps, created_at, updated_at`

// GetWorkflow returns a workflow with its links.
func (s *Store) GetWorkflow(ctx context.Context, workspaceID, id string) (store.Workflow, error) {
	w, err := scanWorkflow(s.queryRowDirect(ctx, `SELECT `+workflowColumns+` FROM workflows WHERE workspace_id = $1 AND id = $2`, workspaceID, id))
	if err != nil {
		return store.Workflow{}, notFound(err, "get workflow %s", id)
	}
	if w.Links, err = links(ctx, reads{s}, id); err != nil {
		return store.Workflow{}, fmt.Errorf("get workflow %s: %w", id, err)
	}
	return w, nil
}

// querier is a *sql.DB or *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// links reads a workflow's links, ordered as sortLinks does.
func links(ctx context.Context, q querier, workflowID string) ([]store.Link, error) {
	rows, err := q.QueryContext(ctx, `SELECT step, app, account_id FROM workflow_links WHERE workflow_id = $1`, workflowID)
	if err != nil {
		return nil, fmt.Errorf("links: %w", err)
	}
	out, err := collect(rows, "links", func(row scanner) (store.Link, error) {
		var l store.Link
		err := row.Scan(&l.Step, &l.App, &l.AccountID)
		return l, err
	})
	if err != nil {
		return nil, err
	}
	sortLinks(out)
	return out, nil
}

// ListWorkflows lists the workspace's workflows, oldest first, without links.
func (s *Store) ListWorkflows(ctx context.Context, workspaceID string) ([]store.Workflow, error) {
	return s.workflows(ctx, `SELECT `+workflowColumns+` FROM workflows WHERE workspace_id = $1 ORDER BY id LIMIT 1000`, workspaceID)
}

// WorkflowsUsing lists the workflows linked to an account.
func (s *Store) WorkflowsUsing(ctx context.Context, workspaceID, accountID string) ([]store.Workflow, error) {
	return s.workflows(ctx, `SELECT `+workflowColumns+` FROM workflows WHERE workspace_id = $1 AND id IN
		(SELECT workflow_id FROM workflow_links WHERE workspace_id = $1 AND account_id = $2) ORDER BY id`, workspaceID, accountID)
}

// WorkflowsUsingAccounts names, for each of the accounts, the workflows
// linked to it, in one query.
func (s *Store) WorkflowsUsingAccounts(ctx context.Context, workspaceID string, accountIDs []string) (map[string][]store.WorkflowRef, error) {
	out := map[string][]store.WorkflowRef{}
	if len(accountIDs) == 0 {
		return out, nil
	}
	args := []any{workspaceID}
	marks := make([]string, 0, len(accountIDs))
	for _, id := range accountIDs {
		args = append(args, id)
		marks = append(marks, "$"+strconv.Itoa(len(args)))
	}
	rows, err := s.query(ctx, `SELECT DISTINCT l.account_id, w.id, w.workspace_id, w.owner_id, w.name
		FROM workflow_links l JOIN workflows w ON w.id = l.workflow_id
		WHERE l.workspace_id = $1 AND w.workspace_id = $1 AND l.account_id IN (`+strings.Join(marks, ", ")+`)
		ORDER BY l.account_id, w.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("workflows using %d accounts: %w", len(accountIDs), err)
	}
	defer rows.Close()
	for rows.Next() {
		var account string
		var w store.WorkflowRef
		if err := rows.Scan(&account, &w.ID, &w.WorkspaceID, &w.OwnerID, &w.Name); err != nil {
			return nil, fmt.Errorf("workflows using %d accounts: %w", len(accountIDs), err)
		}
		out[account] = append(out[account], w)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("workflows using %d accounts: %w", len(accountIDs), err)
	}
	return out, nil
}

func (s *Store) workflows(ctx context.Context, query string, args ...any) ([]store.Workflow, error) {
	rows, err := s.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list workflows: %w", err)
	}
	defer rows.Close()
	out, err := scanAll(rows, "list workflows", scanWorkflow)
	if err != nil {
		return nil, err
	}
	return out, rows.Err()
}

// DeleteWorkflow deletes a workflow, its links and its runs.
func (s *Store) DeleteWorkflow(ctx context.Context, workspaceID, id string) error {
	if err := s.deleteOne(ctx, `DELETE FROM workflows WHERE workspace_id = $1 AND id = $2`, workspaceID, id, "delete workflow"); err != nil {
		return err
	}
	// SQLite enforces the cascade only with foreign keys on; say it here too.
	if _, err := s.execIdem(ctx, `DELETE FROM workflow_links WHERE workflow_id = $1`, id); err != nil {
		return fmt.Errorf("delete workflow %s: links: %w", id, err)
	}
	if _, err := s.execIdem(ctx, `DELETE FROM runs WHERE workspace_id = $1 AND workflow_id = $2`, workspaceID, id); err != nil {
		return fmt.Errorf("delete workflow %s: runs: %w", id, err)
	}
	return nil
}

func scanWorkflow(row scanner) (store.Workflow, error) {
	var w store.Workflow
	var created, updated int64
	if err := row.Scan(&w.ID, &w.WorkspaceID, &w.OwnerID, &w.Name, &w.Steps, &created, &updated); err != nil {
		return store.Workflow{}, err
	}
	w.CreatedAt, w.UpdatedAt = fromMicros(created), fromMicros(updated)
	return w, nil
}

// PutRun creates or replaces a run.
func (s *Store) PutRun(ctx context.Context, r store.Run) error {
	_, err := s.exec(ctx, "create run", `INSERT INTO runs (id, workspace_id, workflow_id, actor_id, status, steps, started_at, finished_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (id) DO UPDATE SET status = excluded.status, steps = excluded.steps, finished_at = excluded.finished_at`,
		r.ID, r.WorkspaceID, r.WorkflowID, r.ActorID, r.Status, nonNil(r.Steps), micros(r.StartedAt), nullMicros(r.FinishedAt))
	if err != nil {
		return fmt.Errorf("put run %s: %w", r.ID, err)
	}
	return nil
}

const runColumns = `id, workspace_id, workflow_id, actor_id, status, steps, started_at, finished_at`

// GetRun returns a run.
func (s *Store) GetRun(ctx context.Context, workspaceID, id string) (store.Run, error) {
	r, err := scanRun(s.queryRowDirect(ctx, `SELECT `+runColumns+` FROM runs WHERE workspace_id = $1 AND id = $2`, workspaceID, id))
	if err != nil {
		return store.Run{}, notFound(err, "get run %s", id)
	}
	return r, nil
}

// ListRuns lists a workflow's runs, newest first.
func (s *Store) ListRuns(ctx context.Context, workspaceID, workflowID string, n int) ([]store.Run, error) {
	rows, err := s.query(ctx, `SELECT `+runColumns+` FROM runs WHERE workspace_id = $1 AND workflow_id = $2 ORDER BY id DESC LIMIT $3`,
		workspaceID, workflowID, limit(n))
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	defer rows.Close()
	out, err := scanAll(rows, "list runs", scanRun)
	if err != nil {
		return nil, err
	}
	return out, rows.Err()
}

func scanRun(row scanner) (store.Run, error) {
	var r store.Run
	var started int64
	var finished sql.NullInt64
	if err := row.Scan(&r.ID, &r.WorkspaceID, &r.WorkflowID, &r.ActorID, &r.Status, &r.Steps, &started, &finished); err != nil {
		return store.Run{}, err
	}
	r.StartedAt, r.FinishedAt = fromMicros(started), fromNullMicros(finished)
	return r, nil
}
