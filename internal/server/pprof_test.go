package server_test

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/latchkeyhq/latchkey/internal/server"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
)

// TestPprof: the profiler answers on pprof_listen only, never through the
// API's port, and is not served at all by default.
func TestPprof(t *testing.T) {
	get := func(url string) (int, string) {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	off := servertest.Start(t, servertest.Config(t, ""), server.Options{})
	if status, _ := get(off.URL + "/debug/pprof/"); status != http.StatusNotFound {
		t.Errorf("default server, /debug/pprof/ on the API's port: %d, want 404", status)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := servertest.Config(t, "")
	cfg.PprofListen = addr
	on := servertest.Start(t, cfg, server.Options{})
	// Start returns with the API's listener open; the profiler's opens
	// as Serve begins, in its own goroutine.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pprof_listen %s never opened: %v", addr, err)
		}
	}
	if status, body := get("http://" + addr + "/debug/pprof/"); status != http.StatusOK || !strings.Contains(body, "goroutine") {
		t.Errorf("pprof_listen: %d %.100q, want the profiles' index", status, body)
	}
	if status, _ := get(on.URL + "/debug/pprof/"); status != http.StatusNotFound {
		t.Errorf("with pprof_listen, /debug/pprof/ on the API's port: %d, want 404", status)
	}
}
