package server

import (
	"context"
	"fmt"

	"github.com/latchkeyhq/latchkey/internal/config"
	"github.com/latchkeyhq/latchkey/internal/store"
	"github.com/latchkeyhq/latchkey/internal/store/postgres"
	"github.com/latchkeyhq/latchkey/internal/store/sqlite"
)

// OpenStore opens the configured store and runs its migrations.
func OpenStore(ctx context.Context, cfg config.Config) (store.Store, error) {
	kind, loc, err := cfg.Database()
	if err != nil {
		return nil, err
	}
	switch kind {
	case "postgres":
		return postgres.OpenSized(ctx, loc, cfg.DatabaseConnections)
	default:
		return sqlite.Open(ctx, loc)
	}
}

// Migrate runs the configured store's migrations alone and returns the
// schema version it is at.
func Migrate(ctx context.Context, cfg config.Config) (string, int64, error) {
	kind, loc, err := cfg.Database()
	if err != nil {
		return "", 0, err
	}
	switch kind {
	case "postgres":
		db, err := postgres.OpenDB(ctx, loc)
		if err != nil {
			return kind, 0, err
		}
		defer db.Close()
		v, err := postgres.Migrate(ctx, db)
		return kind, v, err
	default:
		db, err := sqlite.OpenDB(ctx, loc)
		if err != nil {
			return kind, 0, fmt.Errorf("open %s: %w", loc, err)
		}
		defer db.Close()
		v, err := sqlite.Migrate(ctx, db)
		return kind, v, err
	}
}
