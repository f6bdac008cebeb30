// Command latchkey-load measures Latchkey's warm credential read over HTTP
// on loopback and, in the same run, a bare net/http handler that returns a
// JSON body of the same size, and prints both rates and their ratio.
//
//	go run ./cmd/latchkey-load [-backend sqlite|postgres] [-postgres-url URL]
//	    [-duration 5s] [-warmup 1s] [-concurrency 16] [-v]
//
//	go run ./cmd/latchkey-load webhooks -latchkey BIN [-events 10000] [-endpoints 10]
//
// measures webhook fan-out instead: see webhooks.go.
//
// It starts a Latchkey in-process (SQLite in a temporary folder, or a
// fresh schema on the PostgreSQL server at -postgres-url), connects one
// OAuth 2 account through an in-process authorization server, and reads
// that account's credentials (GET /v1/accounts/{id}/credentials, a valid
// access token, so no refresh) with -concurrency workers over keep-alive
// connections: -warmup uncounted, then -duration counted. Then it does the
// same against the bare handler. It cleans up after itself (temporary
// folder, schema) and exits 0 whatever the ratio: it reports, it does not
// judge.
//
//	go run ./cmd/latchkey-load standin -key KEY [-listen 127.0.0.1:PORT] [-size 512]
//
// runs a stand-in provider on loopback until interrupted, for measuring
// the proxy, account creation and the refresher from outside
// (scripts/bench-proxy, scripts/bench-create, scripts/bench-refresh).
//
//	go run ./cmd/latchkey-load bare [-listen 127.0.0.1:PORT] [-size 200]
//	go run ./cmd/latchkey-load connect -print-app
//	go run ./cmd/latchkey-load connect -server URL -token-file FILE -idp-listen 127.0.0.1:PORT
//
// run the bare handler in a process of its own, and connect an OAuth 2
// account to a running `latchkey serve`, for measuring the credential
// read from outside (scripts/bench-read).
//
//	go run ./cmd/latchkey-load seed -n N
//
// adds N accounts to the store the LATCHKEY_* environment configures, for
// measuring lists at scale (scripts/bench-list).
//
//	go run ./cmd/latchkey-load seed-oauth -app SLUG [-n 1000] [-workers 16]
//
// makes OAuth 2 accounts in the installation LATCHKEY_* describes, whose
// refresh tokens that stand-in knows (scripts/bench-refresh).
//
//	go run ./cmd/latchkey-load soak -urls URL,URL,... -token T -app SLUG -key KEY [-duration 10m]
//
// sends mixed traffic (credential reads, creates, renames) to replicas at
// their own loopback URLs for a bounded time and counts the answers
// (scripts/soak).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/latchkeyhq/latchkey/internal/loadtest"
)

// envPostgresURL is the PostgreSQL server the tests use, the default of
// -postgres-url.
const envPostgresURL = "LATCHKEY_TEST_POSTGRES_URL"

// target is the ratio the credential read should reach.
const target = 0.5

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// report is what one run measured.
type report struct {
	backend     string
	credentials loadtest.Result
	bare        loadtest.Result
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "standin":
			return standin(ctx, args[1:], stdout, stderr)
		case "bare":
			return bare(ctx, args[1:], stdout, stderr)
		case "connect":
			return connect(ctx, args[1:], stdout, stderr)
		case "webhooks":
			return runWebhooks(ctx, args[1:], stdout, stderr)
		case "seed":
			return seedAccounts(ctx, args[1:], stdout, stderr)
		case "seed-oauth":
			return seed(ctx, args[1:], os.Getenv, stdout, stderr)
		case "soak":
			return soak(ctx, args[1:], stdout, stderr)
		}
	}
	fs := flag.NewFlagSet("latchkey-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	backend := fs.String("backend", "sqlite", "store: sqlite or postgres")
	pgURL := fs.String("postgres-url", os.Getenv(envPostgresURL), "PostgreSQL server for -backend postgres (a fresh schema is made and dropped); default $"+envPostgresURL)
	duration := fs.Duration("duration", 5*time.Second, "measured time of each of the two runs")
	warmup := fs.Duration("warmup", time.Second, "uncounted time before each run")
	concurrency := fs.Int("concurrency", loadtest.DefaultConcurrency, "workers, each with its keep-alive connection")
	verbose := fs.Bool("v", false, "show the server's log (info level) on stderr")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	switch {
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "latchkey-load: unexpected arguments %q\n", fs.Args())
		return 2
	case *backend != "sqlite" && *backend != "postgres":
		fmt.Fprintf(stderr, "latchkey-load: -backend must be sqlite or postgres, not %q\n", *backend)
		return 2
	case *backend == "postgres" && *pgURL == "":
		fmt.Fprintln(stderr, "latchkey-load: -backend postgres needs -postgres-url (or $"+envPostgresURL+"), e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
		return 2
	case *duration <= 0 || *warmup < 0 || *concurrency < 1:
		fmt.Fprintln(stderr, "latchkey-load: -duration must be positive, -warmup not negative, -concurrency at least 1")
		return 2
	}

	logOut := io.Discard
	if *verbose {
		logOut = stderr
	}
	log := slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: slog.LevelInfo}))
	opts := loadtest.Options{Concurrency: *concurrency, Warmup: *warmup, Duration: *duration}

	rep, err := measure(ctx, *backend, *pgURL, *concurrency, opts, log, stdout)
	if err == nil && ctx.Err() != nil {
		err = errors.New("interrupted")
	}
	if err != nil {
		fmt.Fprintf(stderr, "latchkey-load: %v\n", err)
		return 1
	}
	rep.print(stdout)
	return 0
}

// measure starts a Latchkey, measures its credential read, stops it, and
// measures the bare handler.
func measure(ctx context.Context, backend, pgURL string, concurrency int, opts loadtest.Options, log *slog.Logger, stdout io.Writer) (rep report, err error) {
	rep.backend = backend
	databaseURL := ""
	if backend == "postgres" {
		var drop func() error
		if databaseURL, drop, err = loadtest.FreshSchema(ctx, pgURL); err != nil {
			return rep, err
		}
		// Dropped after the Latchkey on it stopped: deferred first.
		defer func() {
			if derr := drop(); derr != nil && err == nil {
				err = derr
			}
		}()
	}
	lk, err := loadtest.Start(ctx, databaseURL, log)
	if err != nil {
		return rep, err
	}
	defer lk.Stop()
	fmt.Fprintf(stdout, "latchkey-load: %s, %d workers, GOMAXPROCS %d, %s warm-up then %s each, body %d bytes\n",
		backend, concurrency, runtime.GOMAXPROCS(0), opts.Warmup, opts.Duration, len(lk.Body))

	client := loadtest.NewClient(concurrency)
	defer client.CloseIdleConnections()
	if rep.credentials, err = loadtest.Run(ctx, client, lk.Target(), opts); err != nil {
		return rep, fmt.Errorf("credential read: %w", err)
	}
	// Nothing of Latchkey's runs while the bare handler is measured.
	lk.Stop()
	client.CloseIdleConnections()

	bare := loadtest.NewBare(len(lk.Body))
	defer bare.Close()
	if rep.bare, err = loadtest.Run(ctx, client, bare.Target(), opts); err != nil {
		return rep, fmt.Errorf("bare handler: %w", err)
	}
	return rep, nil
}

func (r report) print(w io.Writer) {
	labels := []string{"credential read (" + r.backend + "):", "bare net/http handler:", "ratio:"}
	width := 0
	for _, l := range labels {
		width = max(width, len(l))
	}
	ratio := 0.0
	if r.bare.Rate() > 0 {
		ratio = r.credentials.Rate() / r.bare.Rate()
	}
	fmt.Fprintf(w, "%-*s %.0f req/s\n", width, labels[0], r.credentials.Rate())
	fmt.Fprintf(w, "%-*s %.0f req/s\n", width, labels[1], r.bare.Rate())
	fmt.Fprintf(w, "%-*s %.2f (target >= %.2f)\n", width, labels[2], ratio, target)
}
