package connecting

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/latchkeyhq/latchkey/internal/accounts"
	"github.com/latchkeyhq/latchkey/internal/catalog"
	"github.com/latchkeyhq/latchkey/internal/clients"
	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/ids"
	"github.com/latchkeyhq/latchkey/internal/oauth"
	"github.com/latchkeyhq/latchkey/internal/secret"
	"github.com/latchkeyhq/latchkey/internal/store"
	"github.com/latchkeyhq/latchkey/internal/validation"
)

// StateTTL is how long an authorization may take.
const StateTTL = 10 * time.Minute

func invalid(field, format string, args ...any) error {
	return validation.Invalid(field, format, args...)
}

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
	// ConnectTokenID starts the connection for the hosted connect page:
	// it spends that token, and makes the account for its end user.
	// LinkHash, the hash of the page's own cookie, binds it to that
	// browser as SessionHash does.
	ConnectTokenID string
	LinkHash       []byte
}

// Started is a connection waiting for the user at the provider.
type Started struct {
	Connection   Connection
	AuthorizeURL string
	// OneTimeCode is what the browser must be given to finish a connection
	// whose starter cannot sign in on the web; empty otherwise. It is
	// shown once, here, and stored only hashed.
	OneTimeCode string
}

// pending is what a connection keeps sealed until its callback.
type pending struct {
	Verifier string            `json:"verifier"`
	Fields   map[string]string `json:"fields,omitempty"`
	// RequestToken and RequestSecret are an OAuth 1.0a connection's
	// temporary credential: the callback must name that token, and the
	// secret signs the access token request.
	RequestToken  string `json:"request_token,omitempty"`
	RequestSecret string `json:"request_secret,omitempty"`
}

// Connect starts an OAuth connection (or a reconnection) and returns the
// URL the user approves it at.
func (s *Service) Connect(ctx context.Context, actor identity.Actor, in ConnectInput) (Started, error) {
	if err := actor.Require(identity.ScopeAccountsWrite); err != nil {
		return Started{}, err
	}
	if !actor.CanChangeAccounts() {
		return Started{}, fmt.Errorf("%w: a viewer may not connect accounts", identity.ErrForbidden)
	}
	if in.ConnectTokenID != "" && (len(in.LinkHash) == 0 || s.tokens == nil) {
		return Started{}, errors.New("a connection of the hosted connect page must be bound to its browser")
	}
	// A hosted page's flows count per connect token, not against the
	// minter, whose end users are many.
	limitKey := actor.WorkspaceID + "/" + actor.UserID
	if in.ConnectTokenID != "" {
		limitKey = actor.WorkspaceID + "/" + in.ConnectTokenID
	}
	if wait, ok := s.limit.Allow(limitKey, s.clock.Now()); !ok {
		return Started{}, &RateLimitError{RetryAfter: wait}
	}
	var reconnect store.Account
	var oldFields map[string]string
	if in.AccountID != "" {
		acc, fields, err := s.accounts.ReconnectTarget(ctx, actor, in.AccountID)
		if err != nil {
			return Started{}, err
		}
		oldFields = fields
		if in.App != "" && in.App != acc.App {
			return Started{}, invalid("app", "account %s is a %s account, not %s", acc.ID, acc.App, in.App)
		}
		in.App, reconnect = acc.App, acc
	}
	if in.App == "" {
		return Started{}, invalid("app", "is required")
	}
	app, err := s.apps.App(ctx, actor.WorkspaceID, in.App)
	if err != nil {
		return Started{}, err
	}
	if !app.UsesOAuth() {
		if reconnect.ID != "" {
			return Started{}, &accounts.KeyAppError{AccountID: reconnect.ID, AppName: app.Name, Auth: app.Auth}
		}
		return Started{}, invalid("app", "%s connects with %s, not OAuth", app.Name, app.Auth)
	}
	nickname := app.Name
	if reconnect.ID != "" {
		nickname = reconnect.Nickname
	}
	if in.Nickname != nil {
		if nickname, err = accounts.CheckNickname(*in.Nickname); err != nil {
			return Started{}, err
		}
	}
	fields := in.Fields
	if reconnect.ID != "" && len(fields) == 0 {
		// Only what the app still declares: an account made while the
		// app connected another way (Trello's keys) kept other fields.
		fields = map[string]string{}
		for k, v := range oldFields {
			if _, ok := app.Field(k); ok {
				fields[k] = v
			}
		}
	}
	if fields, err = accounts.CheckFields(app, fields); err != nil {
		return Started{}, err
	}
	var scopes []string
	if app.OAuth1 != nil && len(in.Scopes) > 0 {
		return Started{}, invalid("scopes", "%s connects with OAuth 1.0a, which has no scopes", app.Name)
	}
	if app.OAuth2 != nil {
		scopes = slices.Clone(app.OAuth2.DefaultScopes)
	}
	for _, sc := range in.Scopes {
		if sc == "" || len(sc) > 200 || strings.ContainsAny(sc, " ,\r\n") {
			return Started{}, invalid("scopes", "%q is not a scope", sc)
		}
		// Only what the app lists: a caller must not widen a grant to
		// scopes the operator (or the custom app's author) never offered.
		if !slices.Contains(app.OAuth2.DefaultScopes, sc) && !slices.Contains(app.OAuth2.OptionalScopes, sc) {
			return Started{}, invalid("scopes", "%q is not among %s's scopes (%s)", sc, app.Name, strings.Join(offered(app), ", "))
		}
		if !slices.Contains(scopes, sc) {
			scopes = append(scopes, sc)
		}
	}
	client, err := s.clients.Find(ctx, actor.WorkspaceID, app.Slug)
	if errors.Is(err, clients.ErrNoClient) {
		return Started{}, &NoClientError{App: app.Slug, AppName: app.Name}
	}
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
		ID:             ids.New("con", now),
		WorkspaceID:    actor.WorkspaceID,
		UserID:         actor.UserID,
		App:            app.Slug,
		StateHash:      hashState(state),
		Nickname:       nickname,
		Scopes:         scopes,
		Shared:         in.Shared,
		AccountID:      reconnect.ID,
		OAuthClientID:  client.ID,
		SessionHash:    in.SessionHash,
		ConnectTokenID: in.ConnectTokenID,
		LinkHash:       in.LinkHash,
		Status:         store.ConnectionPending,
		ExpiresAt:      now.Add(StateTTL),
		CreatedAt:      now,
	}
	var oneTime string
	if len(in.SessionHash) == 0 && len(in.LinkHash) == 0 && !s.canSignIn(ctx, actor) {
		// Nobody can sign in as this starter, so the browser that comes
		// back proves itself with a code only the starter was shown.
		if oneTime, err = newOneTimeCode(); err != nil {
			return Started{}, err
		}
		conn.CodeHash = hashOneTimeCode(conn.ID, oneTime)
	}
	p := pending{Verifier: verifier, Fields: fields}
	var authURL string
	if app.Auth == catalog.AuthOAuth1 {
		authURL, err = s.start1(ctx, app, client, fields, state, &p)
	} else {
		authURL, err = s.start2(app, client, fields, state, verifier, scopes)
	}
	if err != nil {
		return Started{}, err
	}
	b, _ := json.Marshal(p)
	if conn.Sealed, err = s.ring.Seal(b, []byte(conn.ID)); err != nil {
		return Started{}, err
	}
	if err := s.store.CreateConnection(ctx, conn); err != nil {
		return Started{}, fmt.Errorf("start connection: %w", err)
	}
	return Started{Connection: viewOf(conn), AuthorizeURL: authURL, OneTimeCode: formatOneTimeCode(oneTime)}, nil
}

// start2 is an OAuth 2 connection's authorize URL.
func (s *Service) start2(app *catalog.App, client store.OAuthClient, fields map[string]string, state, verifier string, scopes []string) (string, error) {
	flow, err := s.clients.FlowWith(app, client, fields)
	if err != nil {
		return "", err
	}
	return flow.AuthCodeURL(state, verifier, scopes)
}

// offered lists the scopes an app lets callers ask for.
func offered(app *catalog.App) []string {
	var out []string
	if app.OAuth2 != nil {
		out = slices.Concat(app.OAuth2.DefaultScopes, app.OAuth2.OptionalScopes)
	}
	if len(out) == 0 {
		return []string{"none"}
	}
	return out
}

// Connection returns a connection the actor started, to follow its outcome.
func (s *Service) Connection(ctx context.Context, actor identity.Actor, id string) (Connection, error) {
	c, err := s.connection(ctx, actor, id)
	return viewOf(c), err
}

func (s *Service) connection(ctx context.Context, actor identity.Actor, id string) (store.Connection, error) {
	if err := actor.Require(identity.ScopeAccountsRead); err != nil {
		return store.Connection{}, err
	}
	c, err := s.store.GetConnection(ctx, actor.WorkspaceID, id)
	if err != nil {
		return store.Connection{}, err
	}
	if c.UserID != actor.UserID && !actor.IsOwner() {
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

// canSignIn reports whether the actor's user can sign in on the web.
func (s *Service) canSignIn(ctx context.Context, actor identity.Actor) bool {
	u, err := s.users.User(ctx, actor.WorkspaceID, actor.UserID)
	return err == nil && u.SignsIn
}

// starterName names who started a connection, for the page that asks the
// browser to sign in as them.
func (s *Service) starterName(ctx context.Context, conn store.Connection) string {
	u, err := s.users.User(ctx, conn.WorkspaceID, conn.UserID)
	if err != nil {
		return "the user who started it"
	}
	if u.Name != "" && u.Name != u.Email {
		return u.Name + " (" + u.Email + ")"
	}
	return u.Email
}

// complete exchanges the provider's code and saves the account.
func (s *Service) complete(ctx context.Context, conn store.Connection, back returned) (store.Account, error) {
	app, err := s.apps.App(ctx, conn.WorkspaceID, conn.App)
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
	exchange, clientID, err := s.exchanger(ctx, conn, app, p)
	if err != nil {
		return store.Account{}, fmt.Errorf("connection %s: client: %w", conn.ID, err)
	}
	g := accounts.Grant{
		WorkspaceID: conn.WorkspaceID, OwnerID: conn.UserID, AccountID: conn.AccountID, App: app,
		Nickname: conn.Nickname, Shared: conn.Shared, OAuthClientID: conn.OAuthClientID,
		Fields: p.Fields, Scopes: conn.Scopes, ClientID: clientID,
	}
	if g.Kept, err = callbackFields(app, back.Query); err != nil {
		return store.Account{}, err
	}
	if conn.ConnectTokenID != "" {
		// A token used or expired meanwhile fails before the provider is
		// asked; the token is spent only as the account is saved.
		t, err := s.tokens.Open(ctx, conn.WorkspaceID, conn.ConnectTokenID)
		if err != nil {
			return store.Account{}, err
		}
		g.ExternalUserID, g.Tags, g.ConnectTokenID = t.ExternalUserID, t.Tags, conn.ConnectTokenID
		g.Claim = func(ctx context.Context) error { return s.tokens.Spend(ctx, conn.WorkspaceID, conn.ConnectTokenID) }
	}
	if g.Token, err = exchange(ctx, back.Code); err != nil {
		return store.Account{}, err
	}
	return s.accounts.SaveGrant(ctx, g)
}

// exchanger returns what trades the provider's answer (an OAuth 2 code,
// an OAuth 1.0a verifier) for the account's tokens, and the OAuth 2
// client's id, which the account's credentials carry (an OAuth 1.0a
// account's carry its consumer key instead).
func (s *Service) exchanger(ctx context.Context, conn store.Connection, app *catalog.App, p pending) (func(context.Context, string) (*oauth.Token, error), string, error) {
	if app.Auth == catalog.AuthOAuth1 {
		flow, err := s.clients.Flow1(ctx, conn.WorkspaceID, conn.OAuthClientID, app, p.Fields)
		if err != nil {
			return nil, "", err
		}
		rt := oauth.RequestToken{Token: p.RequestToken, Secret: secret.New(p.RequestSecret)}
		return func(ctx context.Context, verifier string) (*oauth.Token, error) {
			return flow.AccessToken(ctx, rt, verifier)
		}, "", nil
	}
	flow, err := s.clients.Flow(ctx, conn.WorkspaceID, conn.OAuthClientID, app, p.Fields)
	if err != nil {
		return nil, "", err
	}
	return func(ctx context.Context, code string) (*oauth.Token, error) {
		return flow.Exchange(ctx, code, p.Verifier)
	}, flow.Client.ID, nil
}

// clip shortens s to at most n runes, marking the cut.
func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
