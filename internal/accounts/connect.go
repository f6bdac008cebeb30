package accounts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/latchkeyhq/latchkey/internal/catalog"
	"github.com/latchkeyhq/latchkey/internal/ids"
	"github.com/latchkeyhq/latchkey/internal/oauth"
	"github.com/latchkeyhq/latchkey/internal/outbound"
	"github.com/latchkeyhq/latchkey/internal/store"
)

// StateTTL is how long an authorization may take.
const StateTTL = 10 * time.Minute

// More audit actions.
const (
	ActionReconnected    = "account.reconnected"
	ActionNeedsReconnect = "account.needs_reconnect"
	ActionRefreshFailed  = "account.refresh_failed"
)

// Errors of the callback. None of them stores anything.
var (
	// ErrBadState: the state is unknown, used already, or expired.
	ErrBadState = errors.New("this authorization link is unknown, was used already, or has expired; start the connection again")
	// ErrMissingCode: the provider sent neither a code nor an error.
	ErrMissingCode = errors.New("the provider's answer has no authorization code")
)

// ProviderError is an error the provider sent back to the callback
// (error=access_denied, ...).
type ProviderError struct {
	Code, Description string
}

func (e *ProviderError) Error() string {
	if e.Description != "" {
		return "the provider refused: " + e.Code + ": " + e.Description
	}
	return "the provider refused: " + e.Code
}

// ConnectInput starts an OAuth connection.
type ConnectInput struct {
	App      string
	Nickname *string
	// Scopes asked for beyond the app's defaults.
	Scopes []string
	// AccountID reconnects that account instead of making a new one.
	AccountID string
	// Fields are the app's connection fields ({subdomain}, ...).
	Fields map[string]string
	Shared bool
	// SessionHash binds the connection to the browser session that started
	// it: the callback must come back in that session.
	SessionHash []byte
}

// Started is a connection waiting for the user at the provider.
type Started struct {
	Connection   store.Connection
	AuthorizeURL string
}

// pending is what a connection keeps sealed until its callback.
type pending struct {
	Verifier string            `json:"verifier"`
	Fields   map[string]string `json:"fields,omitempty"`
}

// Connect starts an OAuth connection (or a reconnection) and returns the
// URL the user approves it at.
func (s *Service) Connect(ctx context.Context, actor Actor, in ConnectInput) (Started, error) {
	if err := actor.Require(ScopeAccountsWrite); err != nil {
		return Started{}, err
	}
	var reconnect store.Account
	if in.AccountID != "" {
		acc, err := s.visible(ctx, actor, in.AccountID)
		if err != nil {
			return Started{}, err
		}
		if !actor.canChange(acc) {
			return Started{}, fmt.Errorf("%w: only the account's owner may reconnect it", ErrForbidden)
		}
		if in.App != "" && in.App != acc.App {
			return Started{}, invalid("app", "account %s is a %s account, not %s", acc.ID, acc.App, in.App)
		}
		in.App, reconnect = acc.App, acc
	}
	if in.App == "" {
		return Started{}, invalid("app", "is required")
	}
	app, err := s.App(ctx, actor.WorkspaceID, in.App)
	if err != nil {
		return Started{}, err
	}
	if app.Auth != catalog.AuthOAuth2 {
		if reconnect.ID != "" {
			return Started{}, invalid("app", "%s connects with %s: give the account new credentials instead (PUT /v1/accounts/%s/credentials)", app.Name, app.Auth, reconnect.ID)
		}
		return Started{}, invalid("app", "%s connects with %s, not OAuth 2", app.Name, app.Auth)
	}
	nickname := app.Name
	if reconnect.ID != "" {
		nickname = reconnect.Nickname
	}
	if in.Nickname != nil {
		if nickname, err = checkNickname(*in.Nickname); err != nil {
			return Started{}, err
		}
	}
	fields := in.Fields
	if reconnect.ID != "" && len(fields) == 0 {
		if creds, err := s.open(reconnect); err == nil {
			fields = creds.Fields
		}
	}
	if fields, err = CheckFields(app, fields); err != nil {
		return Started{}, err
	}
	scopes := slices.Clone(app.OAuth2.DefaultScopes)
	for _, sc := range in.Scopes {
		if sc == "" || len(sc) > 200 || strings.ContainsAny(sc, " ,\r\n") {
			return Started{}, invalid("scopes", "%q is not a scope", sc)
		}
		if !slices.Contains(scopes, sc) {
			scopes = append(scopes, sc)
		}
	}
	client, err := s.store.FindOAuthClient(ctx, actor.WorkspaceID, app.Slug)
	if errors.Is(err, store.ErrNotFound) {
		return Started{}, invalid("app", "%s: %v; an owner sets one with: latchkey oauth-clients set %s --client-id ... --client-secret ...", app.Name, ErrNoClient, app.Slug)
	}
	if err != nil {
		return Started{}, err
	}
	flow, err := s.flow(app, client, fields)
	if err != nil {
		return Started{}, err
	}

	state, err := randomToken()
	if err != nil {
		return Started{}, err
	}
	verifier := oauth2.GenerateVerifier()
	now := s.clock.Now().UTC()
	conn := store.Connection{
		ID:            ids.New("con", now),
		WorkspaceID:   actor.WorkspaceID,
		UserID:        actor.UserID,
		App:           app.Slug,
		StateHash:     hashState(state),
		Nickname:      nickname,
		Scopes:        scopes,
		Shared:        in.Shared,
		AccountID:     reconnect.ID,
		OAuthClientID: client.ID,
		SessionHash:   in.SessionHash,
		Status:        store.ConnectionPending,
		ExpiresAt:     now.Add(StateTTL),
		CreatedAt:     now,
	}
	b, _ := json.Marshal(pending{Verifier: verifier, Fields: fields})
	if conn.Sealed, err = s.ring.Seal(b, []byte(conn.ID)); err != nil {
		return Started{}, err
	}
	authURL, err := flow.AuthCodeURL(state, verifier, scopes)
	if err != nil {
		return Started{}, err
	}
	if err := s.store.CreateConnection(ctx, conn); err != nil {
		return Started{}, fmt.Errorf("start connection: %w", err)
	}
	return Started{Connection: conn, AuthorizeURL: authURL}, nil
}

// Connection returns a connection the actor started, to follow its outcome.
func (s *Service) Connection(ctx context.Context, actor Actor, id string) (store.Connection, error) {
	if err := actor.Require(ScopeAccountsRead); err != nil {
		return store.Connection{}, err
	}
	c, err := s.store.GetConnection(ctx, actor.WorkspaceID, id)
	if err != nil {
		return store.Connection{}, err
	}
	if c.UserID != actor.UserID && actor.Role != store.RoleOwner {
		return store.Connection{}, fmt.Errorf("connection %s: %w", id, store.ErrNotFound)
	}
	return c, nil
}

func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func hashState(state string) []byte {
	h := sha256.Sum256([]byte(state))
	return h[:]
}

// CallbackInput is what the provider sent to the redirect URI.
type CallbackInput struct {
	State, Code, Error, ErrorDescription string
	// SessionHash is the browser session the callback arrived in, if any.
	SessionHash []byte
}

// ErrOtherSession: a connection started in one browser session came back
// in another.
var ErrOtherSession = errors.New("this authorization was started in another browser session; start the connection again here")

// Callback completes a connection: it claims the state (once), exchanges
// the code, labels the account and saves it. A bad state, a provider error
// or a missing code stores nothing.
func (s *Service) Callback(ctx context.Context, in CallbackInput) (store.Connection, store.Account, error) {
	if in.State == "" || len(in.State) > 200 {
		return store.Connection{}, store.Account{}, ErrBadState
	}
	conn, err := s.store.ClaimConnection(ctx, hashState(in.State), s.clock.Now())
	if errors.Is(err, store.ErrNotFound) {
		return store.Connection{}, store.Account{}, ErrBadState
	}
	if err != nil {
		return store.Connection{}, store.Account{}, err
	}
	acc, err := s.complete(ctx, conn, in)
	if err != nil {
		msg := err.Error()
		var pe *ProviderError
		var oe *oauth.Error
		if !errors.As(err, &pe) && !errors.As(err, &oe) && !errors.Is(err, ErrMissingCode) && !errors.Is(err, ErrOtherSession) {
			msg = "the connection could not be completed"
		}
		if ferr := s.store.FinishConnection(ctx, conn.ID, store.ConnectionFailed, conn.AccountID, msg); ferr != nil {
			s.log.ErrorContext(ctx, "recording a failed connection", "connection", conn.ID, "err", ferr)
		}
		s.log.WarnContext(ctx, "connection failed", "connection", conn.ID, "app", conn.App, "err", err)
		return conn, store.Account{}, err
	}
	if err := s.store.FinishConnection(ctx, conn.ID, store.ConnectionCompleted, acc.ID, ""); err != nil {
		return conn, acc, err
	}
	conn.Status, conn.AccountID = store.ConnectionCompleted, acc.ID
	return conn, acc, nil
}

func (s *Service) complete(ctx context.Context, conn store.Connection, in CallbackInput) (store.Account, error) {
	if len(conn.SessionHash) > 0 && subtle.ConstantTimeCompare(conn.SessionHash, in.SessionHash) != 1 {
		return store.Account{}, ErrOtherSession
	}
	if in.Error != "" {
		return store.Account{}, &ProviderError{Code: clip(outbound.Clip(in.Error), 100), Description: outbound.Clip(in.ErrorDescription)}
	}
	if in.Code == "" {
		return store.Account{}, ErrMissingCode
	}
	app, err := s.App(ctx, conn.WorkspaceID, conn.App)
	if err != nil {
		return store.Account{}, err
	}
	raw, err := s.ring.Open(conn.Sealed, []byte(conn.ID))
	if err != nil {
		return store.Account{}, err
	}
	var p pending
	if err := json.Unmarshal(raw, &p); err != nil {
		return store.Account{}, fmt.Errorf("connection %s: %w", conn.ID, err)
	}
	client, err := s.store.GetOAuthClient(ctx, conn.WorkspaceID, conn.OAuthClientID)
	if err != nil {
		return store.Account{}, fmt.Errorf("connection %s: client: %w", conn.ID, err)
	}
	flow, err := s.flow(app, client, p.Fields)
	if err != nil {
		return store.Account{}, err
	}
	tok, err := flow.Exchange(ctx, in.Code, p.Verifier)
	if err != nil {
		return store.Account{}, err
	}
	creds := Credentials{Fields: p.Fields, AccessToken: tok.AccessToken.Reveal(), RefreshToken: tok.RefreshToken.Reveal(), Kept: tok.Kept}
	label := s.identify(ctx, app, creds.Values())
	scopes := tok.Scopes
	if scopes == nil {
		scopes = conn.Scopes
	}
	now := s.clock.Now().UTC()
	actor := Actor{WorkspaceID: conn.WorkspaceID, UserID: conn.UserID}

	apply := func(a *store.Account) error {
		var err error
		if a.Credentials, err = s.seal(a.ID, creds); err != nil {
			return err
		}
		a.Scopes = scopes
		a.IdentityLabel = label
		a.OAuthClientID = client.ID
		a.Status, a.StatusError = store.StatusHealthy, ""
		a.RefreshFailures, a.FailingSince = 0, nil
		a.ExpiresAt = expiry(tok.Expiry)
		a.LastRefreshedAt = &now
		a.NextRefreshAt = s.nextRefresh(app, now, tok.Expiry)
		a.UpdatedAt = now
		return nil
	}
	if conn.AccountID != "" {
		acc, err := s.store.UpdateAccount(ctx, conn.WorkspaceID, conn.AccountID, func(a *store.Account) error {
			a.Nickname = conn.Nickname
			return apply(a)
		})
		if err != nil {
			return store.Account{}, fmt.Errorf("reconnect %s: %w", conn.AccountID, err)
		}
		s.remember(acc)
		s.audit(ctx, actor, acc.ID, ActionReconnected, map[string]string{"app": app.Slug, "identity": label})
		s.log.InfoContext(ctx, "account reconnected", "account", acc.ID, "app", app.Slug)
		return acc, nil
	}
	acc := store.Account{
		ID: ids.New(ids.Account, now), WorkspaceID: conn.WorkspaceID, OwnerID: conn.UserID, App: app.Slug,
		Nickname: conn.Nickname, Shared: conn.Shared, CreatedAt: now,
	}
	if err := apply(&acc); err != nil {
		return store.Account{}, err
	}
	if err := s.store.CreateAccount(ctx, acc); err != nil {
		return store.Account{}, fmt.Errorf("save account: %w", err)
	}
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
