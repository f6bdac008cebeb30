package client

// WebhookEndpoint is a workspace's webhook endpoint. Secret is set only
// in the answer to its creation: it is shown once.
type WebhookEndpoint struct {
	ID             string   `json:"id"`
	URL            string   `json:"url"`
	EventTypes     []string `json:"event_types"`
	Enabled        bool     `json:"enabled"`
	DisabledReason string   `json:"disabled_reason,omitempty"`
	Secret         string   `json:"secret,omitempty"`
	CreatedAt      string   `json:"created_at"`
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
