package storetest

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/latchkeyhq/latchkey/internal/store"
)

func eventIDs(es []store.AuditEvent) []string {
	ids := []string{}
	for _, e := range es {
		ids = append(ids, e.ID)
	}
	return ids
}

func testAudit(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	mustWorkspace(t, s, "wsp_2")
	mustAccount(t, s, newAccount("wsp_1", "acc_a", "usr_alice", "slack"))

	events := []store.AuditEvent{
		{ID: "evt_1", WorkspaceID: "wsp_1", ActorID: "usr_alice", AccountID: "acc_a", Action: "account.connected",
			Detail: map[string]string{"app": "slack", "scopes": "chat:write"}, CreatedAt: at(1)},
		{ID: "evt_2", WorkspaceID: "wsp_1", ActorID: "usr_bob", AccountID: "acc_b", Action: "account.connected", CreatedAt: at(2)},
		{ID: "evt_3", WorkspaceID: "wsp_1", ActorID: "", AccountID: "acc_a", Action: "account.refresh_failed",
			Detail: map[string]string{}, CreatedAt: at(3)},
		{ID: "evt_4", WorkspaceID: "wsp_1", ActorID: "usr_alice", Action: "token.created", CreatedAt: at(4)},
		{ID: "evt_5", WorkspaceID: "wsp_2", ActorID: "usr_carol", AccountID: "acc_a", Action: "account.connected", CreatedAt: at(5)},
	}
	// Appended out of order: the log goes by id.
	for _, i := range []int{2, 0, 4, 1, 3} {
		must(t, "AppendAudit "+events[i].ID, s.AppendAudit(ctx, events[i]))
	}
	wantErr(t, "AppendAudit duplicate", s.AppendAudit(ctx, events[0]), store.ErrConflict)
	wantErr(t, "AppendAudit duplicate in a batch", s.AppendAudits(ctx, []store.AuditEvent{
		{ID: "evt_6", WorkspaceID: "wsp_2", Action: "x", CreatedAt: at(6)}, events[4]}), store.ErrConflict)

	// Deleting an account keeps what happened to it.
	must(t, "DeleteAccount", s.DeleteAccount(ctx, "wsp_1", "acc_a"))

	tests := []struct {
		name string
		f    store.AuditFilter
		want []string
	}{
		{"workspace, newest first", store.AuditFilter{WorkspaceID: "wsp_1"}, []string{"evt_4", "evt_3", "evt_2", "evt_1"}},
		{"other workspace", store.AuditFilter{WorkspaceID: "wsp_2"}, []string{"evt_5"}},
		{"account", store.AuditFilter{WorkspaceID: "wsp_1", AccountID: "acc_a"}, []string{"evt_3", "evt_1"}},
		{"account in other workspace", store.AuditFilter{WorkspaceID: "wsp_2", AccountID: "acc_b"}, nil},
		{"before", store.AuditFilter{WorkspaceID: "wsp_1", Before: "evt_3"}, []string{"evt_2", "evt_1"}},
		{"before and account", store.AuditFilter{WorkspaceID: "wsp_1", AccountID: "acc_a", Before: "evt_3"}, []string{"evt_1"}},
		{"before the first", store.AuditFilter{WorkspaceID: "wsp_1", Before: "evt_1"}, nil},
		{"limit", store.AuditFilter{WorkspaceID: "wsp_1", Limit: 1}, []string{"evt_4"}},
		{"actor", store.AuditFilter{WorkspaceID: "wsp_1", ActorID: "usr_alice"}, []string{"evt_4", "evt_1"}},
		{"actor of another workspace", store.AuditFilter{WorkspaceID: "wsp_1", ActorID: "usr_carol"}, nil},
		{"action exactly", store.AuditFilter{WorkspaceID: "wsp_1", Action: "account.connected"}, []string{"evt_2", "evt_1"}},
		{"action is not a prefix", store.AuditFilter{WorkspaceID: "wsp_1", Action: "account."}, nil},
		{"action prefix", store.AuditFilter{WorkspaceID: "wsp_1", ActionPrefix: "account."}, []string{"evt_3", "evt_2", "evt_1"}},
		{"action prefix takes no wildcards", store.AuditFilter{WorkspaceID: "wsp_1", ActionPrefix: "%"}, nil},
		{"action prefix is whole", store.AuditFilter{WorkspaceID: "wsp_1", ActionPrefix: "token.created.x"}, nil},
		{"since is inclusive", store.AuditFilter{WorkspaceID: "wsp_1", Since: at(2)}, []string{"evt_4", "evt_3", "evt_2"}},
		{"until is exclusive", store.AuditFilter{WorkspaceID: "wsp_1", Until: at(3)}, []string{"evt_2", "evt_1"}},
		{"since and until", store.AuditFilter{WorkspaceID: "wsp_1", Since: at(2), Until: at(4)}, []string{"evt_3", "evt_2"}},
		{"id bounds", store.AuditFilter{WorkspaceID: "wsp_1", FromID: "evt_2", ToID: "evt_4"}, []string{"evt_3", "evt_2"}},
		{"id bounds and time", store.AuditFilter{WorkspaceID: "wsp_1", FromID: "evt_1", ToID: "evt_4", Since: at(2)}, []string{"evt_3", "evt_2"}},
		{"oldest first", store.AuditFilter{WorkspaceID: "wsp_1", OldestFirst: true}, []string{"evt_1", "evt_2", "evt_3", "evt_4"}},
		{"oldest first after", store.AuditFilter{WorkspaceID: "wsp_1", OldestFirst: true, After: "evt_2", Limit: 1}, []string{"evt_3"}},
		{"every filter at once", store.AuditFilter{WorkspaceID: "wsp_1", ActorID: "usr_alice", AccountID: "acc_a", ActionPrefix: "account.",
			Since: at(1), Until: at(5), Before: "evt_4"}, []string{"evt_1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.ListAudit(ctx, tc.f)
			must(t, "ListAudit", err)
			if ids := eventIDs(got); !slices.Equal(ids, tc.want) && !(len(ids) == 0 && len(tc.want) == 0) {
				t.Errorf("ListAudit(%+v) = %v, want %v", tc.f, ids, tc.want)
			}
		})
	}

	got, err := s.ListAudit(ctx, store.AuditFilter{WorkspaceID: "wsp_1"})
	must(t, "ListAudit", err)
	byID := map[string]store.AuditEvent{}
	for _, e := range got {
		byID[e.ID] = e
	}
	for _, want := range events[:4] {
		e := byID[want.ID]
		if e.WorkspaceID != want.WorkspaceID || e.ActorID != want.ActorID || e.AccountID != want.AccountID ||
			e.Action != want.Action || !maps.Equal(e.Detail, want.Detail) {
			t.Errorf("event %s = %+v, want %+v", want.ID, e, want)
		}
		sameTime(t, want.ID+" CreatedAt", e.CreatedAt, want.CreatedAt)
	}
}

func testAuditPages(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	var want []string
	for i := range 7 {
		id := fmt.Sprintf("evt_%02d", i)
		want = append([]string{id}, want...)
		must(t, "AppendAudit", s.AppendAudit(ctx, store.AuditEvent{
			ID: id, WorkspaceID: "wsp_1", Action: "account.connected", CreatedAt: at(i),
		}))
	}
	var got []string
	f := store.AuditFilter{WorkspaceID: "wsp_1", Limit: 3}
	for page := 0; ; page++ {
		if page > 5 {
			t.Fatalf("paging did not end; got %v", got)
		}
		list, err := s.ListAudit(ctx, f)
		must(t, "ListAudit", err)
		if len(list) == 0 {
			break
		}
		if len(list) > 3 {
			t.Fatalf("page of %d events, want at most 3", len(list))
		}
		got = append(got, eventIDs(list)...)
		f.Before = list[len(list)-1].ID
	}
	if !slices.Equal(got, want) {
		t.Errorf("pages gave %v, want %v", got, want)
	}

	for i := 7; i < 55; i++ {
		must(t, "AppendAudit", s.AppendAudit(ctx, store.AuditEvent{
			ID: fmt.Sprintf("evt_%02d", i), WorkspaceID: "wsp_1", Action: "x", CreatedAt: at(i),
		}))
	}
	list, err := s.ListAudit(ctx, store.AuditFilter{WorkspaceID: "wsp_1"})
	must(t, "ListAudit", err)
	if len(list) != 50 {
		t.Errorf("ListAudit without a limit gave %d events, want 50", len(list))
	}
}

func testMeta(t *testing.T, s store.Store) {
	ctx := t.Context()

	_, err := s.GetMeta(ctx, "canary")
	wantErr(t, "GetMeta unset", err, store.ErrNotFound)

	stored, err := s.PutMetaIfAbsent(ctx, "canary", []byte{0, 1, 2, 0xff})
	must(t, "PutMetaIfAbsent", err)
	if !stored {
		t.Error("PutMetaIfAbsent on an unset key did not store")
	}
	stored, err = s.PutMetaIfAbsent(ctx, "canary", []byte("other"))
	must(t, "PutMetaIfAbsent again", err)
	if stored {
		t.Error("PutMetaIfAbsent on a set key stored")
	}
	checkMeta(t, s, "canary", []byte{0, 1, 2, 0xff})

	must(t, "PutMeta", s.PutMeta(ctx, "canary", []byte("replaced")))
	checkMeta(t, s, "canary", []byte("replaced"))
	must(t, "PutMeta new key", s.PutMeta(ctx, "schema_note", []byte("x")))
	checkMeta(t, s, "schema_note", []byte("x"))
	checkMeta(t, s, "canary", []byte("replaced"))

	must(t, "PutMeta empty", s.PutMeta(ctx, "empty", nil))
	checkMeta(t, s, "empty", []byte{})
}

func checkMeta(t *testing.T, s store.Store, key string, want []byte) {
	t.Helper()
	got, err := s.GetMeta(t.Context(), key)
	must(t, "GetMeta "+key, err)
	if !bytes.Equal(got, want) {
		t.Errorf("GetMeta %s = %q, want %q", key, got, want)
	}
}

func testMetaConcurrentPutIfAbsent(t *testing.T, s store.Store) {
	ctx := t.Context()
	const n = 10
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins []string
	)
	for i := range n {
		wg.Go(func() {
			v := fmt.Sprintf("value-%d", i)
			stored, err := s.PutMetaIfAbsent(ctx, "canary", []byte(v))
			if err != nil {
				t.Errorf("PutMetaIfAbsent: %v", err)
				return
			}
			if stored {
				mu.Lock()
				wins = append(wins, v)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(wins) != 1 {
		t.Fatalf("%d of %d racing PutMetaIfAbsent stored (%v), want exactly 1", len(wins), n, wins)
	}
	checkMeta(t, s, "canary", []byte(wins[0]))
}

// testAuditBatch appends a batch larger than one multi-row statement, then
// a batch with a duplicate in it: the first is stored whole, with every
// field, the second not at all.
func testAuditBatch(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	batch := make([]store.AuditEvent, 1203)
	for i := range batch {
		batch[i] = store.AuditEvent{ID: fmt.Sprintf("evt_%05d", i), WorkspaceID: "wsp_1", ActorID: "usr_alice", AccountID: "acc_a",
			Action: "credentials.read", Detail: map[string]string{"token_id": "tok_1", "n": fmt.Sprint(i)}, CreatedAt: at(i)}
	}
	must(t, "AppendAudits", s.AppendAudits(ctx, batch))
	got, err := s.ListAudit(ctx, store.AuditFilter{WorkspaceID: "wsp_1", OldestFirst: true, Limit: 500})
	must(t, "ListAudit", err)
	for after := ""; len(got) > 0 && len(got)%500 == 0; {
		after = got[len(got)-1].ID
		more, err := s.ListAudit(ctx, store.AuditFilter{WorkspaceID: "wsp_1", OldestFirst: true, After: after, Limit: 500})
		must(t, "ListAudit after "+after, err)
		got = append(got, more...)
		if len(more) < 500 {
			break
		}
	}
	if len(got) != len(batch) {
		t.Fatalf("stored %d events of a batch of %d", len(got), len(batch))
	}
	for i, e := range got {
		w := batch[i]
		if e.ID != w.ID || e.WorkspaceID != w.WorkspaceID || e.ActorID != w.ActorID || e.AccountID != w.AccountID ||
			e.Action != w.Action || !maps.Equal(e.Detail, w.Detail) || !e.CreatedAt.Equal(w.CreatedAt.Truncate(time.Microsecond)) {
			t.Fatalf("event %d = %+v, want %+v", i, e, w)
		}
	}

	dup := []store.AuditEvent{
		{ID: "evt_new1", WorkspaceID: "wsp_1", Action: "credentials.read", CreatedAt: at(2000)},
		batch[7],
		{ID: "evt_new2", WorkspaceID: "wsp_1", Action: "credentials.read", CreatedAt: at(2001)},
	}
	wantErr(t, "AppendAudits with a duplicate", s.AppendAudits(ctx, dup), store.ErrConflict)
	none, err := s.ListAudit(ctx, store.AuditFilter{WorkspaceID: "wsp_1", After: "evt_01202"})
	must(t, "ListAudit", err)
	if len(none) != 0 {
		t.Errorf("a refused batch stored %v", eventIDs(none))
	}
}
