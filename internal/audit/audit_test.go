package audit

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/latchkeyhq/latchkey/internal/store"
	"github.com/latchkeyhq/latchkey/internal/store/sqlite"
)

// TestAuditLog: queued events are in the store after a flush, a batch
// larger than one write goes in whole, and an event after close is still
// written (not dropped, not a panic).
func TestAuditLog(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	st.CreateWorkspace(ctx, store.Workspace{ID: "wsp_a", Name: "a", CreatedAt: now})
	a := New(st, slog.New(slog.DiscardHandler))
	event := func(i int) store.AuditEvent {
		return store.AuditEvent{ID: "evt_" + time.Duration(i).String(), WorkspaceID: "wsp_a", Action: "x", CreatedAt: now}
	}
	for i := 0; i < batchMax+7; i++ {
		a.Add(event(i))
	}
	a.Flush(ctx)
	count := func() int {
		list, err := st.ListAudit(ctx, store.AuditFilter{WorkspaceID: "wsp_a", Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		n := len(list)
		for len(list) == 500 {
			list, _ = st.ListAudit(ctx, store.AuditFilter{WorkspaceID: "wsp_a", Limit: 500, Before: list[len(list)-1].ID})
			n += len(list)
		}
		return n
	}
	if n := count(); n != batchMax+7 {
		t.Fatalf("%d events after flush, want %d", n, batchMax+7)
	}
	a.Close()
	a.Close() // twice is harmless
	a.Add(event(-1))
	if n := count(); n != batchMax+8 {
		t.Fatalf("%d events after a late add, want %d", n, batchMax+8)
	}
}

// away is the real store, except that its database is away for the first
// failures batch writes.
type away struct {
	store.Audit
	mu       sync.Mutex
	failures int
}

func (w *away) AppendAudits(ctx context.Context, events []store.AuditEvent) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.failures > 0 {
		w.failures--
		return fmt.Errorf("append audit: %w: connection refused", store.ErrUnavailable)
	}
	return w.Audit.AppendAudits(ctx, events)
}

// While the database is away (the store has retried and given up, or
// could not tell whether a batch was kept) the log keeps its events and
// writes them when it is back: none is lost, none is written twice.
func TestAuditLogRidesThroughAnOutage(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	st.CreateWorkspace(ctx, store.Workspace{ID: "wsp_a", Name: "a", CreatedAt: now})
	w := &away{Audit: st, failures: 2}
	a := New(w, slog.New(slog.DiscardHandler))
	defer a.Close()
	event := func(i int) store.AuditEvent {
		return store.AuditEvent{ID: fmt.Sprintf("evt_%04d", i), WorkspaceID: "wsp_a", Action: "x", CreatedAt: now}
	}
	count := func() int {
		list, err := st.ListAudit(ctx, store.AuditFilter{WorkspaceID: "wsp_a", Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		return len(list)
	}
	for i := range 10 {
		a.Add(event(i))
	}
	a.Flush(ctx) // the database is away
	a.Flush(ctx) // still away
	if n := count(); n != 0 {
		t.Fatalf("%d events written while the database was away", n)
	}
	// One event of the batch was kept although its answer was lost.
	if err := st.AppendAudit(ctx, event(3)); err != nil {
		t.Fatal(err)
	}
	a.Add(event(10))
	a.Flush(ctx)
	if n := count(); n != 11 {
		t.Errorf("%d events after the database came back, want 11", n)
	}
}
