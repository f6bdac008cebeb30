package server

import (
	"context"
	"errors"
	"fmt"

	"github.com/latchkeyhq/latchkey/internal/accounts"
	"github.com/latchkeyhq/latchkey/internal/apps"
	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/store"
)

// tokenResources tells identity of the accounts and apps a new token is
// limited to. It is built before the accounts service (which needs
// identity's first start) and given it once that exists.
type tokenResources struct {
	accounts *accounts.Service
	apps     *apps.Service
}

func (t *tokenResources) AccountApp(ctx context.Context, a identity.Actor, id string) (string, error) {
	// Only whether the maker may see the account, and its app, matter
	// here; the maker's scopes are identity's to check.
	a.Scopes = nil
	acc, err := t.accounts.Get(ctx, a, id)
	if err != nil {
		return "", err
	}
	return acc.App, nil
}

func (t *tokenResources) AppExists(ctx context.Context, workspaceID, slug string) error {
	_, err := t.apps.App(ctx, workspaceID, slug)
	if errors.Is(err, apps.ErrUnknownApp) {
		return fmt.Errorf("app %q: %w", slug, store.ErrNotFound)
	}
	return err
}
