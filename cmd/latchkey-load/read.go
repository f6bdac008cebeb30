package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/latchkeyhq/latchkey/internal/loadtest"
)

// bare is `latchkey-load bare`: the bare net/http handler, in a process
// of its own, that the credential read is compared with from outside (see
// scripts/bench-read). It answers every request with the same JSON body
// of -size bytes.
func bare(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("latchkey-load bare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:0", "loopback host:port to listen on")
	size := fs.Int("size", 200, "bytes of each answer's JSON body (at least 12)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	host, _, err := net.SplitHostPort(*listen)
	switch {
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "latchkey-load bare: unexpected arguments %q\n", fs.Args())
		return 2
	case err != nil || !loopback(host):
		fmt.Fprintf(stderr, "latchkey-load bare: -listen must be a loopback host:port, not %q\n", *listen)
		return 2
	case *size < 12:
		fmt.Fprintln(stderr, "latchkey-load bare: -size must be at least 12")
		return 2
	}
	body := loadtest.JSONBody(*size)
	return serveLoopback(ctx, "latchkey-load bare", *listen, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}), nil, stdout, stderr)
}

// serveLoopback serves h on listen until ctx ends, saying where first.
// conns, when not nil, counts the connections it accepts.
func serveLoopback(ctx context.Context, name, listen string, h http.Handler, conns *atomic.Int64, stdout, stderr io.Writer) int {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: h}
	if conns != nil {
		srv.ConnState = func(_ net.Conn, st http.ConnState) {
			if st == http.StateNew {
				conns.Add(1)
			}
		}
	}
	fmt.Fprintf(stdout, "%s: listening on http://%s\n", name, ln.Addr())
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	return 0
}

// connect is `latchkey-load connect`: it connects one OAuth 2 account to
// a running Latchkey through an IdP it runs on -idp-listen while it
// connects, reads the account's credentials once, and prints the
// account's id and that answer's length, "acc_... 213". The access token
// is valid for an hour, so reads within it are the warm path. With
// -print-app it prints the IdP's catalog entry instead, for the server's
// catalog_dir (as loadidp.yaml; app_origins sends loadidp to the IdP).
func connect(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("latchkey-load connect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	server := fs.String("server", "", "the Latchkey's URL, on loopback")
	tokenFile := fs.String("token-file", "", "file holding the admin token (data_dir/admin.token)")
	idpListen := fs.String("idp-listen", "", "loopback host:port for the IdP, the origin app_origins gives loadidp")
	printApp := fs.Bool("print-app", false, "print the IdP's catalog entry and exit")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "latchkey-load connect: unexpected arguments %q\n", fs.Args())
		return 2
	}
	if *printApp {
		fmt.Fprint(stdout, loadtest.IdPApp)
		return 0
	}
	idpHost, _, err := net.SplitHostPort(*idpListen)
	switch {
	case err != nil || !loopback(idpHost):
		fmt.Fprintf(stderr, "latchkey-load connect: -idp-listen must be a loopback host:port, not %q\n", *idpListen)
		return 2
	case !loopbackURL(*server):
		fmt.Fprintf(stderr, "latchkey-load connect: -server must be an http URL on loopback, not %q\n", *server)
		return 2
	case *tokenFile == "":
		fmt.Fprintln(stderr, "latchkey-load connect: -token-file is required")
		return 2
	}
	token, err := os.ReadFile(*tokenFile)
	if err != nil {
		fmt.Fprintf(stderr, "latchkey-load connect: %v\n", err)
		return 1
	}
	idp, err := loadtest.NewIdPAt(*idpListen)
	if err != nil {
		fmt.Fprintf(stderr, "latchkey-load connect: IdP: %v\n", err)
		return 1
	}
	defer idp.Close()
	id, body, err := loadtest.Connect(ctx, strings.TrimRight(*server, "/"), strings.TrimSpace(string(token)), idp)
	if err != nil {
		fmt.Fprintf(stderr, "latchkey-load connect: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s %d\n", id, len(body))
	return 0
}

// loopbackURL reports whether u is an http URL whose host is loopback.
func loopbackURL(u string) bool {
	rest, ok := strings.CutPrefix(u, "http://")
	if !ok {
		return false
	}
	hostport, _, _ := strings.Cut(rest, "/")
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	return loopback(strings.Trim(host, "[]"))
}
