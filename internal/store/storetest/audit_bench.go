package storetest

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/latchkeyhq/latchkey/internal/ids"
	"github.com/latchkeyhq/latchkey/internal/store"
)

// BenchmarkAppendAudits measures what every audited read costs the audit
// writer: events like a credential read's, appended in batches as the
// audit log writes them, to a log that already holds some. One op is one
// event.
func BenchmarkAppendAudits(b *testing.B, s store.Store) {
	ctx := b.Context()
	if err := s.CreateWorkspace(ctx, store.Workspace{ID: "wsp_bench", Name: "Bench"}); err != nil {
		b.Fatalf("CreateWorkspace: %v", err)
	}
	now := time.Now()
	event := func(i int) store.AuditEvent {
		t := now.Add(time.Duration(i) * 20 * time.Microsecond)
		return store.AuditEvent{
			ID: ids.New(ids.Event, t), WorkspaceID: "wsp_bench", ActorID: "usr_01kbd3n1wdm6h3g4qa0w4v2x9p",
			AccountID: fmt.Sprintf("acc_01kbd3n1wdm6h3g4qa0w4v2x%02d", i%8), Action: "credentials.read",
			Detail: map[string]string{"token_id": "tok_01kbd3n1wdm6h3g4qa0w4v2x9q", "token_name": "admin",
				"addr": fmt.Sprintf("127.0.0.1:%d", 30000+i%20000), "surface": "api"},
			CreatedAt: t,
		}
	}
	const batch = 500
	n := 0
	appendN := func(count int) {
		for count > 0 {
			list := make([]store.AuditEvent, min(batch, count))
			for i := range list {
				list[i] = event(n)
				n++
			}
			count -= len(list)
			if err := s.AppendAudits(ctx, list); err != nil {
				b.Fatalf("AppendAudits: %v", err)
			}
		}
	}
	// A log of some size first: inserts into deeper b-trees cost more.
	appendN(100_000)
	b.ResetTimer()
	cpu0 := processCPU()
	appendN(b.N)
	// The machine may be shared: the process's CPU time says more than
	// the wall clock (a PostgreSQL server's own work is not in it).
	b.ReportMetric(float64((processCPU()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
}

func processCPU() time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		return 0
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}
