package audit

import (
	"context"
	"log/slog"
	"path/filepath"
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
