package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/latchkeyhq/latchkey/internal/store"
)

// CreateAccounts stores list in one transaction, all or none, with their
// tags and shares, in multi-row INSERTs: a bulk import costs a few
// statements per thousand accounts. The triggers that keep the text index
// and the counts by status run for every row, as for CreateAccount.
func (s *Store) CreateAccounts(ctx context.Context, list []store.Account) error {
	if len(list) == 0 {
		return nil
	}
	accounts := make([][]any, 0, len(list))
	var tags, shares [][]any
	for _, a := range list {
		values, err := accountValues(a)
		if err != nil {
			return err
		}
		accounts = append(accounts, values)
		for _, k := range slices.Sorted(maps.Keys(a.Tags)) {
			tags = append(tags, []any{a.ID, a.WorkspaceID, k, a.Tags[k]})
		}
		for _, m := range sortedSet(a.SharedWith) {
			shares = append(shares, []any{a.ID, m})
		}
	}
	return s.inTx(ctx, fmt.Sprintf("create %d accounts", len(list)), func(tx *sql.Tx) error {
		if err := s.insertRows(ctx, tx, `INSERT INTO accounts (`+accountColumns+`) VALUES `, accounts); err != nil {
			return s.conflict(err, "create %d accounts", len(list))
		}
		if err := s.insertRows(ctx, tx, `INSERT INTO account_tags (account_id, workspace_id, tag_key, tag_value) VALUES `, tags); err != nil {
			return fmt.Errorf("create %d accounts: tags: %w", len(list), err)
		}
		if err := s.insertRows(ctx, tx, `INSERT INTO account_shares (account_id, user_id) VALUES `, shares); err != nil {
			return fmt.Errorf("create %d accounts: shares: %w", len(list), err)
		}
		return nil
	})
}

// maxParams bounds the parameters of one statement, under PostgreSQL's
// 65,535 and SQLite's 32,766.
const maxParams = 30000

// insertRows runs head ("INSERT INTO t (a, b) VALUES ") over rows, which
// all have the same number of values: as few multi-row statements where
// each statement is a round trip (MultiRowInsert), else as one prepared
// row at a time, which an in-process SQLite runs fastest (it looks up
// each $N of a statement in a list, so a statement of thousands of
// parameters takes time quadratic in them to prepare).
func (s *Store) insertRows(ctx context.Context, tx *sql.Tx, head string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	if !s.d.MultiRowInsert {
		return insertEach(ctx, tx, head, rows)
	}
	per := max(1, maxParams/len(rows[0]))
	for len(rows) > 0 {
		chunk := rows[:min(per, len(rows))]
		rows = rows[len(chunk):]
		var b strings.Builder
		b.WriteString(head)
		args := make([]any, 0, len(chunk)*len(chunk[0]))
		for i, row := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('(')
			for j, v := range row {
				if j > 0 {
					b.WriteString(", ")
				}
				args = append(args, v)
				fmt.Fprintf(&b, "$%d", len(args))
			}
			b.WriteByte(')')
		}
		if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

// insertEach runs head over rows with one prepared statement, a row at a
// time.
func insertEach(ctx context.Context, tx *sql.Tx, head string, rows [][]any) error {
	var b strings.Builder
	b.WriteString(head + "(")
	for j := range rows[0] {
		if j > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "$%d", j+1)
	}
	b.WriteString(")")
	st, err := tx.PrepareContext(ctx, b.String())
	if err != nil {
		return err
	}
	defer st.Close()
	for _, row := range rows {
		if _, err := st.ExecContext(ctx, row...); err != nil {
			return err
		}
	}
	return nil
}
