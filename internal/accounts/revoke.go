package accounts

import (
	"context"
	"slices"

	"github.com/latchkeyhq/latchkey/internal/catalog"
	"github.com/latchkeyhq/latchkey/internal/secret"
	"github.com/latchkeyhq/latchkey/internal/store"
)

// revoke revokes the refresh token (which providers take to end the
// grant) and the access token.
func (s *Service) revoke(ctx context.Context, acc store.Account) (string, string) {
	app, err := s.apps.App(ctx, acc.WorkspaceID, acc.App)
	if err == nil && app.Auth == catalog.AuthOAuth1 {
		// RFC 5849 has no revocation; the user revokes the app at the
		// provider.
		return RevokeUnsupported, app.Name + " has no revocation endpoint for OAuth 1.0a tokens"
	}
	if err != nil || app.Auth != catalog.AuthOAuth2 {
		return RevokeUnsupported, "only OAuth accounts are revoked"
	}
	if !app.OAuth2.CanRevoke() {
		return RevokeUnsupported, app.Name + " has no revocation endpoint"
	}
	kinds := []string{"refresh_token", "access_token"}
	if r := app.OAuth2.Revoke; r != nil {
		kinds = r.RevokeTokens()
		// A call that presents the access token (Dropbox's) needs one
		// that still works.
		if r.Auth == "bearer" || slices.Equal(kinds, []string{"access_token"}) {
			if got, err := s.fresh(ctx, acc); err == nil {
				acc = got
			}
		}
	}
	a := acc
	_, creds, flow, err := s.prepareRefresh(ctx, &a)
	if err != nil {
		return RevokeFailed, err.Error()
	}
	tokens := map[string]string{"refresh_token": creds.RefreshToken, "access_token": creds.AccessToken}
	for _, kind := range kinds {
		if tokens[kind] == "" {
			continue
		}
		if err := flow.Revoke(ctx, secret.New(tokens[kind]), kind); err != nil {
			return RevokeFailed, err.Error()
		}
	}
	return RevokeDone, ""
}
