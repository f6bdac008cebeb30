package sqlite_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/latchkeyhq/latchkey/internal/store/sqlite"
)

// TestTagFilterUsesIndex: the tag filter's lookup (as the accounts list
// builds it) is a search of account_tags_lookup, not a scan of the tags.
func TestTagFilterUsesIndex(t *testing.T) {
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "latchkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rows, err := s.DB().QueryContext(t.Context(), `EXPLAIN QUERY PLAN SELECT id FROM accounts WHERE workspace_id = $1
		AND id IN (SELECT t.account_id FROM account_tags t WHERE t.workspace_id = $2 AND t.tag_key = $3 AND t.tag_value = $4)
		ORDER BY id LIMIT 51`, "wsp_1", "wsp_1", "org", "acme")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	text := strings.Join(plan, "\n")
	t.Log(text)
	if !strings.Contains(text, "account_tags_lookup") || strings.Contains(text, "SCAN t") || strings.Contains(text, "SCAN account_tags") {
		t.Errorf("the tag filter's plan does not search account_tags_lookup:\n%s", text)
	}
}
