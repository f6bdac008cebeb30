package accounts

// Handing out an account's credentials: to code (Credentials), to a
// workflow step (StepCredentials) and to Latchkey's own requests
// (ForRequest), fresh, and signed where the app signs.

import (
	"context"
	"errors"
	"fmt"

	"github.com/latchkeyhq/latchkey/internal/appapi"
	"github.com/latchkeyhq/latchkey/internal/catalog"
	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/store"
)

// Credentials returns the account's credentials as code sees them, the
// auths.<app> object, and records the read in the audit log.
func (s *Service) Credentials(ctx context.Context, actor Actor, id string) (Account, appapi.Values, error) {
	acc, values, err := s.StepCredentials(ctx, actor, id)
	if err != nil {
		return acc, nil, err
	}
	return acc, values.Public(), nil
}

// StepCredentials is Credentials for a workflow step, audited the same
// way, whose values may also sign the step's own requests: they are for
// Latchkey's requests as they stand, and for code only as Public().
func (s *Service) StepCredentials(ctx context.Context, actor Actor, id string) (Account, appapi.Values, error) {
	acc, _, values, err := s.use(ctx, actor, id, identity.ScopeCredentialsRead, "read credentials")
	if err != nil {
		return acc, nil, err
	}
	s.audit(ctx, actor, id, ActionCredentialsRead, nil)
	return acc, values, nil
}

// ForRequest returns the account, its app and its credentials for a
// request Latchkey makes to the app on the caller's behalf (an action, the
// proxy). The caller never sees the credentials, so it needs scope
// (actions:run, proxy) rather than credentials:read; an OAuth account is
// refreshed first when due. The surface audits the request it makes.
func (s *Service) ForRequest(ctx context.Context, actor Actor, id, scope string) (Account, *catalog.App, appapi.Values, error) {
	return s.use(ctx, actor, id, scope, "use accounts")
}

// use opens an account the actor may use for what (a phrase for the
// error a viewer gets), fresh.
func (s *Service) use(ctx context.Context, actor Actor, id, scope, what string) (Account, *catalog.App, appapi.Values, error) {
	if err := actor.Require(scope); err != nil {
		return Account{}, nil, nil, err
	}
	acc, err := s.visible(ctx, actor, id)
	if err != nil {
		return Account{}, nil, nil, err
	}
	if !actor.CanReadCredentials() {
		return Account{}, nil, nil, fmt.Errorf("%w: a viewer may not %s", ErrForbidden, what)
	}
	app, err := s.apps.App(ctx, acc.WorkspaceID, acc.App)
	if err != nil {
		return Account{}, nil, nil, fmt.Errorf("account %s: %w", id, err)
	}
	switch {
	case app.HasAccessToken():
		if acc, err = s.fresh(ctx, acc); err != nil {
			return viewOf(acc), app, nil, err
		}
	case app.Auth == catalog.AuthOAuth1 && acc.Status == store.StatusNeedsReconnect:
		// The provider refused the token: the grant is gone, as an
		// OAuth 2 account's is after invalid_grant.
		return viewOf(acc), app, nil, &NeedsReconnectError{AccountID: acc.ID, Reason: acc.StatusError}
	}
	creds, err := s.open(acc)
	if err != nil {
		return Account{}, nil, nil, err
	}
	values, err := s.requestValues(ctx, acc, app, creds)
	if err != nil {
		return viewOf(acc), app, nil, err
	}
	return viewOf(acc), app, values, nil
}

// requestValues are the values a request Latchkey makes with the
// credentials needs: for an OAuth 1.0a app, the consumer key and the
// consumer secret that signs it, from the OAuth client the account was
// made with (so a secret the operator changes takes effect at once).
// Only Public() of them may reach code.
//
// An account that holds no OAuth 1.0a token (made while the app connected
// another way), or whose OAuth client is gone, needs reconnecting.
func (s *Service) requestValues(ctx context.Context, acc store.Account, app *catalog.App, creds Credentials) (appapi.Values, error) {
	v := creds.Values(app)
	if app.Auth != catalog.AuthOAuth1 {
		return v, nil
	}
	if creds.TokenSecret == "" {
		return nil, &NeedsReconnectError{AccountID: acc.ID, Reason: "it holds no OAuth 1.0a token: it was made while " + app.Name + " connected another way"}
	}
	c, err := s.clients.Consumer(ctx, acc.WorkspaceID, acc.OAuthClientID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, &NeedsReconnectError{AccountID: acc.ID, Reason: "the OAuth client it was made with is gone"}
	}
	if err != nil {
		return nil, fmt.Errorf("account %s: %w", acc.ID, err)
	}
	v[catalog.ConsumerKeyField] = c.ID
	v[appapi.ConsumerSecretKey] = c.Secret.Reveal()
	return v, nil
}
