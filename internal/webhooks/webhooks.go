// Package webhooks delivers a workspace's events to its endpoints, signed
// per the Standard Webhooks specification, from the durable outbox the
// store writes in the transaction of each change.
package webhooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/ids"
	"github.com/latchkeyhq/latchkey/internal/outbound"
	"github.com/latchkeyhq/latchkey/internal/seal"
	"github.com/latchkeyhq/latchkey/internal/secret"
	"github.com/latchkeyhq/latchkey/internal/store"
)

// Event types.
const (
	AccountConnected      = "account.connected"
	AccountReconnected    = "account.reconnected"
	AccountRefreshFailed  = "account.refresh_failed"
	AccountNeedsReconnect = "account.needs_reconnect"
	AccountRecovered      = "account.recovered"
	AccountDeleted        = "account.deleted"
	ConnectFailed         = "connect.failed"
)

// EventTypes are every type an endpoint may ask for.
var EventTypes = []string{AccountConnected, AccountReconnected, AccountRefreshFailed, AccountNeedsReconnect,
	AccountRecovered, AccountDeleted, ConnectFailed}

// Errors, checked with errors.Is.
var (
	ErrNotFound  = errors.New("no such webhook endpoint or delivery in this workspace")
	ErrForbidden = identity.ErrForbidden
	// ErrInFlight: the delivery is being sent right now.
	ErrInFlight = errors.New("the delivery is being sent right now; try again in a minute")
)

// InputError is bad input; nothing was changed.
type InputError struct {
	Field, Message string
}

func (e *InputError) Error() string { return e.Field + ": " + e.Message }

// Store is what the service needs of the store.
type Store interface {
	store.Webhooks
}

// Options configure a Service.
type Options struct {
	Store Store
	Ring  *seal.Ring
	// Client sends the deliveries: the guarded client, so private and
	// unreachable addresses are refused. Nil means one with no exceptions.
	Client *http.Client
	// Trusted are origins (scheme://host[:port]) an endpoint may use over
	// plain http, as app_origins are for apps; the client must allow them.
	Trusted []string
	Clock   clockwork.Clock
	Log     *slog.Logger
	// RetryBase is the wait after a first failed attempt, doubling after
	// each next one up to an hour; zero means 30 seconds.
	RetryBase time.Duration
}

// Service manages endpoints and delivers the outbox.
type Service struct {
	store   Store
	ring    *seal.Ring
	client  *http.Client
	trusted []string
	clock   clockwork.Clock
	log     *slog.Logger
	holder  string
	retry   time.Duration
}

// New returns a Service.
func New(o Options) *Service {
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Client == nil {
		o.Client = outbound.New(outbound.Options{Timeout: requestTimeout})
	}
	var trusted []string
	for _, t := range o.Trusted {
		trusted = append(trusted, strings.TrimSuffix(t, "/"))
	}
	if o.RetryBase <= 0 {
		o.RetryBase = DefaultRetryBase
	}
	return &Service{store: o.Store, ring: o.Ring, client: o.Client, trusted: trusted, clock: o.Clock, log: o.Log,
		holder: ids.New("dlv", o.Clock.Now()), retry: o.RetryBase}
}

// Endpoint is an endpoint as callers see it; never its secrets.
type Endpoint struct {
	ID             string
	URL            string
	EventTypes     []string
	Enabled        bool
	DisabledReason string
	// ConnectTokenID marks an endpoint a connect token brought: it is
	// sent that token's events only, and goes some time after the token.
	ConnectTokenID string
	CreatedAt      time.Time
}

// signingSecret is one secret of an endpoint; Until ends a rotated-out
// secret's overlap, nil for the current one.
type signingSecret struct {
	Key   string     `json:"key"`
	Until *time.Time `json:"until,omitempty"`
}

func view(e store.WebhookEndpoint) Endpoint {
	return Endpoint{ID: e.ID, URL: e.URL, EventTypes: e.EventTypes, Enabled: e.Enabled, DisabledReason: e.DisabledReason,
		ConnectTokenID: e.ConnectTokenID, CreatedAt: e.CreatedAt}
}

// may: owners and admins manage a workspace's webhooks.
func may(a identity.Actor) error {
	if err := a.Require(identity.ScopeWebhooksWrite); err != nil {
		return err
	}
	if !a.CanManageWorkspace() {
		return fmt.Errorf("%w: only the workspace's owners and admins manage webhooks", ErrForbidden)
	}
	return nil
}

// CreateInput is a new endpoint.
type CreateInput struct {
	URL string
	// EventTypes filters what is sent; empty means every type.
	EventTypes []string
}

// checkURL: https, or http to a trusted origin; no credentials in it.
func (s *Service) checkURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return "", &InputError{"url", "must be an absolute https URL"}
	}
	if u.User != nil {
		return "", &InputError{"url", "must not hold a user name or password"}
	}
	if u.Fragment != "" {
		return "", &InputError{"url", "must not have a fragment"}
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !slices.Contains(s.trusted, "http://"+u.Host) {
			return "", &InputError{"url", "must use https"}
		}
	default:
		return "", &InputError{"url", "must use https"}
	}
	if len(raw) > 2000 {
		return "", &InputError{"url", "is longer than 2000 characters"}
	}
	return u.String(), nil
}

// Create adds an endpoint and returns it with its signing secret, which
// is shown this once.
func (s *Service) Create(ctx context.Context, a identity.Actor, in CreateInput) (Endpoint, secret.String, error) {
	if err := may(a); err != nil {
		return Endpoint{}, secret.String{}, err
	}
	u, err := s.checkURL(in.URL)
	if err != nil {
		return Endpoint{}, secret.String{}, err
	}
	types, err := checkTypes(in.EventTypes)
	if err != nil {
		return Endpoint{}, secret.String{}, err
	}
	now := s.clock.Now().UTC()
	return s.create(ctx, store.WebhookEndpoint{ID: ids.New(ids.WebhookEndpoint, now), WorkspaceID: a.WorkspaceID, URL: u, EventTypes: types,
		Enabled: true, CreatedAt: now, UpdatedAt: now})
}

func (s *Service) create(ctx context.Context, e store.WebhookEndpoint) (Endpoint, secret.String, error) {
	key := newSecret()
	var err error
	if e.Secrets, err = s.sealSecrets(e.ID, []signingSecret{{Key: key}}); err != nil {
		return Endpoint{}, secret.String{}, err
	}
	if err := s.store.CreateWebhookEndpoint(ctx, e); err != nil {
		return Endpoint{}, secret.String{}, fmt.Errorf("create webhook endpoint: %w", err)
	}
	s.log.InfoContext(ctx, "webhook endpoint created", "endpoint", e.ID, "workspace", e.WorkspaceID, "connect_token", e.ConnectTokenID)
	return view(e), secret.New(key), nil
}

// TokenEventTypes are what a connect token's own endpoint is sent, for
// the flows of that token.
var TokenEventTypes = []string{AccountConnected, AccountReconnected, ConnectFailed}

// TokenRetention is how long after its token expires a token's endpoint
// is kept: past RetryFor, so the last events' retries run out first.
const TokenRetention = RetryFor + time.Hour

// CheckURL checks an endpoint URL as Create would, storing nothing.
func (s *Service) CheckURL(raw string) error {
	_, err := s.checkURL(raw)
	return err
}

// CreateForToken adds the endpoint a connect token brought (its
// webhook_url), sent that token's TokenEventTypes only and deleted
// TokenRetention after the token expires. It returns the signing
// secret, shown this once. The caller minted the token, and so may.
func (s *Service) CreateForToken(ctx context.Context, workspaceID, tokenID, rawURL string, tokenExpires time.Time) (Endpoint, secret.String, error) {
	u, err := s.checkURL(rawURL)
	if err != nil {
		return Endpoint{}, secret.String{}, err
	}
	now := s.clock.Now().UTC()
	purge := tokenExpires.UTC().Add(TokenRetention)
	return s.create(ctx, store.WebhookEndpoint{ID: ids.New(ids.WebhookEndpoint, now), WorkspaceID: workspaceID, URL: u,
		EventTypes: slices.Clone(TokenEventTypes), Enabled: true, ConnectTokenID: tokenID, PurgeAfter: &purge, CreatedAt: now, UpdatedAt: now})
}

// checkTypes refuses unknown event types and drops repeated ones.
func checkTypes(in []string) ([]string, error) {
	var types []string
	for _, t := range in {
		if !slices.Contains(EventTypes, t) {
			return nil, &InputError{"event_types", fmt.Sprintf("%q is not an event type; the types are %s", t, strings.Join(EventTypes, ", "))}
		}
		if !slices.Contains(types, t) {
			types = append(types, t)
		}
	}
	return types, nil
}

// Get returns one endpoint.
func (s *Service) Get(ctx context.Context, a identity.Actor, id string) (Endpoint, error) {
	if err := may(a); err != nil {
		return Endpoint{}, err
	}
	e, err := s.store.GetWebhookEndpoint(ctx, a.WorkspaceID, id)
	if err != nil {
		return Endpoint{}, notFound(err)
	}
	return view(e), nil
}

// UpdateInput changes an endpoint; nil fields stay as they are.
type UpdateInput struct {
	URL *string
	// EventTypes replaces the filter; an empty list means every type.
	EventTypes *[]string
	// Enabled turns the endpoint off or on again; turning it on clears
	// why it was turned off. Events made while it was off are not sent.
	Enabled *bool
}

// Update changes an endpoint in one compare-and-swap; bad input changes
// nothing.
func (s *Service) Update(ctx context.Context, a identity.Actor, id string, in UpdateInput) (Endpoint, error) {
	if err := may(a); err != nil {
		return Endpoint{}, err
	}
	var (
		u     string
		types []string
		err   error
	)
	if in.URL != nil {
		if u, err = s.checkURL(*in.URL); err != nil {
			return Endpoint{}, err
		}
	}
	if in.EventTypes != nil {
		if types, err = checkTypes(*in.EventTypes); err != nil {
			return Endpoint{}, err
		}
	}
	now := s.clock.Now().UTC()
	e, err := s.store.UpdateWebhookEndpoint(ctx, a.WorkspaceID, id, func(e *store.WebhookEndpoint) error {
		if in.URL != nil {
			e.URL = u
		}
		if in.EventTypes != nil {
			e.EventTypes = types
		}
		if in.Enabled != nil {
			e.Enabled = *in.Enabled
			switch {
			case e.Enabled:
				e.DisabledReason = ""
			case e.DisabledReason == "":
				e.DisabledReason = "turned off by a person"
			}
		}
		e.UpdatedAt = now
		return nil
	})
	if err != nil {
		return Endpoint{}, notFound(err)
	}
	s.log.InfoContext(ctx, "webhook endpoint updated", "endpoint", id, "workspace", a.WorkspaceID, "enabled", e.Enabled)
	return view(e), nil
}

func (s *Service) sealSecrets(id string, list []signingSecret) ([]byte, error) {
	b, err := json.Marshal(list)
	if err != nil {
		return nil, fmt.Errorf("seal webhook secrets: %w", err)
	}
	return s.ring.Seal(b, []byte(id))
}

func (s *Service) openSecrets(e store.WebhookEndpoint) ([]signingSecret, error) {
	b, err := s.ring.Open(e.Secrets, []byte(e.ID))
	if err != nil {
		return nil, fmt.Errorf("open the secrets of %s: %w", e.ID, err)
	}
	var list []signingSecret
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, fmt.Errorf("open the secrets of %s: %w", e.ID, err)
	}
	return list, nil
}

// List lists the workspace's endpoints.
func (s *Service) List(ctx context.Context, a identity.Actor) ([]Endpoint, error) {
	if err := may(a); err != nil {
		return nil, err
	}
	list, err := s.store.ListWebhookEndpoints(ctx, a.WorkspaceID)
	if err != nil {
		return nil, err
	}
	out := []Endpoint{}
	for _, e := range list {
		out = append(out, view(e))
	}
	return out, nil
}

func notFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return ErrNotFound
	}
	return err
}

// Delete removes an endpoint and its deliveries.
func (s *Service) Delete(ctx context.Context, a identity.Actor, id string) error {
	if err := may(a); err != nil {
		return err
	}
	if err := s.store.DeleteWebhookEndpoint(ctx, a.WorkspaceID, id); err != nil {
		return notFound(err)
	}
	s.log.InfoContext(ctx, "webhook endpoint deleted", "endpoint", id, "workspace", a.WorkspaceID)
	return nil
}

// MaxOverlap bounds how long a rotated-out secret keeps signing.
const MaxOverlap = 7 * 24 * time.Hour

// RotateSecret gives the endpoint a new signing secret, shown this once.
// The old one keeps signing for overlap as well, so a receiver can switch
// without missing a delivery; zero overlap drops it at once.
func (s *Service) RotateSecret(ctx context.Context, a identity.Actor, id string, overlap time.Duration) (secret.String, error) {
	if err := may(a); err != nil {
		return secret.String{}, err
	}
	if overlap < 0 || overlap > MaxOverlap {
		return secret.String{}, &InputError{"overlap", "must be from 0 to 7 days"}
	}
	key := newSecret()
	now := s.clock.Now().UTC()
	_, err := s.store.UpdateWebhookEndpoint(ctx, a.WorkspaceID, id, func(e *store.WebhookEndpoint) error {
		old, err := s.openSecrets(*e)
		if err != nil {
			return err
		}
		next := []signingSecret{{Key: key}}
		until := now.Add(overlap)
		for _, sec := range old {
			if sec.Until != nil && !now.Before(*sec.Until) {
				continue // already over
			}
			if overlap > 0 {
				if sec.Until == nil || sec.Until.After(until) {
					sec.Until = &until
				}
				next = append(next, sec)
			}
		}
		if e.Secrets, err = s.sealSecrets(e.ID, next); err != nil {
			return err
		}
		e.UpdatedAt = now
		return nil
	})
	if err != nil {
		return secret.String{}, notFound(err)
	}
	s.log.InfoContext(ctx, "webhook secret rotated", "endpoint", id, "overlap", overlap)
	return secret.New(key), nil
}
