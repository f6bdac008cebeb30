package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/latchkeyhq/latchkey/internal/store"
	"github.com/latchkeyhq/latchkey/internal/store/sqlite"
	"github.com/latchkeyhq/latchkey/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "latchkey.db"))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestPersistsAcrossOpen(t *testing.T) {
	ctx := t.Context()
	// A directory that does not exist yet: Open makes it.
	path := filepath.Join(t.TempDir(), "data", "nested", "latchkey.db")

	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := s.CreateWorkspace(ctx, store.Workspace{ID: "wsp_1", Name: "Acme"}); err != nil {
		t.Fatalf("CreateWorkspace: %v", err)
	}
	if _, err := s.PutMetaIfAbsent(ctx, "canary", []byte("sealed")); err != nil {
		t.Fatalf("PutMetaIfAbsent: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	w, err := s.GetWorkspace(ctx, "wsp_1")
	if err != nil || w.Name != "Acme" {
		t.Errorf("GetWorkspace after reopen = %+v, %v", w, err)
	}
	v, err := s.GetMeta(ctx, "canary")
	if err != nil || string(v) != "sealed" {
		t.Errorf("GetMeta after reopen = %q, %v", v, err)
	}
}

func TestMigrate(t *testing.T) {
	ctx := t.Context()
	db, err := sqlite.OpenDB(ctx, filepath.Join(t.TempDir(), "latchkey.db"))
	if err != nil {
		t.Fatalf("OpenDB: %v", err)
	}
	defer db.Close()
	v1, err := sqlite.Migrate(ctx, db)
	if err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	if v1 < 1 {
		t.Errorf("Migrate reported version %d, want at least 1", v1)
	}
	// Running again finds nothing to do and reports the same version.
	v2, err := sqlite.Migrate(ctx, db)
	if err != nil || v2 != v1 {
		t.Errorf("second Migrate = %d, %v; want %d", v2, err, v1)
	}
}

func TestOpenRejectsQuestionMark(t *testing.T) {
	if _, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "a?b.db")); err == nil {
		t.Error("Open accepted a path with '?'")
	}
}
