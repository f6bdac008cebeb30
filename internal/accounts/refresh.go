package accounts

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/latchkeyhq/latchkey/internal/appapi"
	"github.com/latchkeyhq/latchkey/internal/catalog"
	"github.com/latchkeyhq/latchkey/internal/oauth"
	"github.com/latchkeyhq/latchkey/internal/secret"
	"github.com/latchkeyhq/latchkey/internal/store"
)

// NeedsReconnectError means the account's grant is gone: the user must
// reconnect it. It names the account so callers can link to the fix.
type NeedsReconnectError struct {
	AccountID string
	Reason    string
}

func (e *NeedsReconnectError) Error() string {
	msg := "account " + e.AccountID + " needs to be reconnected"
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	return msg
}

// ErrRefreshUnavailable: the token has expired and the provider could not
// be reached to refresh it; trying again later may work.
var ErrRefreshUnavailable = errors.New("the access token has expired and the provider could not refresh it just now; try again shortly")

// errStillFresh: the account turned out refreshed by someone else, or
// needs reconnecting; nothing to write.
var errStillFresh = errors.New("already fresh")

// errSuperseded: while a refresh waited on the provider, someone else
// stored other tokens for the account (a reconnect, or a refresh that took
// over a lapsed lease). The stored ones win; the answer is dropped.
var errSuperseded = errors.New("the account's tokens changed during the refresh")

// margin is how long before expiry the account's token is refreshed on
// read: refresh_margin, but at most half the token's life, so that a
// provider issuing short-lived tokens (60 s against a 5 min margin) does
// not make every read refresh.
func (s *Service) margin(a store.Account) time.Duration {
	m := s.refreshMargin
	if a.ExpiresAt == nil {
		return m
	}
	got := a.CreatedAt
	if a.LastRefreshedAt != nil {
		got = *a.LastRefreshedAt
	}
	if life := a.ExpiresAt.Sub(got); life > 0 {
		m = min(m, life/2)
	}
	return m
}

// expiring reports whether the account's access token expires within the
// margin (or has expired).
func (s *Service) expiring(a store.Account) bool {
	return a.ExpiresAt != nil && !a.ExpiresAt.After(s.clock.Now().Add(s.margin(a)))
}

// providerBudget bounds one refresh's provider call and the store reads
// around it.
func (s *Service) providerBudget() time.Duration {
	t := s.client.Timeout
	if t <= 0 {
		t = 30 * time.Second
	}
	return t + 10*time.Second
}

// leaseLength is how long a refresh lease holds: twice what a refresh may
// take, so a live holder never loses it, and a dead one's lapses soon.
func (s *Service) leaseLength() time.Duration { return 2 * s.providerBudget() }

// Lease waiters poll the row at this interval, with jitter.
const leasePoll = 25 * time.Millisecond

// Attempts at saving a refresh's outcome once the provider has answered.
const writeAttempts = 5

// fresh returns the account with an access token valid now, refreshing it
// first when it expires within the margin. Many concurrent callers cause
// one refresh: single-flight in this process, the account's refresh lease
// across processes, and a re-check once the lease is won.
func (s *Service) fresh(ctx context.Context, acc store.Account) (store.Account, error) {
	if acc.Status == store.StatusNeedsReconnect {
		return acc, &NeedsReconnectError{AccountID: acc.ID, Reason: acc.StatusError}
	}
	if !s.expiring(acc) {
		return acc, nil
	}
	v, err, _ := s.flight.Do(acc.ID, func() (any, error) {
		// The refresh outlives a caller that gives up, so the others
		// waiting on it still get its result. It may wait out a dead
		// holder's lease, then refresh itself.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.leaseLength()+s.providerBudget())
		defer cancel()
		return s.refreshAccount(rctx, acc, false)
	})
	if err != nil {
		return acc, err
	}
	got := v.(store.Account)
	if got.Status == store.StatusNeedsReconnect {
		return got, &NeedsReconnectError{AccountID: got.ID, Reason: got.StatusError}
	}
	if got.ExpiresAt != nil && !got.ExpiresAt.After(s.clock.Now()) {
		return got, ErrRefreshUnavailable
	}
	return got, nil
}

// refreshAccount refreshes one account under its refresh lease and returns
// the account as stored afterwards. Without force, it refreshes only if the
// token (re-read once the lease is won) is still expiring. When another
// holds the lease, it waits for that holder's outcome instead; when that
// holder died, it takes the lapsed lease itself.
func (s *Service) refreshAccount(ctx context.Context, acc store.Account, force bool) (store.Account, error) {
	for {
		holder := rand.Text()
		now := s.clock.Now()
		won, err := s.store.TakeRefreshLease(ctx, acc.WorkspaceID, acc.ID, holder, now, now.Add(s.leaseLength()))
		if err != nil {
			return acc, fmt.Errorf("refresh account %s: %w", acc.ID, err)
		}
		if won {
			cur, err := s.store.GetAccount(ctx, acc.WorkspaceID, acc.ID)
			if err != nil {
				s.release(acc, holder)
				return acc, fmt.Errorf("refresh account %s: %w", acc.ID, err)
			}
			if cur.Status == store.StatusNeedsReconnect || (!force && !s.expiring(cur)) {
				// Refreshed by someone else just now.
				s.release(cur, holder)
				cur.RefreshLeaseHolder, cur.RefreshLeaseUntil = "", nil
				return s.remember(cur), nil
			}
			return s.refreshLeased(ctx, cur, holder)
		}
		cur, lapsed, err := s.awaitLease(ctx, acc)
		if err != nil {
			return acc, err
		}
		if !lapsed {
			return s.remember(cur), nil
		}
		s.log.WarnContext(ctx, "a refresh lease lapsed; its holder is gone, refreshing again", "account", acc.ID, "app", acc.App)
	}
}

// sameGrant reports whether a, as stored now, still holds the refresh
// token the refresh spent (read holds it as read then): the compare in the
// compare-and-swap. The sealed bytes match unless someone wrote; a key
// rotation re-seals the same tokens, so compare those when they differ.
func (s *Service) sameGrant(a, read store.Account, spent Credentials) bool {
	if bytes.Equal(a.Credentials, read.Credentials) {
		return true
	}
	// A minted account's grant is its entered secret: new keys given
	// meanwhile win over a token minted from the old ones.
	cur, err := s.open(a)
	return err == nil && cur.RefreshToken == spent.RefreshToken && maps.Equal(cur.Fields, spent.Fields)
}

// applyToken records a refresh's new tokens on the account.
func (s *Service) applyToken(a *store.Account, app *catalog.App, now time.Time, tok *oauth.Token) error {
	creds, err := s.open(*a)
	if err != nil {
		return err
	}
	creds.AccessToken = tok.AccessToken.Reveal()
	// Refresh keeps the old refresh token when the answer has none, so a
	// rotated one is saved and an unrotated one is never dropped.
	creds.RefreshToken = tok.RefreshToken.Reveal()
	for k, v := range tok.Kept {
		if creds.Kept == nil {
			creds.Kept = map[string]string{}
		}
		creds.Kept[k] = v
	}
	sealed, err := s.seal(a.ID, creds)
	if err != nil {
		return fmt.Errorf("seal the new tokens: %w", err)
	}
	a.Credentials = sealed
	if tok.Scopes != nil {
		a.Scopes = tok.Scopes
	}
	a.ExpiresAt = expiry(tok.Expiry)
	a.LastRefreshedAt = &now
	a.NextRefreshAt = s.nextRefresh(app, now, tok.Expiry)
	a.Status, a.StatusError = store.StatusHealthy, ""
	a.RefreshFailures, a.FailingSince = 0, nil
	return nil
}

// RefreshDue renews up to limit accounts whose next refresh time has come,
// and returns how many it refreshed. The background refresher calls it; on
// PostgreSQL several replicas share the work without overlap. Each account
// is claimed in a short transaction that takes its refresh lease; the
// provider is called after that transaction ends.
func (s *Service) RefreshDue(ctx context.Context, limit int) (int, error) {
	done := 0
	for range limit {
		if ctx.Err() != nil {
			return done, ctx.Err()
		}
		holder := rand.Text()
		now := s.clock.Now()
		until := now.Add(s.leaseLength())
		var claimed *store.Account
		n, err := s.store.RefreshDue(ctx, now, 1, func(a *store.Account) error {
			claimed = nil
			if a.RefreshLeaseHolder != "" && a.RefreshLeaseUntil != nil && a.RefreshLeaseUntil.After(now) {
				// A reader is refreshing it; its write sets the next
				// time. Look again should its lease lapse.
				next := *a.RefreshLeaseUntil
				a.NextRefreshAt = &next
				return nil
			}
			a.RefreshLeaseHolder, a.RefreshLeaseUntil = holder, &until
			// Should this process die, the account comes due again when
			// the lease lapses.
			a.NextRefreshAt = &until
			c := *a
			claimed = &c
			return nil
		})
		if err != nil {
			return done, err
		}
		if n == 0 {
			break
		}
		if claimed == nil {
			continue
		}
		s.cache.Delete(cacheKey(claimed.WorkspaceID, claimed.ID))
		// A shutdown does not cut a claimed refresh short: a rotating
		// provider may already have spent the old refresh token, and the
		// new one exists only in its answer. The provider budget bounds
		// the wait; the loop stops claiming once ctx is done.
		if _, err := s.refreshLeased(context.WithoutCancel(ctx), *claimed, holder); err != nil {
			return done, err
		}
		done++
	}
	return done, nil
}

// NextDue is when the earliest account comes due for the background
// refresher (perhaps already past); false when none is scheduled.
func (s *Service) NextDue(ctx context.Context) (time.Time, bool, error) {
	return s.store.NextRefreshAt(ctx)
}

// renewal is how one account gets a new access token: an OAuth 2 refresh,
// or a mint from the secret a minted app's account keeps.
type renewal func(ctx context.Context) (*oauth.Token, error)

// prepareRenewal reads what renewing the account needs.
func (s *Service) prepareRenewal(ctx context.Context, a *store.Account) (*catalog.App, Credentials, renewal, error) {
	app, err := s.apps.App(ctx, a.WorkspaceID, a.App)
	if err != nil {
		return nil, Credentials{}, nil, err
	}
	if !app.Minted() {
		app, creds, flow, err := s.prepareRefresh(ctx, a)
		if err != nil {
			return app, creds, nil, err
		}
		return app, creds, func(ctx context.Context) (*oauth.Token, error) {
			return flow.Refresh(ctx, secret.New(creds.RefreshToken))
		}, nil
	}
	creds, err := s.open(*a)
	if err != nil {
		return app, Credentials{}, nil, err
	}
	return app, creds, s.minter(app, creds.Fields).Mint, nil
}

// minter mints tokens for an account of a minted app.
func (s *Service) minter(app *catalog.App, fields map[string]string) *oauth.Minter {
	return &oauth.Minter{App: app, Fields: fields, HTTP: s.client, Now: s.clock.Now}
}

func (s *Service) prepareRefresh(ctx context.Context, a *store.Account) (*catalog.App, Credentials, *oauth.Flow, error) {
	app, err := s.apps.App(ctx, a.WorkspaceID, a.App)
	if err != nil {
		return nil, Credentials{}, nil, err
	}
	if app.Auth != catalog.AuthOAuth2 {
		return app, Credentials{}, nil, fmt.Errorf("%s does not use OAuth 2", app.Name)
	}
	creds, err := s.open(*a)
	if err != nil {
		return app, Credentials{}, nil, err
	}
	flow, err := s.clients.Flow(ctx, a.WorkspaceID, a.OAuthClientID, app, creds.Fields)
	if errors.Is(err, store.ErrNotFound) {
		return app, Credentials{}, nil, fmt.Errorf("the OAuth client the account was made with is gone: %w", err)
	}
	if err != nil {
		return app, Credentials{}, nil, err
	}
	return app, creds, flow, nil
}

// Recheck tests an account again after an app refused its credentials. An
// OAuth account refreshes now: a permanent failure marks it
// needs_reconnect. A key account runs the app's test request: a 401 or
// 403, or a refusal of the credentials in the body, marks it
// needs_reconnect. It returns the account as it stands after.
func (s *Service) Recheck(ctx context.Context, actor Actor, id string) (Account, error) {
	acc, err := s.recheck(ctx, actor, id)
	return viewOf(acc), err
}

func (s *Service) recheck(ctx context.Context, actor Actor, id string) (store.Account, error) {
	acc, err := s.visible(ctx, actor, id)
	if err != nil {
		return store.Account{}, err
	}
	app, err := s.apps.App(ctx, acc.WorkspaceID, acc.App)
	if err != nil {
		return acc, err
	}
	var events []store.AuditEvent
	switch app.Auth {
	case catalog.AuthOAuth2, catalog.AuthClientCredentials, catalog.AuthJWTBearer, catalog.AuthTwoStep:
		if acc.Status == store.StatusNeedsReconnect {
			return acc, nil
		}
		return s.refreshAccount(ctx, acc, true)
	case catalog.AuthKeys, catalog.AuthBasic, catalog.AuthOAuth1:
		// A key account's test request, or an OAuth 1.0a account's
		// identity request: its token does not expire, so the provider's
		// answer is its health.
		probe := app.Test
		if app.Auth == catalog.AuthOAuth1 {
			probe = app.Identity
		}
		if probe == nil {
			return acc, nil
		}
		creds, err := s.open(acc)
		if err != nil {
			return acc, err
		}
		values, err := s.requestValues(ctx, acc, app, creds)
		if err != nil {
			return acc, err
		}
		_, perr := appapi.Probe(ctx, s.client, app, probe, values)
		var se *appapi.StatusError
		if !errors.As(perr, &se) || !se.CredentialsRefused() {
			return acc, nil
		}
		acc, err = s.store.UpdateAccount(ctx, acc.WorkspaceID, acc.ID, func(a *store.Account) error {
			if a.Status == store.StatusNeedsReconnect {
				return errStillFresh
			}
			a.Status, a.StatusError, a.UpdatedAt = store.StatusNeedsReconnect, "the app refused the credentials: "+perr.Error(), s.clock.Now().UTC()
			events = []store.AuditEvent{{WorkspaceID: a.WorkspaceID, ActorID: "system", AccountID: a.ID, Action: ActionNeedsReconnect,
				Detail: map[string]string{"app": a.App, "error": clip(perr.Error(), 300)}}}
			a.Outbox = outboxOf(*a, a.UpdatedAt, events)
			return nil
		})
	default:
		return acc, nil
	}
	if errors.Is(err, errStillFresh) {
		return s.store.GetAccount(ctx, actor.WorkspaceID, id)
	}
	if err != nil {
		return acc, err
	}
	s.remember(acc)
	for _, e := range events {
		s.audit(ctx, Actor{WorkspaceID: e.WorkspaceID, UserID: e.ActorID}, e.AccountID, e.Action, e.Detail)
	}
	return acc, nil
}
