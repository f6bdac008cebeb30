package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/latchkeyhq/latchkey/internal/ids"
	"github.com/latchkeyhq/latchkey/internal/store"
)

const endpointColumns = `id, workspace_id, url, event_types, secrets, enabled, disabled_reason, created_at, updated_at,
	connect_token_id, purge_after`

// CreateWebhookEndpoint stores e; ErrConflict when its id exists.
func (s *Store) CreateWebhookEndpoint(ctx context.Context, e store.WebhookEndpoint) error {
	types, err := toJSON(nonNilStrings(e.EventTypes))
	if err != nil {
		return fmt.Errorf("create webhook endpoint %s: %w", e.ID, err)
	}
	_, err = s.exec(ctx, "create webhook endpoint", `INSERT INTO webhook_endpoints (`+endpointColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		e.ID, e.WorkspaceID, e.URL, types, e.Secrets, e.Enabled, e.DisabledReason, micros(e.CreatedAt), micros(e.UpdatedAt),
		e.ConnectTokenID, nullMicros(e.PurgeAfter))
	if err != nil {
		return s.conflict(err, "create webhook endpoint %s", e.ID)
	}
	return nil
}

func nonNilStrings(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

func scanEndpoint(row scanner) (store.WebhookEndpoint, error) {
	var (
		e            store.WebhookEndpoint
		types        string
		created, upd int64
		purge        sql.NullInt64
	)
	if err := row.Scan(&e.ID, &e.WorkspaceID, &e.URL, &types, &e.Secrets, &e.Enabled, &e.DisabledReason, &created, &upd,
		&e.ConnectTokenID, &purge); err != nil {
		return store.WebhookEndpoint{}, err
	}
	if err := json.Unmarshal([]byte(types), &e.EventTypes); err != nil {
		return store.WebhookEndpoint{}, fmt.Errorf("webhook endpoint %s: event types: %w", e.ID, err)
	}
	if len(e.EventTypes) == 0 {
		e.EventTypes = nil
	}
	e.CreatedAt, e.UpdatedAt, e.PurgeAfter = fromMicros(created), fromMicros(upd), fromNullMicros(purge)
	return e, nil
}

// GetWebhookEndpoint returns the workspace's endpoint with the id.
func (s *Store) GetWebhookEndpoint(ctx context.Context, workspaceID, id string) (store.WebhookEndpoint, error) {
	e, err := scanEndpoint(s.queryRowDirect(ctx, `SELECT `+endpointColumns+` FROM webhook_endpoints WHERE workspace_id = $1 AND id = $2`, workspaceID, id))
	if err != nil {
		return store.WebhookEndpoint{}, notFound(err, "get webhook endpoint %s", id)
	}
	return e, nil
}

// ListWebhookEndpoints lists the workspace's endpoints, oldest first.
func (s *Store) ListWebhookEndpoints(ctx context.Context, workspaceID string) ([]store.WebhookEndpoint, error) {
	return listEndpoints(ctx, reads{s}, workspaceID, false)
}

func listEndpoints(ctx context.Context, q querier, workspaceID string, enabledOnly bool) ([]store.WebhookEndpoint, error) {
	query := `SELECT ` + endpointColumns + ` FROM webhook_endpoints WHERE workspace_id = $1`
	if enabledOnly {
		query += ` AND enabled`
	}
	rows, err := q.QueryContext(ctx, query+` ORDER BY id`, workspaceID)
	if err != nil {
		return nil, fmt.Errorf("webhook endpoints of %s: %w", workspaceID, err)
	}
	return collect(rows, "webhook endpoints of "+workspaceID, scanEndpoint)
}

// UpdateWebhookEndpoint is the compare-and-swap of one endpoint.
func (s *Store) UpdateWebhookEndpoint(ctx context.Context, workspaceID, id string, fn func(*store.WebhookEndpoint) error) (store.WebhookEndpoint, error) {
	return inTxValue(ctx, s, fmt.Sprintf("update webhook endpoint %s", id), func(tx *sql.Tx) (store.WebhookEndpoint, error) {
		e, err := scanEndpoint(tx.QueryRowContext(ctx, `SELECT `+endpointColumns+` FROM webhook_endpoints WHERE workspace_id = $1 AND id = $2`+s.d.LockRows, workspaceID, id))
		if err != nil {
			return store.WebhookEndpoint{}, notFound(err, "update webhook endpoint %s", id)
		}
		orig := e
		if err := fn(&e); err != nil {
			return store.WebhookEndpoint{}, err
		}
		e.ID, e.WorkspaceID, e.CreatedAt = orig.ID, orig.WorkspaceID, orig.CreatedAt
		e.ConnectTokenID, e.PurgeAfter = orig.ConnectTokenID, orig.PurgeAfter
		types, err := toJSON(nonNilStrings(e.EventTypes))
		if err != nil {
			return store.WebhookEndpoint{}, fmt.Errorf("update webhook endpoint %s: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE webhook_endpoints SET url = $3, event_types = $4, secrets = $5, enabled = $6, disabled_reason = $7, updated_at = $8
		WHERE workspace_id = $1 AND id = $2`, workspaceID, id, e.URL, types, e.Secrets, e.Enabled, e.DisabledReason, micros(e.UpdatedAt)); err != nil {
			return store.WebhookEndpoint{}, fmt.Errorf("update webhook endpoint %s: %w", id, err)
		}
		e.CreatedAt, e.UpdatedAt = stored(e.CreatedAt), stored(e.UpdatedAt)
		if len(e.EventTypes) == 0 {
			e.EventTypes = nil
		}
		return e, nil
	})
}

// DeleteWebhookEndpoint deletes the endpoint; its deliveries go with it.
func (s *Store) DeleteWebhookEndpoint(ctx context.Context, workspaceID, id string) error {
	return s.inTx(ctx, fmt.Sprintf("delete webhook endpoint %s", id), func(tx *sql.Tx) error {
		// Deleted explicitly: SQLite enforces foreign keys only when asked.
		if _, err := tx.ExecContext(ctx, `DELETE FROM webhook_attempts WHERE workspace_id = $1 AND endpoint_id = $2`, workspaceID, id); err != nil {
			return fmt.Errorf("delete webhook endpoint %s: attempts: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM webhook_deliveries WHERE workspace_id = $1 AND endpoint_id = $2`, workspaceID, id); err != nil {
			return fmt.Errorf("delete webhook endpoint %s: deliveries: %w", id, err)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM webhook_endpoints WHERE workspace_id = $1 AND id = $2`, workspaceID, id)
		if err != nil {
			return fmt.Errorf("delete webhook endpoint %s: %w", id, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("delete webhook endpoint %s: %w", id, err)
		} else if n == 0 {
			return fmt.Errorf("delete webhook endpoint %s: %w", id, store.ErrNotFound)
		}
		return nil
	})
}

// AppendWebhookEvents writes events and their deliveries in one transaction.
func (s *Store) AppendWebhookEvents(ctx context.Context, events []store.WebhookEvent) error {
	if len(events) == 0 {
		return nil
	}
	return s.inTx(ctx, "append webhook events", func(tx *sql.Tx) error {
		if err := s.writeOutbox(ctx, tx, events); err != nil {
			return err
		}
		return nil
	})
}

// writeOutbox writes events, and a pending delivery per enabled endpoint
// that takes each, inside the caller's transaction.
func (s *Store) writeOutbox(ctx context.Context, tx *sql.Tx, events []store.WebhookEvent) error {
	endpoints := map[string][]store.WebhookEndpoint{}
	for _, ev := range events {
		if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_outbox (id, workspace_id, type, payload, created_at) VALUES ($1, $2, $3, $4, $5)`,
			ev.ID, ev.WorkspaceID, ev.Type, string(ev.Payload), micros(ev.CreatedAt)); err != nil {
			return s.conflict(err, "append webhook event %s", ev.ID)
		}
		list, ok := endpoints[ev.WorkspaceID]
		if !ok {
			var err error
			if list, err = listEndpoints(ctx, tx, ev.WorkspaceID, true); err != nil {
				return err
			}
			endpoints[ev.WorkspaceID] = list
		}
		for _, e := range list {
			if !e.Takes(ev) {
				continue
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_deliveries
				(id, workspace_id, event_id, endpoint_id, status, next_attempt_at, order_key, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)`,
				ids.New(ids.WebhookDelivery, ev.CreatedAt), ev.WorkspaceID, ev.ID, e.ID, string(store.DeliveryPending), micros(ev.CreatedAt), ev.OrderKey, micros(ev.CreatedAt)); err != nil {
				return fmt.Errorf("append webhook event %s: delivery to %s: %w", ev.ID, e.ID, err)
			}
		}
	}
	return nil
}

// DeleteExpiredWebhookEndpoints deletes the endpoints due for purging,
// with their deliveries.
func (s *Store) DeleteExpiredWebhookEndpoints(ctx context.Context, before time.Time) (int, error) {
	return inTxValue(ctx, s, "delete expired webhook endpoints", func(tx *sql.Tx) (int, error) {
		// Deliveries first: SQLite enforces foreign keys only when asked.
		if _, err := tx.ExecContext(ctx, `DELETE FROM webhook_deliveries WHERE endpoint_id IN
		(SELECT id FROM webhook_endpoints WHERE purge_after <= $1)`, micros(before)); err != nil {
			return 0, fmt.Errorf("delete expired webhook endpoints: deliveries: %w", err)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM webhook_endpoints WHERE purge_after <= $1`, micros(before))
		if err != nil {
			return 0, fmt.Errorf("delete expired webhook endpoints: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, fmt.Errorf("delete expired webhook endpoints: %w", err)
		}
		return int(n), nil
	})
}

// DeleteAccountWithEvents deletes the account and appends events, together.
func (s *Store) DeleteAccountWithEvents(ctx context.Context, workspaceID, id string, events []store.WebhookEvent) error {
	return s.inTx(ctx, fmt.Sprintf("delete account %s", id), func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM accounts WHERE workspace_id = $1 AND id = $2`, workspaceID, id)
		if err != nil {
			return fmt.Errorf("delete account %s: %w", id, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("delete account %s: %w", id, err)
		} else if n == 0 {
			return fmt.Errorf("delete account %s: %w", id, store.ErrNotFound)
		}
		if err := s.writeOutbox(ctx, tx, events); err != nil {
			return err
		}
		return nil
	})
}

const deliveryColumns = `d.id, d.workspace_id, d.event_id, d.endpoint_id, o.type, o.payload, o.created_at,
	d.status, d.attempts, d.next_attempt_at, d.lease_holder, d.lease_until,
	d.last_status_code, d.last_error, d.last_attempt_at, d.order_key, d.created_at, d.updated_at`

const deliveryFrom = ` FROM webhook_deliveries d JOIN webhook_outbox o ON o.id = d.event_id`

func scanDelivery(row scanner) (store.WebhookDelivery, error) {
	var (
		d                         store.WebhookDelivery
		status, payload           string
		evCreated, created, upd   int64
		next, leaseUntil, attempt sql.NullInt64
	)
	if err := row.Scan(&d.ID, &d.WorkspaceID, &d.EventID, &d.EndpointID, &d.EventType, &payload, &evCreated,
		&status, &d.Attempts, &next, &d.LeaseHolder, &leaseUntil,
		&d.LastStatusCode, &d.LastError, &attempt, &d.OrderKey, &created, &upd); err != nil {
		return store.WebhookDelivery{}, err
	}
	d.Payload, d.Status = []byte(payload), store.DeliveryStatus(status)
	d.EventCreatedAt, d.CreatedAt, d.UpdatedAt = fromMicros(evCreated), fromMicros(created), fromMicros(upd)
	d.NextAttemptAt, d.LeaseUntil, d.LastAttemptAt = fromNullMicros(next), fromNullMicros(leaseUntil), fromNullMicros(attempt)
	return d, nil
}

// leasable is the condition a delivery d must meet to be leased at $now:
// pending, due, its lease free or lapsed, and no earlier event with its
// order key still pending to its endpoint. Event ids sort in the order
// the events were made, so they order a key's events.
func leasable(d, now string) string {
	return d + `.status = 'pending' AND ` + d + `.next_attempt_at <= ` + now + `
		AND (` + d + `.lease_holder = '' OR ` + d + `.lease_until IS NULL OR ` + d + `.lease_until <= ` + now + `)
		AND (` + d + `.order_key = '' OR NOT EXISTS (SELECT 1 FROM webhook_deliveries p
			WHERE p.endpoint_id = ` + d + `.endpoint_id AND p.order_key = ` + d + `.order_key AND p.status = 'pending' AND p.event_id < ` + d + `.event_id))`
}

// LeaseWebhookDeliveries picks due candidates, then wins each with one
// conditional UPDATE: a row another process leased meanwhile, or that an
// earlier delivery of its key now holds back, is skipped.
func (s *Store) LeaseWebhookDeliveries(ctx context.Context, holder string, now, until time.Time, limit int) ([]store.WebhookDelivery, error) {
	if holder == "" {
		return nil, fmt.Errorf("lease webhook deliveries: empty holder")
	}
	rows, err := s.query(ctx, `SELECT d.id FROM webhook_deliveries d
		WHERE `+leasable("d", "$1")+`
		ORDER BY d.next_attempt_at, d.id LIMIT $2`, micros(now), max(limit, 1))
	if err != nil {
		return nil, fmt.Errorf("lease webhook deliveries: %w", err)
	}
	candidates, err := collect(rows, "lease webhook deliveries", scanString)
	if err != nil {
		return nil, err
	}
	var out []store.WebhookDelivery
	for _, id := range candidates {
		res, err := s.execIdem(ctx, `UPDATE webhook_deliveries SET lease_holder = $2, lease_until = $3
			WHERE id = $1 AND `+leasable("webhook_deliveries", "$4"),
			id, holder, micros(until), micros(now))
		if err != nil {
			return out, fmt.Errorf("lease webhook delivery %s: %w", id, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return out, fmt.Errorf("lease webhook delivery %s: %w", id, err)
		} else if n == 0 {
			continue
		}
		d, err := scanDelivery(s.queryRowDirect(ctx, `SELECT `+deliveryColumns+deliveryFrom+` WHERE d.id = $1`, id))
		if err != nil {
			return out, fmt.Errorf("lease webhook delivery %s: %w", id, err)
		}
		out = append(out, d)
	}
	return out, nil
}

// GetWebhookDelivery returns the workspace's delivery with the id.
func (s *Store) GetWebhookDelivery(ctx context.Context, workspaceID, id string) (store.WebhookDelivery, error) {
	d, err := scanDelivery(s.queryRowDirect(ctx, `SELECT `+deliveryColumns+deliveryFrom+` WHERE d.workspace_id = $1 AND d.id = $2`, workspaceID, id))
	if err != nil {
		return store.WebhookDelivery{}, notFound(err, "get webhook delivery %s", id)
	}
	return d, nil
}

// ListWebhookDeliveries lists an endpoint's deliveries, newest first.
func (s *Store) ListWebhookDeliveries(ctx context.Context, workspaceID, endpointID, before string, n int) ([]store.WebhookDelivery, error) {
	query := `SELECT ` + deliveryColumns + deliveryFrom + ` WHERE d.workspace_id = $1 AND d.endpoint_id = $2`
	args := []any{workspaceID, endpointID}
	if before != "" {
		query += ` AND d.id < $3`
		args = append(args, before)
	}
	args = append(args, limit(n))
	query += fmt.Sprintf(` ORDER BY d.id DESC LIMIT $%d`, len(args))
	rows, err := s.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("deliveries of %s: %w", endpointID, err)
	}
	return collect(rows, "deliveries of "+endpointID, scanDelivery)
}

// UpdateWebhookDelivery is the compare-and-swap of one delivery.
func (s *Store) UpdateWebhookDelivery(ctx context.Context, workspaceID, id string, fn func(*store.WebhookDelivery) error) (store.WebhookDelivery, error) {
	return inTxValue(ctx, s, fmt.Sprintf("update webhook delivery %s", id), func(tx *sql.Tx) (store.WebhookDelivery, error) {
		// Lock the delivery row alone; the event row is only read.
		var locked string
		if err := tx.QueryRowContext(ctx, `SELECT id FROM webhook_deliveries WHERE workspace_id = $1 AND id = $2`+s.d.LockRows, workspaceID, id).Scan(&locked); err != nil {
			return store.WebhookDelivery{}, notFound(err, "update webhook delivery %s", id)
		}
		d, err := scanDelivery(tx.QueryRowContext(ctx, `SELECT `+deliveryColumns+deliveryFrom+` WHERE d.workspace_id = $1 AND d.id = $2`, workspaceID, id))
		if err != nil {
			return store.WebhookDelivery{}, notFound(err, "update webhook delivery %s", id)
		}
		orig := d
		if err := fn(&d); err != nil {
			return store.WebhookDelivery{}, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET status = $3, attempts = $4, next_attempt_at = $5,
		lease_holder = $6, lease_until = $7, last_status_code = $8, last_error = $9, last_attempt_at = $10, updated_at = $11
		WHERE workspace_id = $1 AND id = $2`, workspaceID, id, string(d.Status), d.Attempts, nullMicros(d.NextAttemptAt),
			d.LeaseHolder, nullMicros(d.LeaseUntil), d.LastStatusCode, d.LastError, nullMicros(d.LastAttemptAt), micros(d.UpdatedAt)); err != nil {
			return store.WebhookDelivery{}, fmt.Errorf("update webhook delivery %s: %w", id, err)
		}
		if at := d.NewAttempt; at != nil {
			if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_attempts
			(id, workspace_id, delivery_id, endpoint_id, attempted_at, status_code, error, duration_ms)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, at.ID, workspaceID, id, orig.EndpointID, micros(at.AttemptedAt),
				at.StatusCode, at.Error, at.Duration.Milliseconds()); err != nil {
				return store.WebhookDelivery{}, s.conflict(err, "update webhook delivery %s: attempt %s", id, at.ID)
			}
		}
		// What cannot change is what was read.
		d.ID, d.WorkspaceID, d.EventID, d.EndpointID, d.EventType, d.Payload = orig.ID, orig.WorkspaceID, orig.EventID, orig.EndpointID, orig.EventType, orig.Payload
		d.EventCreatedAt, d.CreatedAt, d.OrderKey, d.NewAttempt = orig.EventCreatedAt, orig.CreatedAt, orig.OrderKey, nil
		d.NextAttemptAt, d.LeaseUntil, d.LastAttemptAt, d.UpdatedAt = storedPtr(d.NextAttemptAt), storedPtr(d.LeaseUntil), storedPtr(d.LastAttemptAt), stored(d.UpdatedAt)
		return d, nil
	})
}

// WebhookAttempts returns the attempts of the deliveries, in one query.
func (s *Store) WebhookAttempts(ctx context.Context, workspaceID string, deliveryIDs []string) (map[string][]store.WebhookAttempt, error) {
	out := map[string][]store.WebhookAttempt{}
	if len(deliveryIDs) == 0 {
		return out, nil
	}
	args := []any{workspaceID}
	marks := make([]string, 0, len(deliveryIDs))
	for _, id := range deliveryIDs {
		args = append(args, id)
		marks = append(marks, "$"+strconv.Itoa(len(args)))
	}
	rows, err := s.query(ctx, `SELECT id, workspace_id, delivery_id, endpoint_id, attempted_at, status_code, error, duration_ms
		FROM webhook_attempts WHERE workspace_id = $1 AND delivery_id IN (`+strings.Join(marks, ", ")+`)
		ORDER BY delivery_id, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("attempts of %d deliveries: %w", len(deliveryIDs), err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			a      store.WebhookAttempt
			at, ms int64
		)
		if err := rows.Scan(&a.ID, &a.WorkspaceID, &a.DeliveryID, &a.EndpointID, &at, &a.StatusCode, &a.Error, &ms); err != nil {
			return nil, fmt.Errorf("attempts of %d deliveries: %w", len(deliveryIDs), err)
		}
		a.AttemptedAt, a.Duration = fromMicros(at), time.Duration(ms)*time.Millisecond
		out[a.DeliveryID] = append(out[a.DeliveryID], a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("attempts of %d deliveries: %w", len(deliveryIDs), err)
	}
	return out, nil
}

// DeleteOldWebhookRows deletes old attempts, then old finished deliveries
// with no attempt left, then old events with no delivery left, in
// batches. A pending delivery and its event stay, however old.
func (s *Store) DeleteOldWebhookRows(ctx context.Context, before time.Time) (int, error) {
	total := 0
	for _, step := range []struct{ what, query string }{
		{"attempts", `DELETE FROM webhook_attempts WHERE id IN
			(SELECT id FROM webhook_attempts WHERE attempted_at < $1 LIMIT $2)`},
		// A delivery sent again lately keeps its recent attempts, and so
		// stays with them.
		{"deliveries", `DELETE FROM webhook_deliveries WHERE id IN
			(SELECT d.id FROM webhook_deliveries d WHERE d.created_at < $1 AND d.status <> 'pending'
				AND NOT EXISTS (SELECT 1 FROM webhook_attempts a WHERE a.delivery_id = d.id) LIMIT $2)`},
		{"events", `DELETE FROM webhook_outbox WHERE id IN
			(SELECT o.id FROM webhook_outbox o WHERE o.created_at < $1
				AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = o.id) LIMIT $2)`},
	} {
		n, err := s.purge(ctx, step.query, before)
		total += n
		if err != nil {
			return total, fmt.Errorf("delete old webhook %s: %w", step.what, err)
		}
	}
	return total, nil
}
