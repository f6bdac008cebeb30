package endusers

import (
	"context"
	"errors"
	"fmt"
	"maps"

	"github.com/latchkeyhq/latchkey/internal/accounts"
	"github.com/latchkeyhq/latchkey/internal/catalog"
	"github.com/latchkeyhq/latchkey/internal/connecting"
	"github.com/latchkeyhq/latchkey/internal/oauth"
	"github.com/latchkeyhq/latchkey/internal/store"
	"github.com/latchkeyhq/latchkey/internal/webhooks"
)

// The error codes a failed hosted connect attempt is reported with: in
// the error_redirect_uri's "error" parameter and in the connect.failed
// event's data.error.
const (
	// ErrorAccessDenied: the end user declined at the provider.
	ErrorAccessDenied = "access_denied"
	// ErrorProvider: the provider answered with another error, or the
	// code could not be exchanged for tokens.
	ErrorProvider = "provider_error"
	// ErrorExpired: the connect token was used or expired before the
	// flow ended; mint a new one.
	ErrorExpired = "expired"
	// ErrorKeysRefused: the app's test request refused the keys entered
	// (connect.failed only: the page shows the form again).
	ErrorKeysRefused = "keys_refused"
	// ErrorServer: Latchkey could not finish the flow.
	ErrorServer = "server_error"
)

// ErrorCode is the documented code of a hosted flow's failure.
func ErrorCode(err error) string {
	var pe *connecting.ProviderError
	var oe *oauth.Error
	switch {
	case errors.As(err, &pe) && pe.Code == ErrorAccessDenied:
		return ErrorAccessDenied
	case errors.As(err, &pe), errors.As(err, &oe), errors.Is(err, connecting.ErrMissingCode):
		return ErrorProvider
	case errors.Is(err, ErrInvalidToken):
		return ErrorExpired
	case isTestFailed(err):
		return ErrorKeysRefused
	default:
		return ErrorServer
	}
}

func isTestFailed(err error) bool {
	_, ok := errors.AsType[*accounts.TestFailedError](err)
	return ok
}

// OAuthInput starts an OAuth flow on the hosted page.
type OAuthInput struct {
	App string
	// Fields are the app's connection fields ({subdomain}, ...).
	Fields map[string]string
	// LinkHash is the hash of the cookie the page set on the browser;
	// the provider's answer must come back with it.
	LinkHash []byte
	// Addr is the end user's address, for the audit log.
	Addr string
}

// StartOAuth starts the OAuth flow of an app the token offers, as its
// minter, bound to the page's cookie: a new account for the token's end
// user, or for a reconnect token a new grant for its account. The token
// is not spent until the account is saved.
func (s *Service) StartOAuth(ctx context.Context, tok string, in OAuthInput) (connecting.Started, ConnectToken, error) {
	t, actor, err := s.hosted(ctx, tok, in.App, in.Addr)
	if err != nil {
		return connecting.Started{}, t, err
	}
	if s.conns == nil || len(in.LinkHash) == 0 {
		return connecting.Started{}, t, errors.New("the hosted page cannot start OAuth connections here")
	}
	started, err := s.conns.Connect(ctx, actor, connecting.ConnectInput{
		App: in.App, Fields: in.Fields, AccountID: t.AccountID, ConnectTokenID: t.ID, LinkHash: in.LinkHash,
	})
	return started, t, err
}

// Scopes are what an OAuth app's hosted flow asks for: the app's default
// scopes, which the page shows before the end user goes to the provider.
func Scopes(app *catalog.App) []string {
	if app == nil || app.OAuth2 == nil {
		return nil
	}
	return app.OAuth2.DefaultScopes
}

// Open is connecting.Tokens: the token with the id, when still open.
func (s *Service) Open(ctx context.Context, workspaceID, id string) (connecting.HostedToken, error) {
	t, err := s.store.GetConnectToken(ctx, workspaceID, id)
	if errors.Is(err, store.ErrNotFound) {
		return connecting.HostedToken{}, ErrInvalidToken
	}
	if err != nil {
		return connecting.HostedToken{}, fmt.Errorf("connect token %s: %w", id, err)
	}
	if err := s.open(t); err != nil {
		return connecting.HostedToken{}, err
	}
	return connecting.HostedToken{ExternalUserID: t.ExternalUserID, Tags: maps.Clone(t.Tags)}, nil
}

// Spend is connecting.Tokens: it spends the token with the id, once.
func (s *Service) Spend(ctx context.Context, workspaceID, id string) error {
	_, err := s.spend(ctx, workspaceID, id)
	return err
}

// Failed is connecting.Tokens: it reports a failed OAuth flow of the
// token as a connect.failed event.
func (s *Service) Failed(ctx context.Context, workspaceID, id, app string, err error) {
	t, gerr := s.store.GetConnectToken(ctx, workspaceID, id)
	if gerr != nil {
		s.log.ErrorContext(ctx, "reporting a failed connect attempt", "connect_token", id, "err", gerr)
		return
	}
	s.failed(ctx, viewOf(t), app, ErrorCode(err))
}

// failed writes the connect.failed event of one attempt with the token.
func (s *Service) failed(ctx context.Context, t ConnectToken, app, code string) {
	ev := webhooks.ConnectFailedEvent(webhooks.ConnectFailure{
		WorkspaceID: t.WorkspaceID, ConnectTokenID: t.ID, App: app, ExternalUserID: t.ExternalUserID,
		Tags: t.Tags, AccountID: t.AccountID, Error: code,
	}, s.clock.Now())
	if err := s.store.AppendWebhookEvents(ctx, []store.WebhookEvent{ev}); err != nil {
		s.log.ErrorContext(ctx, "reporting a failed connect attempt", "connect_token", t.ID, "err", err)
		return
	}
	s.log.InfoContext(ctx, "connect attempt failed", "connect_token", t.ID, "app", app, "error", code)
}

// Outcome returns the token a hosted connection was started with, used
// or not, for the page that shows how the flow ended: where to send the
// end user.
func (s *Service) Outcome(ctx context.Context, workspaceID, id string) (ConnectToken, error) {
	t, err := s.store.GetConnectToken(ctx, workspaceID, id)
	if err != nil {
		return ConnectToken{}, fmt.Errorf("connect token %s: %w", id, err)
	}
	return viewOf(t), nil
}
