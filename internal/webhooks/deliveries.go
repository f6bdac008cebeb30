package webhooks

// The deliveries of an endpoint: their history, and sending one again.

import (
	"context"
	"time"

	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/store"
)

// Delivery is one event's delivery to one endpoint.
type Delivery struct {
	ID             string
	EventID        string
	EventType      string
	Status         string
	Attempts       int
	NextAttemptAt  *time.Time
	LastStatusCode int
	LastError      string
	LastAttemptAt  *time.Time
	CreatedAt      time.Time
	// History is every attempt, oldest first.
	History []Attempt
}

// Attempt is one try at sending a delivery.
type Attempt struct {
	At         time.Time
	StatusCode int
	Error      string
	Duration   time.Duration
}

func deliveryView(d store.WebhookDelivery, attempts []store.WebhookAttempt) Delivery {
	v := Delivery{ID: d.ID, EventID: d.EventID, EventType: d.EventType, Status: string(d.Status), Attempts: d.Attempts,
		NextAttemptAt: d.NextAttemptAt, LastStatusCode: d.LastStatusCode, LastError: d.LastError, LastAttemptAt: d.LastAttemptAt, CreatedAt: d.CreatedAt,
		History: []Attempt{}}
	for _, at := range attempts {
		v.History = append(v.History, Attempt{At: at.AttemptedAt, StatusCode: at.StatusCode, Error: at.Error, Duration: at.Duration})
	}
	return v
}

// withHistory reads the attempts of a page of deliveries, in one query.
func (s *Service) withHistory(ctx context.Context, workspaceID string, list []store.WebhookDelivery) ([]Delivery, error) {
	var idList []string
	for _, d := range list {
		idList = append(idList, d.ID)
	}
	attempts, err := s.store.WebhookAttempts(ctx, workspaceID, idList)
	if err != nil {
		return nil, err
	}
	out := []Delivery{}
	for _, d := range list {
		out = append(out, deliveryView(d, attempts[d.ID]))
	}
	return out, nil
}

// Delivery returns one of an endpoint's deliveries with its attempts.
func (s *Service) Delivery(ctx context.Context, a identity.Actor, endpointID, id string) (Delivery, error) {
	if err := may(a); err != nil {
		return Delivery{}, err
	}
	d, err := s.store.GetWebhookDelivery(ctx, a.WorkspaceID, id)
	if err != nil {
		return Delivery{}, notFound(err)
	}
	if d.EndpointID != endpointID {
		return Delivery{}, ErrNotFound
	}
	list, err := s.withHistory(ctx, a.WorkspaceID, []store.WebhookDelivery{d})
	if err != nil {
		return Delivery{}, err
	}
	return list[0], nil
}

// Deliveries lists an endpoint's deliveries, newest first.
func (s *Service) Deliveries(ctx context.Context, a identity.Actor, endpointID, before string, limit int) ([]Delivery, error) {
	if err := may(a); err != nil {
		return nil, err
	}
	if _, err := s.store.GetWebhookEndpoint(ctx, a.WorkspaceID, endpointID); err != nil {
		return nil, notFound(err)
	}
	list, err := s.store.ListWebhookDeliveries(ctx, a.WorkspaceID, endpointID, before, limit)
	if err != nil {
		return nil, err
	}
	return s.withHistory(ctx, a.WorkspaceID, list)
}

// Redeliver sends a delivery again, now, whatever became of it.
func (s *Service) Redeliver(ctx context.Context, a identity.Actor, endpointID, id string) (Delivery, error) {
	if err := may(a); err != nil {
		return Delivery{}, err
	}
	e, err := s.store.GetWebhookEndpoint(ctx, a.WorkspaceID, endpointID)
	if err != nil {
		return Delivery{}, notFound(err)
	}
	if !e.Enabled {
		return Delivery{}, &InputError{"endpoint", "is disabled (" + e.DisabledReason + "); create a new endpoint"}
	}
	now := s.clock.Now().UTC()
	d, err := s.store.UpdateWebhookDelivery(ctx, a.WorkspaceID, id, func(d *store.WebhookDelivery) error {
		if d.EndpointID != endpointID {
			return store.ErrNotFound
		}
		if d.LeaseHolder != "" && d.LeaseUntil != nil && d.LeaseUntil.After(now) {
			return ErrInFlight
		}
		d.Status, d.NextAttemptAt, d.LeaseHolder, d.LeaseUntil, d.UpdatedAt = store.DeliveryPending, &now, "", nil, now
		return nil
	})
	if err != nil {
		return Delivery{}, notFound(err)
	}
	list, err := s.withHistory(ctx, a.WorkspaceID, []store.WebhookDelivery{d})
	if err != nil {
		return Delivery{}, err
	}
	return list[0], nil
}
