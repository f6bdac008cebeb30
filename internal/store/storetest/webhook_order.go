package storetest

// Conformance cases of deliveries: their attempts, and their order per key.

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/latchkeyhq/latchkey/internal/store"
)

func keyed(ws, id, typ, key string, minute int) store.WebhookEvent {
	ev := event(ws, id, typ, minute)
	ev.OrderKey = key
	return ev
}

// finish records an attempt's outcome on a leased delivery, as the
// deliverer does.
func finish(t *testing.T, s store.Store, d store.WebhookDelivery, status store.DeliveryStatus, next *time.Time, code int, now time.Time) {
	t.Helper()
	must(t, "UpdateWebhookDelivery", record(t, s, d, status, next, code, now))
}

// record is finish for a goroutine: it returns the error for t.Errorf.
func record(t *testing.T, s store.Store, d store.WebhookDelivery, status store.DeliveryStatus, next *time.Time, code int, now time.Time) error {
	_, err := s.UpdateWebhookDelivery(t.Context(), d.WorkspaceID, d.ID, func(r *store.WebhookDelivery) error {
		r.Status, r.NextAttemptAt, r.LeaseHolder, r.LeaseUntil, r.UpdatedAt = status, next, "", nil, now
		r.Attempts++
		r.LastStatusCode, r.LastAttemptAt = code, &now
		r.NewAttempt = &store.WebhookAttempt{ID: fmt.Sprintf("wha_%s_%d", d.ID, r.Attempts), AttemptedAt: now, StatusCode: code, Duration: 12 * time.Millisecond}
		return nil
	})
	return err
}

func testWebhookAttempts(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	mustWorkspace(t, s, "wsp_2")
	mustEndpoint(t, s, "wsp_1", "whk_1", true)
	must(t, "AppendWebhookEvents", s.AppendWebhookEvents(ctx, []store.WebhookEvent{event("wsp_1", "msg_1", "account.connected", 1)}))
	got, err := s.LeaseWebhookDeliveries(ctx, "h1", at(1), at(2), 10)
	must(t, "LeaseWebhookDeliveries", err)
	if len(got) != 1 {
		t.Fatalf("leased %d deliveries, want 1", len(got))
	}
	d := got[0]
	_, err = s.UpdateWebhookDelivery(ctx, "wsp_1", d.ID, func(r *store.WebhookDelivery) error {
		r.Attempts, r.NextAttemptAt, r.LeaseHolder, r.LeaseUntil = 1, ptr(at(3)), "", nil
		r.NewAttempt = &store.WebhookAttempt{ID: "wha_1", AttemptedAt: at(1), StatusCode: 503, Error: "503 Service Unavailable: busy", Duration: 1500 * time.Millisecond}
		return nil
	})
	must(t, "UpdateWebhookDelivery", err)
	boom := errors.New("boom")
	if _, err := s.UpdateWebhookDelivery(ctx, "wsp_1", d.ID, func(r *store.WebhookDelivery) error {
		r.NewAttempt = &store.WebhookAttempt{ID: "wha_never", AttemptedAt: at(2)}
		return boom
	}); !errors.Is(err, boom) {
		t.Fatalf("fn error: %v", err)
	}
	got, err = s.LeaseWebhookDeliveries(ctx, "h1", at(3), at(4), 10)
	must(t, "LeaseWebhookDeliveries", err)
	if len(got) != 1 {
		t.Fatalf("leased %d deliveries when due again, want 1", len(got))
	}
	finish(t, s, got[0], store.DeliveryDelivered, nil, 204, at(3))

	all, err := s.WebhookAttempts(ctx, "wsp_1", []string{d.ID, "whd_none"})
	must(t, "WebhookAttempts", err)
	list := all[d.ID]
	if len(all) != 1 || len(list) != 2 {
		t.Fatalf("attempts: %+v, want two of %s", all, d.ID)
	}
	first, second := list[0], list[1]
	if first.ID != "wha_1" || first.StatusCode != 503 || first.Error != "503 Service Unavailable: busy" || first.Duration != 1500*time.Millisecond ||
		!first.AttemptedAt.Equal(micro(at(1))) || first.DeliveryID != d.ID || first.EndpointID != "whk_1" || first.WorkspaceID != "wsp_1" {
		t.Errorf("first attempt read back as %+v", first)
	}
	if second.StatusCode != 204 || second.Error != "" || !second.AttemptedAt.Equal(micro(at(3))) {
		t.Errorf("second attempt read back as %+v", second)
	}
	if other, err := s.WebhookAttempts(ctx, "wsp_2", []string{d.ID}); err != nil || len(other) != 0 {
		t.Errorf("attempts seen from wsp_2: %+v, %v", other, err)
	}
	if none, err := s.WebhookAttempts(ctx, "wsp_1", nil); err != nil || len(none) != 0 {
		t.Errorf("attempts of no delivery: %+v, %v", none, err)
	}
	must(t, "DeleteWebhookEndpoint", s.DeleteWebhookEndpoint(ctx, "wsp_1", "whk_1"))
	if left, _ := s.WebhookAttempts(ctx, "wsp_1", []string{d.ID}); len(left) != 0 {
		t.Errorf("attempts outlived their endpoint: %+v", left)
	}
}

// leaseIDs leases what h may take at now and returns the event ids.
func leaseIDs(t *testing.T, s store.Store, holder string, now time.Time) ([]string, []store.WebhookDelivery) {
	t.Helper()
	got, err := s.LeaseWebhookDeliveries(t.Context(), holder, now, now.Add(time.Minute), 50)
	must(t, "LeaseWebhookDeliveries", err)
	var out []string
	for _, d := range got {
		out = append(out, d.EndpointID+"/"+d.EventID)
	}
	slices.Sort(out)
	return out, got
}

// testWebhookOrderPerKey: to one endpoint, a later event of a key waits
// while an earlier one is pending, through its retries; other keys,
// other endpoints and events with no key do not wait.
func testWebhookOrderPerKey(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	mustEndpoint(t, s, "wsp_1", "whk_a", true)
	mustEndpoint(t, s, "wsp_1", "whk_b", true, "account.renamed")
	must(t, "AppendWebhookEvents", s.AppendWebhookEvents(ctx, []store.WebhookEvent{
		keyed("wsp_1", "msg_1", "account.connected", "acc_1", 1),
		keyed("wsp_1", "msg_2", "account.renamed", "acc_1", 1),
		keyed("wsp_1", "msg_3", "account.deleted", "acc_1", 2),
		keyed("wsp_1", "msg_4", "account.connected", "acc_2", 2),
		event("wsp_1", "msg_5", "account.connected", 1),
		event("wsp_1", "msg_6", "account.connected", 1),
	}))
	ids, first := leaseIDs(t, s, "h1", at(5))
	want := []string{"whk_a/msg_1", "whk_a/msg_4", "whk_a/msg_5", "whk_a/msg_6", "whk_b/msg_2"}
	if !slices.Equal(ids, want) {
		t.Fatalf("first lease: %v, want %v (msg_2 and msg_3 wait for msg_1 at whk_a)", ids, want)
	}
	byEvent := map[string]store.WebhookDelivery{}
	for _, d := range first {
		byEvent[d.EndpointID+"/"+d.EventID] = d
		if d.EventID == "msg_1" && d.OrderKey != "acc_1" {
			t.Errorf("msg_1's delivery has order key %q, want acc_1", d.OrderKey)
		}
		if d.EventID != "msg_1" {
			finish(t, s, d, store.DeliveryDelivered, nil, 200, at(6))
		}
	}
	// msg_1 fails and waits for its retry: its followers still wait, even
	// once the lease on it is gone and a second deliverer asks.
	finish(t, s, byEvent["whk_a/msg_1"], store.DeliveryPending, ptr(at(30)), 500, at(6))
	if ids, _ := leaseIDs(t, s, "h2", at(10)); len(ids) != 0 {
		t.Fatalf("while msg_1 waits for its retry, h2 leased %v", ids)
	}
	ids, again := leaseIDs(t, s, "h2", at(30))
	if !slices.Equal(ids, []string{"whk_a/msg_1"}) {
		t.Fatalf("at msg_1's retry, leased %v, want it alone", ids)
	}
	finish(t, s, again[0], store.DeliveryDelivered, nil, 200, at(30))
	ids, next := leaseIDs(t, s, "h1", at(31))
	if !slices.Equal(ids, []string{"whk_a/msg_2"}) {
		t.Fatalf("after msg_1 was delivered, leased %v, want msg_2 alone", ids)
	}
	// A delivery that gave up holds nothing back.
	finish(t, s, next[0], store.DeliveryFailed, nil, 400, at(32))
	if ids, _ := leaseIDs(t, s, "h1", at(33)); !slices.Equal(ids, []string{"whk_a/msg_3"}) {
		t.Fatalf("after msg_2 failed for good, leased %v, want msg_3", ids)
	}
}

// testWebhookOrderConcurrent: deliverers racing over chains of one key
// each never hold two of a chain at once, and each gets them in order.
func testWebhookOrderConcurrent(t *testing.T, s store.Store) {
	WebhookOrderShared(t, s, s, s, s)
}

// WebhookOrderShared races one deliverer per store given over five
// accounts' chains of events: at no moment are two of one chain leased,
// and the chain is delivered in event order. Pass stores opened on one
// database for replicas.
func WebhookOrderShared(t *testing.T, stores ...store.Store) {
	ctx := t.Context()
	s := stores[0]
	mustWorkspace(t, s, "wsp_1")
	mustEndpoint(t, s, "wsp_1", "whk_1", true)
	var events []store.WebhookEvent
	for i := range 6 {
		for k := range 5 {
			events = append(events, keyed("wsp_1", fmt.Sprintf("msg_%d_%d", i, k), "account.renamed", fmt.Sprintf("acc_%d", k), 1))
		}
	}
	// Ids, not times, order a key's events: all share a minute.
	must(t, "AppendWebhookEvents", s.AppendWebhookEvents(ctx, events))
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		inFlight = map[string]string{}
		order    = map[string][]string{}
		total    int
	)
	for i, st := range stores {
		wg.Go(func() {
			holder := fmt.Sprintf("h%d", i)
			for idle := 0; idle < 20; {
				got, err := st.LeaseWebhookDeliveries(ctx, holder, at(2), at(20), 3)
				if err != nil {
					t.Errorf("LeaseWebhookDeliveries: %v", err)
					return
				}
				if len(got) == 0 {
					mu.Lock()
					done := total == len(events)
					mu.Unlock()
					if done {
						return
					}
					idle++
					time.Sleep(time.Millisecond)
					continue
				}
				idle = 0
				for _, d := range got {
					mu.Lock()
					if other, ok := inFlight[d.OrderKey]; ok {
						t.Errorf("%s leased %s while %s is in flight", holder, d.EventID, other)
					}
					inFlight[d.OrderKey] = d.EventID
					mu.Unlock()
				}
				for _, d := range got {
					mu.Lock()
					delete(inFlight, d.OrderKey)
					order[d.OrderKey] = append(order[d.OrderKey], d.EventID)
					total++
					mu.Unlock()
					if err := record(t, st, d, store.DeliveryDelivered, nil, 200, at(2)); err != nil {
						t.Errorf("UpdateWebhookDelivery: %v", err)
					}
				}
			}
		})
	}
	wg.Wait()
	if total != len(events) {
		t.Fatalf("%d deliveries made, want %d", total, len(events))
	}
	for k := range 5 {
		key := fmt.Sprintf("acc_%d", k)
		var want []string
		for i := range 6 {
			want = append(want, fmt.Sprintf("msg_%d_%d", i, k))
		}
		if !slices.Equal(order[key], want) {
			t.Errorf("%s delivered as %v, want %v", key, order[key], want)
		}
	}
}
