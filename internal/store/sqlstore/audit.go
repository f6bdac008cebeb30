package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
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
	if s.d.CopyRows != nil {
		rows := make([][]any, len(events))
		for i, e := range events {
			var err error
			if rows[i], err = auditArgs(make([]any, 0, 7), e); err != nil {
				return err
			}
		}
		if err := s.d.CopyRows(ctx, s.db, "audit_events", auditColumns, rows); err != nil {
			return s.conflict(err, "append %d audit events", len(events))
		}
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("append audit: begin: %w", err)
	}
	defer tx.Rollback()
	if err := appendAuditsPrepared(ctx, tx, events); err != nil {
		return s.conflict(err, "append %d audit events", len(events))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("append audit: commit: %w", err)
	}
	return nil
}

// auditColumns are the columns auditArgs gives values for, in order.
var auditColumns = []string{"id", "workspace_id", "actor_id", "account_id", "action", "detail", "created_at"}

var insertAudit = `INSERT INTO audit_events (` + strings.Join(auditColumns, ", ") + `) VALUES `

// auditArgs appends e's values in auditColumns' order.
func auditArgs(args []any, e store.AuditEvent) ([]any, error) {
	detail, err := detailJSON(e.Detail)
	if err != nil {
		return args, fmt.Errorf("audit event %s: detail: %w", e.ID, err)
	}
	return append(args, e.ID, e.WorkspaceID, e.ActorID, e.AccountID, e.Action, detail, micros(e.CreatedAt)), nil
}

// preparedRows is how many rows one prepared SQLite insert carries:
// each statement costs the driver and database/sql a fixed toll, which 50
// rows share (a third less CPU an event than one row a statement), while
// its parameters stay anonymous (?) and few.
const preparedRows = 50

// appendAuditsPrepared inserts the events with a prepared statement of
// preparedRows rows, and the rest one row at a time: an in-process
// database (SQLite) runs that fastest (a multi-row INSERT of a whole batch
// cost it several times more), and it is the cost of every audited read. Its parameters are anonymous (?): the driver looks each $N up by
// name on every bind, which cost about a sixth of the insert.
func appendAuditsPrepared(ctx context.Context, tx *sql.Tx, events []store.AuditEvent) error {
	args := make([]any, 0, 7*preparedRows)
	for _, rows := range []int{preparedRows, 1} {
		if len(events) < rows {
			continue
		}
		prepared, err := tx.PrepareContext(ctx, insertAudit+strings.Repeat(`(?, ?, ?, ?, ?, ?, ?), `, rows-1)+`(?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer prepared.Close()
		for ; len(events) >= rows; events = events[rows:] {
			args = args[:0]
			for _, e := range events[:rows] {
				if args, err = auditArgs(args, e); err != nil {
					return err
				}
			}
			if _, err := prepared.ExecContext(ctx, args...); err != nil {
				return err
			}
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
	if f.FromID != "" {
		where = append(where, "id >= "+arg(f.FromID))
	}
	if f.ToID != "" {
		where = append(where, "id < "+arg(f.ToID))
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

// detailJSON is toJSON for an event's detail, which every audited read
// writes: plain keys and values (printable ASCII, no quote or backslash,
// as the actor's facts are) are written straight, sorted as
// encoding/json sorts them; anything else goes through encoding/json.
func detailJSON(m map[string]string) (string, error) {
	if m == nil {
		return "null", nil
	}
	keys := make([]string, 0, 8)
	n := 2
	for k, v := range m {
		if !plainJSON(k) || !plainJSON(v) {
			return toJSON(m)
		}
		keys = append(keys, k)
		n += len(k) + len(v) + 6
	}
	slices.Sort(keys)
	b := make([]byte, 0, n)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, k...)
		b = append(b, `":"`...)
		b = append(b, m[k]...)
		b = append(b, '"')
	}
	b = append(b, '}')
	return string(b), nil
}

// plainJSON reports whether s stands in a JSON string as it is, and as
// encoding/json writes it (which escapes <, > and &).
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}
