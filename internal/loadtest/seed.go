package loadtest

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/latchkeyhq/latchkey/internal/accounts"
	"github.com/latchkeyhq/latchkey/internal/catalog"
	"github.com/latchkeyhq/latchkey/internal/clients"
	"github.com/latchkeyhq/latchkey/internal/config"
	"github.com/latchkeyhq/latchkey/internal/oauth"
	"github.com/latchkeyhq/latchkey/internal/secret"
	"github.com/latchkeyhq/latchkey/internal/server"
)

// Seed says what SeedOAuth makes.
type Seed struct {
	// App is the OAuth 2 app's slug, in cfg's catalog.
	App string
	// ClientID and ClientSecret are the managed client set for it.
	ClientID, ClientSecret string
	// N accounts are made, by Workers at a time.
	N, Workers int
	// Life is the seeded access tokens' lifetime.
	Life time.Duration
}

// SeedOAuth makes s.N OAuth 2 accounts of s.App in the installation cfg
// describes (its store, master key and admin token), through the accounts
// service as a finished connection does, so they are sealed and scheduled
// as real ones. Account i holds refresh token "rt.<i>.0", which the
// stand-in's token endpoint knows (latchkey-load standin). It returns how
// long that took.
func SeedOAuth(ctx context.Context, cfg config.Config, log *slog.Logger, s Seed) (time.Duration, error) {
	cat, err := catalog.LoadDir(cfg.CatalogDir)
	if err != nil {
		return 0, err
	}
	app, ok := cat.Get(s.App)
	if !ok || app.Auth != catalog.AuthOAuth2 {
		return 0, fmt.Errorf("seed: %q is not an OAuth 2 app of the catalog", s.App)
	}
	srv, err := server.New(ctx, cfg, log, server.Options{})
	if err != nil {
		return 0, err
	}
	defer srv.Close()
	token, err := os.ReadFile(cfg.AdminTokenFile())
	if err != nil {
		return 0, fmt.Errorf("seed: admin token: %w", err)
	}
	admin, err := srv.Identity().VerifyToken(ctx, strings.TrimSpace(string(token)))
	if err != nil {
		return 0, fmt.Errorf("seed: admin token: %w", err)
	}
	cl, err := srv.Clients().SetClient(ctx, admin, clients.ClientInput{App: s.App, ClientID: s.ClientID, Secret: secret.New(s.ClientSecret), Managed: true})
	if err != nil {
		return 0, fmt.Errorf("seed: OAuth client: %w", err)
	}
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, max(s.Workers, 1))
	for range max(s.Workers, 1) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= s.N || ctx.Err() != nil {
					return
				}
				n := strconv.Itoa(i)
				_, err := srv.Accounts().SaveGrant(ctx, accounts.Grant{
					WorkspaceID: admin.WorkspaceID, OwnerID: admin.UserID, App: app, Nickname: "seed " + n, OAuthClientID: cl.ID,
					Token: &oauth.Token{AccessToken: secret.New("at." + n + ".0"), RefreshToken: secret.New("rt." + n + ".0"), Expiry: time.Now().Add(s.Life)},
				})
				if err != nil {
					errs <- fmt.Errorf("seed account %d: %w", i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return 0, err
	}
	return time.Since(start), ctx.Err()
}
