package server

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/latchkeyhq/latchkey/internal/config"
	"github.com/latchkeyhq/latchkey/internal/loadtest/seed"
	"github.com/latchkeyhq/latchkey/internal/store"
)

// SeedAccounts stores n accounts (see seed.Accounts) in the
// configured store's first workspace, owned by the installation's
// operator, for measuring lists at scale. It works on the store directly,
// as `keys rotate` does: no audit events, no webhooks. now is when the
// first seeded account was made.
func SeedAccounts(ctx context.Context, cfg config.Config, log *slog.Logger, n int, now time.Time) (seed.Seed, error) {
	if err := cfg.Validate(); err != nil {
		return seed.Seed{}, err
	}
	st, ring, err := openKeyed(ctx, cfg, log)
	if err != nil {
		return seed.Seed{}, err
	}
	defer st.Close()
	ws, err := st.FirstWorkspace(ctx)
	if err != nil {
		return seed.Seed{}, fmt.Errorf("seed: no workspace yet (start the server once first): %w", err)
	}
	owner, err := st.GetMeta(ctx, store.MetaAdminUser)
	if err != nil {
		return seed.Seed{}, fmt.Errorf("seed: no operator yet (start the server once first): %w", err)
	}
	s := seed.Seed{WorkspaceID: ws.ID, OwnerID: string(owner), N: n, Start: now}
	step := max(n/10, 1)
	err = seed.Accounts(ctx, st, ring, s, func(done int) {
		if done%step < 5000 || done == n {
			log.Info("seeded", "accounts", done, "of", n)
		}
	})
	return s, err
}
