// Package clients keeps the OAuth clients Latchkey uses with apps'
// authorization servers (the operator's managed ones and workspaces' own)
// and builds the oauth.Flow of an app from one.
package clients

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/latchkeyhq/latchkey/internal/audit"
	"github.com/latchkeyhq/latchkey/internal/catalog"
	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/ids"
	"github.com/latchkeyhq/latchkey/internal/oauth"
	"github.com/latchkeyhq/latchkey/internal/seal"
	"github.com/latchkeyhq/latchkey/internal/secret"
	"github.com/latchkeyhq/latchkey/internal/store"
	"github.com/latchkeyhq/latchkey/internal/validation"
)

// ErrNoClient means no OAuth client is set for the app.
var ErrNoClient = errors.New("no OAuth client is set for this app")

// ErrNotFound: no such client, or not one the workspace uses. It is the
// store's own value, so errors.Is matches either name.
var ErrNotFound = store.ErrNotFound

// Client is an OAuth client as callers see it: never its secret.
type Client struct {
	ID       string
	App      string
	ClientID string
	// RedirectName is the provider's name for the callback URL, for the
	// apps that send it (eBay's RuName).
	RedirectName string
	// Managed clients are the operator's and serve every workspace that
	// has none of its own for the app.
	Managed   bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

func viewOf(c store.OAuthClient) Client {
	return Client{ID: c.ID, App: c.App, ClientID: c.ClientID, RedirectName: c.RedirectName, Managed: c.WorkspaceID == "", CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

// errManaged refuses a workspace owner's change of a managed client.
var errManaged = fmt.Errorf("%w: the managed OAuth client serves every workspace and is the operator's: it is set in the config file (oauth_clients) or with the admin token; a workspace owner sets this workspace's own client instead", identity.ErrForbidden)

// Store is what the service needs of the store: the clients, and the
// workspaces whose clients a key rotation reseals.
type Store interface {
	store.OAuthClients
	ListWorkspaces(ctx context.Context) ([]store.Workspace, error)
}

// Operators tells whether an actor runs this installation (package
// identity).
type Operators interface {
	IsOperator(ctx context.Context, a identity.Actor) (bool, error)
}

// Apps looks apps up as the workspace sees them (package apps).
type Apps interface {
	App(ctx context.Context, workspaceID, slug string) (*catalog.App, error)
}

// Options configure a Service.
type Options struct {
	Store Store
	Apps  Apps
	// Operators decides who may change the managed clients; it is
	// required.
	Operators Operators
	Ring      *seal.Ring
	// HTTP makes the flows' requests to authorization servers.
	HTTP *http.Client
	// RedirectURI is the OAuth callback URL registered with providers.
	RedirectURI string
	// Audit takes the service's audit events; it is required.
	Audit *audit.Log
	Clock clockwork.Clock
	Log   *slog.Logger
}

// Service is the OAuth clients service.
type Service struct {
	store       Store
	apps        Apps
	operators   Operators
	ring        *seal.Ring
	http        *http.Client
	redirectURI string
	audit       *audit.Log
	clock       clockwork.Clock
	log         *slog.Logger
}

// New returns a Service.
func New(o Options) *Service {
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return &Service{store: o.Store, apps: o.Apps, operators: o.Operators, ring: o.Ring, http: o.HTTP, redirectURI: o.RedirectURI, audit: o.Audit, clock: o.Clock, log: o.Log}
}

// RedirectURI is the OAuth callback URL to register with providers.
func (s *Service) RedirectURI() string { return s.redirectURI }

// checkOperator refuses a change of a managed client by anyone but the
// operator.
func (s *Service) checkOperator(ctx context.Context, actor identity.Actor) error {
	ok, err := s.operators.IsOperator(ctx, actor)
	if err != nil {
		return err
	}
	if !ok {
		return errManaged
	}
	return nil
}

// ClientInput sets an OAuth client.
type ClientInput struct {
	App      string
	ClientID string
	Secret   secret.String
	// Managed sets the operator's client that serves every workspace;
	// only the operator may.
	Managed bool
	// RedirectName is the name the provider gave Latchkey's callback URL
	// for this client (eBay's RuName), for apps that send it as
	// redirect_uri; no other app takes one.
	RedirectName string
}

// SetClient creates or replaces the workspace's (or the managed) OAuth
// client for an app. The secret is sealed and never shown again.
func (s *Service) SetClient(ctx context.Context, actor identity.Actor, in ClientInput) (Client, error) {
	if err := actor.Require(identity.ScopeClientsWrite); err != nil {
		return Client{}, err
	}
	if !actor.CanManageWorkspace() {
		return Client{}, fmt.Errorf("%w: only workspace owners and admins manage OAuth clients", identity.ErrForbidden)
	}
	if in.Managed {
		if err := s.checkOperator(ctx, actor); err != nil {
			return Client{}, err
		}
	}
	app, err := s.apps.App(ctx, actor.WorkspaceID, in.App)
	if err != nil {
		return Client{}, err
	}
	if !app.UsesOAuth() {
		return Client{}, validation.Invalid("app", "%s does not use OAuth", app.Name)
	}
	in.ClientID = strings.TrimSpace(in.ClientID)
	if in.ClientID == "" || len(in.ClientID) > 500 || strings.ContainsAny(in.ClientID, "\r\n") {
		return Client{}, validation.Invalid("client_id", "must be one line of at most 500 characters")
	}
	if in.Secret.IsZero() || len(in.Secret.Reveal()) > 2000 {
		return Client{}, validation.Invalid("client_secret", "must be given, at most 2000 characters")
	}
	in.RedirectName = strings.TrimSpace(in.RedirectName)
	// Only an OAuth 2 app can name its callback (eBay's RuName).
	named := app.OAuth2 != nil && app.OAuth2.RedirectName
	switch {
	case named && in.RedirectName == "":
		return Client{}, validation.Invalid("redirect_name", "%s sends, as redirect_uri, the name it gave your app's callback URL (eBay: the RuName); give it", app.Name)
	case named && !catalog.SafeValue.MatchString(in.RedirectName):
		return Client{}, validation.Invalid("redirect_name", "must be letters, digits, '.', '_', '~' and '-', at most 128")
	case !named && in.RedirectName != "":
		return Client{}, validation.Invalid("redirect_name", "%s takes Latchkey's callback URL itself; give no redirect name", app.Name)
	}
	ws := actor.WorkspaceID
	if in.Managed {
		ws = ""
	}
	now := s.clock.Now().UTC()
	// An existing client keeps its id, which accounts refer to; the secret
	// is sealed with the id the row ends up with, under its lock, so that
	// concurrent calls cannot leave a secret bound to another id.
	out, err := s.store.UpdateOAuthClient(ctx, ws, app.Slug, func(old *store.OAuthClient) (store.OAuthClient, error) {
		c := store.OAuthClient{ID: ids.New("ocl", now), ClientID: in.ClientID, RedirectName: in.RedirectName, CreatedAt: now, UpdatedAt: now}
		if old != nil {
			c.ID, c.CreatedAt = old.ID, old.CreatedAt
		}
		var err error
		c.Secret, err = s.ring.Seal([]byte(in.Secret.Reveal()), []byte(c.ID))
		return c, err
	})
	if err != nil {
		return Client{}, fmt.Errorf("set oauth client: %w", err)
	}
	s.audit.Record(actor, "", "oauth_client.set", map[string]string{"app": app.Slug, "client": out.ID, "managed": fmt.Sprint(in.Managed)}, s.clock.Now())
	return viewOf(out), nil
}

// Clients lists the OAuth clients the workspace uses: its own and the
// managed ones.
func (s *Service) Clients(ctx context.Context, actor identity.Actor) ([]Client, error) {
	if err := actor.Require(identity.ScopeAccountsRead); err != nil {
		return nil, err
	}
	list, err := s.store.ListOAuthClients(ctx, actor.WorkspaceID)
	if err != nil {
		return nil, fmt.Errorf("list oauth clients: %w", err)
	}
	out := make([]Client, len(list))
	for i, c := range list {
		out[i] = viewOf(c)
	}
	return out, nil
}

// Client returns one OAuth client of the workspace or a managed one.
func (s *Service) Client(ctx context.Context, actor identity.Actor, id string) (Client, error) {
	if err := actor.Require(identity.ScopeAccountsRead); err != nil {
		return Client{}, err
	}
	c, err := s.store.GetOAuthClient(ctx, actor.WorkspaceID, id)
	if err != nil {
		return Client{}, err
	}
	return viewOf(c), nil
}

// DeleteClient deletes a client. Accounts made with it can no longer
// refresh until reconnected with another.
func (s *Service) DeleteClient(ctx context.Context, actor identity.Actor, id string) error {
	if err := actor.Require(identity.ScopeClientsWrite); err != nil {
		return err
	}
	if !actor.CanManageWorkspace() {
		return fmt.Errorf("%w: only workspace owners and admins manage OAuth clients", identity.ErrForbidden)
	}
	c, err := s.store.GetOAuthClient(ctx, actor.WorkspaceID, id)
	if err != nil {
		return err
	}
	if c.WorkspaceID == "" {
		if err := s.checkOperator(ctx, actor); err != nil {
			return err
		}
	}
	if err := s.store.DeleteOAuthClient(ctx, c.WorkspaceID, id); err != nil {
		return err
	}
	s.audit.Record(actor, "", "oauth_client.deleted", map[string]string{"app": c.App, "client": id}, s.clock.Now())
	return nil
}

// Find returns the client the workspace connects the app with: its own,
// else the managed one; ErrNoClient when there is neither.
func (s *Service) Find(ctx context.Context, workspaceID, app string) (store.OAuthClient, error) {
	c, err := s.store.FindOAuthClient(ctx, workspaceID, app)
	if errors.Is(err, store.ErrNotFound) {
		return store.OAuthClient{}, fmt.Errorf("%s: %w", app, ErrNoClient)
	}
	return c, err
}

// Flow builds the OAuth flow for an app with the workspace's client of
// that id (or a managed one).
func (s *Service) Flow(ctx context.Context, workspaceID, clientID string, app *catalog.App, fields map[string]string) (*oauth.Flow, error) {
	c, err := s.store.GetOAuthClient(ctx, workspaceID, clientID)
	if err != nil {
		return nil, err
	}
	return s.FlowWith(app, c, fields)
}

// FlowWith builds the OAuth flow for an app with a stored client.
func (s *Service) FlowWith(app *catalog.App, c store.OAuthClient, fields map[string]string) (*oauth.Flow, error) {
	sec, err := s.ring.Open(c.Secret, []byte(c.ID))
	if err != nil {
		return nil, fmt.Errorf("oauth client %s: %w", c.ID, err)
	}
	return &oauth.Flow{
		App:          app,
		Client:       oauth.Client{ID: c.ClientID, Secret: secret.New(string(sec))},
		RedirectURI:  s.redirectURI,
		RedirectName: c.RedirectName,
		Fields:       fields,
		HTTP:         s.http,
		Now:          s.clock.Now,
	}, nil
}

// Consumer returns the key and secret of the client of that id (the
// workspace's or a managed one): an OAuth 1.0a app's consumer, which signs
// every request its accounts make.
func (s *Service) Consumer(ctx context.Context, workspaceID, clientID string) (oauth.Client, error) {
	c, err := s.store.GetOAuthClient(ctx, workspaceID, clientID)
	if err != nil {
		return oauth.Client{}, err
	}
	sec, err := s.ring.Open(c.Secret, []byte(c.ID))
	if err != nil {
		return oauth.Client{}, fmt.Errorf("oauth client %s: %w", c.ID, err)
	}
	return oauth.Client{ID: c.ClientID, Secret: secret.New(string(sec))}, nil
}

// Flow1With builds an OAuth 1.0a app's flow with a stored client, its
// consumer.
func (s *Service) Flow1With(app *catalog.App, c store.OAuthClient, fields map[string]string) (*oauth.Flow1, error) {
	sec, err := s.ring.Open(c.Secret, []byte(c.ID))
	if err != nil {
		return nil, fmt.Errorf("oauth client %s: %w", c.ID, err)
	}
	return &oauth.Flow1{App: app, Consumer: oauth.Client{ID: c.ClientID, Secret: secret.New(string(sec))}, Fields: fields, HTTP: s.http}, nil
}

// Flow1 builds an OAuth 1.0a app's flow with the client of that id.
func (s *Service) Flow1(ctx context.Context, workspaceID, clientID string, app *catalog.App, fields map[string]string) (*oauth.Flow1, error) {
	c, err := s.store.GetOAuthClient(ctx, workspaceID, clientID)
	if err != nil {
		return nil, err
	}
	return s.Flow1With(app, c, fields)
}

// errSealed: the row is sealed by the primary key already.
var errSealed = errors.New("sealed by the primary key")

// Reseal seals again, under the primary key, every OAuth client's secret
// that an older key sealed, each under its row lock, and says how many.
// Rows keep their update time.
func (s *Service) Reseal(ctx context.Context) (int, error) {
	workspaces, err := s.store.ListWorkspaces(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	seen := map[string]bool{}
	for _, ws := range workspaces {
		clients, err := s.store.ListOAuthClients(ctx, ws.ID)
		if err != nil {
			return n, err
		}
		for _, c := range clients {
			if seen[c.ID] || !s.ring.NeedsReseal(c.Secret) {
				continue
			}
			seen[c.ID] = true
			_, err := s.store.UpdateOAuthClient(ctx, c.WorkspaceID, c.App, func(old *store.OAuthClient) (store.OAuthClient, error) {
				if old == nil || old.ID != c.ID || !s.ring.NeedsReseal(old.Secret) {
					return store.OAuthClient{}, errSealed
				}
				plain, err := s.ring.Open(old.Secret, []byte(old.ID))
				if err != nil {
					return store.OAuthClient{}, err
				}
				next := *old
				next.Secret, err = s.ring.Seal(plain, []byte(old.ID))
				return next, err
			})
			switch {
			case errors.Is(err, errSealed):
				continue
			case err != nil:
				return n, fmt.Errorf("oauth client %s: %w", c.ID, err)
			}
			n++
		}
	}
	return n, nil
}
