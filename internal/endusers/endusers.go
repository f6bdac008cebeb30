// Package endusers serves a product's own users: the connect tokens its
// backend mints so that one of them can connect an account, and the end
// users themselves, seen and deleted with all their accounts.
//
// An end user has no record of its own, no password and no session: it
// is the external_user_id its accounts carry.
package endusers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/latchkeyhq/latchkey/internal/accounts"
	"github.com/latchkeyhq/latchkey/internal/audit"
	"github.com/latchkeyhq/latchkey/internal/catalog"
	"github.com/latchkeyhq/latchkey/internal/connecting"
	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/secret"
	"github.com/latchkeyhq/latchkey/internal/store"
	"github.com/latchkeyhq/latchkey/internal/webhooks"
)

// Errors of a connect token that cannot be used. Each matches
// ErrInvalidToken, so a surface may answer them all alike.
var (
	ErrInvalidToken = errors.New("the connect token is not valid")
	ErrTokenUsed    = fmt.Errorf("%w: it was used already", ErrInvalidToken)
	ErrTokenExpired = fmt.Errorf("%w: it expired", ErrInvalidToken)
)

// ErrNoEndUser: the workspace has no account of that end user the caller
// may see. It matches store.ErrNotFound.
var ErrNoEndUser = fmt.Errorf("no such end user: %w", store.ErrNotFound)

// DefaultTokenTTL is how long a connect token lasts unless configured.
const DefaultTokenTTL = 4 * time.Hour

// LinkPath is where the hosted connect page is, under the public URL; the
// token is its query's "token".
const LinkPath = "/connect/link"

// TokenPrefix starts every connect token, so a leaked one is recognised.
const TokenPrefix = "lkc_"

// Audit actions.
const (
	ActionTokenMinted    = "connect_token.minted"
	ActionEndUserDeleted = "end_user.deleted"
)

// idPrefix is the prefix of connect tokens' ids.
const idPrefix = "ctk"

// Store is what the service needs of the store.
type Store interface {
	store.ConnectTokens
	// AppendWebhookEvents writes the connect.failed events.
	AppendWebhookEvents(ctx context.Context, events []store.WebhookEvent) error
}

// Accounts is what the service needs of the accounts service.
type Accounts interface {
	List(ctx context.Context, actor identity.Actor, in accounts.ListInput) ([]accounts.Account, bool, error)
	Delete(ctx context.Context, actor identity.Actor, id string, revoke bool) (outcome, detail string, err error)
	Create(ctx context.Context, actor identity.Actor, in accounts.CreateInput) (accounts.Account, error)
	Get(ctx context.Context, actor identity.Actor, id string) (accounts.Account, error)
	ReconnectKeys(ctx context.Context, actor identity.Actor, id string, in accounts.ReconnectKeysInput) (accounts.Account, error)
}

// Connecting starts the OAuth flows of the hosted page (package
// connecting).
type Connecting interface {
	Connect(ctx context.Context, actor identity.Actor, in connecting.ConnectInput) (connecting.Started, error)
}

// Webhooks adds a token's own endpoint, for its webhook_url (package
// webhooks).
type Webhooks interface {
	CheckURL(raw string) error
	CreateForToken(ctx context.Context, workspaceID, tokenID, rawURL string, tokenExpires time.Time) (webhooks.Endpoint, secret.String, error)
}

// Users finds a token's minter, as whom the hosted page connects.
type Users interface {
	User(ctx context.Context, workspaceID, id string) (identity.User, error)
}

// Apps finds the apps a token may offer.
type Apps interface {
	App(ctx context.Context, workspaceID, slug string) (*catalog.App, error)
}

// Options configure a Service.
type Options struct {
	Store    Store
	Accounts Accounts
	Apps     Apps
	// Users is needed by Connect only.
	Users Users
	// Connecting is needed by StartOAuth only.
	Connecting Connecting
	// Webhooks is needed by Mint with a webhook_url only.
	Webhooks Webhooks
	Audit    *audit.Log
	Clock    clockwork.Clock
	Log      *slog.Logger
	// PublicURL is where Latchkey is reached; connect links start with it.
	PublicURL string
	// TokenTTL is how long a connect token lasts; zero means
	// DefaultTokenTTL.
	TokenTTL time.Duration
}

// Service mints and uses connect tokens, and serves end users.
type Service struct {
	store     Store
	accounts  Accounts
	apps      Apps
	users     Users
	conns     Connecting
	hooks     Webhooks
	auditLog  *audit.Log
	clock     clockwork.Clock
	log       *slog.Logger
	publicURL string
	ttl       time.Duration
}

// New returns a Service.
func New(o Options) *Service {
	s := &Service{store: o.Store, accounts: o.Accounts, apps: o.Apps, users: o.Users, conns: o.Connecting, hooks: o.Webhooks, auditLog: o.Audit, clock: o.Clock, log: o.Log,
		publicURL: strings.TrimSuffix(o.PublicURL, "/"), ttl: o.TokenTTL}
	if s.clock == nil {
		s.clock = clockwork.NewRealClock()
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.ttl <= 0 {
		s.ttl = DefaultTokenTTL
	}
	return s
}

// EndUser is one of the product's users and the accounts they have.
type EndUser struct {
	ExternalUserID string
	Accounts       []accounts.Account
}

// maxAccounts bounds what one end user's view reads: pages of the
// accounts service's largest size, up to this many accounts.
const maxAccounts = 10 * accounts.MaxPage

func (s *Service) endUserAccounts(ctx context.Context, actor identity.Actor, externalUserID string) ([]accounts.Account, error) {
	if err := accounts.CheckExternalUserID(externalUserID); err != nil {
		return nil, err
	}
	var out []accounts.Account
	after := ""
	for len(out) < maxAccounts {
		page, more, err := s.accounts.List(ctx, actor, accounts.ListInput{ExternalUserID: externalUserID, After: after, Limit: accounts.MaxPage})
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if !more || len(page) == 0 {
			break
		}
		after = page[len(page)-1].ID
	}
	return out, nil
}

// Get returns the end user with their accounts the actor may see;
// ErrNoEndUser when there are none.
func (s *Service) Get(ctx context.Context, actor identity.Actor, externalUserID string) (EndUser, error) {
	list, err := s.endUserAccounts(ctx, actor, externalUserID)
	if err != nil {
		return EndUser{}, err
	}
	if len(list) == 0 {
		return EndUser{}, ErrNoEndUser
	}
	return EndUser{ExternalUserID: externalUserID, Accounts: list}, nil
}

// Deleted is one account deleting an end user removed, with how its
// revocation at the provider went.
type Deleted struct {
	AccountID        string
	App              string
	Revocation       string
	RevocationDetail string
}

// Delete deletes every account of the end user the actor may see, each
// through the accounts service (revoked at the provider where the app
// supports it, and audited), and returns what it deleted. An error stops
// it; what was deleted before stays deleted, and a retry deletes the
// rest.
func (s *Service) Delete(ctx context.Context, actor identity.Actor, externalUserID string) ([]Deleted, error) {
	if err := actor.Require(identity.ScopeAccountsWrite); err != nil {
		return nil, err
	}
	if !actor.CanChangeAccounts() {
		return nil, fmt.Errorf("%w: a %s cannot delete accounts", identity.ErrForbidden, actor.Role)
	}
	list, err := s.endUserAccounts(ctx, actor, externalUserID)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, ErrNoEndUser
	}
	out := make([]Deleted, 0, len(list))
	for _, a := range list {
		outcome, detail, err := s.accounts.Delete(ctx, actor, a.ID, true)
		if err != nil {
			return out, fmt.Errorf("delete end user %s: account %s: %w", externalUserID, a.ID, err)
		}
		out = append(out, Deleted{AccountID: a.ID, App: a.App, Revocation: outcome, RevocationDetail: detail})
	}
	s.audit(actor, ActionEndUserDeleted, map[string]string{"external_user_id": externalUserID, "accounts": fmt.Sprint(len(out))})
	s.log.InfoContext(ctx, "end user deleted", "workspace", actor.WorkspaceID, "accounts", len(out))
	return out, nil
}

func (s *Service) audit(actor identity.Actor, action string, detail map[string]string) {
	if s.auditLog != nil {
		s.auditLog.Record(actor, "", action, detail, s.clock.Now())
	}
}
