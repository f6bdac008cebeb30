package purger_test

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/latchkeyhq/latchkey/internal/purger"
	"github.com/latchkeyhq/latchkey/internal/store"
	"github.com/latchkeyhq/latchkey/internal/store/sqlite"
)

func TestPurgerDeletesOnlyWhatExpired(t *testing.T) {
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "latchkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clock := clockwork.NewFakeClockAt(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	now := clock.Now()
	if err := st.CreateWorkspace(ctx, store.Workspace{ID: "wsp_1", Name: "acme", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	// A session lives 12 hours, a connection 10 minutes.
	session := store.Session{Hash: []byte("session-hash-0123456789abcdef012"), WorkspaceID: "wsp_1", UserID: "usr_1", CreatedAt: now, ExpiresAt: now.Add(12 * time.Hour)}
	conn := store.Connection{ID: "con_1", WorkspaceID: "wsp_1", UserID: "usr_1", App: "slack", StateHash: []byte("state-hash-0123456789abcdef01234"),
		Status: store.ConnectionPending, CreatedAt: now, ExpiresAt: now.Add(10 * time.Minute)}
	if err := st.CreateSession(ctx, session); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateConnection(ctx, conn); err != nil {
		t.Fatal(err)
	}
	// A connect token lives 4 hours here.
	tok := store.ConnectToken{ID: "ctk_1", WorkspaceID: "wsp_1", TokenHash: []byte("token-hash-0123456789abcdef01234"), ExternalUserID: "customer-1",
		CreatedBy: "usr_1", CreatedAt: now, ExpiresAt: now.Add(4 * time.Hour)}
	if err := st.CreateConnectToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	// Its own webhook endpoint is due a day and more after it expires.
	purgeAt := now.Add(4*time.Hour + 25*time.Hour)
	if err := st.CreateWebhookEndpoint(ctx, store.WebhookEndpoint{ID: "whk_tok", WorkspaceID: "wsp_1", URL: "https://hooks.example/x", Secrets: []byte("s"),
		Enabled: true, ConnectTokenID: tok.ID, PurgeAfter: &purgeAt, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	endpointLeft := func() bool {
		_, err := st.GetWebhookEndpoint(ctx, "wsp_1", "whk_tok")
		return !errors.Is(err, store.ErrNotFound)
	}
	// A webhook event delivered at once, its delivery and its attempt.
	if err := st.CreateWebhookEndpoint(ctx, store.WebhookEndpoint{ID: "whk_1", WorkspaceID: "wsp_1", URL: "https://hooks.example/", Secrets: []byte("x"),
		Enabled: true, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := st.AppendWebhookEvents(ctx, []store.WebhookEvent{{ID: "msg_1", WorkspaceID: "wsp_1", Type: "account.connected", Payload: []byte("{}"), CreatedAt: now}}); err != nil {
		t.Fatal(err)
	}
	leased, err := st.LeaseWebhookDeliveries(ctx, "h", now, now.Add(time.Minute), 1)
	if err != nil || len(leased) != 1 {
		t.Fatalf("lease: %v %v", leased, err)
	}
	if _, err := st.UpdateWebhookDelivery(ctx, "wsp_1", leased[0].ID, func(d *store.WebhookDelivery) error {
		d.Status, d.NextAttemptAt, d.LeaseHolder, d.LeaseUntil = store.DeliveryDelivered, nil, "", nil
		d.NewAttempt = &store.WebhookAttempt{ID: "wha_1", AttemptedAt: now, StatusCode: 200}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	deliveryLeft := func() bool {
		_, err := st.GetWebhookDelivery(ctx, "wsp_1", leased[0].ID)
		return !errors.Is(err, store.ErrNotFound)
	}
	tokenLeft := func() bool {
		_, err := st.GetConnectToken(ctx, "wsp_1", tok.ID)
		return !errors.Is(err, store.ErrNotFound)
	}
	// An MCP client's authorization code, unused, and its grant.
	if err := st.CreateMCPClient(ctx, store.MCPClient{ID: "mcc_1", Name: "agent", RedirectURIs: []string{"https://agent.example/cb"}, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateMCPGrant(ctx, store.MCPGrant{ID: "mcg_1", WorkspaceID: "wsp_1", UserID: "usr_1", ClientID: "mcc_1", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateMCPToken(ctx, store.MCPToken{Kind: store.MCPAuthorizeCode, Signature: "sig", GrantID: "mcg_1", Active: true,
		Request: []byte(`{}`), ExpiresAt: now.Add(10 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	mcpLeft := func() (code, grant bool) {
		_, err := st.GetMCPToken(ctx, store.MCPAuthorizeCode, "sig")
		_, gerr := st.GetMCPGrant(ctx, "mcg_1")
		return !errors.Is(err, store.ErrNotFound), !errors.Is(gerr, store.ErrNotFound)
	}
	clientLeft := func() bool {
		_, err := st.GetMCPClient(ctx, "mcc_1")
		return !errors.Is(err, store.ErrNotFound)
	}
	sessionLeft := func() bool {
		_, err := st.GetSession(ctx, session.Hash, time.Time{})
		return !errors.Is(err, store.ErrNotFound)
	}
	connLeft := func() bool {
		_, err := st.GetConnection(ctx, "wsp_1", conn.ID)
		return !errors.Is(err, store.ErrNotFound)
	}

	rctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	p := &purger.Purger{Store: st, Clock: clock, Log: slog.New(slog.DiscardHandler)}
	go func() { defer close(done); p.Run(rctx) }()
	t.Cleanup(func() { stop(); <-done })
	// pass waits for the purger to finish a pass and wait for the next.
	pass := func(advance time.Duration) {
		t.Helper()
		clock.Advance(advance)
		if err := clock.BlockUntilContext(ctx, 1); err != nil {
			t.Fatal(err)
		}
	}

	pass(0)
	if !sessionLeft() || !connLeft() {
		t.Fatal("the first pass deleted a live session or connection")
	}
	// Expired a minute ago: kept for the grace hour, for a callback still
	// exchanging its code and for a client reading how it ended.
	pass(11 * time.Minute)
	if !connLeft() {
		t.Fatal("a connection expired a minute ago was deleted")
	}
	if code, grant := mcpLeft(); !code || !grant {
		t.Fatal("an MCP code expired a minute ago, or its grant, was deleted")
	}
	pass(purger.DefaultConnectionGrace)
	if connLeft() {
		t.Fatal("a connection expired over an hour ago was kept")
	}
	if code, grant := mcpLeft(); code || grant {
		t.Fatalf("an MCP code expired over an hour ago (kept: %v), or its grant with nothing left (kept: %v), was kept", code, grant)
	}
	if !sessionLeft() || !tokenLeft() {
		t.Fatal("a live session or connect token was deleted")
	}
	pass(4 * time.Hour)
	if tokenLeft() {
		t.Fatal("a connect token expired over an hour ago was kept")
	}
	pass(11 * time.Hour)
	if sessionLeft() {
		t.Fatal("a session expired 12 hours after sign-in was kept")
	}
	if !endpointLeft() {
		t.Fatal("a connect token's endpoint was deleted within the retry window of its last events")
	}
	pass(14 * time.Hour)
	if endpointLeft() {
		t.Fatal("a connect token's endpoint past its purge time was kept")
	}
	if !deliveryLeft() {
		t.Fatal("a webhook delivery of today was deleted")
	}
	if !clientLeft() {
		t.Fatal("an MCP client registered today was deleted when its grant went")
	}
	pass(purger.DefaultWebhookRetention)
	if deliveryLeft() {
		t.Fatal("a webhook delivery older than the retention was kept")
	}
	if clientLeft() {
		t.Fatal("an MCP client registered over 30 days ago, with no grant left, was kept")
	}
}
