package server_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/ids"
	"github.com/latchkeyhq/latchkey/internal/server"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
	"github.com/latchkeyhq/latchkey/internal/store"
)

// hookReceiver is a loopback webhook endpoint that verifies signatures
// and, as Standard Webhooks asks of a receiver, takes a message whose
// webhook-id it has already taken as a redelivery: delivery is at least
// once, and a delivery whose lease ran out while its answer was on the
// way is sent again.
type hookReceiver struct {
	*httptest.Server
	mu     sync.Mutex
	secret string
	got    []map[string]any
	raw    []string
	bad    int
	seen   map[string]bool
	again  int // redeliveries of a message already taken
	ch     chan struct{}
}

func newHookReceiver(t *testing.T) *hookReceiver {
	r := &hookReceiver{ch: make(chan struct{}, 100), seen: map[string]bool{}}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		wh, err := standardwebhooks.NewWebhook(r.secret)
		if err == nil {
			// The server's clock is fake; the signature is what counts.
			err = wh.VerifyIgnoringTimestamp(body, req.Header)
		}
		if err != nil {
			r.bad++
		}
		if id := req.Header.Get("webhook-id"); id != "" && err == nil {
			if r.seen[id] {
				r.again++
				r.mu.Unlock()
				return
			}
			r.seen[id] = true
		}
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		r.got, r.raw = append(r.got, m), append(r.raw, string(body))
		r.mu.Unlock()
		r.ch <- struct{}{}
	}))
	t.Cleanup(r.Close)
	return r
}

// trust sets the secret the receiver verifies signatures with.
func (r *hookReceiver) trust(secret string) {
	r.mu.Lock()
	r.secret = secret
	r.mu.Unlock()
}

// hookCall sends one API request with the admin token and decodes the answer.
func hookCall(t *testing.T, inst *servertest.Instance, method, path, body string, want int, out any) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), method, inst.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+inst.Token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, b, want)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
}

// await advances the server's clock an interval at a time until the
// receiver has n requests; the wall-clock bound only ends a broken run.
func (r *hookReceiver) await(t *testing.T, clock *clockwork.FakeClock, n int) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		r.mu.Lock()
		have := len(r.got)
		r.mu.Unlock()
		if have >= n {
			return
		}
		select {
		case <-r.ch:
		case <-time.After(20 * time.Millisecond):
			clock.Advance(server.WebhookInterval)
		case <-deadline:
			t.Fatalf("the receiver got %d webhooks, want %d", have, n)
		}
	}
}

// TestWebhooksEndToEnd: connecting and deleting an account through the
// API send account.connected and account.deleted, signed, once each, and
// the deliveries show it. No payload holds the account's key.
func TestWebhooksEndToEnd(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b servertest.Backend) {
		p := newProvider(t)
		rcv := newHookReceiver(t)
		cfg := servertest.Config(t, b.DatabaseURL(t))
		cfg.AppOrigins = map[string]string{"sendgrid": p.URL}
		cfg.WebhookOrigins = []string{rcv.URL}
		clock := clockwork.NewFakeClockAt(time.Now())
		inst := servertest.Start(t, cfg, server.Options{Clock: clock})

		var ep struct {
			ID, Secret string
		}
		hookCall(t, inst, "POST", "/v1/webhooks", `{"url":"`+rcv.URL+`/hook","event_types":["account.connected","account.deleted"]}`, http.StatusCreated, &ep)
		if !strings.HasPrefix(ep.Secret, "whsec_") {
			t.Fatalf("secret %q", ep.Secret)
		}
		rcv.trust(ep.Secret)
		var list struct {
			Data []map[string]any `json:"data"`
		}
		hookCall(t, inst, "GET", "/v1/webhooks", "", http.StatusOK, &list)
		if len(list.Data) != 1 || list.Data[0]["secret"] != nil {
			t.Errorf("list %v: want the endpoint, without its secret", list.Data)
		}
		// Not https and not a trusted origin: refused, nothing stored.
		hookCall(t, inst, "POST", "/v1/webhooks", `{"url":"http://127.0.0.2:9/hook"}`, http.StatusUnprocessableEntity, nil)

		var acc struct{ ID string }
		hookCall(t, inst, "POST", "/v1/accounts", `{"app":"sendgrid","fields":{"api_key":"`+goodKey+`"},"test":false}`, http.StatusCreated, &acc)
		rcv.await(t, clock, 1)
		hookCall(t, inst, "DELETE", "/v1/accounts/"+acc.ID, "", http.StatusNoContent, nil)
		rcv.await(t, clock, 2)
		// The deliverer records an attempt after the answer; wait for it.
		var dl struct {
			Data []struct {
				Status   string
				Attempts int
			} `json:"data"`
		}
		for deadline := time.Now().Add(30 * time.Second); ; {
			hookCall(t, inst, "GET", "/v1/webhooks/"+ep.ID+"/deliveries", "", http.StatusOK, &dl)
			if len(dl.Data) == 2 && dl.Data[0].Status != "pending" && dl.Data[1].Status != "pending" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("deliveries still %+v", dl.Data)
			}
			time.Sleep(10 * time.Millisecond)
		}
		if len(dl.Data) != 2 || dl.Data[0].Status != "delivered" || dl.Data[1].Status != "delivered" || dl.Data[0].Attempts != 1 || dl.Data[1].Attempts != 1 {
			t.Errorf("deliveries %+v, want two delivered in one attempt each", dl.Data)
		}
		if n, err := inst.Webhooks().DeliverDue(t.Context()); err != nil || n != 0 {
			t.Errorf("DeliverDue after both: %d, %v; want nothing left", n, err)
		}

		rcv.mu.Lock()
		defer rcv.mu.Unlock()
		if rcv.bad != 0 {
			t.Errorf("%d webhooks failed verification", rcv.bad)
		}
		if len(rcv.got) != 2 || rcv.got[0]["type"] != "account.connected" || rcv.got[1]["type"] != "account.deleted" {
			t.Fatalf("got %v, want account.connected then account.deleted, once each", rcv.got)
		}
		for _, raw := range rcv.raw {
			if strings.Contains(raw, goodKey) || strings.Contains(raw, "knownplaintextkey") {
				t.Errorf("a payload holds the account's key: %s", raw)
			}
			if !strings.Contains(raw, acc.ID) {
				t.Errorf("a payload lacks the account's id: %s", raw)
			}
		}
	})
}

// webhookEndpoint is an endpoint as the API made it, with its secret.
type webhookEndpoint struct{ ID, Secret string }

// hookedOAuth starts Latchkey with the test IdP as an OAuth app and a
// webhook endpoint whose receiver verifies each delivery.
func hookedOAuth(t *testing.T, b servertest.Backend) (*oauthFixture, *hookReceiver, webhookEndpoint) {
	t.Helper()
	rcv := newHookReceiver(t)
	f := &oauthFixture{idp: newIdP(t), clock: clockwork.NewFakeClockAt(time.Now())}
	f.cfg = oauthConfig(t, b.DatabaseURL(t), f.idp)
	f.cfg.WebhookOrigins = []string{rcv.URL}
	f.inst = servertest.Start(t, f.cfg, server.Options{Clock: f.clock})
	f.api = f.inst.Client()
	if _, err := f.api.SetOAuthClient(t.Context(), "testidp", client.SetOAuthClient{ClientID: f.idp.ClientID(), ClientSecret: f.idp.ClientSecret(), Managed: true}); err != nil {
		t.Fatal(err)
	}
	var ep webhookEndpoint
	hookCall(t, f.inst, "POST", "/v1/webhooks", `{"url":"`+rcv.URL+`/hook"}`, http.StatusCreated, &ep)
	rcv.trust(ep.Secret)
	return f, rcv, ep
}

// TestWebhooksOAuthGrantLost: an OAuth account connected through the
// provider sends account.connected, and the refresh that finds the grant
// revoked sends account.needs_reconnect, once. No payload holds a token.
func TestWebhooksOAuthGrantLost(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b servertest.Backend) {
		f, rcv, _ := hookedOAuth(t, b)
		ctx := t.Context()

		started, err := f.api.Connect(ctx, client.Connect{App: "testidp", Nickname: ptr("work")})
		if err != nil {
			t.Fatal(err)
		}
		if status, page := approve(t, started); status != 200 {
			t.Fatalf("callback page %d:\n%s", status, page)
		}
		rcv.await(t, f.clock, 1)
		creds, err := f.api.Credentials(ctx, mustConnected(t, f.api, started.ID))
		if err != nil {
			t.Fatal(err)
		}
		f.idp.RevokeUser("alice")
		f.clock.Advance(56 * time.Minute)
		accID := mustConnected(t, f.api, started.ID)
		if _, err := f.api.Credentials(ctx, accID); !client.IsProblem(err, "needs-reconnect") {
			t.Fatalf("read after revocation: %v", err)
		}
		rcv.await(t, f.clock, 2)
		if n, err := f.inst.Webhooks().DeliverDue(ctx); err != nil || n != 0 {
			t.Errorf("DeliverDue: %d, %v; want nothing more", n, err)
		}
		rcv.mu.Lock()
		defer rcv.mu.Unlock()
		if len(rcv.got) != 2 || rcv.got[0]["type"] != "account.connected" || rcv.got[1]["type"] != "account.needs_reconnect" || rcv.bad != 0 {
			t.Fatalf("got %v (%d unverified), want account.connected then account.needs_reconnect, verified", rcv.got, rcv.bad)
		}
		if data, _ := rcv.got[1]["data"].(map[string]any); data["status"] != "needs_reconnect" || data["account_id"] != accID {
			t.Errorf("needs_reconnect data %v", data)
		}
		for _, raw := range rcv.raw {
			if tok := creds["oauth_access_token"]; tok == "" || strings.Contains(raw, tok) {
				t.Errorf("a payload holds the access token: %s", raw)
			}
		}
	})
}

func mustConnected(t *testing.T, api *client.Client, connection string) string {
	t.Helper()
	done, err := api.GetConnection(t.Context(), connection)
	if err != nil || done.Status != "completed" {
		t.Fatalf("connection: %+v %v", done, err)
	}
	return done.AccountID
}

// TestWebhooksAccountRecovered: a refresh that works after transient
// failures sends account.recovered, once, after the one
// account.refresh_failed; a refresh with no failure before it sends
// nothing. Every delivery verifies, and each carries its attempts.
func TestWebhooksAccountRecovered(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b servertest.Backend) {
		f, rcv, ep := hookedOAuth(t, b)
		ctx := t.Context()

		acc := f.connect(t, client.Connect{App: "testidp"})
		rcv.await(t, f.clock, 1)
		// Two failed refreshes, an hour apart, then one that works.
		f.idp.FailNextToken(503, 2)
		for range 2 {
			f.clock.Advance(2 * time.Hour)
			if _, err := f.api.Credentials(ctx, acc.ID); !client.IsProblem(err, "refresh-unavailable") {
				t.Fatalf("read during the outage: %v", err)
			}
		}
		f.clock.Advance(2 * time.Hour)
		if _, err := f.api.Credentials(ctx, acc.ID); err != nil {
			t.Fatalf("read after the outage: %v", err)
		}
		rcv.await(t, f.clock, 3)
		// A plain refresh later: nothing to recover from.
		f.clock.Advance(2 * time.Hour)
		if _, err := f.api.Credentials(ctx, acc.ID); err != nil {
			t.Fatalf("read after another expiry: %v", err)
		}
		for range 5 {
			f.clock.Advance(server.WebhookInterval)
			if _, err := f.inst.Webhooks().DeliverDue(ctx); err != nil {
				t.Fatal(err)
			}
		}
		rcv.mu.Lock()
		var types []string
		for _, m := range rcv.got {
			types = append(types, m["type"].(string))
		}
		bad := rcv.bad
		last := rcv.got[len(rcv.got)-1]
		rcv.mu.Unlock()
		if want := "account.connected account.refresh_failed account.recovered"; strings.Join(types, " ") != want || bad != 0 {
			t.Fatalf("got %v (%d unverified), want %s", types, bad, want)
		}
		if data, _ := last["data"].(map[string]any); data["account_id"] != acc.ID || data["status"] != "healthy" {
			t.Errorf("recovered data %v", data)
		}
		if n := countEvents(t, f.api, acc.ID, "account.recovered"); n != 1 {
			t.Errorf("%d account.recovered audit events, want 1", n)
		}
		var dl struct {
			Data []client.WebhookDelivery `json:"data"`
		}
		hookCall(t, f.inst, "GET", "/v1/webhooks/"+ep.ID+"/deliveries", "", http.StatusOK, &dl)
		if len(dl.Data) != 3 || dl.Data[0].EventType != "account.recovered" || len(dl.Data[0].AttemptLog) != 1 || dl.Data[0].AttemptLog[0].StatusCode != 200 {
			t.Errorf("deliveries %+v, want three, the newest account.recovered delivered in one logged attempt", dl.Data)
		}
	})
}

// TestWebhooksOtherUserAndWorkspace: a member of the workspace is refused
// every webhooks route, and the owner of another workspace finds nothing
// of this one's (404) and changes nothing.
func TestWebhooksOtherUserAndWorkspace(t *testing.T) {
	rcv := newHookReceiver(t)
	cfg := servertest.Config(t, "")
	cfg.WebhookOrigins = []string{rcv.URL}
	inst := servertest.Start(t, cfg, server.Options{})
	ctx := t.Context()
	owner := inst.Client()
	ep, err := owner.CreateWebhook(ctx, client.CreateWebhook{URL: rcv.URL + "/hook"})
	if err != nil {
		t.Fatal(err)
	}
	rcv.mu.Lock()
	rcv.secret = ep.Secret
	rcv.mu.Unlock()
	if _, err := owner.CreateAccount(ctx, client.CreateAccount{App: "sendgrid", Fields: map[string]string{"api_key": goodKey}, Test: ptr(false)}); err != nil {
		t.Fatal(err)
	}
	if _, err := inst.Webhooks().DeliverDue(ctx); err != nil {
		t.Fatal(err)
	}
	page, err := owner.WebhookDeliveries(ctx, ep.ID, "", 0)
	if err != nil || len(page.Data) != 1 {
		t.Fatalf("deliveries: %+v %v", page, err)
	}
	dl := page.Data[0]
	if got, err := owner.WebhookDelivery(ctx, ep.ID, dl.ID); err != nil || got.Status != "delivered" || len(got.AttemptLog) != 1 || got.AttemptLog[0].StatusCode != 200 {
		t.Fatalf("the owner's delivery: %+v %v", got, err)
	}

	// The other workspace's owner, with a token of every scope.
	st, now := inst.Store(), time.Now().UTC()
	other := store.Workspace{ID: ids.New(ids.Workspace, now), Name: "other", CreatedAt: now}
	if err := st.CreateWorkspace(ctx, other); err != nil {
		t.Fatal(err)
	}
	outsider := store.User{ID: ids.New(ids.User, now), WorkspaceID: other.ID, Email: "eve@example.com", Role: store.RoleOwner, PasswordHash: "x", CreatedAt: now}
	if err := st.CreateUser(ctx, outsider); err != nil {
		t.Fatal(err)
	}
	tok, _, err := inst.Identity().IssueToken(ctx, other.ID, outsider.ID, "test", []string{"*"})
	if err != nil {
		t.Fatal(err)
	}
	member := addUser(t, inst, "mo@example.com", store.RoleMember)
	off := false
	for _, c := range []struct {
		who  string
		api  *client.Client
		kind string
	}{{"another workspace's owner", client.New(inst.URL, tok.Reveal(), nil), "not-found"}, {"a member", member.api, "forbidden"}} {
		checks := map[string]error{}
		_, checks["get"] = c.api.Webhook(ctx, ep.ID)
		_, checks["update"] = c.api.UpdateWebhook(ctx, ep.ID, client.UpdateWebhook{Enabled: &off})
		_, checks["rotate"] = c.api.RotateWebhookSecret(ctx, ep.ID, client.RotateWebhookSecret{})
		_, checks["deliveries"] = c.api.WebhookDeliveries(ctx, ep.ID, "", 0)
		_, checks["delivery"] = c.api.WebhookDelivery(ctx, ep.ID, dl.ID)
		_, checks["redeliver"] = c.api.Redeliver(ctx, ep.ID, dl.ID)
		checks["delete"] = c.api.DeleteWebhook(ctx, ep.ID)
		for what, err := range checks {
			if !client.IsProblem(err, c.kind) {
				t.Errorf("%s: %s: %v, want %s", c.who, what, err, c.kind)
			}
		}
		if list, err := c.api.Webhooks(ctx); c.kind == "not-found" && (err != nil || len(list) != 0) {
			t.Errorf("%s lists %+v, %v", c.who, list, err)
		}
	}
	got, err := owner.Webhook(ctx, ep.ID)
	if err != nil || !got.Enabled {
		t.Fatalf("after the others tried: %+v %v", got, err)
	}
	if d, _ := owner.WebhookDelivery(ctx, ep.ID, dl.ID); d.Status != "delivered" {
		t.Errorf("the delivery was sent again: %+v", d)
	}
}

// TestWebhooksEndUserDeleted: deleting an end user sends a signed
// account.deleted for each of their accounts, naming them, and none for
// another end user's.
func TestWebhooksEndUserDeleted(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b servertest.Backend) {
		p := newProvider(t)
		rcv := newHookReceiver(t)
		cfg := servertest.Config(t, b.DatabaseURL(t))
		cfg.AppOrigins = map[string]string{"sendgrid": p.URL}
		cfg.WebhookOrigins = []string{rcv.URL}
		clock := clockwork.NewFakeClockAt(time.Now())
		inst := servertest.Start(t, cfg, server.Options{Clock: clock})
		api, ctx := inst.Client(), t.Context()
		var ep webhookEndpoint
		hookCall(t, inst, "POST", "/v1/webhooks", `{"url":"`+rcv.URL+`/hook","event_types":["account.deleted"]}`, http.StatusCreated, &ep)
		rcv.trust(ep.Secret)

		var theirs []string
		for _, user := range []string{"customer-42", "customer-42", "customer-43"} {
			acc, err := api.CreateAccount(ctx, client.CreateAccount{App: "sendgrid", ExternalUserID: user, Fields: map[string]string{"api_key": goodKey}})
			if err != nil {
				t.Fatal(err)
			}
			if user == "customer-42" {
				theirs = append(theirs, acc.ID)
			}
		}
		if _, err := api.DeleteEndUser(ctx, "customer-42"); err != nil {
			t.Fatal(err)
		}
		rcv.await(t, clock, 2)
		// Another tick or two: an account.deleted for customer-43 would
		// have come by then.
		for range 3 {
			clock.Advance(server.WebhookInterval)
			time.Sleep(20 * time.Millisecond)
		}
		var gone []string
		for _, d := range rcv.events("account.deleted") {
			if d["external_user_id"] != "customer-42" {
				t.Errorf("account.deleted for %v", d)
			}
			gone = append(gone, fmt.Sprint(d["account_id"]))
		}
		slices.Sort(gone)
		slices.Sort(theirs)
		if !slices.Equal(gone, theirs) {
			t.Errorf("account.deleted for %v, want %v", gone, theirs)
		}
		rcv.mu.Lock()
		defer rcv.mu.Unlock()
		if rcv.bad != 0 {
			t.Errorf("%d deliveries failed verification", rcv.bad)
		}
	})
}
