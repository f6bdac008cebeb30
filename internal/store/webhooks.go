package store

import (
	"context"
	"time"
)

// WebhookEndpoint is where a workspace wants its events delivered.
type WebhookEndpoint struct {
	ID          string
	WorkspaceID string
	URL         string
	// EventTypes filters the events sent; empty means every type.
	EventTypes []string
	// Secrets are the signing secrets, sealed with the endpoint's id bound.
	Secrets []byte
	Enabled bool
	// DisabledReason says why an endpoint was disabled, empty when enabled.
	DisabledReason string
	// ConnectTokenID binds an endpoint a connect token brought (its
	// webhook_url) to that token: it takes only events of the token's
	// flows. PurgeAfter is when it is deleted. Both empty for the
	// workspace's own endpoints.
	ConnectTokenID string
	PurgeAfter     *time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Takes reports whether the endpoint is sent the event: of a type it
// takes and, for a token's endpoint, of that token's flows.
func (e WebhookEndpoint) Takes(ev WebhookEvent) bool {
	if e.ConnectTokenID != "" && e.ConnectTokenID != ev.ConnectTokenID {
		return false
	}
	return e.TakesType(ev.Type)
}

// TakesType reports whether the endpoint is sent events of the type.
func (e WebhookEndpoint) TakesType(eventType string) bool {
	if len(e.EventTypes) == 0 {
		return true
	}
	for _, t := range e.EventTypes {
		if t == eventType {
			return true
		}
	}
	return false
}

// WebhookEvent is one event in the outbox. Payload is the JSON body every
// endpoint is sent; it never holds a credential.
type WebhookEvent struct {
	ID          string
	WorkspaceID string
	Type        string
	Payload     []byte
	CreatedAt   time.Time
	// ConnectTokenID is the connect token whose flow the event reports,
	// if any: that token's own endpoint is sent it too. Not stored.
	ConnectTokenID string
	// OrderKey (an account's id) orders deliveries: to one endpoint, one
	// with a key is not sent while an earlier event's with the same key is
	// pending. Empty means no order.
	OrderKey string
}

// WebhookAttempt is one try at sending a delivery.
type WebhookAttempt struct {
	ID          string
	WorkspaceID string
	DeliveryID  string
	EndpointID  string
	AttemptedAt time.Time
	// StatusCode is the receiver's answer, 0 when there was none.
	StatusCode int
	// Error is short, clipped and scrubbed; empty on success.
	Error    string
	Duration time.Duration
}

// DeliveryStatus is where one event's delivery to one endpoint is.
type DeliveryStatus string

const (
	DeliveryPending   DeliveryStatus = "pending"
	DeliveryDelivered DeliveryStatus = "delivered"
	// DeliveryFailed: retries ran out, or the endpoint went away (410).
	DeliveryFailed DeliveryStatus = "failed"
)

// WebhookDelivery is one event's delivery to one endpoint. EventType,
// Payload and EventCreatedAt are the event's, read with it.
type WebhookDelivery struct {
	ID             string
	WorkspaceID    string
	EventID        string
	EndpointID     string
	EventType      string
	Payload        []byte
	EventCreatedAt time.Time
	Status         DeliveryStatus
	Attempts       int
	// NextAttemptAt is when the delivery is due; nil once it is done.
	NextAttemptAt *time.Time
	// LeaseHolder holds the delivery while it is sent, until LeaseUntil.
	LeaseHolder    string
	LeaseUntil     *time.Time
	LastStatusCode int
	LastError      string
	LastAttemptAt  *time.Time
	OrderKey       string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	// NewAttempt, when set by an UpdateWebhookDelivery fn, is recorded in
	// the same transaction; it is never read back.
	NewAttempt *WebhookAttempt
}

// Webhooks stores webhook endpoints and the outbox of their deliveries.
type Webhooks interface {
	// CreateWebhookEndpoint fails with ErrConflict when the id exists.
	CreateWebhookEndpoint(ctx context.Context, e WebhookEndpoint) error
	GetWebhookEndpoint(ctx context.Context, workspaceID, id string) (WebhookEndpoint, error)
	// ListWebhookEndpoints lists the workspace's endpoints, oldest first.
	ListWebhookEndpoints(ctx context.Context, workspaceID string) ([]WebhookEndpoint, error)
	// UpdateWebhookEndpoint is the compare-and-swap of one endpoint: fn
	// sees it under its row lock and what it leaves (url, event types,
	// secrets, enabled, reason, updated) is written in that transaction.
	// An error from fn writes nothing and is returned.
	UpdateWebhookEndpoint(ctx context.Context, workspaceID, id string, fn func(*WebhookEndpoint) error) (WebhookEndpoint, error)
	// DeleteWebhookEndpoint deletes the endpoint with its deliveries.
	DeleteWebhookEndpoint(ctx context.Context, workspaceID, id string) error
	// AppendWebhookEvents writes events to the outbox in one transaction,
	// with a pending delivery, due at its event's time, for every enabled
	// endpoint of the event's workspace that takes its type.
	AppendWebhookEvents(ctx context.Context, events []WebhookEvent) error
	// DeleteExpiredWebhookEndpoints deletes the endpoints (connect
	// tokens' ones) whose purge time is at or before the given time, with
	// their deliveries, and says how many.
	DeleteExpiredWebhookEndpoints(ctx context.Context, before time.Time) (int, error)
	// DeleteAccountWithEvents is DeleteAccount that appends events to the
	// outbox in the same transaction.
	DeleteAccountWithEvents(ctx context.Context, workspaceID, id string, events []WebhookEvent) error
	// LeaseWebhookDeliveries gives holder, until the time given, up to
	// limit pending deliveries due by now whose lease is free or lapsed,
	// earliest due first, passing over one whose endpoint has a pending
	// delivery of an earlier event with the same order key. Each is one
	// conditional write, so no delivery goes to two holders at once, and
	// none overtakes an earlier one of its key, whichever process asks.
	LeaseWebhookDeliveries(ctx context.Context, holder string, now, until time.Time, limit int) ([]WebhookDelivery, error)
	GetWebhookDelivery(ctx context.Context, workspaceID, id string) (WebhookDelivery, error)
	// ListWebhookDeliveries lists an endpoint's deliveries, newest first;
	// before is the id the previous page ended with.
	ListWebhookDeliveries(ctx context.Context, workspaceID, endpointID, before string, limit int) ([]WebhookDelivery, error)
	// UpdateWebhookDelivery is the compare-and-swap of one delivery: what
	// fn leaves of status, attempts, next attempt, lease and last outcome
	// is written under the row's lock, with fn's NewAttempt if it set one.
	// An error from fn writes nothing.
	UpdateWebhookDelivery(ctx context.Context, workspaceID, id string, fn func(*WebhookDelivery) error) (WebhookDelivery, error)
	// WebhookAttempts returns the attempts of the workspace's deliveries
	// given, oldest first, by delivery id: one query for a page.
	WebhookAttempts(ctx context.Context, workspaceID string, deliveryIDs []string) (map[string][]WebhookAttempt, error)
	// DeleteOldWebhookRows deletes attempts made, finished deliveries of
	// events created, and events with no delivery left created, before
	// the time given, and says how many rows went.
	DeleteOldWebhookRows(ctx context.Context, before time.Time) (int, error)
}
