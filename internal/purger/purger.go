// Package purger deletes expired browser sessions, OAuth connections,
// connect tokens and their webhook endpoints, MCP clients' tokens, MCP
// clients no grant names, and old webhook deliveries in the background, so that no table of them
// grows without bound. Several
// replicas may run it at once: a DELETE of what is already gone is
// harmless.
package purger

import (
	"context"
	"log/slog"
	"time"

	"github.com/jonboulle/clockwork"
)

// Store deletes expired rows; store.Store is one.
type Store interface {
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error)
	DeleteExpiredConnections(ctx context.Context, before time.Time) (int, error)
	DeleteExpiredConnectTokens(ctx context.Context, before time.Time) (int, error)
	DeleteExpiredWebhookEndpoints(ctx context.Context, before time.Time) (int, error)
	DeleteOldWebhookRows(ctx context.Context, before time.Time) (int, error)
	DeleteExpiredMCPTokens(ctx context.Context, before time.Time) (int, error)
	DeleteUnusedMCPClients(ctx context.Context, before time.Time) (int, error)
}

// Defaults.
const (
	DefaultInterval = 10 * time.Minute
	// DefaultConnectionGrace keeps an expired connection this long. A
	// callback that claimed it just before it expired may still be
	// exchanging the code, and a client polling the connection should
	// still read how it ended.
	DefaultConnectionGrace = time.Hour
	// DefaultWebhookRetention keeps webhook events, deliveries and their
	// attempts this long; a delivery still pending stays however old.
	DefaultWebhookRetention = 30 * 24 * time.Hour
	// DefaultMCPClientRetention keeps a registered MCP client that no
	// grant names this long. A client registers just before it sends its
	// member to consent, so one unused for days was abandoned; and a
	// grant lives as long as its refresh token, 30 days, so a client
	// whose last grant lapsed needs a new consent anyway, for which it
	// registers again (a client told invalid_client does).
	DefaultMCPClientRetention = 30 * 24 * time.Hour
)

// Purger deletes expired rows every Interval.
type Purger struct {
	Store Store
	Clock clockwork.Clock
	Log   *slog.Logger
	// Interval is the time between passes; zero means DefaultInterval.
	Interval time.Duration
	// ConnectionGrace is how long past its expiry a connection is kept;
	// zero means DefaultConnectionGrace.
	ConnectionGrace time.Duration
	// WebhookRetention is how long webhook deliveries and attempts are
	// kept; zero means DefaultWebhookRetention.
	WebhookRetention time.Duration
}

// Run purges at once and then every Interval, until ctx is done.
func (p *Purger) Run(ctx context.Context) {
	interval := p.Interval
	if interval <= 0 {
		interval = DefaultInterval
	}
	for {
		p.Pass(ctx)
		select {
		case <-ctx.Done():
			return
		case <-p.Clock.After(interval):
		}
	}
}

// Pass deletes what has expired by now. A failure is logged, and the next
// pass tries again.
func (p *Purger) Pass(ctx context.Context) {
	grace := p.ConnectionGrace
	if grace <= 0 {
		grace = DefaultConnectionGrace
	}
	now := p.Clock.Now()
	sessions, err := p.Store.DeleteExpiredSessions(ctx, now)
	if err != nil && ctx.Err() == nil {
		p.Log.ErrorContext(ctx, "purging expired sessions", "err", err)
	}
	connections, err := p.Store.DeleteExpiredConnections(ctx, now.Add(-grace))
	if err != nil && ctx.Err() == nil {
		p.Log.ErrorContext(ctx, "purging expired connections", "err", err)
	}
	// A connect token is kept as long as a connection, so a product's
	// backend can still be told why it no longer works.
	tokens, err := p.Store.DeleteExpiredConnectTokens(ctx, now.Add(-grace))
	if err != nil && ctx.Err() == nil {
		p.Log.ErrorContext(ctx, "purging expired connect tokens", "err", err)
	}
	// A connect token's own webhook endpoint carries its purge time,
	// past the retry window of the token's last events.
	endpoints, err := p.Store.DeleteExpiredWebhookEndpoints(ctx, now)
	if err != nil && ctx.Err() == nil {
		p.Log.ErrorContext(ctx, "purging connect tokens' webhook endpoints", "err", err)
	}
	retention := p.WebhookRetention
	if retention <= 0 {
		retention = DefaultWebhookRetention
	}
	hooks, err := p.Store.DeleteOldWebhookRows(ctx, now.Add(-retention))
	if err != nil && ctx.Err() == nil {
		p.Log.ErrorContext(ctx, "purging old webhook deliveries", "err", err)
	}
	// MCP clients' codes and tokens, and the grants with none left; a
	// grace, so that a grant just consented to is not taken for spent
	// before its code is stored.
	mcp, err := p.Store.DeleteExpiredMCPTokens(ctx, now.Add(-grace))
	if err != nil && ctx.Err() == nil {
		p.Log.ErrorContext(ctx, "purging expired MCP tokens", "err", err)
	}
	// After the grants, so a client whose last grant just went is seen.
	clients, err := p.Store.DeleteUnusedMCPClients(ctx, now.Add(-DefaultMCPClientRetention))
	if err != nil && ctx.Err() == nil {
		p.Log.ErrorContext(ctx, "purging unused MCP clients", "err", err)
	}
	if sessions > 0 || connections > 0 || tokens > 0 || endpoints > 0 || hooks > 0 || mcp > 0 || clients > 0 {
		p.Log.InfoContext(ctx, "purged expired rows", "sessions", sessions, "connections", connections, "connect_tokens", tokens,
			"webhook_endpoints", endpoints, "webhook_rows", hooks, "mcp_rows", mcp, "mcp_clients", clients)
	}
}
