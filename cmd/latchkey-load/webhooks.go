package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/latchkeyhq/latchkey/internal/loadtest"
)

// runWebhooks is `latchkey-load webhooks`: the latchkey binary given runs
// as a server process of its own (SQLite in a temporary folder); this
// process adds -endpoints endpoints, all pointing at its own receiver on
// loopback, connects -events key accounts through the API (each an
// account.connected event for every endpoint), and waits until every
// delivery has arrived and verified. It prints events per second (first
// change to last delivery) and the delay from each event's time to its
// arrival.
func runWebhooks(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("latchkey-load webhooks", flag.ContinueOnError)
	fs.SetOutput(stderr)
	bin := fs.String("latchkey", "", "the latchkey binary to run as the server (go build -o /tmp/latchkey ./cmd/latchkey)")
	events := fs.Int("events", 10000, "changes to make, each one event")
	endpoints := fs.Int("endpoints", 10, "endpoints that take every event")
	concurrency := fs.Int("concurrency", 8, "clients making the changes at once")
	timeout := fs.Duration("timeout", 15*time.Minute, "bound of the whole run")
	verbose := fs.Bool("v", false, "show the server's log (warn level) on stderr")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	switch {
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "latchkey-load webhooks: unexpected arguments %q\n", fs.Args())
		return 2
	case *bin == "":
		fmt.Fprintln(stderr, "latchkey-load webhooks: -latchkey names the binary to run, e.g. go build -o /tmp/latchkey ./cmd/latchkey")
		return 2
	case *events < 1 || *endpoints < 1 || *concurrency < 1 || *timeout <= 0:
		fmt.Fprintln(stderr, "latchkey-load webhooks: -events, -endpoints and -concurrency must be at least 1, -timeout positive")
		return 2
	}
	o := loadtest.FanOutOptions{Latchkey: *bin, Events: *events, Endpoints: *endpoints, Concurrency: *concurrency, Timeout: *timeout}
	if *verbose {
		o.ServerLog = stderr
	}
	res, err := loadtest.FanOut(ctx, o)
	if err != nil {
		fmt.Fprintf(stderr, "latchkey-load webhooks: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "webhook fan-out: %d events x %d endpoints on loopback, sqlite\n", res.Events, res.Endpoints)
	fmt.Fprintf(stdout, "changes made in   %v (%.0f events/s through the API)\n", res.Changes.Round(time.Millisecond), float64(res.Events)/res.Changes.Seconds())
	fmt.Fprintf(stdout, "all delivered in  %v from the first change\n", res.Elapsed.Round(time.Millisecond))
	fmt.Fprintf(stdout, "events/s          %.0f (each to every endpoint; %.0f deliveries/s)\n", res.EventsPerSecond(), float64(res.Deliveries)/res.Elapsed.Seconds())
	fmt.Fprintf(stdout, "delay p50         %v\n", res.Percentile(0.50).Round(time.Millisecond))
	fmt.Fprintf(stdout, "delay p99         %v\n", res.Percentile(0.99).Round(time.Millisecond))
	fmt.Fprintf(stdout, "delay max         %v\n", res.Percentile(1).Round(time.Millisecond))
	fmt.Fprintf(stdout, "deliveries        %d verified, %d duplicates, %d unverified\n", res.Deliveries, res.Duplicates, res.Unverified)
	return 0
}
