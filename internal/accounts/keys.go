package accounts

import (
	"context"

	"github.com/latchkeyhq/latchkey/internal/appapi"
	"github.com/latchkeyhq/latchkey/internal/catalog"
	"github.com/latchkeyhq/latchkey/internal/oauth"
)

// checked is what checkKeys found of entered keys.
type checked struct {
	creds    Credentials
	untested bool
	label    string
	// tok is a minted app's first token; nil when the test was skipped.
	tok *oauth.Token
}

// checkKeys checks entered keys against the app's fields and, unless
// skipped, its test request, and labels them with its identity request
// unless that is skipped. A minted app's secret is read first (a bad key
// is refused whatever is skipped), and its first token minted unless the
// test is skipped: the mint is the test of the secret.
func (s *Service) checkKeys(ctx context.Context, app *catalog.App, fields map[string]string, skipTest, skipIdentify bool) (checked, error) {
	fields, err := CheckFields(app, fields)
	if err != nil {
		return checked{}, err
	}
	c := checked{creds: Credentials{Fields: fields}, untested: skipTest || app.Test == nil}
	if app.Minted() {
		if c.tok, err = s.mintAtConnect(ctx, app, fields, skipTest); err != nil {
			return checked{}, err
		}
		if c.tok == nil {
			// Nothing to test or identify with until the first mint.
			return checked{creds: c.creds, untested: true}, nil
		}
		c.creds.AccessToken, c.creds.Kept = c.tok.AccessToken.Reveal(), c.tok.Kept
		// The mint proved the secret; a test request proves more.
		c.untested = skipTest
	}
	if !skipTest && app.Test != nil {
		if _, err := appapi.Probe(ctx, s.client, app, app.Test, c.creds.Values(app)); err != nil {
			return checked{}, &TestFailedError{Err: err}
		}
	}
	if !skipIdentify {
		c.label = s.identify(ctx, app, c.creds.Values(app))
	}
	return c, nil
}

// identify labels an account; a failed identity request leaves the label
// empty rather than failing the connection.
func (s *Service) identify(ctx context.Context, app *catalog.App, v appapi.Values) string {
	label, err := appapi.Identify(ctx, s.client, app, v)
	if err != nil {
		s.log.WarnContext(ctx, "identity request failed", "app", app.Slug, "err", err)
	}
	return label
}
