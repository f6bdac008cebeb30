package webhooks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/latchkeyhq/latchkey/internal/ids"
	"github.com/latchkeyhq/latchkey/internal/outbound"
	"github.com/latchkeyhq/latchkey/internal/store"
)

const (
	// requestTimeout bounds one delivery attempt.
	requestTimeout = 15 * time.Second
	// leaseLength outlasts an attempt, so a lease lapses only when its
	// holder died.
	leaseLength = 2 * requestTimeout
	// RetryFor is how long a failing delivery is retried, from its event.
	RetryFor = 24 * time.Hour
	// DefaultRetryBase is the wait after a first failure.
	DefaultRetryBase = 30 * time.Second
	backoffMax       = time.Hour
	batch            = 20
)

// errLeaseLost: another deliverer took the row after this one's lease
// lapsed; its outcome wins.
var errLeaseLost = errors.New("the delivery's lease was lost")

// backoff is the wait after the nth failed attempt, before jitter.
func backoff(base time.Duration, n int) time.Duration {
	d := base
	for i := 1; i < n && d < backoffMax; i++ {
		d *= 2
	}
	return min(d, backoffMax)
}

// jitter spreads retries over [d/2, d], so endpoints that fail together
// are not hit together again.
func jitter(d time.Duration) time.Duration {
	return d/2 + time.Duration(mrand.Int64N(int64(d/2)+1))
}

// DeliverDue sends up to one batch of due deliveries and says how many it
// took. Each is leased first, so replicas share the work, each row once.
// The batch is sent at once, so one slow receiver holds up no other; a
// batch never holds two of one account's events to one endpoint (the
// lease passes over the later), so order holds.
func (s *Service) DeliverDue(ctx context.Context) (int, error) {
	now := s.clock.Now().UTC()
	list, err := s.store.LeaseWebhookDeliveries(ctx, s.holder, now, now.Add(leaseLength), batch)
	if err != nil {
		return 0, fmt.Errorf("lease webhook deliveries: %w", err)
	}
	var wg sync.WaitGroup
	for _, d := range list {
		wg.Go(func() { s.deliver(ctx, d) })
	}
	wg.Wait()
	return len(list), nil
}

// Run delivers until ctx is done, passing every interval and at once
// again while batches come back full.
func (s *Service) Run(ctx context.Context, interval time.Duration) {
	for {
		n, err := s.DeliverDue(ctx)
		if err != nil && ctx.Err() == nil {
			s.log.ErrorContext(ctx, "webhook delivery pass failed", "err", err)
		}
		wait := interval
		if n == batch {
			wait = 0
		}
		select {
		case <-ctx.Done():
			return
		case <-s.clock.After(wait):
		}
	}
}

// deliver makes one attempt and records it.
func (s *Service) deliver(ctx context.Context, d store.WebhookDelivery) {
	e, err := s.store.GetWebhookEndpoint(ctx, d.WorkspaceID, d.EndpointID)
	if err != nil {
		s.log.WarnContext(ctx, "webhook delivery without its endpoint", "delivery", d.ID, "err", err)
		return
	}
	code, errText := 0, ""
	start := s.clock.Now().UTC()
	if !e.Enabled {
		errText = "the endpoint is disabled"
	} else {
		code, errText = s.send(ctx, e, d)
	}
	now := s.clock.Now().UTC()
	attempt := &store.WebhookAttempt{ID: ids.New(ids.WebhookAttempt, start), AttemptedAt: start, StatusCode: code, Error: errText, Duration: now.Sub(start)}
	gone := code == http.StatusGone
	_, err = s.store.UpdateWebhookDelivery(context.WithoutCancel(ctx), d.WorkspaceID, d.ID, func(r *store.WebhookDelivery) error {
		if r.LeaseHolder != s.holder {
			return errLeaseLost
		}
		r.Attempts++
		r.LastStatusCode, r.LastError, r.LastAttemptAt, r.UpdatedAt = code, errText, &now, now
		r.LeaseHolder, r.LeaseUntil = "", nil
		r.NewAttempt = attempt
		switch {
		case code >= 200 && code < 300:
			r.Status, r.NextAttemptAt = store.DeliveryDelivered, nil
		case gone || !e.Enabled:
			r.Status, r.NextAttemptAt = store.DeliveryFailed, nil
		default:
			next := now.Add(jitter(backoff(s.retry, r.Attempts)))
			if next.Sub(r.EventCreatedAt) > RetryFor {
				r.Status, r.NextAttemptAt = store.DeliveryFailed, nil
			} else {
				r.NextAttemptAt = &next
			}
		}
		return nil
	})
	if err != nil {
		s.log.WarnContext(ctx, "recording a webhook delivery failed", "delivery", d.ID, "err", err)
	}
	if gone {
		// 410 Gone: the receiver says the endpoint is no more.
		if _, err := s.store.UpdateWebhookEndpoint(context.WithoutCancel(ctx), e.WorkspaceID, e.ID, func(e *store.WebhookEndpoint) error {
			e.Enabled, e.DisabledReason, e.UpdatedAt = false, "the endpoint answered 410 Gone", now
			return nil
		}); err != nil {
			s.log.WarnContext(ctx, "disabling a gone webhook endpoint failed", "endpoint", e.ID, "err", err)
		}
		s.log.InfoContext(ctx, "webhook endpoint disabled: it answered 410 Gone", "endpoint", e.ID)
	}
}

// send POSTs the signed payload through the guarded client and returns
// the status code (0 when there was none) and a short error text.
func (s *Service) send(ctx context.Context, e store.WebhookEndpoint, d store.WebhookDelivery) (int, string) {
	secrets, err := s.openSecrets(e)
	if err != nil {
		s.log.ErrorContext(ctx, "webhook secrets unreadable", "endpoint", e.ID, "err", err)
		return 0, "the endpoint's signing secret could not be read"
	}
	now := s.clock.Now()
	sig, err := signature(secrets, d.EventID, now, d.Payload)
	if err != nil {
		return 0, err.Error()
	}
	rctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, e.URL, bytes.NewReader(d.Payload))
	if err != nil {
		return 0, "the endpoint's URL is not valid"
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Latchkey-Webhooks")
	req.Header.Set(standardwebhooks.HeaderWebhookID, d.EventID)
	req.Header.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(standardwebhooks.HeaderWebhookSignature, sig)
	resp, err := s.client.Do(req)
	if err != nil {
		// The cause alone: the URL, which may carry a receiver's token
		// in its path, is not repeated into the attempt's record.
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err
		}
		return 0, outbound.Clip(err.Error())
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp.StatusCode, ""
	}
	return resp.StatusCode, outbound.Clip(fmt.Sprintf("%s: %s", resp.Status, body))
}
