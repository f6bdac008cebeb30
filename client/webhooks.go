package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
)

// WebhookEndpoint is a workspace's webhook endpoint. Secret is set only
// in the answer to its creation: it is shown once.
type WebhookEndpoint struct {
	ID             string   `json:"id"`
	URL            string   `json:"url"`
	EventTypes     []string `json:"event_types"`
	Enabled        bool     `json:"enabled"`
	DisabledReason string   `json:"disabled_reason,omitempty"`
	Secret         string   `json:"secret,omitempty"`
	// ConnectTokenID marks the endpoint a connect token's webhook_url
	// made: it takes that token's events only.
	ConnectTokenID string `json:"connect_token_id,omitempty"`
	CreatedAt      string `json:"created_at"`
}

// CreateWebhook is the body of POST /v1/webhooks; no event types means
// every type.
type CreateWebhook struct {
	URL        string   `json:"url"`
	EventTypes []string `json:"event_types,omitempty"`
}

// WebhookDelivery is one event's delivery to one endpoint.
type WebhookDelivery struct {
	ID             string  `json:"id"`
	EventID        string  `json:"event_id"`
	EventType      string  `json:"event_type"`
	Status         string  `json:"status"`
	Attempts       int     `json:"attempts"`
	NextAttemptAt  *string `json:"next_attempt_at"`
	LastStatusCode int     `json:"last_status_code,omitempty"`
	LastError      string  `json:"last_error,omitempty"`
	LastAttemptAt  *string `json:"last_attempt_at"`
	CreatedAt      string  `json:"created_at"`
	// AttemptLog is every attempt, oldest first.
	AttemptLog []WebhookAttempt `json:"attempt_log"`
}

// WebhookAttempt is one try at sending a delivery. StatusCode is 0 when
// the receiver gave no answer; Error is short and never holds a secret.
type WebhookAttempt struct {
	At         string `json:"at"`
	StatusCode int    `json:"status_code"`
	Error      string `json:"error,omitempty"`
	DurationMS int64  `json:"duration_ms"`
}

// UpdateWebhook is the body of PATCH /v1/webhooks/{id}; absent fields stay.
// Enabled false turns the endpoint off (its pending deliveries fail), true
// turns it on again; an empty event_types list means every type.
type UpdateWebhook struct {
	URL        *string   `json:"url,omitempty"`
	EventTypes *[]string `json:"event_types,omitempty"`
	Enabled    *bool     `json:"enabled,omitempty"`
}

// RotateWebhookSecret is the body of POST /v1/webhooks/{id}/rotate-secret:
// how long the old secret keeps signing besides the new one; absent means
// a day, 0 drops it at once.
type RotateWebhookSecret struct {
	OverlapSeconds *int `json:"overlap_seconds,omitempty"`
}

// WebhookSecret is the new secret, shown once.
type WebhookSecret struct {
	Secret string `json:"secret"`
}

// DeliveryPage is a page of an endpoint's deliveries, newest first;
// NextCursor, when set, fetches the next.
type DeliveryPage = Page[WebhookDelivery]

func webhookPath(id string, rest ...string) string {
	p := "/v1/webhooks/" + url.PathEscape(id)
	for _, r := range rest {
		p += "/" + r
	}
	return p
}

// CreateWebhook adds an endpoint; the answer carries its secret, once.
func (c *Client) CreateWebhook(ctx context.Context, in CreateWebhook) (WebhookEndpoint, error) {
	var e WebhookEndpoint
	return e, c.do(ctx, http.MethodPost, "/v1/webhooks", nil, in, &e)
}

// Webhooks lists the workspace's endpoints.
func (c *Client) Webhooks(ctx context.Context) ([]WebhookEndpoint, error) {
	var out struct{ Data []WebhookEndpoint }
	return out.Data, c.do(ctx, http.MethodGet, "/v1/webhooks", nil, nil, &out)
}

// Webhook returns one endpoint.
func (c *Client) Webhook(ctx context.Context, id string) (WebhookEndpoint, error) {
	var e WebhookEndpoint
	return e, c.do(ctx, http.MethodGet, webhookPath(id), nil, nil, &e)
}

// UpdateWebhook changes an endpoint: its URL, event types, or whether it
// is on.
func (c *Client) UpdateWebhook(ctx context.Context, id string, in UpdateWebhook) (WebhookEndpoint, error) {
	var e WebhookEndpoint
	return e, c.do(ctx, http.MethodPatch, webhookPath(id), nil, in, &e)
}

// DeleteWebhook deletes an endpoint and its deliveries.
func (c *Client) DeleteWebhook(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, webhookPath(id), nil, nil, nil)
}

// RotateWebhookSecret gives an endpoint a new secret, returned once; the
// old one keeps signing for the overlap (nil: a day).
func (c *Client) RotateWebhookSecret(ctx context.Context, id string, in RotateWebhookSecret) (WebhookSecret, error) {
	var s WebhookSecret
	return s, c.do(ctx, http.MethodPost, webhookPath(id, "rotate-secret"), nil, in, &s)
}

// WebhookDeliveries lists a page of an endpoint's deliveries with their
// attempts; cursor is "" for the first page, limit 0 for the default.
func (c *Client) WebhookDeliveries(ctx context.Context, id, cursor string, limit int) (DeliveryPage, error) {
	q := url.Values{}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var p DeliveryPage
	return p, c.do(ctx, http.MethodGet, webhookPath(id, "deliveries"), q, nil, &p)
}

// WebhookDelivery returns one delivery with its attempts.
func (c *Client) WebhookDelivery(ctx context.Context, id, delivery string) (WebhookDelivery, error) {
	var d WebhookDelivery
	return d, c.do(ctx, http.MethodGet, webhookPath(id, "deliveries", url.PathEscape(delivery)), nil, nil, &d)
}

// Redeliver sends a delivery again, now.
func (c *Client) Redeliver(ctx context.Context, id, delivery string) (WebhookDelivery, error) {
	var d WebhookDelivery
	return d, c.do(ctx, http.MethodPost, webhookPath(id, "deliveries", url.PathEscape(delivery), "redeliver"), nil, nil, &d)
}
