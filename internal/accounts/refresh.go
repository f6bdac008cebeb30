package accounts

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
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

// errStillFresh: under the row lock, the account turned out refreshed by
// someone else; nothing to write.
var errStillFresh = errors.New("already fresh")

// expiring reports whether the account's access token expires within the
// margin (or has expired).
func (s *Service) expiring(a store.Account) bool {
	return a.ExpiresAt != nil && !a.ExpiresAt.After(s.clock.Now().Add(s.refreshMargin))
}

// fresh returns the account with an access token valid now, refreshing it
// first when it expires within the margin. Many concurrent callers cause
// one refresh: single-flight in this process, the row lock across
// processes, and a re-check once the lock is held.
func (s *Service) fresh(ctx context.Context, acc store.Account) (store.Account, error) {
	if acc.Status == store.StatusNeedsReconnect {
		return acc, &NeedsReconnectError{AccountID: acc.ID, Reason: acc.StatusError}
	}
	if !s.expiring(acc) {
		return acc, nil
	}
	v, err, _ := s.flight.Do(acc.ID, func() (any, error) {
		// The refresh outlives a caller that gives up, so the others
		// waiting on it still get its result.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*s.client.Timeout+30*time.Second)
		defer cancel()
		return s.refreshAccount(rctx, acc)
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

// refreshAccount refreshes one account under its row lock and returns the
// account as stored afterwards.
func (s *Service) refreshAccount(ctx context.Context, acc store.Account) (store.Account, error) {
	var events []store.AuditEvent
	updated, err := s.store.UpdateAccount(ctx, acc.WorkspaceID, acc.ID, func(a *store.Account) error {
		if !s.expiring(*a) || a.Status == store.StatusNeedsReconnect {
			return errStillFresh
		}
		events = s.refreshLocked(ctx, a)
		return nil
	})
	if errors.Is(err, errStillFresh) {
		fresh, err := s.store.GetAccount(ctx, acc.WorkspaceID, acc.ID)
		if err != nil {
			return acc, err
		}
		return s.remember(fresh), nil
	}
	if err != nil {
		return acc, fmt.Errorf("refresh account %s: %w", acc.ID, err)
	}
	s.remember(updated)
	for _, e := range events {
		s.audit(ctx, Actor{WorkspaceID: e.WorkspaceID, UserID: e.ActorID}, e.AccountID, e.Action, e.Detail)
	}
	return updated, nil
}

// RefreshDue renews up to limit accounts whose next refresh time has come,
// and returns how many it handled. The background refresher calls it; on
// PostgreSQL several replicas share the work without overlap.
func (s *Service) RefreshDue(ctx context.Context, limit int) (int, error) {
	var events []store.AuditEvent
	n, err := s.store.RefreshDue(ctx, s.clock.Now(), limit, func(a *store.Account) error {
		s.cache.Delete(cacheKey(a.WorkspaceID, a.ID))
		events = append(events, s.refreshLocked(ctx, a)...)
		return nil
	})
	for _, e := range events {
		s.audit(ctx, Actor{WorkspaceID: e.WorkspaceID, UserID: e.ActorID}, e.AccountID, e.Action, e.Detail)
	}
	return n, err
}

// refreshLocked refreshes the account it is given, which the caller holds
// locked, and records the outcome on it: new tokens, or the failure with
// its backoff and health. It returns the audit events to write once the
// lock is released. It makes no store writes.
func (s *Service) refreshLocked(ctx context.Context, a *store.Account) []store.AuditEvent {
	now := s.clock.Now().UTC()
	a.UpdatedAt = now
	app, creds, flow, err := s.prepareRefresh(ctx, a)
	if err != nil {
		return s.recordFailure(a, app, now, &oauth.Error{Kind: oauth.Permanent, Description: err.Error()})
	}
	start := time.Now()
	tok, err := flow.Refresh(ctx, secret.New(creds.RefreshToken))
	s.metrics.latency.Observe(time.Since(start).Seconds())
	if err != nil {
		return s.recordFailure(a, app, now, err)
	}
	s.metrics.refreshes.WithLabelValues("ok").Inc()
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
		return s.recordFailure(a, app, now, &oauth.Error{Kind: oauth.Transient, Description: "sealing the new tokens failed"})
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
	s.log.InfoContext(ctx, "token refreshed", "account", a.ID, "app", a.App)
	return nil
}

func (s *Service) prepareRefresh(ctx context.Context, a *store.Account) (*catalog.App, Credentials, *oauth.Flow, error) {
	app, err := s.App(ctx, a.WorkspaceID, a.App)
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
	client, err := s.store.GetOAuthClient(ctx, a.WorkspaceID, a.OAuthClientID)
	if err != nil {
		return app, Credentials{}, nil, fmt.Errorf("the OAuth client the account was made with is gone: %w", err)
	}
	flow, err := s.flow(app, client, creds.Fields)
	if err != nil {
		return app, Credentials{}, nil, err
	}
	return app, creds, flow, nil
}

// Backoff of transient refresh failures.
const (
	backoffBase = 30 * time.Second
	backoffMax  = 30 * time.Minute
)

// recordFailure applies a failed refresh to the account. A permanent
// failure turns it needs_reconnect at once; transient ones back off with
// jitter and keep it healthy until they have lasted UnhealthyAfter.
func (s *Service) recordFailure(a *store.Account, app *catalog.App, now time.Time, err error) []store.AuditEvent {
	wasHealthy := a.Status == store.StatusHealthy
	event := func(action string) store.AuditEvent {
		return store.AuditEvent{WorkspaceID: a.WorkspaceID, ActorID: "system", AccountID: a.ID, Action: action,
			Detail: map[string]string{"app": a.App, "error": clip(err.Error(), 300)}}
	}
	if oauth.IsPermanent(err) {
		s.metrics.refreshes.WithLabelValues("permanent").Inc()
		a.Status, a.StatusError = store.StatusNeedsReconnect, "refresh failed: "+err.Error()
		a.NextRefreshAt = nil
		s.log.Warn("account needs reconnect", "account", a.ID, "app", a.App, "err", err)
		if wasHealthy {
			return []store.AuditEvent{event(ActionNeedsReconnect)}
		}
		return nil
	}
	s.metrics.refreshes.WithLabelValues("transient").Inc()
	a.RefreshFailures++
	if a.FailingSince == nil {
		a.FailingSince = &now
	}
	a.StatusError = "refresh failed, will retry: " + err.Error()
	if now.Sub(*a.FailingSince) >= s.unhealthyAfter {
		a.Status, a.NextRefreshAt = store.StatusNeedsReconnect, nil
		a.StatusError = fmt.Sprintf("refresh has failed since %s: %v", a.FailingSince.Format(time.RFC3339), err)
		if wasHealthy {
			return []store.AuditEvent{event(ActionNeedsReconnect)}
		}
		return nil
	}
	next := now.Add(jitter(backoff(a.RefreshFailures)))
	a.NextRefreshAt = &next
	s.log.Warn("token refresh failed; will retry", "account", a.ID, "app", a.App, "failures", a.RefreshFailures, "retry_at", next, "err", err)
	if a.RefreshFailures == 1 {
		return []store.AuditEvent{event(ActionRefreshFailed)}
	}
	return nil
}

func backoff(failures int) time.Duration {
	d := backoffBase
	for i := 1; i < failures && d < backoffMax; i++ {
		d *= 2
	}
	return min(d, backoffMax)
}

// jitter spreads d over [d/2, 3d/2) so that accounts do not retry in step.
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return d
	}
	return d/2 + time.Duration(rand.Int64N(int64(d)))
}

// nextRefresh is when the refresher should renew a token: well before it
// expires (a tenth of its life, at least twice the read margin, with
// jitter), and before an unused refresh token would lapse.
func (s *Service) nextRefresh(app *catalog.App, now, exp time.Time) *time.Time {
	var next time.Time
	if !exp.IsZero() {
		life := exp.Sub(now)
		lead := max(2*s.refreshMargin, life/10)
		next = exp.Add(-lead - jitter(min(lead/4, 5*time.Minute)))
		if !next.After(now) {
			next = now.Add(life / 2)
		}
	}
	if idle := time.Duration(app.OAuth2.RefreshTokenIdle); idle > 0 {
		touch := now.Add(idle/2 + jitter(idle/10))
		if next.IsZero() || touch.Before(next) {
			next = touch
		}
	}
	if next.IsZero() || !next.After(now) {
		if next.IsZero() {
			return nil
		}
		next = now.Add(time.Second)
	}
	return &next
}

// Recheck tests an account again after an app refused its credentials. An
// OAuth account refreshes now: a permanent failure marks it
// needs_reconnect. A key account runs the app's test request: a 401 or 403
// marks it needs_reconnect. It returns the account as it stands after.
func (s *Service) Recheck(ctx context.Context, actor Actor, id string) (store.Account, error) {
	acc, err := s.visible(ctx, actor, id)
	if err != nil {
		return store.Account{}, err
	}
	app, err := s.App(ctx, acc.WorkspaceID, acc.App)
	if err != nil {
		return acc, err
	}
	var events []store.AuditEvent
	switch app.Auth {
	case catalog.AuthOAuth2:
		acc, err = s.store.UpdateAccount(ctx, acc.WorkspaceID, acc.ID, func(a *store.Account) error {
			if a.Status == store.StatusNeedsReconnect {
				return errStillFresh
			}
			events = s.refreshLocked(ctx, a)
			return nil
		})
	case catalog.AuthKeys:
		if app.Test == nil {
			return acc, nil
		}
		creds, err := s.open(acc)
		if err != nil {
			return acc, err
		}
		_, perr := appapi.Probe(ctx, s.client, app, app.Test, creds.Values())
		var se *appapi.StatusError
		if !errors.As(perr, &se) || (se.Status != 401 && se.Status != 403) {
			return acc, nil
		}
		acc, err = s.store.UpdateAccount(ctx, acc.WorkspaceID, acc.ID, func(a *store.Account) error {
			if a.Status == store.StatusNeedsReconnect {
				return errStillFresh
			}
			a.Status, a.StatusError, a.UpdatedAt = store.StatusNeedsReconnect, "the app refused the credentials: "+perr.Error(), s.clock.Now().UTC()
			events = []store.AuditEvent{{WorkspaceID: a.WorkspaceID, ActorID: "system", AccountID: a.ID, Action: ActionNeedsReconnect,
				Detail: map[string]string{"app": a.App, "error": clip(perr.Error(), 300)}}}
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
