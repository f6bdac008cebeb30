package postgres_test

import (
	"testing"
	"time"

	"github.com/latchkeyhq/latchkey/internal/store"
	"github.com/latchkeyhq/latchkey/internal/store/postgres"
	"github.com/latchkeyhq/latchkey/internal/store/postgres/pgtest"
)

// PostgreSQL goes away for a while: every session ends and new ones are
// refused. Calls made meanwhile (a read, an update, an audit batch) wait
// and succeed once it is back; none returns an error to its caller.
func TestRideThroughRestart(t *testing.T) {
	ctx := t.Context()
	r, relayed := pgtest.NewRelay(t, pgtest.URL(t))
	s, err := postgres.Open(ctx, relayed)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.CreateWorkspace(ctx, store.Workspace{ID: "wsp_1", Name: "Acme", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateAccount(ctx, account("acc_1")); err != nil {
		t.Fatal(err)
	}

	r.Stop()
	calls := map[string]func() error{
		"GetAccount": func() error { _, err := s.GetAccount(ctx, "wsp_1", "acc_1"); return err },
		"UpdateAccount": func() error {
			_, err := s.UpdateAccount(ctx, "wsp_1", "acc_1", func(a *store.Account) error { a.Nickname = "Renamed"; return nil })
			return err
		},
		"AppendAudits": func() error {
			return s.AppendAudits(ctx, []store.AuditEvent{{ID: "evt_1", WorkspaceID: "wsp_1", Action: "x", CreatedAt: time.Now()}})
		},
	}
	type result struct {
		name string
		err  error
	}
	results := make(chan result, len(calls))
	for name, call := range calls {
		go func() { results <- result{name, call()} }()
	}
	// Each call is refused again and again while the server is away.
	for r.Refused() < 5*len(calls) {
		select {
		case res := <-results:
			t.Fatalf("%s returned (%v) while the database was away", res.name, res.err)
		case <-ctx.Done():
			t.Fatal("the calls did not try to connect")
		case <-time.After(5 * time.Millisecond):
		}
	}
	r.Start()
	for range calls {
		if res := <-results; res.err != nil {
			t.Errorf("%s = %v, want it to ride through", res.name, res.err)
		}
	}
	a, err := s.GetAccount(ctx, "wsp_1", "acc_1")
	if err != nil || a.Nickname != "Renamed" {
		t.Errorf("after the restart: %q, %v; want Renamed", a.Nickname, err)
	}
	if events, err := s.ListAudit(ctx, store.AuditFilter{WorkspaceID: "wsp_1"}); err != nil || len(events) != 1 {
		t.Errorf("audit events: %d, %v; want 1", len(events), err)
	}
}
