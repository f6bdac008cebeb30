package accounts

import (
	"context"
	"errors"
	"time"

	"github.com/latchkeyhq/latchkey/internal/catalog"
	"github.com/latchkeyhq/latchkey/internal/oauth"
	"github.com/latchkeyhq/latchkey/internal/store"
)

// mintAtConnect reads a minted app's secret and, unless the test is
// skipped, mints the account's first token with it. A key that cannot be
// read is bad input; a mint the provider refuses is a failed test. Either
// way nothing is saved.
func (s *Service) mintAtConnect(ctx context.Context, app *catalog.App, fields map[string]string, skipTest bool) (*oauth.Token, error) {
	m := s.minter(app, fields)
	if err := m.Check(); err != nil {
		var ke *oauth.KeyError
		if errors.As(err, &ke) {
			return nil, invalid("fields."+ke.Field, "%s", ke.Reason)
		}
		return nil, err
	}
	if skipTest {
		return nil, nil
	}
	pctx, cancel := context.WithTimeout(ctx, s.providerBudget())
	defer cancel()
	start := time.Now()
	tok, err := m.Mint(pctx)
	s.metrics.latency.Observe(time.Since(start).Seconds())
	if err != nil {
		return nil, &TestFailedError{Err: err}
	}
	return tok, nil
}

// scheduleMinted sets a minted account's expiry and next renewal from its
// first token. Without one (the test was skipped) the account is due at
// once, so the first read or the refresher mints it.
func (s *Service) scheduleMinted(a *store.Account, app *catalog.App, now time.Time, tok *oauth.Token) {
	if !app.Minted() {
		return
	}
	a.RefreshFailures, a.FailingSince = 0, nil
	if tok == nil {
		a.ExpiresAt, a.NextRefreshAt, a.LastRefreshedAt = &now, &now, nil
		return
	}
	a.ExpiresAt = expiry(tok.Expiry)
	a.LastRefreshedAt = &now
	a.NextRefreshAt = s.nextRefresh(app, now, tok.Expiry)
	if tok.Scopes != nil {
		a.Scopes = tok.Scopes
	}
}
