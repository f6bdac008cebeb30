package accounts

import (
	"fmt"
	mrand "math/rand/v2"
	"time"

	"github.com/latchkeyhq/latchkey/internal/catalog"
	"github.com/latchkeyhq/latchkey/internal/oauth"
	"github.com/latchkeyhq/latchkey/internal/store"
)

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

func refreshTokenIdle(app *catalog.App) time.Duration {
	if app.OAuth2 == nil {
		return 0
	}
	return time.Duration(app.OAuth2.RefreshTokenIdle)
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
	return d/2 + time.Duration(mrand.Int64N(int64(d)))
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
	// A minted account has no refresh token to keep alive, and an OAuth
	// 1.0a token does not expire.
	if idle := refreshTokenIdle(app); idle > 0 {
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
