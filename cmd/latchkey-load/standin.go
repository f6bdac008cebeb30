package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
)

// standin is `latchkey-load standin`: a stand-in provider, in a process
// of its own, for measuring the proxy against a direct call (see
// scripts/bench-proxy), account creation (scripts/bench-create) and the
// background refresher (scripts/bench-refresh). To a request carrying
// "Authorization: Bearer <-key>" it answers GET /v1/me with a profile to
// label an account by, and every other GET with a JSON body of -size
// bytes; 401 to any other. POST /oauth/token answers refresh grants (see
// tokens) and GET /stats what that endpoint saw; GET /connections says
// how many connections the stand-in has accepted, {"connections": N}, to
// tell whether its callers keep theirs alive.
func standin(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("latchkey-load standin", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:0", "loopback host:port to listen on")
	key := fs.String("key", "", "the API key the stand-in accepts (required)")
	size := fs.Int("size", 512, "bytes of each answer's JSON body")
	clientID := fs.String("client-id", "bench-client", "the OAuth client id the token endpoint accepts")
	clientSecret := fs.String("client-secret", "bench-secret", "that client's secret")
	expiresIn := fs.Int("expires-in", 3600, "lifetime in seconds of the access tokens the token endpoint issues")
	delay := fs.Duration("token-delay", 0, "how long the token endpoint thinks before each answer")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	host, _, err := net.SplitHostPort(*listen)
	switch {
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "latchkey-load standin: unexpected arguments %q\n", fs.Args())
		return 2
	case *key == "":
		fmt.Fprintln(stderr, "latchkey-load standin: -key is required")
		return 2
	case err != nil || !loopback(host):
		fmt.Fprintf(stderr, "latchkey-load standin: -listen must be a loopback host:port, not %q\n", *listen)
		return 2
	case *size < 2:
		fmt.Fprintln(stderr, "latchkey-load standin: -size must be at least 2")
		return 2
	}
	body := []byte(`"` + strings.Repeat("x", *size-2) + `"`)
	want := "Bearer " + *key
	tok := newTokens(*clientID, *clientSecret, *expiresIn, *delay)
	mux := http.NewServeMux()
	mux.Handle("POST /oauth/token", tok)
	mux.HandleFunc("GET /stats", tok.serveStats)
	var conns atomic.Int64
	mux.HandleFunc("GET /connections", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, "{\"connections\": %d}\n", conns.Load())
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != want {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/v1/me" {
			_, _ = w.Write([]byte(`{"name":"Stand-in User"}`))
			return
		}
		_, _ = w.Write(body)
	})
	return serveLoopback(ctx, "latchkey-load standin", *listen, mux, &conns, stdout, stderr)
}

// loopback reports whether host names the loopback interface.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
