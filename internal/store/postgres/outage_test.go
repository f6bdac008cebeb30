package postgres_test

import (
	"io"
	"net"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/latchkeyhq/latchkey/internal/store"
	"github.com/latchkeyhq/latchkey/internal/store/postgres"
	"github.com/latchkeyhq/latchkey/internal/store/postgres/pgtest"
)

// relay is a loopback TCP relay in front of PostgreSQL that plays a server
// restart without touching the server other tests share: stop ends every
// session through it and refuses new ones (accepted and closed before the
// startup answer, as a server going down does) until start.
type relay struct {
	ln      net.Listener
	target  string
	mu      sync.Mutex
	down    bool
	conns   map[net.Conn]bool
	refused atomic.Int32
}

func newRelay(t *testing.T, target string) *relay {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &relay{ln: ln, target: target, conns: map[net.Conn]bool{}}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go r.serve(c)
		}
	}()
	t.Cleanup(func() { ln.Close(); r.stop() })
	return r
}

func (r *relay) serve(c net.Conn) {
	r.mu.Lock()
	if r.down {
		r.mu.Unlock()
		r.refused.Add(1)
		c.Close()
		return
	}
	s, err := net.Dial("tcp", r.target)
	if err != nil {
		r.mu.Unlock()
		c.Close()
		return
	}
	r.conns[c], r.conns[s] = true, true
	r.mu.Unlock()
	go func() { io.Copy(s, c); s.Close() }()
	io.Copy(c, s)
	c.Close()
}

func (r *relay) stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.down = true
	for c := range r.conns {
		c.Close()
	}
	clear(r.conns)
}

func (r *relay) start() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.down = false
}

// PostgreSQL goes away for a while: every session ends and new ones are
// refused. Calls made meanwhile (a read, an update, an audit batch) wait
// and succeed once it is back; none returns an error to its caller.
func TestRideThroughRestart(t *testing.T) {
	ctx := t.Context()
	direct := pgtest.URL(t)
	cfg, err := pgconn.ParseConfig(direct)
	if err != nil {
		t.Fatal(err)
	}
	r := newRelay(t, net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))))
	u, err := url.Parse(direct)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = r.ln.Addr().String()
	s, err := postgres.Open(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.CreateWorkspace(ctx, store.Workspace{ID: "wsp_1", Name: "Acme", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateAccount(ctx, account("acc_1")); err != nil {
		t.Fatal(err)
	}

	r.stop()
	calls := map[string]func() error{
		"GetAccount": func() error { _, err := s.GetAccount(ctx, "wsp_1", "acc_1"); return err },
		"UpdateAccount": func() error {
			_, err := s.UpdateAccount(ctx, "wsp_1", "acc_1", func(a *store.Account) error { a.Nickname = "Renamed"; return nil })
			return err
		},
		"AppendAudits": func() error {
			return s.AppendAudits(ctx, []store.AuditEvent{{ID: "evt_1", WorkspaceID: "wsp_1", Action: "x", CreatedAt: time.Now()}})
		},
	}
	type result struct {
		name string
		err  error
	}
	results := make(chan result, len(calls))
	for name, call := range calls {
		go func() { results <- result{name, call()} }()
	}
	// Each call is refused again and again while the server is away.
	for r.refused.Load() < 5*int32(len(calls)) {
		select {
		case res := <-results:
			t.Fatalf("%s returned (%v) while the database was away", res.name, res.err)
		case <-ctx.Done():
			t.Fatal("the calls did not try to connect")
		case <-time.After(5 * time.Millisecond):
		}
	}
	r.start()
	for range calls {
		if res := <-results; res.err != nil {
			t.Errorf("%s = %v, want it to ride through", res.name, res.err)
		}
	}
	a, err := s.GetAccount(ctx, "wsp_1", "acc_1")
	if err != nil || a.Nickname != "Renamed" {
		t.Errorf("after the restart: %q, %v; want Renamed", a.Nickname, err)
	}
	if events, err := s.ListAudit(ctx, store.AuditFilter{WorkspaceID: "wsp_1"}); err != nil || len(events) != 1 {
		t.Errorf("audit events: %d, %v; want 1", len(events), err)
	}
}
