package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/latchkeyhq/latchkey/internal/store"
)

// AppendAudit stores e; ErrConflict when its id exists.
func (s *Store) AppendAudit(ctx context.Context, e store.AuditEvent) error {
	detail, err := toJSON(e.Detail)
	if err != nil {
		return fmt.Errorf("append audit %s: detail: %w", e.ID, err)
	}
	_, err = s.db.ExecContext(ctx,
		`INSERT INTO audit_events (id, workspace_id, actor_id, account_id, action, detail, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		e.ID, e.WorkspaceID, e.ActorID, e.AccountID, e.Action, detail, micros(e.CreatedAt))
	if err != nil {
		return s.conflict(err, "append audit %s", e.ID)
	}
	return nil
}

// ListAudit returns one page of the events f selects, newest first.
func (s *Store) ListAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditEvent, error) {
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	where := []string{"workspace_id = " + arg(f.WorkspaceID)}
	if f.AccountID != "" {
		where = append(where, "account_id = "+arg(f.AccountID))
	}
	if f.Before != "" {
		where = append(where, "id < "+arg(f.Before))
	}
	query := `SELECT id, workspace_id, actor_id, account_id, action, detail, created_at
		FROM audit_events WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY id DESC LIMIT ` + arg(limit(f.Limit))

	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list audit of %s: %w", f.WorkspaceID, err)
	}
	defer rows.Close()
	var out []store.AuditEvent
	for rows.Next() {
		var (
			e       store.AuditEvent
			detail  string
			created int64
		)
		if err := rows.Scan(&e.ID, &e.WorkspaceID, &e.ActorID, &e.AccountID, &e.Action, &detail, &created); err != nil {
			return nil, fmt.Errorf("list audit of %s: %w", f.WorkspaceID, err)
		}
		if err := json.Unmarshal([]byte(detail), &e.Detail); err != nil {
			return nil, fmt.Errorf("audit event %s: detail: %w", e.ID, err)
		}
		e.CreatedAt = fromMicros(created)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list audit of %s: %w", f.WorkspaceID, err)
	}
	return out, nil
}
