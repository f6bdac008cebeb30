package accounts

import (
	"context"
	"errors"
	"fmt"
	"github.com/latchkeyhq/latchkey/internal/identity"
	"strings"

	"github.com/latchkeyhq/latchkey/internal/catalog"
	"github.com/latchkeyhq/latchkey/internal/ids"
	"github.com/latchkeyhq/latchkey/internal/oauth"
	"github.com/latchkeyhq/latchkey/internal/secret"
	"github.com/latchkeyhq/latchkey/internal/store"
)

// ScopeClientsWrite lets a token manage OAuth clients.
const ScopeClientsWrite = identity.ScopeClientsWrite

// ErrNoClient means no OAuth client is set for the app.
var ErrNoClient = errors.New("no OAuth client is set for this app")

// errManaged refuses a workspace owner's change of a managed client.
var errManaged = fmt.Errorf("%w: the managed OAuth client serves every workspace and is the operator's: it is set in the config file (oauth_clients) or with the admin token; a workspace owner sets this workspace's own client instead", ErrForbidden)

// isOperator reports whether the actor runs this installation: the config
// file (an Operator actor) or the admin token's principal from first start.
func (s *Service) isOperator(ctx context.Context, actor Actor) bool {
	if actor.Operator {
		return true
	}
	id, err := s.store.GetMeta(ctx, store.MetaAdminUser)
	return err == nil && actor.UserID != "" && string(id) == actor.UserID
}

// ClientInput sets an OAuth client.
type ClientInput struct {
	App      string
	ClientID string
	Secret   secret.String
	// Managed sets the operator's client that serves every workspace;
	// only the operator may.
	Managed bool
}

// SetClient creates or replaces the workspace's (or the managed) OAuth
// client for an app. The secret is sealed and never shown again.
func (s *Service) SetClient(ctx context.Context, actor Actor, in ClientInput) (store.OAuthClient, error) {
	if err := actor.Require(ScopeClientsWrite); err != nil {
		return store.OAuthClient{}, err
	}
	if !actor.IsOwner() {
		return store.OAuthClient{}, fmt.Errorf("%w: only workspace owners manage OAuth clients", ErrForbidden)
	}
	if in.Managed && !s.isOperator(ctx, actor) {
		return store.OAuthClient{}, errManaged
	}
	app, err := s.App(ctx, actor.WorkspaceID, in.App)
	if err != nil {
		return store.OAuthClient{}, err
	}
	if app.Auth != catalog.AuthOAuth2 {
		return store.OAuthClient{}, invalid("app", "%s does not use OAuth 2", app.Name)
	}
	in.ClientID = strings.TrimSpace(in.ClientID)
	if in.ClientID == "" || len(in.ClientID) > 500 || strings.ContainsAny(in.ClientID, "\r\n") {
		return store.OAuthClient{}, invalid("client_id", "must be one line of at most 500 characters")
	}
	if in.Secret.IsZero() || len(in.Secret.Reveal()) > 2000 {
		return store.OAuthClient{}, invalid("client_secret", "must be given, at most 2000 characters")
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
		c := store.OAuthClient{ID: ids.New("ocl", now), ClientID: in.ClientID, CreatedAt: now, UpdatedAt: now}
		if old != nil {
			c.ID, c.CreatedAt = old.ID, old.CreatedAt
		}
		var err error
		c.Secret, err = s.ring.Seal([]byte(in.Secret.Reveal()), []byte(c.ID))
		return c, err
	})
	if err != nil {
		return store.OAuthClient{}, fmt.Errorf("set oauth client: %w", err)
	}
	s.audit(ctx, actor, "", "oauth_client.set", map[string]string{"app": app.Slug, "client": out.ID, "managed": fmt.Sprint(in.Managed)})
	return out, nil
}

// Clients lists the OAuth clients the workspace uses: its own and the
// managed ones.
func (s *Service) Clients(ctx context.Context, actor Actor) ([]store.OAuthClient, error) {
	if err := actor.Require(identity.ScopeAccountsRead); err != nil {
		return nil, err
	}
	return s.store.ListOAuthClients(ctx, actor.WorkspaceID)
}

// Client returns one OAuth client of the workspace or a managed one.
func (s *Service) Client(ctx context.Context, actor Actor, id string) (store.OAuthClient, error) {
	if err := actor.Require(identity.ScopeAccountsRead); err != nil {
		return store.OAuthClient{}, err
	}
	return s.store.GetOAuthClient(ctx, actor.WorkspaceID, id)
}

// DeleteClient deletes a client. Accounts made with it can no longer
// refresh until reconnected with another.
func (s *Service) DeleteClient(ctx context.Context, actor Actor, id string) error {
	if err := actor.Require(ScopeClientsWrite); err != nil {
		return err
	}
	if !actor.IsOwner() {
		return fmt.Errorf("%w: only workspace owners manage OAuth clients", ErrForbidden)
	}
	c, err := s.store.GetOAuthClient(ctx, actor.WorkspaceID, id)
	if err != nil {
		return err
	}
	if c.WorkspaceID == "" && !s.isOperator(ctx, actor) {
		return errManaged
	}
	if err := s.store.DeleteOAuthClient(ctx, c.WorkspaceID, id); err != nil {
		return err
	}
	s.audit(ctx, actor, "", "oauth_client.deleted", map[string]string{"app": c.App, "client": id})
	return nil
}

// flow builds the OAuth flow for an app with a stored client.
func (s *Service) flow(app *catalog.App, c store.OAuthClient, fields map[string]string) (*oauth.Flow, error) {
	sec, err := s.ring.Open(c.Secret, []byte(c.ID))
	if err != nil {
		return nil, fmt.Errorf("oauth client %s: %w", c.ID, err)
	}
	return &oauth.Flow{
		App:         app,
		Client:      oauth.Client{ID: c.ClientID, Secret: secret.New(string(sec))},
		RedirectURI: s.redirectURI,
		Fields:      fields,
		HTTP:        s.client,
		Now:         s.clock.Now,
	}, nil
}
