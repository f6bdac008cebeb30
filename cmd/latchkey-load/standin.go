package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
)

// standin is `latchkey-load standin`: a stand-in provider, in a process
// of its own, for measuring the proxy against a direct call (see
// scripts/bench-proxy). It answers every GET with a JSON body of -size
// bytes, to a request carrying "Authorization: Bearer <-key>", and 401
// to any other.
func standin(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("latchkey-load standin", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:0", "loopback host:port to listen on")
	key := fs.String("key", "", "the API key the stand-in accepts (required)")
	size := fs.Int("size", 512, "bytes of each answer's JSON body")
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
	return serveLoopback(ctx, "latchkey-load standin", *listen, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != want {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}), stdout, stderr)
}

// loopback reports whether host names the loopback interface.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
