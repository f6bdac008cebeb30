package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/latchkeyhq/latchkey/internal/config"
	"github.com/latchkeyhq/latchkey/internal/loadtest"
)

// seed is `latchkey-load seed-oauth`: it makes -n OAuth 2 accounts of -app
// in the installation that LATCHKEY_* describes (as for latchkey serve:
// its database, master key, catalog folder and admin token), each holding
// a refresh token the stand-in's token endpoint knows. scripts/bench-refresh
// uses it.
func seed(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("latchkey-load seed-oauth", flag.ContinueOnError)
	fs.SetOutput(stderr)
	app := fs.String("app", "", "the OAuth 2 app's slug (required)")
	n := fs.Int("n", 1000, "accounts to make")
	workers := fs.Int("workers", 16, "accounts made at a time")
	clientID := fs.String("client-id", "bench-client", "the managed OAuth client's id to set for the app")
	clientSecret := fs.String("client-secret", "bench-secret", "that client's secret")
	life := fs.Duration("life", time.Hour, "the seeded access tokens' lifetime")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	switch {
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "latchkey-load seed-oauth: unexpected arguments %q\n", fs.Args())
		return 2
	case *app == "" || *n < 1 || *workers < 1 || *life <= 0:
		fmt.Fprintln(stderr, "latchkey-load seed-oauth: give -app, and -n, -workers and -life above 0")
		return 2
	}
	cfg, err := config.Load("", getenv)
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		fmt.Fprintf(stderr, "latchkey-load seed-oauth: %v\n", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	took, err := loadtest.SeedOAuth(ctx, cfg, log, loadtest.Seed{App: *app, ClientID: *clientID, ClientSecret: *clientSecret, N: *n, Workers: *workers, Life: *life})
	if err != nil {
		fmt.Fprintf(stderr, "latchkey-load seed-oauth: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "latchkey-load seed-oauth: %d accounts of %s in %.1f s (%.0f/s)\n", *n, *app, took.Seconds(), float64(*n)/took.Seconds())
	return 0
}
