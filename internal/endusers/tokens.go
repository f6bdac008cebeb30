package endusers

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/latchkeyhq/latchkey/internal/accounts"
	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/ids"
	"github.com/latchkeyhq/latchkey/internal/secret"
	"github.com/latchkeyhq/latchkey/internal/store"
	"github.com/latchkeyhq/latchkey/internal/validation"
	"github.com/latchkeyhq/latchkey/internal/webhooks"
)

// ConnectToken is a connect token as callers see it; never its secret.
type ConnectToken struct {
	ID             string
	WorkspaceID    string
	ExternalUserID string
	// AccountID is the account a reconnect token renews; empty for a
	// token that connects a new one.
	AccountID          string
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
	return ConnectToken{ID: t.ID, WorkspaceID: t.WorkspaceID, ExternalUserID: t.ExternalUserID, AccountID: t.AccountID, Apps: t.Apps, Tags: t.Tags,
		SuccessRedirectURI: t.SuccessRedirectURI, ErrorRedirectURI: t.ErrorRedirectURI, AllowedOrigins: t.AllowedOrigins,
		WebhookURL: t.WebhookURL, CreatedBy: t.CreatedBy, CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt, UsedAt: t.UsedAt}
}

// MintInput is what a product's backend asks a connect token for.
type MintInput struct {
	// AccountID mints a reconnect token for that account of an end user:
	// ExternalUserID then defaults to the account's and must match it,
	// and the account's app is the one app offered.
	AccountID          string
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
	// WebhookEndpointID and WebhookSecret are the endpoint made for the
	// token's webhook_url and its signing secret, shown once; empty
	// without one.
	WebhookEndpointID string
	WebhookSecret     secret.String
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
	if in.AccountID != "" {
		if err := s.reconnectFor(ctx, actor, &in); err != nil {
			return Minted{}, err
		}
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
	for field, u := range map[string]string{"success_redirect_uri": in.SuccessRedirectURI, "error_redirect_uri": in.ErrorRedirectURI} {
		if u == "" {
			continue
		}
		if err := checkURL(u); err != nil {
			return Minted{}, invalid(field, "%v", err)
		}
	}
	if in.WebhookURL != "" {
		// Checked as every endpoint's URL is, for it becomes one.
		if s.hooks == nil {
			return Minted{}, invalid("webhook_url", "webhooks are not delivered by this server")
		}
		if err := s.hooks.CheckURL(in.WebhookURL); err != nil {
			var ie *webhooks.InputError
			if errors.As(err, &ie) {
				return Minted{}, invalid("webhook_url", "%s", ie.Message)
			}
			return Minted{}, err
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
		ID: ids.New(idPrefix, now), WorkspaceID: actor.WorkspaceID, TokenHash: hash(tok), ExternalUserID: in.ExternalUserID, AccountID: in.AccountID,
		Apps: appList, SuccessRedirectURI: in.SuccessRedirectURI, ErrorRedirectURI: in.ErrorRedirectURI,
		AllowedOrigins: origins, WebhookURL: in.WebhookURL, CreatedBy: actor.UserID, CreatedAt: now, ExpiresAt: now.Add(s.ttl),
	}
	if len(in.Tags) > 0 {
		t.Tags = maps.Clone(in.Tags)
	}
	if err := s.store.CreateConnectToken(ctx, t); err != nil {
		return Minted{}, fmt.Errorf("mint connect token: %w", err)
	}
	detail := map[string]string{"connect_token": t.ID, "external_user_id": t.ExternalUserID,
		"apps": strings.Join(appList, " "), "expires_at": t.ExpiresAt.Format(time.RFC3339)}
	if t.AccountID != "" {
		detail["account_id"] = t.AccountID
	}
	m := Minted{Token: viewOf(t), Secret: secret.New(tok),
		LinkURL: secret.New(s.publicURL + LinkPath + "?" + url.Values{"token": {tok}}.Encode())}
	if in.WebhookURL != "" {
		// The token is stored first, so the endpoint never names a token
		// that is not there; a failure here leaves a token nobody was
		// given, which the purger removes.
		e, key, err := s.hooks.CreateForToken(ctx, t.WorkspaceID, t.ID, in.WebhookURL, t.ExpiresAt)
		if err != nil {
			return Minted{}, fmt.Errorf("mint connect token: its webhook endpoint: %w", err)
		}
		m.WebhookEndpointID, m.WebhookSecret = e.ID, key
		detail["webhook_endpoint"] = e.ID
	}
	s.audit(actor, ActionTokenMinted, detail)
	return m, nil
}

// reconnectFor fills a reconnect token's end user and app in from its
// account, which must be an end user's account the actor may see.
func (s *Service) reconnectFor(ctx context.Context, actor identity.Actor, in *MintInput) error {
	acc, err := s.accounts.Get(ctx, actor, in.AccountID)
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, accounts.ErrNotFound) {
		return invalid("account_id", "there is no account %q", in.AccountID)
	}
	if err != nil {
		return err
	}
	if acc.ExternalUserID == "" {
		return invalid("account_id", "account %s belongs to a member, not to an end user", acc.ID)
	}
	if in.ExternalUserID == "" {
		in.ExternalUserID = acc.ExternalUserID
	} else if in.ExternalUserID != acc.ExternalUserID {
		return invalid("external_user_id", "account %s belongs to another end user", acc.ID)
	}
	for _, a := range in.Apps {
		if a != acc.App {
			return invalid("apps", "a reconnect token offers its account's app, %s, only", acc.App)
		}
	}
	in.Apps = []string{acc.App}
	return nil
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
	return s.spend(ctx, t.WorkspaceID, t.ID)
}

func (s *Service) spend(ctx context.Context, workspaceID, id string) (ConnectToken, error) {
	t, err := s.store.UpdateConnectToken(ctx, workspaceID, id, func(old store.ConnectToken) (store.ConnectToken, error) {
		if err := s.open(old); err != nil {
			return old, err
		}
		now := s.clock.Now().UTC()
		old.UsedAt = &now
		return old, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return ConnectToken{}, ErrInvalidToken
	}
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
// tags, as the token's minter; for a reconnect token, it gives that
// account the new keys instead, keeping its id. The keys are tested
// first; the token is spent only once they pass, just before the
// account is saved, with a compare-and-swap, so a refused key leaves the
// token usable and one token makes at most one account however many
// posts race. Keys the app's test request refuses are reported as a
// connect.failed event (keys_refused); a form's mere mistakes are not.
func (s *Service) Connect(ctx context.Context, tok string, in ConnectInput) (accounts.Account, ConnectToken, error) {
	t, actor, err := s.hosted(ctx, tok, in.App, in.Addr)
	if err != nil {
		return accounts.Account{}, t, err
	}
	var used ConnectToken
	claim := func(ctx context.Context) error {
		u, err := s.Use(ctx, tok)
		used = u
		return err
	}
	var acc accounts.Account
	if t.AccountID != "" {
		acc, err = s.accounts.ReconnectKeys(ctx, actor, t.AccountID, accounts.ReconnectKeysInput{Fields: in.Fields, Claim: claim, ConnectTokenID: t.ID})
	} else {
		acc, err = s.accounts.Create(ctx, actor, accounts.CreateInput{
			App: in.App, Fields: in.Fields, ExternalUserID: t.ExternalUserID, Tags: t.Tags, Claim: claim, ConnectTokenID: t.ID,
		})
	}
	if err != nil {
		if isTestFailed(err) {
			s.failed(ctx, t, in.App, ErrorKeysRefused)
		}
		return accounts.Account{}, t, err
	}
	return acc, used, nil
}

// hosted finds the open token tok, checks it offers the app, and
// returns it with its minter, as whom the hosted page connects.
func (s *Service) hosted(ctx context.Context, tok, app, addr string) (ConnectToken, identity.Actor, error) {
	t, err := s.Lookup(ctx, tok)
	if err != nil {
		return ConnectToken{}, identity.Actor{}, err
	}
	if !t.Offers(app) {
		return t, identity.Actor{}, ErrAppNotOffered
	}
	u, err := s.users.User(ctx, t.WorkspaceID, t.CreatedBy)
	if err != nil {
		return t, identity.Actor{}, fmt.Errorf("connect token %s: its minter: %w", t.ID, err)
	}
	return t, identity.Actor{WorkspaceID: t.WorkspaceID, UserID: u.ID, Role: u.Role, Addr: addr, Surface: identity.SurfaceWeb}, nil
}
