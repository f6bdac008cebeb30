package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/latchkeyhq/latchkey/internal/store"
)

var webhookTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"WebhookEndpoints", testWebhookEndpoints},
	{"WebhookOutboxWithTheChange", testWebhookOutboxWithTheChange},
	{"WebhookDeliveryUpdate", testWebhookDeliveryUpdate},
	{"WebhookLeaseConcurrent", testWebhookLeaseConcurrent},
	{"WebhookTokenEndpoints", testWebhookTokenEndpoints},
	{"WebhookAttempts", testWebhookAttempts},
	{"WebhookOrderPerKey", testWebhookOrderPerKey},
	{"WebhookOrderConcurrent", testWebhookOrderConcurrent},
	{"WebhookPurge", testWebhookPurge},
}

func mustEndpoint(t *testing.T, s store.Store, ws, id string, enabled bool, types ...string) store.WebhookEndpoint {
	t.Helper()
	e := store.WebhookEndpoint{ID: id, WorkspaceID: ws, URL: "https://hooks.example/" + id, EventTypes: types,
		Secrets: []byte("sealed"), Enabled: enabled, CreatedAt: t0, UpdatedAt: t0}
	must(t, "CreateWebhookEndpoint "+id, s.CreateWebhookEndpoint(t.Context(), e))
	return e
}

func event(ws, id, typ string, minute int) store.WebhookEvent {
	return store.WebhookEvent{ID: id, WorkspaceID: ws, Type: typ, Payload: []byte(`{"type":"` + typ + `"}`), CreatedAt: at(minute)}
}

func testWebhookEndpoints(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	mustWorkspace(t, s, "wsp_2")
	mustEndpoint(t, s, "wsp_1", "whk_1", true, "account.connected")
	mustEndpoint(t, s, "wsp_1", "whk_2", true)
	mustEndpoint(t, s, "wsp_2", "whk_3", true)
	if err := s.CreateWebhookEndpoint(ctx, store.WebhookEndpoint{ID: "whk_1", WorkspaceID: "wsp_1", Secrets: []byte("x")}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("second endpoint whk_1: %v, want ErrConflict", err)
	}
	list, err := s.ListWebhookEndpoints(ctx, "wsp_1")
	must(t, "ListWebhookEndpoints", err)
	if len(list) != 2 || list[0].ID != "whk_1" || list[1].ID != "whk_2" {
		t.Fatalf("endpoints of wsp_1: %+v, want whk_1 and whk_2", list)
	}
	if got := list[0]; got.URL != "https://hooks.example/whk_1" || len(got.EventTypes) != 1 || string(got.Secrets) != "sealed" || !got.Enabled || !got.CreatedAt.Equal(micro(t0)) {
		t.Errorf("whk_1 read back as %+v", got)
	}
	if _, err := s.GetWebhookEndpoint(ctx, "wsp_2", "whk_1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("whk_1 from wsp_2: %v, want ErrNotFound", err)
	}
	upd, err := s.UpdateWebhookEndpoint(ctx, "wsp_1", "whk_1", func(e *store.WebhookEndpoint) error {
		e.Enabled, e.DisabledReason, e.UpdatedAt, e.ID = false, "gone", at(5), "whk_other"
		return nil
	})
	must(t, "UpdateWebhookEndpoint", err)
	got, err := s.GetWebhookEndpoint(ctx, "wsp_1", "whk_1")
	must(t, "GetWebhookEndpoint", err)
	if got.Enabled || got.DisabledReason != "gone" || !got.UpdatedAt.Equal(micro(at(5))) || upd.ID != "whk_1" {
		t.Errorf("after update: %+v (returned %+v)", got, upd)
	}
	boom := errors.New("boom")
	if _, err := s.UpdateWebhookEndpoint(ctx, "wsp_1", "whk_2", func(e *store.WebhookEndpoint) error {
		e.URL = "https://changed.example"
		return boom
	}); !errors.Is(err, boom) {
		t.Errorf("fn error: %v", err)
	}
	if got, _ := s.GetWebhookEndpoint(ctx, "wsp_1", "whk_2"); got.URL != "https://hooks.example/whk_2" {
		t.Errorf("fn error wrote url %q", got.URL)
	}
	if err := s.DeleteWebhookEndpoint(ctx, "wsp_2", "whk_2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("delete whk_2 from wsp_2: %v, want ErrNotFound", err)
	}
	must(t, "DeleteWebhookEndpoint", s.DeleteWebhookEndpoint(ctx, "wsp_1", "whk_2"))
	if _, err := s.GetWebhookEndpoint(ctx, "wsp_1", "whk_2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted whk_2: %v", err)
	}
}

// testWebhookOutboxWithTheChange: an event is stored with the change it
// reports, and only then, with a delivery per enabled endpoint that takes it.
func testWebhookOutboxWithTheChange(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	mustWorkspace(t, s, "wsp_2")
	mustEndpoint(t, s, "wsp_1", "whk_all", true)
	mustEndpoint(t, s, "wsp_1", "whk_deleted", true, "account.deleted")
	mustEndpoint(t, s, "wsp_1", "whk_off", false)
	mustEndpoint(t, s, "wsp_2", "whk_other", true)

	a := newAccount("wsp_1", "acc_1", "usr_alice", "slack")
	a.Outbox = []store.WebhookEvent{event("wsp_1", "msg_1", "account.connected", 1)}
	mustAccount(t, s, a)
	deliveries := func(endpoint string) []store.WebhookDelivery {
		t.Helper()
		l, err := s.ListWebhookDeliveries(ctx, "wsp_1", endpoint, "", 0)
		must(t, "ListWebhookDeliveries", err)
		return l
	}
	if l := deliveries("whk_all"); len(l) != 1 || l[0].EventID != "msg_1" || l[0].EventType != "account.connected" ||
		l[0].Status != store.DeliveryPending || l[0].NextAttemptAt == nil || !l[0].NextAttemptAt.Equal(micro(at(1))) ||
		string(l[0].Payload) != `{"type":"account.connected"}` {
		t.Errorf("deliveries to whk_all: %+v, want msg_1 pending, due at its time", l)
	}
	if l := deliveries("whk_deleted"); len(l) != 0 {
		t.Errorf("whk_deleted (account.deleted only) got %d deliveries of account.connected", len(l))
	}
	if l := deliveries("whk_off"); len(l) != 0 {
		t.Errorf("disabled endpoint got %d deliveries", len(l))
	}
	if l, _ := s.ListWebhookDeliveries(ctx, "wsp_2", "whk_other", "", 0); len(l) != 0 {
		t.Errorf("another workspace's endpoint got %d deliveries", len(l))
	}

	// A failed change writes no event.
	boom := errors.New("boom")
	if _, err := s.UpdateAccount(ctx, "wsp_1", "acc_1", func(a *store.Account) error {
		a.Outbox = []store.WebhookEvent{event("wsp_1", "msg_2", "account.needs_reconnect", 2)}
		return boom
	}); !errors.Is(err, boom) {
		t.Fatalf("UpdateAccount: %v", err)
	}
	updated, err := s.UpdateAccount(ctx, "wsp_1", "acc_1", func(a *store.Account) error {
		a.Status = store.StatusNeedsReconnect
		a.Outbox = []store.WebhookEvent{event("wsp_1", "msg_3", "account.needs_reconnect", 3)}
		return nil
	})
	must(t, "UpdateAccount", err)
	if updated.Outbox != nil {
		t.Errorf("UpdateAccount returned the outbox %v", updated.Outbox)
	}
	if l := deliveries("whk_all"); len(l) != 2 || l[0].EventID != "msg_3" {
		t.Errorf("after a failed and a good update, whk_all has %+v, want msg_3 then msg_1", l)
	}

	// A delete of nothing writes no event either.
	if err := s.DeleteAccountWithEvents(ctx, "wsp_1", "acc_none", []store.WebhookEvent{event("wsp_1", "msg_4", "account.deleted", 4)}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("delete of a missing account: %v, want ErrNotFound", err)
	}
	must(t, "DeleteAccountWithEvents", s.DeleteAccountWithEvents(ctx, "wsp_1", "acc_1", []store.WebhookEvent{event("wsp_1", "msg_5", "account.deleted", 5)}))
	if _, err := s.GetAccount(ctx, "wsp_1", "acc_1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted account: %v", err)
	}
	if l := deliveries("whk_deleted"); len(l) != 1 || l[0].EventID != "msg_5" {
		t.Errorf("whk_deleted has %+v, want msg_5 alone", l)
	}
	if l := deliveries("whk_all"); len(l) != 3 {
		t.Errorf("whk_all has %d deliveries, want 3", len(l))
	}
	// Deleting an endpoint takes its deliveries.
	must(t, "DeleteWebhookEndpoint", s.DeleteWebhookEndpoint(ctx, "wsp_1", "whk_all"))
	if l := deliveries("whk_all"); len(l) != 0 {
		t.Errorf("deleted endpoint still has %d deliveries", len(l))
	}
}

func testWebhookDeliveryUpdate(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	mustWorkspace(t, s, "wsp_2")
	mustEndpoint(t, s, "wsp_1", "whk_1", true)
	must(t, "AppendWebhookEvents", s.AppendWebhookEvents(ctx, []store.WebhookEvent{event("wsp_1", "msg_1", "account.connected", 1)}))
	got, err := s.LeaseWebhookDeliveries(ctx, "h1", at(0), at(10), 10)
	must(t, "LeaseWebhookDeliveries", err)
	if len(got) != 0 {
		t.Fatalf("leased %d deliveries before they were due", len(got))
	}
	got, err = s.LeaseWebhookDeliveries(ctx, "h1", at(1), at(10), 10)
	must(t, "LeaseWebhookDeliveries", err)
	if len(got) != 1 || got[0].LeaseHolder != "h1" {
		t.Fatalf("leased %+v, want the one due delivery for h1", got)
	}
	id := got[0].ID
	if again, _ := s.LeaseWebhookDeliveries(ctx, "h2", at(2), at(12), 10); len(again) != 0 {
		t.Errorf("h2 leased %+v while h1 holds it", again)
	}
	if _, err := s.UpdateWebhookDelivery(ctx, "wsp_2", id, func(*store.WebhookDelivery) error { return nil }); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("update from another workspace: %v, want ErrNotFound", err)
	}
	upd, err := s.UpdateWebhookDelivery(ctx, "wsp_1", id, func(d *store.WebhookDelivery) error {
		d.Attempts, d.LastStatusCode, d.LastError = 1, 500, "server error"
		d.LeaseHolder, d.LeaseUntil, d.NextAttemptAt, d.LastAttemptAt, d.UpdatedAt = "", nil, ptr(at(3)), ptr(at(2)), at(2)
		d.EventType = "changed"
		return nil
	})
	must(t, "UpdateWebhookDelivery", err)
	read, err := s.GetWebhookDelivery(ctx, "wsp_1", id)
	must(t, "GetWebhookDelivery", err)
	if read.Attempts != 1 || read.LastStatusCode != 500 || read.LastError != "server error" || read.LeaseHolder != "" ||
		read.NextAttemptAt == nil || !read.NextAttemptAt.Equal(micro(at(3))) || read.EventType != "account.connected" || upd.EventType != "account.connected" {
		t.Errorf("after update: %+v", read)
	}
	// The lapsed lease and the new due time let it go out again.
	if again, _ := s.LeaseWebhookDeliveries(ctx, "h2", at(3), at(13), 10); len(again) != 1 || again[0].Attempts != 1 {
		t.Errorf("h2 leased %+v once due again, want the delivery", again)
	}
}

func testWebhookLeaseConcurrent(t *testing.T, s store.Store) {
	WebhookLeaseShared(t, s, s, s, s, s, s, s, s)
}

// WebhookLeaseShared: deliverers asking at once, one per store given,
// never get one delivery twice, and between them get every one. Pass
// stores opened on one database for replicas.
func WebhookLeaseShared(t *testing.T, stores ...store.Store) {
	ctx := t.Context()
	s := stores[0]
	mustWorkspace(t, s, "wsp_1")
	mustEndpoint(t, s, "wsp_1", "whk_1", true)
	mustEndpoint(t, s, "wsp_1", "whk_2", true)
	var events []store.WebhookEvent
	for i := range 15 {
		events = append(events, event("wsp_1", fmt.Sprintf("msg_%02d", i), "account.connected", 1))
	}
	must(t, "AppendWebhookEvents", s.AppendWebhookEvents(ctx, events))
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		seen = map[string]string{}
	)
	for i, st := range stores {
		wg.Go(func() {
			holder := fmt.Sprintf("h%d", i)
			for {
				got, err := st.LeaseWebhookDeliveries(ctx, holder, at(2), at(20), 4)
				if err != nil {
					t.Errorf("LeaseWebhookDeliveries: %v", err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, d := range got {
					if other, ok := seen[d.ID]; ok {
						t.Errorf("delivery %s leased by %s and %s", d.ID, other, holder)
					}
					seen[d.ID] = holder
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != 30 {
		t.Errorf("%d deliveries leased, want all 30", len(seen))
	}
}

// testWebhookTokenEndpoints: a connect token's endpoint keeps its token
// and purge time, takes only events of that token (the workspace's
// endpoints take those too), and is purged with its deliveries once due.
func testWebhookTokenEndpoints(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	mustEndpoint(t, s, "wsp_1", "whk_all", true)
	purge := at(60)
	tok := store.WebhookEndpoint{ID: "whk_tok", WorkspaceID: "wsp_1", URL: "https://hooks.example/tok", EventTypes: []string{"account.connected", "connect.failed"},
		Secrets: []byte("sealed"), Enabled: true, ConnectTokenID: "ctk_1", PurgeAfter: &purge, CreatedAt: t0, UpdatedAt: t0}
	must(t, "CreateWebhookEndpoint whk_tok", s.CreateWebhookEndpoint(ctx, tok))
	got, err := s.GetWebhookEndpoint(ctx, "wsp_1", "whk_tok")
	must(t, "GetWebhookEndpoint", err)
	if got.ConnectTokenID != "ctk_1" || got.PurgeAfter == nil || !got.PurgeAfter.Equal(micro(purge)) {
		t.Fatalf("whk_tok read back as %+v", got)
	}
	if all, _ := s.GetWebhookEndpoint(ctx, "wsp_1", "whk_all"); all.ConnectTokenID != "" || all.PurgeAfter != nil {
		t.Errorf("the workspace's endpoint read back as %+v", all)
	}
	upd, err := s.UpdateWebhookEndpoint(ctx, "wsp_1", "whk_tok", func(e *store.WebhookEndpoint) error {
		e.ConnectTokenID, e.PurgeAfter, e.UpdatedAt = "ctk_other", nil, at(1)
		return nil
	})
	must(t, "UpdateWebhookEndpoint", err)
	if got, _ := s.GetWebhookEndpoint(ctx, "wsp_1", "whk_tok"); got.ConnectTokenID != "ctk_1" || got.PurgeAfter == nil || upd.ConnectTokenID != "ctk_1" {
		t.Errorf("an update changed the token binding: %+v", got)
	}

	mine := event("wsp_1", "msg_1", "account.connected", 1)
	mine.ConnectTokenID = "ctk_1"
	other := event("wsp_1", "msg_2", "account.connected", 2)
	other.ConnectTokenID = "ctk_2"
	failed := event("wsp_1", "msg_3", "connect.failed", 3)
	failed.ConnectTokenID = "ctk_1"
	must(t, "AppendWebhookEvents", s.AppendWebhookEvents(ctx, []store.WebhookEvent{mine, other, event("wsp_1", "msg_4", "account.connected", 4), failed}))
	ids := func(endpoint string) []string {
		t.Helper()
		l, err := s.ListWebhookDeliveries(ctx, "wsp_1", endpoint, "", 0)
		must(t, "ListWebhookDeliveries", err)
		var out []string
		for _, d := range l {
			out = append(out, d.EventID)
		}
		return out
	}
	if got := fmt.Sprint(ids("whk_tok")); got != "[msg_3 msg_1]" {
		t.Errorf("the token's endpoint got %s, want its token's msg_3 and msg_1 only", got)
	}
	if got := fmt.Sprint(ids("whk_all")); got != "[msg_4 msg_3 msg_2 msg_1]" {
		t.Errorf("the workspace's endpoint got %s, want every event", got)
	}

	n, err := s.DeleteExpiredWebhookEndpoints(ctx, at(59))
	must(t, "DeleteExpiredWebhookEndpoints", err)
	if n != 0 {
		t.Errorf("before its purge time: %d deleted", n)
	}
	n, err = s.DeleteExpiredWebhookEndpoints(ctx, at(60))
	must(t, "DeleteExpiredWebhookEndpoints", err)
	if _, gerr := s.GetWebhookEndpoint(ctx, "wsp_1", "whk_tok"); n != 1 || !errors.Is(gerr, store.ErrNotFound) {
		t.Errorf("at its purge time: %d deleted, the endpoint %v", n, gerr)
	}
	if got := ids("whk_tok"); len(got) != 0 {
		t.Errorf("the purged endpoint keeps deliveries %v", got)
	}
	if got := ids("whk_all"); len(got) != 4 {
		t.Errorf("purging touched the workspace's endpoint: %v", got)
	}
}

// testWebhookPurge: old attempts, finished deliveries and their events
// go; a pending delivery, however old, stays with its event.
func testWebhookPurge(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	mustEndpoint(t, s, "wsp_1", "whk_1", true)
	must(t, "AppendWebhookEvents", s.AppendWebhookEvents(ctx, []store.WebhookEvent{
		event("wsp_1", "msg_old", "account.connected", 1),
		event("wsp_1", "msg_stuck", "account.connected", 2),
		event("wsp_1", "msg_new", "account.connected", 100),
	}))
	ids, got := leaseIDs(t, s, "h1", at(100))
	if len(ids) != 3 {
		t.Fatalf("leased %v, want all three", ids)
	}
	for _, d := range got {
		switch d.EventID {
		case "msg_stuck":
			finish(t, s, d, store.DeliveryPending, ptr(at(500)), 500, at(3))
		case "msg_old":
			finish(t, s, d, store.DeliveryDelivered, nil, 200, at(3))
		default:
			finish(t, s, d, store.DeliveryDelivered, nil, 200, at(101))
		}
	}
	n, err := s.DeleteOldWebhookRows(ctx, at(50))
	must(t, "DeleteOldWebhookRows", err)
	// msg_old: its attempt, delivery and event; msg_stuck: its attempt.
	if n != 4 {
		t.Errorf("DeleteOldWebhookRows deleted %d rows, want 4", n)
	}
	list, err := s.ListWebhookDeliveries(ctx, "wsp_1", "whk_1", "", 0)
	must(t, "ListWebhookDeliveries", err)
	var left []string
	var deliveryIDs []string
	for _, d := range list {
		left = append(left, d.EventID)
		deliveryIDs = append(deliveryIDs, d.ID)
	}
	if !slices.Equal(left, []string{"msg_new", "msg_stuck"}) {
		t.Errorf("deliveries left: %v, want msg_new and msg_stuck", left)
	}
	attempts, err := s.WebhookAttempts(ctx, "wsp_1", deliveryIDs)
	must(t, "WebhookAttempts", err)
	if len(attempts[deliveryIDs[0]]) != 1 || len(attempts[deliveryIDs[1]]) != 0 {
		t.Errorf("attempts left: %+v, want msg_new's alone", attempts)
	}
	// An event is not reinserted: its id is still taken while it stays.
	if err := s.AppendWebhookEvents(ctx, []store.WebhookEvent{event("wsp_1", "msg_stuck", "account.connected", 2)}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("msg_stuck was purged with its pending delivery: %v", err)
	}
	if err := s.AppendWebhookEvents(ctx, []store.WebhookEvent{event("wsp_1", "msg_old", "account.connected", 1)}); err != nil {
		t.Errorf("msg_old was not purged: %v", err)
	}
}
