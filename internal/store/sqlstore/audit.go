package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/latchkeyhq/latchkey/internal/store"
)

// AppendAudit stores e; ErrConflict when its id exists.
func (s *Store) AppendAudit(ctx context.Context, e store.AuditEvent) error {
	return s.AppendAudits(ctx, []store.AuditEvent{e})
}

// AppendAudits stores events in one transaction: all or none.
func (s *Store) AppendAudits(ctx context.Context, events []store.AuditEvent) error {
	return s.inTx(ctx, "append audit", func(tx *sql.Tx) error {
		var err error
		if s.d.MultiRowInsert {
			err = appendAuditsMultiRow(ctx, tx, events)
		} else {
			err = appendAuditsPrepared(ctx, tx, events)
		}
		if err != nil {
			return s.conflict(err, "append %d audit events", len(events))
		}
		return nil
	})
}

const insertAudit = `INSERT INTO audit_events (id, workspace_id, actor_id, account_id, action, detail, created_at) VALUES `

// appendAuditsPrepared inserts one prepared row at a time: an in-process
// database (SQLite) runs that fastest, and it is the cost of every audited
// read. Its parameters are anonymous (?): the driver looks each $N up by
// name on every bind, which cost about a sixth of the insert.
func appendAuditsPrepared(ctx context.Context, tx *sql.Tx, events []store.AuditEvent) error {
	prepared, err := tx.PrepareContext(ctx, insertAudit+`(?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer prepared.Close()
	for _, e := range events {
		detail, err := toJSON(e.Detail)
		if err != nil {
			return fmt.Errorf("audit event %s: detail: %w", e.ID, err)
		}
		if _, err := prepared.ExecContext(ctx, e.ID, e.WorkspaceID, e.ActorID, e.AccountID, e.Action, detail, micros(e.CreatedAt)); err != nil {
			return err
		}
	}
	return nil
}

// appendAuditsMultiRow inserts up to 500 rows a statement, for a database
// over the network, where each statement is a round trip.
func appendAuditsMultiRow(ctx context.Context, tx *sql.Tx, events []store.AuditEvent) error {
	const perStatement = 500 // 3,500 parameters, well under the limit
	for len(events) > 0 {
		chunk := events[:min(perStatement, len(events))]
		events = events[len(chunk):]
		var b strings.Builder
		b.WriteString(insertAudit)
		args := make([]any, 0, 7*len(chunk))
		for i, e := range chunk {
			detail, err := toJSON(e.Detail)
			if err != nil {
				return fmt.Errorf("audit event %s: detail: %w", e.ID, err)
			}
			if i > 0 {
				b.WriteString(", ")
			}
			n := len(args)
			b.WriteString("($")
			for j := 1; j <= 7; j++ {
				if j > 1 {
					b.WriteString(", $")
				}
				b.WriteString(strconv.Itoa(n + j))
			}
			b.WriteString(")")
			args = append(args, e.ID, e.WorkspaceID, e.ActorID, e.AccountID, e.Action, detail, micros(e.CreatedAt))
		}
		if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
			return err
		}
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
	if f.ActorID != "" {
		where = append(where, "actor_id = "+arg(f.ActorID))
	}
	if f.Action != "" {
		where = append(where, "action = "+arg(f.Action))
	}
	if f.ActionPrefix != "" {
		// substr, not LIKE: no wildcards to escape, and the same on both
		// backends whatever the collation.
		where = append(where, "substr(action, 1, "+arg(utf8.RuneCountInString(f.ActionPrefix))+") = "+arg(f.ActionPrefix))
	}
	if !f.Since.IsZero() {
		where = append(where, "created_at >= "+arg(micros(f.Since)))
	}
	if !f.Until.IsZero() {
		where = append(where, "created_at < "+arg(micros(f.Until)))
	}
	if f.Before != "" {
		where = append(where, "id < "+arg(f.Before))
	}
	if f.After != "" {
		where = append(where, "id > "+arg(f.After))
	}
	order := "DESC"
	if f.OldestFirst {
		order = "ASC"
	}
	query := `SELECT id, workspace_id, actor_id, account_id, action, detail, created_at
		FROM audit_events WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY id ` + order + ` LIMIT ` + arg(limit(f.Limit))

	rows, err := s.query(ctx, query, args...)
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
