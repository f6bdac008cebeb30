package webhooks_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/outbound"
	"github.com/latchkeyhq/latchkey/internal/seal"
	"github.com/latchkeyhq/latchkey/internal/store"
	"github.com/latchkeyhq/latchkey/internal/store/sqlite"
	"github.com/latchkeyhq/latchkey/internal/webhooks"
)

var (
	owner    = identity.Actor{WorkspaceID: "wsp_a", UserID: "usr_owner", Role: identity.RoleOwner}
	admin    = identity.Actor{WorkspaceID: "wsp_a", UserID: "usr_admin", Role: identity.RoleAdmin}
	member   = identity.Actor{WorkspaceID: "wsp_a", UserID: "usr_member", Role: identity.RoleMember}
	outsider = identity.Actor{WorkspaceID: "wsp_b", UserID: "usr_out", Role: identity.RoleOwner}
)

// receiver is a loopback endpoint that verifies every request's signature
// and answers with the codes it is given, then 200.
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	secret string
	codes  []int
	got    []received
}

type received struct {
	id, timestamp string
	body          map[string]any
	raw           string
	verified      bool
}

func newReceiver(t *testing.T, codes ...int) *receiver {
	r := &receiver{t: t, codes: codes}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		raw, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		wh, err := standardwebhooks.NewWebhook(r.secret)
		if err != nil {
			t.Errorf("receiver secret: %v", err)
		}
		// The fake clock stamps the request; the signature is what counts.
		verr := wh.VerifyIgnoringTimestamp(raw, req.Header)
		var body map[string]any
		_ = json.Unmarshal(raw, &body)
		r.got = append(r.got, received{id: req.Header.Get("webhook-id"), timestamp: req.Header.Get("webhook-timestamp"), body: body, raw: string(raw), verified: verr == nil})
		code := http.StatusOK
		if len(r.codes) > 0 {
			code, r.codes = r.codes[0], r.codes[1:]
		}
		w.WriteHeader(code)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

type env struct {
	svc   *webhooks.Service
	st    store.Store
	clock *clockwork.FakeClock
}

// newEnv: a service on SQLite whose guarded client trusts the receivers'
// loopback origins, and no other private address.
func newEnv(t *testing.T, trusted ...*receiver) env {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	k, _ := seal.GenerateKey()
	ring, _ := seal.NewRing(k)
	clock := clockwork.NewFakeClockAt(time.Now().UTC())
	for _, ws := range []string{"wsp_a", "wsp_b"} {
		if err := st.CreateWorkspace(ctx, store.Workspace{ID: ws, Name: ws, CreatedAt: clock.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	var origins, allow []string
	for _, r := range trusted {
		origins = append(origins, r.srv.URL)
		allow = append(allow, strings.TrimPrefix(r.srv.URL, "http://"))
	}
	svc := webhooks.New(webhooks.Options{Store: st, Ring: ring, Clock: clock, Trusted: origins,
		Client: outbound.New(outbound.Options{Allow: allow, Timeout: 10 * time.Second}),
		Log:    slog.New(slog.NewTextHandler(io.Discard, nil))})
	return env{svc: svc, st: st, clock: clock}
}

func (e env) endpoint(t *testing.T, r *receiver, types ...string) webhooks.Endpoint {
	t.Helper()
	ep, sec, err := e.svc.Create(t.Context(), owner, webhooks.CreateInput{URL: r.srv.URL + "/hook", EventTypes: types})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if !strings.HasPrefix(sec.Reveal(), "whsec_") {
		t.Fatalf("secret %q is not a whsec_ secret", sec.Reveal())
	}
	r.mu.Lock()
	r.secret = sec.Reveal()
	r.mu.Unlock()
	return ep
}

// connect stores an account with its account.connected event, as the
// accounts service does: in one transaction.
func (e env) connect(t *testing.T, ws, id string) store.WebhookEvent {
	t.Helper()
	now := e.clock.Now()
	a := store.Account{ID: id, WorkspaceID: ws, OwnerID: "usr_owner", App: "sendgrid", Nickname: "Mail", Status: store.StatusHealthy,
		Credentials: []byte("sealed"), CreatedAt: now, UpdatedAt: now}
	ev := webhooks.AccountEvent(webhooks.AccountConnected, a, now, nil)
	a.Outbox = []store.WebhookEvent{ev}
	if err := e.st.CreateAccount(t.Context(), a); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	return ev
}

func (e env) deliver(t *testing.T) int {
	t.Helper()
	n, err := e.svc.DeliverDue(t.Context())
	if err != nil {
		t.Fatalf("DeliverDue: %v", err)
	}
	return n
}

func (e env) deliveries(t *testing.T, ep string) []webhooks.Delivery {
	t.Helper()
	l, err := e.svc.Deliveries(t.Context(), owner, ep, "", 0)
	if err != nil {
		t.Fatalf("Deliveries: %v", err)
	}
	return l
}

func TestDeliversSignedEventOnce(t *testing.T) {
	r := newReceiver(t)
	e := newEnv(t, r)
	ep := e.endpoint(t, r)
	ev := e.connect(t, "wsp_a", "acc_1")
	e.connect(t, "wsp_b", "acc_2") // another workspace's event goes nowhere here

	if n := e.deliver(t); n != 1 {
		t.Fatalf("delivered %d, want 1", n)
	}
	if n := e.deliver(t); n != 0 {
		t.Errorf("a second pass delivered %d more", n)
	}
	got := r.requests()
	if len(got) != 1 {
		t.Fatalf("receiver got %d requests, want 1", len(got))
	}
	req := got[0]
	if !req.verified {
		t.Errorf("the signature did not verify with the endpoint's secret")
	}
	if req.id != ev.ID || req.body["type"] != webhooks.AccountConnected || req.body["id"] != ev.ID {
		t.Errorf("got webhook-id %q, body %v; want event %s of type account.connected", req.id, req.body, ev.ID)
	}
	data, _ := req.body["data"].(map[string]any)
	if data["account_id"] != "acc_1" || data["app"] != "sendgrid" || data["status"] != "healthy" || data["owner_id"] != "usr_owner" {
		t.Errorf("data %v lacks the account's ids, app and status", data)
	}
	if strings.Contains(req.raw, "sealed") || strings.Contains(strings.ToLower(req.raw), "credential") || strings.Contains(req.raw, "token") {
		t.Errorf("payload mentions credentials: %s", req.raw)
	}
	l := e.deliveries(t, ep.ID)
	if len(l) != 1 || l[0].Status != "delivered" || l[0].Attempts != 1 || l[0].LastStatusCode != 200 {
		t.Errorf("deliveries %+v, want one delivered in one attempt", l)
	}
}

func TestRetriesWithBackoffThenDelivers(t *testing.T) {
	r := newReceiver(t, http.StatusInternalServerError)
	e := newEnv(t, r)
	ep := e.endpoint(t, r)
	e.connect(t, "wsp_a", "acc_1")

	e.deliver(t)
	l := e.deliveries(t, ep.ID)
	if len(l) != 1 || l[0].Status != "pending" || l[0].LastStatusCode != 500 || l[0].NextAttemptAt == nil || !l[0].NextAttemptAt.After(e.clock.Now()) {
		t.Fatalf("after a 500: %+v, want pending with a later attempt", l)
	}
	if n := e.deliver(t); n != 0 {
		t.Errorf("retried at once (%d) instead of backing off", n)
	}
	e.clock.Advance(time.Hour)
	if n := e.deliver(t); n != 1 {
		t.Fatalf("after an hour, delivered %d, want the retry", n)
	}
	got := r.requests()
	if len(got) != 2 || got[0].id != got[1].id || !got[1].verified {
		t.Fatalf("receiver got %+v, want the same verified message twice", got)
	}
	if l := e.deliveries(t, ep.ID); l[0].Status != "delivered" || l[0].Attempts != 2 {
		t.Errorf("after the retry: %+v", l[0])
	}
}

func TestGivesUpAfterADay(t *testing.T) {
	codes := make([]int, 100)
	for i := range codes {
		codes[i] = http.StatusBadRequest // a 4xx other than 410 is a failure too
	}
	r := newReceiver(t, codes...)
	e := newEnv(t, r)
	ep := e.endpoint(t, r)
	ev := e.connect(t, "wsp_a", "acc_1")
	for range 100 {
		e.deliver(t)
		if l := e.deliveries(t, ep.ID); l[0].Status != "pending" {
			break
		}
		e.clock.Advance(time.Hour)
	}
	l := e.deliveries(t, ep.ID)
	if l[0].Status != "failed" {
		t.Fatalf("after 100 hours still %+v", l[0])
	}
	last := l[0].LastAttemptAt
	if last == nil || last.Sub(ev.CreatedAt) > webhooks.RetryFor {
		t.Errorf("last attempt at %v, more than a day after the event at %v", last, ev.CreatedAt)
	}
	if n := len(r.requests()); n < 5 || n != l[0].Attempts {
		t.Errorf("receiver got %d attempts, delivery says %d; want several, the same", n, l[0].Attempts)
	}
}

func TestGoneDisablesTheEndpoint(t *testing.T) {
	r := newReceiver(t, http.StatusGone)
	e := newEnv(t, r)
	ep := e.endpoint(t, r)
	e.connect(t, "wsp_a", "acc_1")
	e.deliver(t)
	list, err := e.svc.List(t.Context(), owner)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Enabled || list[0].DisabledReason == "" {
		t.Fatalf("after 410: %+v, want the endpoint disabled with a reason", list)
	}
	if l := e.deliveries(t, ep.ID); l[0].Status != "failed" || l[0].LastStatusCode != 410 {
		t.Errorf("the 410 delivery: %+v", l[0])
	}
	e.connect(t, "wsp_a", "acc_2")
	e.clock.Advance(time.Hour)
	e.deliver(t)
	if n := len(r.requests()); n != 1 {
		t.Errorf("a disabled endpoint got %d requests, want only the first", n)
	}
	if _, err := e.svc.Redeliver(t.Context(), owner, ep.ID, e.deliveries(t, ep.ID)[0].ID); err == nil {
		t.Errorf("redelivery to a disabled endpoint was accepted")
	}
}

func TestRedeliver(t *testing.T) {
	r := newReceiver(t)
	e := newEnv(t, r)
	ep := e.endpoint(t, r)
	e.connect(t, "wsp_a", "acc_1")
	e.deliver(t)
	d := e.deliveries(t, ep.ID)[0]
	if _, err := e.svc.Redeliver(t.Context(), outsider, ep.ID, d.ID); !errors.Is(err, webhooks.ErrNotFound) {
		t.Errorf("another workspace's redelivery: %v, want ErrNotFound", err)
	}
	if _, err := e.svc.Redeliver(t.Context(), member, ep.ID, d.ID); !errors.Is(err, identity.ErrForbidden) {
		t.Errorf("a member's redelivery: %v, want ErrForbidden", err)
	}
	if _, err := e.svc.Redeliver(t.Context(), admin, ep.ID, d.ID); err != nil {
		t.Fatalf("Redeliver: %v", err)
	}
	e.deliver(t)
	if got := r.requests(); len(got) != 2 || got[1].id != got[0].id || !got[1].verified {
		t.Errorf("receiver got %+v, want the message again, signed", got)
	}
}

func TestEndpointRules(t *testing.T) {
	r := newReceiver(t)
	e := newEnv(t, r)
	ctx := t.Context()
	for _, tc := range []struct {
		name string
		in   webhooks.CreateInput
	}{
		{"plain http", webhooks.CreateInput{URL: "http://hooks.example/x"}},
		{"not a URL", webhooks.CreateInput{URL: "hooks"}},
		{"other scheme", webhooks.CreateInput{URL: "ftp://hooks.example/x"}},
		{"user info", webhooks.CreateInput{URL: "https://u:p@hooks.example/x"}},
		{"unknown type", webhooks.CreateInput{URL: "https://hooks.example/x", EventTypes: []string{"account.exploded"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ie *webhooks.InputError
			if _, _, err := e.svc.Create(ctx, owner, tc.in); !errors.As(err, &ie) {
				t.Errorf("Create: %v, want an input error", err)
			}
		})
	}
	if _, _, err := e.svc.Create(ctx, member, webhooks.CreateInput{URL: "https://hooks.example/x"}); !errors.Is(err, identity.ErrForbidden) {
		t.Errorf("member Create: %v, want ErrForbidden", err)
	}
	if list, _ := e.svc.List(ctx, owner); len(list) != 0 {
		t.Errorf("refused input left endpoints %+v", list)
	}
	ep := e.endpoint(t, r, webhooks.AccountDeleted)
	if err := e.svc.Delete(ctx, outsider, ep.ID); !errors.Is(err, webhooks.ErrNotFound) {
		t.Errorf("another workspace's Delete: %v, want ErrNotFound", err)
	}
	if _, err := e.svc.Deliveries(ctx, outsider, ep.ID, "", 0); !errors.Is(err, webhooks.ErrNotFound) {
		t.Errorf("another workspace's Deliveries: %v, want ErrNotFound", err)
	}
	// The filter: account.connected is not sent to an account.deleted endpoint.
	e.connect(t, "wsp_a", "acc_1")
	if n := e.deliver(t); n != 0 || len(r.requests()) != 0 {
		t.Errorf("a filtered-out event was delivered")
	}
	if err := e.svc.Delete(ctx, admin, ep.ID); err != nil {
		t.Fatalf("Delete: %v", err)
	}
}

// TestPrivateAddressRefused: an https endpoint on a loopback address the
// operator did not trust is never dialled.
func TestPrivateAddressRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	accepted := 0
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			accepted++
			mu.Unlock()
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	e := newEnv(t)
	ep, _, err := e.svc.Create(t.Context(), owner, webhooks.CreateInput{URL: "https://" + ln.Addr().String() + "/hook"})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	e.connect(t, "wsp_a", "acc_1")
	e.deliver(t)
	l := e.deliveries(t, ep.ID)
	if len(l) != 1 || l[0].LastStatusCode != 0 || l[0].LastError == "" || l[0].Status != "pending" {
		t.Errorf("delivery %+v, want a refused attempt with its error", l)
	}
	mu.Lock()
	defer mu.Unlock()
	if accepted != 0 {
		t.Errorf("the private listener was dialled %d times", accepted)
	}
}

// TestRotateSecretOverlap: after a rotation, deliveries verify with the
// old secret and with the new one until the overlap ends, then only with
// the new one.
func TestRotateSecretOverlap(t *testing.T) {
	r := newReceiver(t)
	e := newEnv(t, r)
	ep := e.endpoint(t, r)
	r.mu.Lock()
	oldSecret := r.secret
	r.mu.Unlock()
	if _, err := e.svc.RotateSecret(t.Context(), member, ep.ID, time.Hour); !errors.Is(err, identity.ErrForbidden) {
		t.Errorf("member rotation: %v", err)
	}
	if _, err := e.svc.RotateSecret(t.Context(), owner, ep.ID, -time.Hour); err == nil {
		t.Errorf("a negative overlap was accepted")
	}
	newSecret, err := e.svc.RotateSecret(t.Context(), owner, ep.ID, time.Hour)
	if err != nil {
		t.Fatalf("RotateSecret: %v", err)
	}
	if newSecret.Reveal() == oldSecret {
		t.Fatal("the new secret is the old one")
	}
	receiveWith := func(secret string) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.secret, r.got = secret, nil
	}
	check := func(when string, secret string, want bool) {
		t.Helper()
		receiveWith(secret)
		e.connect(t, "wsp_a", "acc_"+when+secret[6:10])
		e.deliver(t)
		got := r.requests()
		if len(got) != 1 || got[0].verified != want {
			t.Errorf("%s, with the %s secret: %+v, want verified=%v", when, map[bool]string{true: "new", false: "old"}[secret == newSecret.Reveal()], got, want)
		}
	}
	check("during", oldSecret, true)
	check("during", newSecret.Reveal(), true)
	e.clock.Advance(time.Hour)
	check("after", oldSecret, false)
	check("after", newSecret.Reveal(), true)
}

// An account's event names its end user and tags, and carries neither its
// credentials nor its free metadata.
func TestAccountEventPayload(t *testing.T) {
	now := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	a := store.Account{ID: "acc_1", WorkspaceID: "wsp_1", App: "sendgrid", ExternalUserID: "customer-42",
		Tags: map[string]string{"org": "acme"}, Metadata: []byte(`{"plan":"secret-plan"}`), Credentials: []byte("sealed-credentials")}
	ev := webhooks.AccountEvent(webhooks.AccountConnected, a, now, nil)
	var body struct {
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal(ev.Payload, &body); err != nil {
		t.Fatal(err)
	}
	if body.Data["external_user_id"] != "customer-42" {
		t.Errorf("external_user_id: %v", body.Data["external_user_id"])
	}
	if tags, _ := body.Data["tags"].(map[string]any); tags["org"] != "acme" {
		t.Errorf("tags: %v", body.Data["tags"])
	}
	for _, leak := range []string{"sealed-credentials", "secret-plan"} {
		if strings.Contains(string(ev.Payload), leak) {
			t.Errorf("the payload carries %q: %s", leak, ev.Payload)
		}
	}
}
