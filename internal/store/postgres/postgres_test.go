package postgres_test

import (
	"testing"

	"github.com/latchkeyhq/latchkey/internal/store"
	"github.com/latchkeyhq/latchkey/internal/store/postgres"
	"github.com/latchkeyhq/latchkey/internal/store/postgres/pgtest"
	"github.com/latchkeyhq/latchkey/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	pgtest.BaseURL(t) // skip (or fail) once here, not in every subtest
	storetest.Run(t, func(t *testing.T) store.Store { return pgtest.Open(t) })
}

// Two stores on one URL from pgtest.URL share one schema, as replicas do;
// both migrate, and each sees what the other wrote.
func TestSharedSchema(t *testing.T) {
	ctx := t.Context()
	url := pgtest.URL(t)

	open := func() store.Store {
		s, err := postgres.Open(ctx, url)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	a, b := open(), open()
	if err := a.CreateWorkspace(ctx, store.Workspace{ID: "wsp_1", Name: "Acme"}); err != nil {
		t.Fatalf("CreateWorkspace: %v", err)
	}
	if _, err := b.GetWorkspace(ctx, "wsp_1"); err != nil {
		t.Errorf("second store does not see the first's workspace: %v", err)
	}

	// A store in another fresh schema sees none of it.
	other := pgtest.Open(t)
	if _, err := other.FirstWorkspace(ctx); err == nil {
		t.Error("a store in another schema sees the workspace")
	}
}

func TestMigrate(t *testing.T) {
	ctx := t.Context()
	db, err := postgres.OpenDB(ctx, pgtest.URL(t))
	if err != nil {
		t.Fatalf("OpenDB: %v", err)
	}
	defer db.Close()
	v1, err := postgres.Migrate(ctx, db)
	if err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	if v1 < 1 {
		t.Errorf("Migrate reported version %d, want at least 1", v1)
	}
	v2, err := postgres.Migrate(ctx, db)
	if err != nil || v2 != v1 {
		t.Errorf("second Migrate = %d, %v; want %d", v2, err, v1)
	}
}

// Two stores on one schema, as two replicas, refresh concurrently: SKIP
// LOCKED shares the due accounts between them, none handed over twice.
func TestRefreshDueAcrossStores(t *testing.T) {
	ctx := t.Context()
	url := pgtest.URL(t)

	open := func() store.Store {
		s, err := postgres.Open(ctx, url)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	a, b := open(), open()
	storetest.RefreshDueShared(t, a, b, a, b)
}

// Two stores on one schema, as two replicas, lease webhook deliveries
// concurrently: none goes to both.
func TestWebhookLeaseAcrossStores(t *testing.T) {
	ctx := t.Context()
	url := pgtest.URL(t)
	open := func() store.Store {
		s, err := postgres.Open(ctx, url)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	a, b := open(), open()
	storetest.WebhookLeaseShared(t, a, b, a, b)
}

// TestTextSearchSampled: led by a rare piece of the text found in a
// sample, whatever the table's size, text filters list what a plain scan
// does.
func TestTextSearchSampled(t *testing.T) {
	s := pgtest.Open(t)
	s.SetTextSampleFloor(0)
	storetest.ListAccountsMatchScan(t, s)
}
