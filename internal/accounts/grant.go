package accounts

import (
	"context"
	"fmt"
	"maps"
	"time"

	"github.com/latchkeyhq/latchkey/internal/catalog"
	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/ids"
	"github.com/latchkeyhq/latchkey/internal/oauth"
	"github.com/latchkeyhq/latchkey/internal/store"
	"github.com/latchkeyhq/latchkey/internal/webhooks"
)

// More audit actions.
const (
	ActionReconnected    = "account.reconnected"
	ActionNeedsReconnect = "account.needs_reconnect"
	ActionRefreshFailed  = "account.refresh_failed"
	// ActionRecovered: a refresh worked after transient failures.
	ActionRecovered = "account.recovered"
)

// KeyAppError means the account's app connects with keys, not OAuth: it
// is renewed by giving it new keys (ReplaceKeys), not by reconnecting.
// Each surface names the way to do that in its own words.
type KeyAppError struct {
	AccountID string
	// AppName is the app's display name; Auth how it connects.
	AppName string
	Auth    catalog.AuthType
}

func (e *KeyAppError) Error() string {
	return fmt.Sprintf("%s connects with %s: give the account new credentials instead", e.AppName, e.Auth)
}

// CheckNickname trims and checks a nickname.
func CheckNickname(n string) (string, error) { return checkNickname(n) }

// ReconnectTarget returns an account the actor may reconnect, with the
// connection fields it was made with (none when they cannot be read).
func (s *Service) ReconnectTarget(ctx context.Context, actor identity.Actor, id string) (store.Account, map[string]string, error) {
	if !actor.CanChangeAccounts() {
		return store.Account{}, nil, refuse(actor, "reconnect")
	}
	acc, err := s.visible(ctx, actor, id)
	if err != nil {
		return store.Account{}, nil, err
	}
	if !canChange(actor, acc) {
		return store.Account{}, nil, refuse(actor, "reconnect")
	}
	var fields map[string]string
	if creds, err := s.open(acc); err == nil {
		fields = creds.Fields
	}
	return acc, fields, nil
}

// Grant is what a completed OAuth connection obtained, to save as an
// account.
type Grant struct {
	WorkspaceID string
	// OwnerID is the user who started the connection.
	OwnerID string
	// AccountID is the account to reconnect; empty makes a new one.
	AccountID     string
	App           *catalog.App
	Nickname      string
	Shared        bool
	OAuthClientID string
	// Fields are the app's connection fields the user entered.
	Fields map[string]string
	Token  *oauth.Token
	// Kept are values the callback brought that the app keeps (its
	// callback_fields), kept with the token's.
	Kept map[string]string
	// ClientID is the provider's id of the OAuth client, which some APIs
	// want on every request (Twitch's Client-Id) as {oauth_client_id}.
	ClientID string
	// Scopes are what was asked for, kept when the provider does not say
	// what it granted.
	Scopes []string
	// ExternalUserID and Tags give a new account to a product's end user
	// (a connection of the hosted connect page).
	ExternalUserID string
	Tags           map[string]string
	// Claim, when set, runs just before the account is saved, and its
	// error saves nothing: the connect token is spent there.
	Claim func(ctx context.Context) error
	// ConnectTokenID is that token, named in the account's event.
	ConnectTokenID string
}

// SaveGrant labels the account with the app's identity request and saves
// the grant: a new account, or new tokens for the one reconnected (which
// keeps its id, and so every workflow link). It audits either.
func (s *Service) SaveGrant(ctx context.Context, g Grant) (store.Account, error) {
	app, tok := g.App, g.Token
	creds := Credentials{Fields: g.Fields, AccessToken: tok.AccessToken.Reveal(), RefreshToken: tok.RefreshToken.Reveal(),
		Kept: mergeKept(tok.Kept, g.Kept), ClientID: g.ClientID, TokenSecret: tok.TokenSecret.Reveal()}
	meta, err := s.metadata(ctx, app, creds.Values(app))
	if err != nil {
		return store.Account{}, err
	}
	creds.Kept = mergeKept(creds.Kept, meta)
	values, err := s.requestValues(ctx, store.Account{ID: g.AccountID, WorkspaceID: g.WorkspaceID, OAuthClientID: g.OAuthClientID}, app, creds)
	if err != nil {
		return store.Account{}, err
	}
	label := s.identify(ctx, app, values)
	scopes := tok.Scopes
	if scopes == nil {
		scopes = g.Scopes
	}
	now := s.clock.Now().UTC()
	actor := Actor{WorkspaceID: g.WorkspaceID, UserID: g.OwnerID}

	apply := func(a *store.Account) error {
		var err error
		if a.Credentials, err = s.seal(a.ID, creds); err != nil {
			return err
		}
		a.Scopes = scopes
		a.IdentityLabel = label
		a.OAuthClientID = g.OAuthClientID
		a.Status, a.StatusError = store.StatusHealthy, ""
		a.RefreshFailures, a.FailingSince = 0, nil
		a.ExpiresAt = expiry(tok.Expiry)
		a.LastRefreshedAt = &now
		a.NextRefreshAt = s.nextRefresh(app, now, tok.Expiry)
		a.UpdatedAt = now
		return nil
	}
	if g.Claim != nil {
		if err := g.Claim(ctx); err != nil {
			return store.Account{}, err
		}
	}
	if g.AccountID != "" {
		acc, err := s.store.UpdateAccount(ctx, g.WorkspaceID, g.AccountID, func(a *store.Account) error {
			a.Nickname = g.Nickname
			if err := apply(a); err != nil {
				return err
			}
			if g.ConnectTokenID != "" {
				a.Outbox = []store.WebhookEvent{webhooks.TokenAccountEvent(webhooks.AccountReconnected, *a, now, g.ConnectTokenID)}
			} else {
				a.Outbox = []store.WebhookEvent{webhooks.AccountEvent(webhooks.AccountReconnected, *a, now, nil)}
			}
			return nil
		})
		if err != nil {
			return store.Account{}, fmt.Errorf("reconnect %s: %w", g.AccountID, err)
		}
		s.remember(acc)
		s.audit(ctx, actor, acc.ID, ActionReconnected, map[string]string{"app": app.Slug, "identity": label})
		s.log.InfoContext(ctx, "account reconnected", "account", acc.ID, "app", app.Slug)
		return acc, nil
	}
	acc := store.Account{
		ID: ids.New(ids.Account, now), WorkspaceID: g.WorkspaceID, OwnerID: g.OwnerID, App: app.Slug,
		Nickname: g.Nickname, Shared: g.Shared, CreatedAt: now, ExternalUserID: g.ExternalUserID,
	}
	if len(g.Tags) > 0 {
		acc.Tags = maps.Clone(g.Tags)
	}
	if err := apply(&acc); err != nil {
		return store.Account{}, err
	}
	acc.Outbox = []store.WebhookEvent{connectedEvent(acc, now, g.ConnectTokenID)}
	if err := s.store.CreateAccount(ctx, acc); err != nil {
		return store.Account{}, fmt.Errorf("save account: %w", err)
	}
	acc.Outbox = nil
	s.audit(ctx, actor, acc.ID, ActionConnected, map[string]string{"app": app.Slug, "identity": label})
	s.log.InfoContext(ctx, "account connected", "account", acc.ID, "app", app.Slug)
	return acc, nil
}

func expiry(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// clip shortens s to at most n runes, marking the cut.
func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
