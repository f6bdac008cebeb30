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
