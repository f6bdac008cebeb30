package pgtest

import (
	"io"
	"net"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// Relay is a loopback TCP relay in front of the test server that plays a
// restart of PostgreSQL without touching the server other tests share:
// Stop ends every session through it and refuses new ones (accepted and
// closed before the startup answer, as a server going down does) until
// Start.
type Relay struct {
	ln      net.Listener
	target  string
	mu      sync.Mutex
	down    bool
	conns   map[net.Conn]bool
	refused atomic.Int32
}

// NewRelay starts a relay to the server of dbURL (a URL from URL) and
// returns it with the same URL through the relay. It closes when the test
// ends.
func NewRelay(t testing.TB, dbURL string) (*Relay, string) {
	t.Helper()
	cfg, err := pgconn.ParseConfig(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &Relay{ln: ln, target: net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))), conns: map[net.Conn]bool{}}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go r.serve(c)
		}
	}()
	t.Cleanup(func() { ln.Close(); r.Stop() })
	u.Host = ln.Addr().String()
	return r, u.String()
}

func (r *Relay) serve(c net.Conn) {
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

// Stop ends every session through the relay and refuses new ones.
func (r *Relay) Stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.down = true
	for c := range r.conns {
		c.Close()
	}
	clear(r.conns)
}

// Start lets connections through again.
func (r *Relay) Start() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.down = false
}

// Refused counts the connections refused while stopped.
func (r *Relay) Refused() int { return int(r.refused.Load()) }
