package postgres_test

import (
	"testing"

	"github.com/latchkeyhq/latchkey/internal/store/postgres/pgtest"
	"github.com/latchkeyhq/latchkey/internal/store/storetest"
)

// BenchmarkAppendAudits: cpu-ns/op is this process's share only; the
// database server's own work runs in its processes.
func BenchmarkAppendAudits(b *testing.B) {
	storetest.BenchmarkAppendAudits(b, pgtest.Open(b))
}
