package sqlite

import (
	"errors"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/latchkeyhq/latchkey/internal/store"
	"github.com/latchkeyhq/latchkey/internal/store/sqlstore"
)

// Migration 00023 rebuilds the audit table: the events of an existing
// log come through whole, in order, and an id still cannot repeat.
func TestAuditTableUpgrade(t *testing.T) {
	ctx := t.Context()
	db, err := OpenDB(ctx, filepath.Join(t.TempDir(), "latchkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, sub, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 22); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO workspaces (id, name, created_at) VALUES ('wsp_1', 'Acme', 1)`,
		`INSERT INTO audit_events (id, workspace_id, actor_id, account_id, action, detail, created_at) VALUES
			('evt_1', 'wsp_1', 'usr_a', 'acc_a', 'credentials.read', '{"surface":"api"}', 1000),
			('evt_3', 'wsp_1', 'usr_b', 'acc_a', 'account.connected', '{}', 3000),
			('evt_2', 'wsp_1', 'usr_a', '', 'token.created', 'null', 2000)`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if _, err := Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}

	s := sqlstore.New(db, Dialect)
	got, err := s.ListAudit(ctx, store.AuditFilter{WorkspaceID: "wsp_1"})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range got {
		ids = append(ids, e.ID)
	}
	if !slices.Equal(ids, []string{"evt_3", "evt_2", "evt_1"}) {
		t.Fatalf("after the upgrade the log holds %v, want evt_3, evt_2, evt_1", ids)
	}
	if e := got[2]; e.ActorID != "usr_a" || e.AccountID != "acc_a" || e.Action != "credentials.read" ||
		e.Detail["surface"] != "api" || !e.CreatedAt.Equal(time.UnixMicro(1000)) {
		t.Errorf("evt_1 after the upgrade = %+v", e)
	}
	byAccount, err := s.ListAudit(ctx, store.AuditFilter{WorkspaceID: "wsp_1", AccountID: "acc_a", ActorID: "usr_b"})
	if err != nil || len(byAccount) != 1 || byAccount[0].ID != "evt_3" {
		t.Errorf("account and actor filter after the upgrade = %v, %v; want evt_3", byAccount, err)
	}
	dup := store.AuditEvent{ID: "evt_2", WorkspaceID: "wsp_1", Action: "x", CreatedAt: time.UnixMicro(4000)}
	if err := s.AppendAudit(ctx, dup); !errors.Is(err, store.ErrConflict) {
		t.Errorf("AppendAudit of an id the old table held: %v, want ErrConflict", err)
	}
}

// Each filter of the audit log reads an index in id order, newest or
// oldest first, without sorting: a page costs its rows however long the
// log, and a time range rides the id order (the id bounds the audit
// service adds).
func TestAuditPlans(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "latchkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tests := []struct{ where, uses string }{
		{"workspace_id = ?", "INDEX audit_events_workspace (workspace_id=?)"},
		{"workspace_id = ? AND id >= ? AND id < ? AND created_at >= ?", "INDEX audit_events_workspace (workspace_id=? AND id>? AND id<?)"},
		{"workspace_id = ? AND account_id = ? AND id < ?", "INDEX audit_events_account (workspace_id=? AND account_id=? AND id<?)"},
		{"workspace_id = ? AND actor_id = ?", "INDEX audit_events_actor (workspace_id=? AND actor_id=?)"},
		{"workspace_id = ? AND action = ?", "INDEX audit_events_action (workspace_id=? AND action=?)"},
	}
	for _, tc := range tests {
		for _, order := range []string{"DESC", "ASC"} {
			q := "EXPLAIN QUERY PLAN SELECT id, workspace_id, actor_id, account_id, action, detail, created_at FROM audit_events WHERE " +
				tc.where + " ORDER BY id " + order + " LIMIT 50"
			rows, err := s.DB().QueryContext(t.Context(), q, "a", "b", "c", "d")
			if err != nil {
				t.Fatal(err)
			}
			var plan []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			rows.Close()
			got := strings.Join(plan, "; ")
			if !strings.Contains(got, "USING "+tc.uses) && !strings.Contains(got, "USING COVERING "+tc.uses) || strings.Contains(got, "TEMP B-TREE") {
				t.Errorf("%s ORDER BY id %s: plan %q, want it to use %s and sort nothing", tc.where, order, got, tc.uses)
			}
		}
	}
}
