package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/latchkeyhq/latchkey/internal/store/sqlite"
	"github.com/latchkeyhq/latchkey/internal/store/storetest"
)

// TestTextSearchBothWays: with a low threshold, texts that many of the
// seeded accounts hold ("acme") are scanned while rare ones go through
// the FTS5 index, and both list what a plain scan does.
func TestTextSearchBothWays(t *testing.T) {
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "latchkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.SetTextIndexCap(500)
	storetest.ListAccountsMatchScan(t, s)
}
