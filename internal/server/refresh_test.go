package server_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/oauth/oauthtest"
	"github.com/latchkeyhq/latchkey/internal/server"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
)

// TestWritesWhileRefreshInFlight: while a refresh waits on a provider that
// does not answer, the rest of the service keeps writing: no transaction
// (on SQLite, no database write lock; on PostgreSQL, no row lock others
// need) is held across the provider call.
func TestWritesWhileRefreshInFlight(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b servertest.Backend) {
		f := startOAuth(t, b)
		ctx := context.Background()
		acc := f.connect(t, client.Connect{App: "testidp"})
		other, err := f.api.CreateAccount(ctx, client.CreateAccount{App: "openai", Fields: map[string]string{"api_key": "sk-other"}, Test: ptr(false)})
		if err != nil {
			t.Fatal(err)
		}

		f.clock.Advance(2 * time.Hour) // the OAuth account has expired
		arrived, release := f.idp.HoldRefreshes()
		defer release()
		type result struct {
			creds map[string]string
			err   error
		}
		done := make(chan result, 1)
		go func() {
			creds, err := f.api.Credentials(ctx, acc.ID)
			done <- result{creds, err}
		}()
		select {
		case <-arrived:
		case r := <-done:
			t.Fatalf("the read finished before the provider was reached: %v", r.err)
		case <-time.After(20 * time.Second):
			t.Fatal("the refresh never reached the provider")
		}

		// The provider is held: other accounts' writes must go through.
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		start := time.Now()
		if _, err := f.api.CreateAccount(wctx, client.CreateAccount{App: "openai", Nickname: ptr("during refresh"), Fields: map[string]string{"api_key": "sk-new"}, Test: ptr(false)}); err != nil {
			t.Fatalf("create while a refresh is in flight: %v", err)
		}
		created := time.Since(start)
		start = time.Now()
		if _, err := f.api.RenameAccount(wctx, other.ID, "renamed during refresh"); err != nil {
			t.Fatalf("rename while a refresh is in flight: %v", err)
		}
		renamed := time.Since(start)
		t.Logf("%s: with the provider held, a create took %v and a rename %v", b.Name, created, renamed)
		select {
		case r := <-done:
			t.Fatalf("the read finished while the provider was held: %v", r.err)
		default:
		}

		release()
		r := <-done
		if r.err != nil || r.creds["oauth_access_token"] == "" {
			t.Fatalf("the read after the provider answered: %v", r.err)
		}
		if n := f.idp.Refreshes(); n != 1 {
			t.Fatalf("the provider saw %d refreshes, want 1", n)
		}
		if code, _ := userinfo(t, f.idp, r.creds["oauth_access_token"]); code != 200 {
			t.Fatal("the refreshed token does not work")
		}
	})
}

// TestDeadLeaseHolder: a refresh lease taken by a process that died (taken
// here in the store directly, never released) holds readers off until it
// lapses by the clock; then the next reader refreshes, once.
func TestDeadLeaseHolder(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b servertest.Backend) {
		f := startOAuth(t, b)
		ctx := context.Background()
		acc := f.connect(t, client.Connect{App: "testidp"})
		ws := workspaceOf(t, f.inst, acc.ID)

		f.clock.Advance(2 * time.Hour)
		now := f.clock.Now()
		won, err := f.inst.Store().TakeRefreshLease(ctx, ws, acc.ID, "dead-holder", now, now.Add(time.Minute))
		if err != nil || !won {
			t.Fatalf("taking the lease as a dead process: %v, %v", won, err)
		}

		// While the lease holds, a reader waits for its holder; this one
		// gives up first, and the provider has seen nothing.
		short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		if _, err := f.api.Credentials(short, acc.ID); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("read under a live lease: %v, want it still waiting", err)
		}
		if n := f.idp.Refreshes(); n != 0 {
			t.Fatalf("%d refreshes under another holder's lease", n)
		}

		// The lease lapses: the waiting refresh, and the next reader,
		// take it over and refresh once.
		f.clock.Advance(time.Minute + time.Second)
		creds, err := f.api.Credentials(ctx, acc.ID)
		if err != nil || creds["oauth_access_token"] == "" {
			t.Fatalf("read after the lease lapsed: %v", err)
		}
		if n := f.idp.Refreshes(); n != 1 {
			t.Fatalf("the provider saw %d refreshes, want 1", n)
		}
		if code, _ := userinfo(t, f.idp, creds["oauth_access_token"]); code != 200 {
			t.Fatal("the refreshed token does not work")
		}
		stored, err := f.inst.Store().GetAccount(ctx, ws, acc.ID)
		if err != nil || stored.RefreshLeaseHolder != "" || stored.RefreshLeaseUntil != nil {
			t.Fatalf("lease after the refresh: %q until %v (%v), want released", stored.RefreshLeaseHolder, stored.RefreshLeaseUntil, err)
		}
	})
}

// TestShortLivedTokens: with the default 5 minute margin and a provider
// issuing 60-second tokens, reads refresh once per token, not on every
// read: the margin in use is at most half the token's life.
func TestShortLivedTokens(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b servertest.Backend) {
		idp := oauthtest.New(t, oauthtest.Options{RedirectURIs: []string{"http://127.0.0.1/oauth/callback"}, AccessTokenLifespan: time.Minute})
		clock := clockwork.NewFakeClockAt(time.Now())
		cfg := oauthConfig(t, b.DatabaseURL(t), idp)
		inst := servertest.Start(t, cfg, server.Options{Clock: clock})
		f := &oauthFixture{idp: idp, clock: clock, cfg: cfg, inst: inst, api: inst.Client()}
		ctx := context.Background()
		if _, err := f.api.SetOAuthClient(ctx, "testidp", client.SetOAuthClient{ClientID: idp.ClientID(), ClientSecret: idp.ClientSecret(), Managed: true}); err != nil {
			t.Fatal(err)
		}
		acc := f.connect(t, client.Connect{App: "testidp"})

		// A fresh 60-second token is handed out as it is.
		for i := range 10 {
			if _, err := f.api.Credentials(ctx, acc.ID); err != nil {
				t.Fatalf("read %d: %v", i, err)
			}
		}
		if n := idp.Refreshes(); n != 0 {
			t.Fatalf("10 reads of a fresh 60-second token made %d refreshes, want 0", n)
		}

		// Past half its life: ten reads in a row refresh once.
		clock.Advance(31 * time.Second)
		for i := range 10 {
			if _, err := f.api.Credentials(ctx, acc.ID); err != nil {
				t.Fatalf("read %d: %v", i, err)
			}
		}
		if n := idp.Refreshes(); n != 1 {
			t.Fatalf("10 reads past half the token's life made %d refreshes, want 1", n)
		}

		// 200 at once, past half the new token's life: one refresh, one
		// token for all.
		clock.Advance(31 * time.Second)
		const readers = 200
		tokens := make([]string, readers)
		errs := make([]error, readers)
		var wg sync.WaitGroup
		for i := range readers {
			wg.Go(func() {
				creds, err := f.api.Credentials(ctx, acc.ID)
				tokens[i], errs[i] = creds["oauth_access_token"], err
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("reader %d: %v", i, err)
			}
		}
		if n := idp.Refreshes(); n != 2 {
			t.Fatalf("200 concurrent reads made %d refreshes, want exactly 1", n-1)
		}
		distinct := map[string]bool{}
		for _, tok := range tokens {
			distinct[tok] = true
		}
		if len(distinct) != 1 || tokens[0] == "" {
			t.Fatalf("200 readers got %d different tokens, want 1", len(distinct))
		}
		if code, _ := userinfo(t, idp, tokens[0]); code != 200 {
			t.Fatal("the shared new token does not work")
		}
	})
}

// workspaceOf finds the workspace an account is in, for store calls.
func workspaceOf(t *testing.T, inst *servertest.Instance, accountID string) string {
	t.Helper()
	pairs, err := inst.Store().AllAccountIDs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pairs {
		if p[1] == accountID {
			return p[0]
		}
	}
	t.Fatal(fmt.Sprintf("account %s is in no workspace", accountID))
	return ""
}

// TestBackgroundRefreshWhileWriting: the background refresher claims an
// account in a short transaction and calls the provider after it, so
// writes go through while the provider is held.
func TestBackgroundRefreshWhileWriting(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b servertest.Backend) {
		f := startOAuth(t, b)
		ctx := context.Background()
		acc := f.connect(t, client.Connect{App: "testidp"})
		f.clock.Advance(2 * time.Hour) // due, and expired

		arrived, release := f.idp.HoldRefreshes()
		defer release()
		type result struct {
			n   int
			err error
		}
		done := make(chan result, 1)
		go func() {
			n, err := f.inst.Accounts().RefreshDue(ctx, 10)
			done <- result{n, err}
		}()
		select {
		case <-arrived:
		case r := <-done:
			t.Fatalf("the refresher finished before reaching the provider: %d, %v", r.n, r.err)
		case <-time.After(20 * time.Second):
			t.Fatal("the refresher never reached the provider")
		}
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if _, err := f.api.CreateAccount(wctx, client.CreateAccount{App: "openai", Fields: map[string]string{"api_key": "sk-new"}, Test: ptr(false)}); err != nil {
			t.Fatalf("create while the refresher waits on the provider: %v", err)
		}
		if _, err := f.api.RenameAccount(wctx, acc.ID, "renamed during its refresh"); err != nil {
			t.Fatalf("rename of the account being refreshed: %v", err)
		}
		release()
		r := <-done
		if r.err != nil || r.n != 1 || f.idp.Refreshes() != 1 {
			t.Fatalf("refresh pass: %d accounts, %d refreshes, %v", r.n, f.idp.Refreshes(), r.err)
		}
		after, err := f.api.GetAccount(ctx, acc.ID)
		if err != nil || after.Nickname != "renamed during its refresh" || after.LastRefreshedAt == nil || *after.ExpiresAt == *acc.ExpiresAt {
			t.Fatalf("after the refresh: %+v, %v; want renamed and renewed", after, err)
		}
		// Reading needs no second refresh.
		if _, err := f.api.Credentials(ctx, acc.ID); err != nil || f.idp.Refreshes() != 1 {
			t.Fatalf("read after the background refresh: %v, %d refreshes", err, f.idp.Refreshes())
		}
	})
}

// TestShutdownKeepsABackgroundRefresh: a shutdown while the background
// refresher waits on the provider lets that call finish and saves its
// answer (a rotating provider has already spent the old refresh token),
// then claims nothing more.
func TestShutdownKeepsABackgroundRefresh(t *testing.T) {
	f := startOAuth(t, servertest.Backends[0])
	ctx := context.Background()
	acc := f.connect(t, client.Connect{App: "testidp"})
	second := f.connect(t, client.Connect{App: "testidp", Nickname: ptr("second")})
	f.clock.Advance(2 * time.Hour) // both due, and expired

	arrived, release := f.idp.HoldRefreshes()
	defer release()
	rctx, shutdown := context.WithCancel(ctx)
	type result struct {
		n   int
		err error
	}
	done := make(chan result, 1)
	go func() {
		n, err := f.inst.Accounts().RefreshDue(rctx, 10)
		done <- result{n, err}
	}()
	select {
	case <-arrived:
	case <-time.After(20 * time.Second):
		t.Fatal("the refresher never reached the provider")
	}
	shutdown()
	release()
	r := <-done
	if r.n != 1 || !errors.Is(r.err, context.Canceled) {
		t.Fatalf("refresh pass after shutdown: %d accounts, %v; want 1 and the cancellation", r.n, r.err)
	}
	if n := f.idp.Refreshes(); n != 1 {
		t.Fatalf("the provider saw %d refreshes, want 1 (nothing claimed after the shutdown)", n)
	}
	var renewed, untouched int
	for _, before := range []client.Account{acc, second} {
		id := before.ID
		got, err := f.api.GetAccount(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != "healthy" || got.StatusError != "" {
			t.Fatalf("account %s after the shutdown: %s %q; want healthy, no error", id, got.Status, got.StatusError)
		}
		if got.ExpiresAt != nil && *got.ExpiresAt != *before.ExpiresAt {
			renewed++
		} else {
			untouched++
		}
	}
	if renewed != 1 || untouched != 1 {
		t.Fatalf("%d accounts renewed and %d untouched, want one each", renewed, untouched)
	}
}
