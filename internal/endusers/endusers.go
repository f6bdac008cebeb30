// Package endusers serves a product's own users: the connect tokens its
// backend mints so that one of them can connect an account, and the end
// users themselves, seen and deleted with all their accounts.
//
// An end user has no record of its own, no password and no session: it
// is the external_user_id its accounts carry.
package endusers

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/latchkeyhq/latchkey/internal/accounts"
	"github.com/latchkeyhq/latchkey/internal/audit"
	"github.com/latchkeyhq/latchkey/internal/catalog"
	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/ids"
	"github.com/latchkeyhq/latchkey/internal/secret"
	"github.com/latchkeyhq/latchkey/internal/store"
	"github.com/latchkeyhq/latchkey/internal/validation"
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
}

// Accounts is what the service needs of the accounts service.
type Accounts interface {
	List(ctx context.Context, actor identity.Actor, in accounts.ListInput) ([]accounts.Account, bool, error)
	Delete(ctx context.Context, actor identity.Actor, id string, revoke bool) (outcome, detail string, err error)
	Create(ctx context.Context, actor identity.Actor, in accounts.CreateInput) (accounts.Account, error)
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
	Audit *audit.Log
	Clock clockwork.Clock
	Log   *slog.Logger
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
	auditLog  *audit.Log
	clock     clockwork.Clock
	log       *slog.Logger
	publicURL string
	ttl       time.Duration
}

// New returns a Service.
func New(o Options) *Service {
	s := &Service{store: o.Store, accounts: o.Accounts, apps: o.Apps, users: o.Users, auditLog: o.Audit, clock: o.Clock, log: o.Log,
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

// ConnectToken is a connect token as callers see it; never its secret.
type ConnectToken struct {
	ID                 string
	WorkspaceID        string
	ExternalUserID     string
	Apps               []string
	Tags               map[string]string
	SuccessRedirectURI string
	ErrorRedirectURI   string
	AllowedOrigins     []string
	WebhookURL         string
	CreatedBy          string
	CreatedAt          time.Time
	ExpiresAt          time.Time
	UsedAt             *time.Time
}

func viewOf(t store.ConnectToken) ConnectToken {
	return ConnectToken{ID: t.ID, WorkspaceID: t.WorkspaceID, ExternalUserID: t.ExternalUserID, Apps: t.Apps, Tags: t.Tags,
		SuccessRedirectURI: t.SuccessRedirectURI, ErrorRedirectURI: t.ErrorRedirectURI, AllowedOrigins: t.AllowedOrigins,
		WebhookURL: t.WebhookURL, CreatedBy: t.CreatedBy, CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt, UsedAt: t.UsedAt}
}

// MintInput is what a product's backend asks a connect token for.
type MintInput struct {
	ExternalUserID     string
	Apps               []string
	Tags               map[string]string
	SuccessRedirectURI string
	ErrorRedirectURI   string
	AllowedOrigins     []string
	WebhookURL         string
}

// Minted is a new connect token: its secret and the link that carries
// it, shown once, and the token.
type Minted struct {
	Token ConnectToken
	// Secret is the token itself.
	Secret secret.String
	// LinkURL is the hosted connect page for the token. It holds the
	// secret, and is as secret.
	LinkURL secret.String
}

func invalid(field, format string, args ...any) error {
	return validation.Invalid(field, format, args...)
}

// Mint makes a single-use connect token for one end user. Only an API
// token with the connect:write scope may, of an owner or an admin; bad
// input is a *validation.Error and stores nothing.
func (s *Service) Mint(ctx context.Context, actor identity.Actor, in MintInput) (Minted, error) {
	if actor.Scopes == nil {
		return Minted{}, fmt.Errorf("%w: connect tokens are minted with an API token that has the %s scope", identity.ErrForbidden, identity.ScopeConnectWrite)
	}
	if err := actor.Require(identity.ScopeConnectWrite); err != nil {
		return Minted{}, err
	}
	if !actor.Role.Grants(identity.ScopeConnectWrite) {
		return Minted{}, fmt.Errorf("%w: a %s cannot mint connect tokens", identity.ErrForbidden, actor.Role)
	}
	if err := accounts.CheckExternalUserID(in.ExternalUserID); err != nil {
		return Minted{}, err
	}
	if err := accounts.CheckTags(in.Tags); err != nil {
		return Minted{}, err
	}
	var appList []string
	for _, slug := range in.Apps {
		if slices.Contains(appList, slug) {
			continue
		}
		app, err := s.apps.App(ctx, actor.WorkspaceID, slug)
		if errors.Is(err, accounts.ErrUnknownApp) {
			return Minted{}, invalid("apps", "there is no app %q", slug)
		}
		if err != nil {
			return Minted{}, fmt.Errorf("mint connect token: app %s: %w", slug, err)
		}
		if !actor.MayUseAccount("", app.Slug) {
			return Minted{}, fmt.Errorf("%w: this token is limited to chosen accounts or apps, and %q is not one of its apps", identity.ErrForbidden, app.Slug)
		}
		appList = append(appList, app.Slug)
	}
	if len(appList) == 0 && actor.Limited() {
		return Minted{}, invalid("apps", "a token limited to chosen apps must name the apps the end user may connect")
	}
	for field, u := range map[string]string{"success_redirect_uri": in.SuccessRedirectURI, "error_redirect_uri": in.ErrorRedirectURI, "webhook_url": in.WebhookURL} {
		if u == "" {
			continue
		}
		if err := checkURL(u); err != nil {
			return Minted{}, invalid(field, "%v", err)
		}
	}
	var origins []string
	for _, o := range in.AllowedOrigins {
		origin, err := checkOrigin(o)
		if err != nil {
			return Minted{}, invalid("allowed_origins", "%v", err)
		}
		if !slices.Contains(origins, origin) {
			origins = append(origins, origin)
		}
	}

	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return Minted{}, fmt.Errorf("mint connect token: %w", err)
	}
	tok := TokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	now := s.clock.Now().UTC()
	t := store.ConnectToken{
		ID: ids.New(idPrefix, now), WorkspaceID: actor.WorkspaceID, TokenHash: hash(tok), ExternalUserID: in.ExternalUserID,
		Apps: appList, SuccessRedirectURI: in.SuccessRedirectURI, ErrorRedirectURI: in.ErrorRedirectURI,
		AllowedOrigins: origins, WebhookURL: in.WebhookURL, CreatedBy: actor.UserID, CreatedAt: now, ExpiresAt: now.Add(s.ttl),
	}
	if len(in.Tags) > 0 {
		t.Tags = maps.Clone(in.Tags)
	}
	if err := s.store.CreateConnectToken(ctx, t); err != nil {
		return Minted{}, fmt.Errorf("mint connect token: %w", err)
	}
	s.audit(actor, ActionTokenMinted, map[string]string{"connect_token": t.ID, "external_user_id": t.ExternalUserID,
		"apps": strings.Join(appList, " "), "expires_at": t.ExpiresAt.Format(time.RFC3339)})
	link := s.publicURL + LinkPath + "?" + url.Values{"token": {tok}}.Encode()
	return Minted{Token: viewOf(t), Secret: secret.New(tok), LinkURL: secret.New(link)}, nil
}

func hash(tok string) []byte {
	h := sha256.Sum256([]byte(tok))
	return h[:]
}

// checkURL accepts an absolute https URL, or http to a loopback address
// (a developer's machine, and tests); never one with credentials in it.
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return errors.New("must be an absolute URL")
	}
	if u.User != nil {
		return errors.New("must not hold a user name or password")
	}
	if u.Fragment != "" {
		return errors.New("must not have a fragment")
	}
	return checkScheme(u)
}

func checkScheme(u *url.URL) error {
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if loopback(u.Hostname()) {
			return nil
		}
		return errors.New("must use https (http only to a loopback address)")
	default:
		return errors.New("must use https")
	}
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkOrigin accepts an origin, scheme://host[:port] with nothing after,
// and returns it in lower case as browsers send it.
func checkOrigin(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(raw, "?") {
		return "", fmt.Errorf("%q is not an origin (scheme://host[:port])", raw)
	}
	if err := checkScheme(u); err != nil {
		return "", fmt.Errorf("%q %v", raw, err)
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), nil
}

// Token returns one of the workspace's connect tokens, for a caller who
// may mint them.
func (s *Service) Token(ctx context.Context, actor identity.Actor, id string) (ConnectToken, error) {
	if err := actor.Require(identity.ScopeConnectWrite); err != nil {
		return ConnectToken{}, err
	}
	t, err := s.store.GetConnectToken(ctx, actor.WorkspaceID, id)
	if err != nil {
		return ConnectToken{}, fmt.Errorf("connect token %s: %w", id, err)
	}
	return viewOf(t), nil
}

// Lookup finds the open connect token tok is, without using it: what the
// hosted page shows. A used, expired or unknown token is ErrInvalidToken.
func (s *Service) Lookup(ctx context.Context, tok string) (ConnectToken, error) {
	t, err := s.store.ConnectTokenByHash(ctx, hash(tok))
	if errors.Is(err, store.ErrNotFound) {
		return ConnectToken{}, ErrInvalidToken
	}
	if err != nil {
		return ConnectToken{}, fmt.Errorf("look up connect token: %w", err)
	}
	if err := s.open(t); err != nil {
		return ConnectToken{}, err
	}
	return viewOf(t), nil
}

func (s *Service) open(t store.ConnectToken) error {
	if t.UsedAt != nil {
		return ErrTokenUsed
	}
	if !s.clock.Now().Before(t.ExpiresAt) {
		return ErrTokenExpired
	}
	return nil
}

// Use spends the connect token tok: once, whoever races for it. It
// returns the token as it was minted, now used.
func (s *Service) Use(ctx context.Context, tok string) (ConnectToken, error) {
	t, err := s.store.ConnectTokenByHash(ctx, hash(tok))
	if errors.Is(err, store.ErrNotFound) {
		return ConnectToken{}, ErrInvalidToken
	}
	if err != nil {
		return ConnectToken{}, fmt.Errorf("use connect token: %w", err)
	}
	t, err = s.store.UpdateConnectToken(ctx, t.WorkspaceID, t.ID, func(old store.ConnectToken) (store.ConnectToken, error) {
		if err := s.open(old); err != nil {
			return old, err
		}
		now := s.clock.Now().UTC()
		old.UsedAt = &now
		return old, nil
	})
	if err != nil {
		return ConnectToken{}, fmt.Errorf("use connect token: %w", err)
	}
	return viewOf(t), nil
}

// ErrAppNotOffered: the connect token does not offer that app.
var ErrAppNotOffered = errors.New("this connect link does not offer that app")

// Offers reports whether the token lets its end user connect the app:
// one of its apps, or any when it names none.
func (t ConnectToken) Offers(slug string) bool {
	return len(t.Apps) == 0 || slices.Contains(t.Apps, slug)
}

// ConnectInput is what the hosted page posts for a key-based app.
type ConnectInput struct {
	App    string
	Fields map[string]string
	// Addr is the end user's address, for the audit log.
	Addr string
}

// Connect saves a key-based account for the token's end user, with its
// tags, as the token's minter. The keys are tested first; the token is
// spent only once they pass, just before the account is saved, with a
// compare-and-swap, so a refused key leaves the token usable and one
// token makes at most one account however many posts race.
func (s *Service) Connect(ctx context.Context, tok string, in ConnectInput) (accounts.Account, ConnectToken, error) {
	t, err := s.Lookup(ctx, tok)
	if err != nil {
		return accounts.Account{}, ConnectToken{}, err
	}
	if !t.Offers(in.App) {
		return accounts.Account{}, t, ErrAppNotOffered
	}
	minter, err := s.users.User(ctx, t.WorkspaceID, t.CreatedBy)
	if err != nil {
		return accounts.Account{}, t, fmt.Errorf("connect token %s: its minter: %w", t.ID, err)
	}
	actor := identity.Actor{WorkspaceID: t.WorkspaceID, UserID: minter.ID, Role: minter.Role, Addr: in.Addr, Surface: identity.SurfaceWeb}
	var used ConnectToken
	acc, err := s.accounts.Create(ctx, actor, accounts.CreateInput{
		App: in.App, Fields: in.Fields, ExternalUserID: t.ExternalUserID, Tags: t.Tags,
		Claim: func(ctx context.Context) error {
			u, err := s.Use(ctx, tok)
			used = u
			return err
		},
	})
	if err != nil {
		return accounts.Account{}, t, err
	}
	return acc, used, nil
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
