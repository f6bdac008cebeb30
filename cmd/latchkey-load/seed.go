package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/latchkeyhq/latchkey/internal/config"
	"github.com/latchkeyhq/latchkey/internal/server"
)

// seedAccounts is `latchkey-load seed -n N`: N accounts straight into the
// store that the LATCHKEY_* environment configures, as `latchkey serve`
// reads it, in its first workspace. Run `latchkey serve` once first (it
// makes the workspace and the operator), and stop it or not: SQLite
// takes the seed's transactions between the server's.
func seedAccounts(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("latchkey-load seed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("n", 1000, "accounts to add")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 || *n < 1 {
		fmt.Fprintln(stderr, "latchkey-load seed: give -n, at least 1, and nothing else")
		return 2
	}
	cfg, err := config.Load("", os.Getenv)
	if err != nil {
		fmt.Fprintf(stderr, "latchkey-load seed: %v\n", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	start := time.Now()
	s, err := server.SeedAccounts(ctx, cfg, log, *n, start.UTC())
	if err != nil {
		fmt.Fprintf(stderr, "latchkey-load seed: %v\n", err)
		return 1
	}
	took := time.Since(start)
	fmt.Fprintf(stdout, "seeded %d accounts in workspace %s in %s (%.0f/s)\n", s.N, s.WorkspaceID, took.Round(time.Millisecond), float64(s.N)/took.Seconds())
	return 0
}
