package postgres_test

import (
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/latchkeyhq/latchkey/internal/store"
	"github.com/latchkeyhq/latchkey/internal/store/postgres"
	"github.com/latchkeyhq/latchkey/internal/store/postgres/pgtest"
	"github.com/latchkeyhq/latchkey/internal/store/sqlstore"
)

// rideFixture is a store whose connections carry an application_name of
// their own, so another connection can find and end exactly them (on a
// server other tests share), as a server restart would.
type rideFixture struct {
	t     *testing.T
	s     *sqlstore.Store
	admin *pgx.Conn
	name  string
	url   string
}

func newRide(t *testing.T) *rideFixture {
	ctx := t.Context()
	name := "lk_ride_" + rand.Text()[:10]
	url := pgtest.URL(t) + "&application_name=" + name
	s, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close(ctx) })
	// The admin connection is not one of the store's.
	if _, err := admin.Exec(ctx, `SET application_name = 'lk_ride_admin'`); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateWorkspace(ctx, store.Workspace{ID: "wsp_1", Name: "Acme", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	return &rideFixture{t: t, s: s, admin: admin, name: name, url: url}
}

// backends counts the store's server sessions, those waiting on a lock
// among them.
func (f *rideFixture) backends() (all, waiting int) {
	f.t.Helper()
	err := f.admin.QueryRow(f.t.Context(), `SELECT count(*), count(*) FILTER (WHERE wait_event_type = 'Lock')
		FROM pg_stat_activity WHERE application_name = $1`, f.name).Scan(&all, &waiting)
	if err != nil {
		f.t.Fatal(err)
	}
	return all, waiting
}

// until polls cond until it holds; the test's deadline bounds it.
func (f *rideFixture) until(what string, cond func() bool) {
	f.t.Helper()
	for !cond() {
		select {
		case <-f.t.Context().Done():
			f.t.Fatalf("gave up waiting until %s", what)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// terminate ends every session of the store's pool from the admin
// connection, with the error a fast shutdown sends (57P01), and waits
// until those sessions are gone. It returns how many it ended.
func (f *rideFixture) terminate() int {
	f.t.Helper()
	var pids []int32
	// The sessions are picked first, in a materialized CTE: in one WHERE
	// the server may call pg_terminate_backend before it filters by name.
	if err := f.admin.QueryRow(f.t.Context(), `WITH mine AS MATERIALIZED (
			SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid())
		SELECT coalesce(array_agg(pid), '{}') FROM mine WHERE pg_terminate_backend(pid)`, f.name).Scan(&pids); err != nil {
		f.t.Fatal(err)
	}
	f.until("the ended sessions are gone", func() bool {
		var left int
		if err := f.admin.QueryRow(f.t.Context(), `SELECT count(*) FROM pg_stat_activity WHERE pid = ANY($1)`, pids).Scan(&left); err != nil {
			f.t.Fatal(err)
		}
		return left == 0
	})
	return len(pids)
}

// warm opens n pooled connections and puts them back idle, so the next
// calls run on connections whose sessions have ended.
func (f *rideFixture) warm(n int) {
	f.t.Helper()
	// Drop what idles in the pool first (sessions ended before).
	f.s.DB().SetMaxIdleConns(0)
	f.s.DB().SetMaxIdleConns(postgres.DefaultConns)
	conns := make([]*sql.Conn, n)
	for i := range conns {
		c, err := f.s.DB().Conn(f.t.Context())
		if err != nil {
			f.t.Fatal(err)
		}
		if err := c.PingContext(f.t.Context()); err != nil {
			f.t.Fatal(err)
		}
		conns[i] = c
	}
	for _, c := range conns {
		c.Close()
	}
}

func account(id string) store.Account {
	now := time.Now().UTC()
	return store.Account{ID: id, WorkspaceID: "wsp_1", OwnerID: "usr_1", App: "slack", Nickname: "Work",
		Status: store.StatusHealthy, Credentials: []byte("sealed"), CreatedAt: now, UpdatedAt: now}
}

// Every pooled connection's session is ended, as a restart of PostgreSQL
// ends them; the next call of each kind succeeds, and the caller sees no
// error.
func TestRideThroughEndedSessions(t *testing.T) {
	ctx := t.Context()
	f := newRide(t)
	if err := f.s.CreateAccount(ctx, account("acc_1")); err != nil {
		t.Fatal(err)
	}
	calls := []struct {
		name string
		call func() error
	}{
		{"GetAccount (prepared read)", func() error {
			a, err := f.s.GetAccount(ctx, "wsp_1", "acc_1")
			if err == nil && a.ID != "acc_1" {
				err = fmt.Errorf("read back %q", a.ID)
			}
			return err
		}},
		{"ListAccounts (rows)", func() error {
			list, err := f.s.ListAccounts(ctx, store.AccountFilter{WorkspaceID: "wsp_1"})
			if err == nil && len(list) == 0 {
				err = errors.New("no accounts listed")
			}
			return err
		}},
		{"UpdateAccount (transaction)", func() error {
			a, err := f.s.UpdateAccount(ctx, "wsp_1", "acc_1", func(a *store.Account) error {
				a.Nickname = "Renamed"
				return nil
			})
			if err == nil && a.Nickname != "Renamed" {
				err = fmt.Errorf("nickname %q", a.Nickname)
			}
			return err
		}},
		{"CreateAccount (insert in a transaction)", func() error { return f.s.CreateAccount(ctx, account("acc_2")) }},
		{"AppendAudits (batch)", func() error {
			return f.s.AppendAudits(ctx, []store.AuditEvent{
				{ID: "evt_1", WorkspaceID: "wsp_1", Action: "account.credentials_read", CreatedAt: time.Now()},
				{ID: "evt_2", WorkspaceID: "wsp_1", Action: "account.credentials_read", CreatedAt: time.Now()},
			})
		}},
		{"CreateAPIToken (single insert)", func() error {
			return f.s.CreateAPIToken(ctx, store.APIToken{ID: "tok_1", WorkspaceID: "wsp_1", UserID: "usr_1", Name: "t",
				Hash: []byte("h1"), CreatedAt: time.Now()})
		}},
		{"TouchAPIToken (idempotent update)", func() error {
			_, err := f.s.TouchAPIToken(ctx, "tok_1", time.Now(), time.Minute)
			return err
		}},
		{"TakeRefreshLease (conditional update)", func() error {
			ok, err := f.s.TakeRefreshLease(ctx, "wsp_1", "acc_1", "me", time.Now(), time.Now().Add(time.Minute))
			if err == nil && !ok {
				err = errors.New("the lease was not taken")
			}
			return err
		}},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			f.t = t
			f.warm(4)
			if n := f.terminate(); n < 4 {
				t.Fatalf("ended %d sessions of the pool, want at least 4", n)
			}
			if err := c.call(); err != nil {
				t.Fatalf("after the sessions ended: %v", err)
			}
		})
	}
	f.t = t
	// What the calls wrote is there, once.
	a, err := f.s.GetAccount(ctx, "wsp_1", "acc_1")
	if err != nil || a.Nickname != "Renamed" || a.RefreshLeaseHolder != "me" {
		t.Errorf("acc_1 = %q, lease %q, %v; want Renamed, leased by me", a.Nickname, a.RefreshLeaseHolder, err)
	}
	events, err := f.s.ListAudit(ctx, store.AuditFilter{WorkspaceID: "wsp_1", Limit: 10})
	if err != nil || len(events) != 2 {
		t.Errorf("audit events = %d, %v; want 2", len(events), err)
	}
}

// A session ended in the middle of a transaction (here while it waits for
// a row lock, the way a fast shutdown catches work in flight) loses
// nothing: the whole update runs again on a new connection, and the
// caller gets its result.
func TestRideThroughInTransaction(t *testing.T) {
	ctx := t.Context()
	f := newRide(t)
	if err := f.s.CreateAccount(ctx, account("acc_1")); err != nil {
		t.Fatal(err)
	}
	// Another session holds the row, so the update waits inside its
	// transaction.
	holder, err := pgx.Connect(ctx, f.url)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close(ctx)
	if _, err := holder.Exec(ctx, `SET application_name = 'lk_ride_holder'`); err != nil {
		t.Fatal(err)
	}
	lock, err := holder.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lock.Exec(ctx, `SELECT 1 FROM accounts WHERE id = 'acc_1' FOR UPDATE`); err != nil {
		t.Fatal(err)
	}

	var runs atomic.Int32
	done := make(chan error, 1)
	go func() {
		_, err := f.s.UpdateAccount(ctx, "wsp_1", "acc_1", func(a *store.Account) error {
			runs.Add(1)
			a.Nickname = "Renamed"
			return nil
		})
		done <- err
	}()
	f.until("the update waits for the row", func() bool { _, w := f.backends(); return w == 1 })
	if n := f.terminate(); n != 1 {
		t.Fatalf("ended %d sessions, want the one waiting", n)
	}
	// The update comes back on a new connection and waits again.
	f.until("the update waits for the row again", func() bool {
		select {
		case err := <-done:
			t.Fatalf("UpdateAccount returned %v while the row was still held", err)
		default:
		}
		_, w := f.backends()
		return w == 1
	})
	if err := lock.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("UpdateAccount = %v, want it to ride through", err)
	}
	if n := runs.Load(); n != 1 {
		// fn runs after the row is read; the first read never returned.
		t.Errorf("fn ran %d times, want 1", n)
	}
	a, err := f.s.GetAccount(ctx, "wsp_1", "acc_1")
	if err != nil || a.Nickname != "Renamed" {
		t.Errorf("after the update: %q, %v", a.Nickname, err)
	}
}

// A session that ends while its COMMIT runs leaves the caller not knowing
// whether the change was kept. The store asks the server: here the
// transaction was rolled back (the session ended in a trigger that runs
// at COMMIT), so the whole transaction runs again, and the account is
// there once.
func TestRideThroughLostCommit(t *testing.T) {
	ctx := t.Context()
	f := newRide(t)
	// Ends the session the first time an account is committed, from a
	// deferred trigger: after the last statement, inside the COMMIT. The
	// sequence counts outside the transaction, so the retry gets through.
	for _, stmt := range []string{
		`CREATE SEQUENCE lost_commit`,
		`CREATE FUNCTION lose_commit() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF nextval('lost_commit') = 1 THEN
				PERFORM pg_terminate_backend(pg_backend_pid());
				PERFORM pg_sleep(5);
			END IF;
			RETURN NULL;
		END $$`,
		`CREATE CONSTRAINT TRIGGER lose_commit AFTER INSERT ON accounts
		DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION lose_commit()`,
	} {
		if _, err := f.admin.Exec(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	if err := f.s.CreateAccount(ctx, account("acc_1")); err != nil {
		t.Fatalf("CreateAccount = %v, want it to ride through", err)
	}
	var tries int64
	if err := f.admin.QueryRow(ctx, `SELECT last_value FROM lost_commit`).Scan(&tries); err != nil || tries != 2 {
		t.Errorf("commits tried: %d, %v; want 2 (lost, then kept)", tries, err)
	}
	var n int
	if err := f.admin.QueryRow(ctx, `SELECT count(*) FROM accounts WHERE id = 'acc_1'`).Scan(&n); err != nil || n != 1 {
		t.Errorf("accounts acc_1: %d, %v; want 1", n, err)
	}
}
