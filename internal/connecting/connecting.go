// Package connecting runs the OAuth connect flows (OAuth 2, and OAuth
// 1.0a with its request token): it starts a connection
// (or a reconnection) bound to the browser session or a one-time code,
// limits how often a user starts one, takes the provider's answer at the
// callback, holds it until the browser proves it may finish, exchanges the
// code and hands the grant to package accounts to save.
package connecting

import (
	"context"
	"log/slog"

	"github.com/jonboulle/clockwork"
	"golang.org/x/time/rate"

	"github.com/latchkeyhq/latchkey/internal/accounts"
	"github.com/latchkeyhq/latchkey/internal/catalog"
	"github.com/latchkeyhq/latchkey/internal/clients"
	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/oauth"
	"github.com/latchkeyhq/latchkey/internal/ratelimit"
	"github.com/latchkeyhq/latchkey/internal/seal"
	"github.com/latchkeyhq/latchkey/internal/store"
)

// Store is what the service needs of the store: the connections.
type Store interface {
	store.Connections
}

// Accounts finds the account to reconnect and saves a grant as an account
// (package accounts).
type Accounts interface {
	ReconnectTarget(ctx context.Context, actor identity.Actor, id string) (store.Account, map[string]string, error)
	SaveGrant(ctx context.Context, g accounts.Grant) (store.Account, error)
}

// Apps looks apps up as the workspace sees them (package apps).
type Apps interface {
	App(ctx context.Context, workspaceID, slug string) (*catalog.App, error)
}

// Clients finds the OAuth client an app connects with and builds its flow
// (package clients).
type Clients interface {
	Find(ctx context.Context, workspaceID, app string) (store.OAuthClient, error)
	Flow(ctx context.Context, workspaceID, clientID string, app *catalog.App, fields map[string]string) (*oauth.Flow, error)
	FlowWith(app *catalog.App, c store.OAuthClient, fields map[string]string) (*oauth.Flow, error)
	// Flow1 and Flow1With are the same for OAuth 1.0a apps.
	Flow1(ctx context.Context, workspaceID, clientID string, app *catalog.App, fields map[string]string) (*oauth.Flow1, error)
	Flow1With(app *catalog.App, c store.OAuthClient, fields map[string]string) (*oauth.Flow1, error)
	// RedirectURI is Latchkey's callback URL.
	RedirectURI() string
}

// Users tells who started a connection (package identity).
type Users interface {
	User(ctx context.Context, workspaceID, id string) (identity.User, error)
}

// HostedToken is what a connection of the hosted connect page needs of
// its connect token: whose account it makes.
type HostedToken struct {
	ExternalUserID string
	Tags           map[string]string
}

// Tokens are the connect tokens hosted connections spend (package
// endusers). Open fails when the token is used or expired; Spend spends
// it, once, with a compare-and-swap; Failed reports a failed attempt
// (the connect.failed event), and only logs its own failure.
type Tokens interface {
	Open(ctx context.Context, workspaceID, id string) (HostedToken, error)
	Spend(ctx context.Context, workspaceID, id string) error
	Failed(ctx context.Context, workspaceID, id, app string, err error)
}

// Options configure a Service; every field but Clock, Log and Tokens is
// required.
type Options struct {
	Store    Store
	Accounts Accounts
	Apps     Apps
	Clients  Clients
	Users    Users
	// Ring seals what a connection keeps until its callback.
	Ring  *seal.Ring
	Clock clockwork.Clock
	Log   *slog.Logger
	// Tokens is needed by connections of the hosted connect page only.
	Tokens Tokens
}

// Service is the connecting service.
type Service struct {
	store    Store
	accounts Accounts
	apps     Apps
	clients  Clients
	users    Users
	tokens   Tokens
	ring     *seal.Ring
	clock    clockwork.Clock
	log      *slog.Logger
	// limit limits connection starts per user.
	limit *ratelimit.Limiter
}

// New returns a Service.
func New(o Options) *Service {
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return &Service{store: o.Store, accounts: o.Accounts, apps: o.Apps, clients: o.Clients, users: o.Users, tokens: o.Tokens, ring: o.Ring, clock: o.Clock, log: o.Log,
		limit: ratelimit.New(rate.Every(connectInterval), connectBurst, maxConnectKeys)}
}

// NoClientError means no OAuth client is set for the app, so it cannot
// be connected until a workspace owner (or the operator) sets one. Each
// surface names the way to set one in its own words.
type NoClientError struct {
	// App is the app's slug; AppName its display name.
	App, AppName string
}

func (e *NoClientError) Error() string { return e.AppName + ": " + clients.ErrNoClient.Error() }

// Unwrap lets errors.Is(err, clients.ErrNoClient) see it.
func (e *NoClientError) Unwrap() error { return clients.ErrNoClient }

// SetTokens gives the service the connect tokens of the hosted page,
// which is made after it (package endusers starts its flows here).
func (s *Service) SetTokens(t Tokens) { s.tokens = t }
