package accounts

import (
	"context"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"strconv"
	"time"

	"github.com/latchkeyhq/latchkey/internal/oauth"
	"github.com/latchkeyhq/latchkey/internal/store"
)

// awaitLease polls the account until the lease's holder releases it, and
// returns the account as that holder left it, or until the lease lapses
// (its holder died), reported as lapsed.
func (s *Service) awaitLease(ctx context.Context, acc store.Account) (store.Account, bool, error) {
	for {
		// Real time, not the injected clock: this waits on another
		// process, whereas the lease's lapse is the clock's business.
		t := time.NewTimer(leasePoll/2 + time.Duration(mrand.Int64N(int64(leasePoll))))
		select {
		case <-ctx.Done():
			t.Stop()
			return acc, false, fmt.Errorf("waiting for the refresh of account %s: %w", acc.ID, ctx.Err())
		case <-t.C:
		}
		cur, err := s.store.GetAccount(ctx, acc.WorkspaceID, acc.ID)
		if err != nil {
			return acc, false, fmt.Errorf("waiting for the refresh of account %s: %w", acc.ID, err)
		}
		if cur.RefreshLeaseHolder == "" {
			return cur, false, nil
		}
		if cur.RefreshLeaseUntil == nil || !cur.RefreshLeaseUntil.After(s.clock.Now()) {
			return cur, true, nil
		}
	}
}

// release gives up a lease without writing an outcome.
func (s *Service) release(acc store.Account, holder string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.store.ReleaseRefreshLease(ctx, acc.WorkspaceID, acc.ID, holder); err != nil {
		// It lapses on its own.
		s.log.Warn("releasing a refresh lease failed", "account", acc.ID, "err", err)
	}
}

// refreshLeased refreshes acc, as read after holder won its lease: it calls
// the provider with no transaction open, then writes the outcome (new
// tokens, or the failure with its backoff and health) in one short
// UpdateAccount that also releases the lease.
func (s *Service) refreshLeased(ctx context.Context, acc store.Account, holder string) (store.Account, error) {
	now := s.clock.Now().UTC()
	app, creds, renew, err := s.prepareRenewal(ctx, &acc)
	var tok *oauth.Token
	if err != nil {
		err = &oauth.Error{Kind: oauth.Permanent, Description: err.Error()}
	} else {
		pctx, cancel := context.WithTimeout(ctx, s.providerBudget())
		start := time.Now()
		tok, err = renew(pctx)
		s.metrics.latency.Observe(time.Since(start).Seconds())
		cancel()
	}
	if err == nil {
		s.metrics.refreshes.WithLabelValues("ok").Inc()
	}

	var events []store.AuditEvent
	updated, werr := s.writeOutcome(ctx, acc, func(a *store.Account) error {
		if !s.sameGrant(*a, acc, creds) {
			return errSuperseded
		}
		if a.RefreshLeaseHolder == holder {
			a.RefreshLeaseHolder, a.RefreshLeaseUntil = "", nil
		}
		a.UpdatedAt = now
		if err != nil {
			events = s.recordFailure(a, app, now, err)
			a.Outbox = outboxOf(*a, now, events)
			return nil
		}
		// Transient failures recorded before this success: the account
		// works again, and says so once.
		failures := a.RefreshFailures
		events = nil
		if err := s.applyToken(a, app, now, tok); err != nil {
			return err
		}
		if failures > 0 {
			events = []store.AuditEvent{{WorkspaceID: a.WorkspaceID, ActorID: "system", AccountID: a.ID, Action: ActionRecovered,
				Detail: map[string]string{"app": a.App, "failures": strconv.Itoa(failures)}}}
			a.Outbox = outboxOf(*a, now, events)
			s.log.InfoContext(ctx, "account recovered: refresh works again", "account", a.ID, "app", a.App, "failures", failures)
		}
		return nil
	})
	if errors.Is(werr, errSuperseded) {
		s.log.WarnContext(ctx, "refresh answer dropped: the account's tokens changed meanwhile", "account", acc.ID, "app", acc.App)
		s.release(acc, holder)
		cur, err := s.store.GetAccount(ctx, acc.WorkspaceID, acc.ID)
		if err != nil {
			return acc, fmt.Errorf("refresh account %s: %w", acc.ID, err)
		}
		return s.remember(cur), nil
	}
	if werr != nil {
		return acc, fmt.Errorf("refresh account %s: %w", acc.ID, werr)
	}
	if err == nil {
		s.log.InfoContext(ctx, "token refreshed", "account", acc.ID, "app", acc.App)
	}
	s.remember(updated)
	for _, e := range events {
		s.audit(ctx, Actor{WorkspaceID: e.WorkspaceID, UserID: e.ActorID}, e.AccountID, e.Action, e.Detail)
	}
	return updated, nil
}

// writeOutcome saves what a refresh got. The provider has answered, so a
// rotated refresh token now exists only in memory: the write goes on
// though the caller has gone, and a failed write is tried again a few
// times before the loss is logged.
func (s *Service) writeOutcome(ctx context.Context, acc store.Account, fn func(*store.Account) error) (store.Account, error) {
	ctx = context.WithoutCancel(ctx)
	var err error
	for attempt := range writeAttempts {
		if attempt > 0 {
			time.Sleep(time.Duration(attempt) * 100 * time.Millisecond)
		}
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		var updated store.Account
		updated, err = s.store.UpdateAccount(wctx, acc.WorkspaceID, acc.ID, fn)
		cancel()
		if err == nil || errors.Is(err, errSuperseded) || errors.Is(err, store.ErrNotFound) {
			return updated, err
		}
		s.log.WarnContext(ctx, "saving a refresh's outcome failed; trying again", "account", acc.ID, "attempt", attempt+1, "err", err)
	}
	// The tokens stay out of the log; a rotating provider's grant is now
	// lost and the account will need reconnecting.
	s.log.ErrorContext(ctx, "the refreshed tokens could not be saved and are lost", "account", acc.ID, "app", acc.App, "attempts", writeAttempts, "err", err)
	return acc, err
}
