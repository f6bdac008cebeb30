package webhooks

// The outbox events of changes to accounts and of failed connects.

import (
	"encoding/json"
	"time"

	"github.com/latchkeyhq/latchkey/internal/ids"
	"github.com/latchkeyhq/latchkey/internal/store"
)

// AccountEvent is the outbox event of a change to an account, for
// store.Account.Outbox or DeleteAccountWithEvents. The payload carries
// ids, app, owner, end user, tags, labels and status, never a credential
// and never the free metadata.
func AccountEvent(typ string, a store.Account, now time.Time, detail map[string]string) store.WebhookEvent {
	data := accountData(a)
	if len(detail) > 0 {
		data["detail"] = detail
	}
	ev := event(typ, a.WorkspaceID, now, data)
	// Keyed by the account, so its events reach each endpoint in order.
	ev.OrderKey = a.ID
	return ev
}

// TokenAccountEvent is AccountEvent for a change made through a connect
// token: its data names the token, and the token's own endpoint takes it.
func TokenAccountEvent(typ string, a store.Account, now time.Time, connectTokenID string) store.WebhookEvent {
	data := accountData(a)
	data["connect_token_id"] = connectTokenID
	ev := event(typ, a.WorkspaceID, now, data)
	ev.ConnectTokenID, ev.OrderKey = connectTokenID, a.ID
	return ev
}

// ConnectFailure is a hosted connect attempt that failed, as the
// connect.failed event reports it.
type ConnectFailure struct {
	WorkspaceID    string
	ConnectTokenID string
	App            string
	ExternalUserID string
	Tags           map[string]string
	// AccountID is the account a reconnect token was for, if any.
	AccountID string
	// Error is one of the documented codes (access_denied, ...).
	Error string
}

// ConnectFailedEvent is the outbox event of a failed connect attempt.
// It carries ids, app, end user, tags and the error code, never what
// the end user entered nor what the provider sent.
func ConnectFailedEvent(f ConnectFailure, now time.Time) store.WebhookEvent {
	data := map[string]any{"connect_token_id": f.ConnectTokenID, "app": f.App, "external_user_id": f.ExternalUserID, "error": f.Error}
	if f.AccountID != "" {
		data["account_id"] = f.AccountID
	}
	if len(f.Tags) > 0 {
		data["tags"] = f.Tags
	}
	ev := event(ConnectFailed, f.WorkspaceID, now, data)
	// A failed reconnect is ordered with the account's other events; other
	// failures with their token's.
	ev.ConnectTokenID, ev.OrderKey = f.ConnectTokenID, f.AccountID
	if ev.OrderKey == "" {
		ev.OrderKey = f.ConnectTokenID
	}
	return ev
}

func event(typ, workspaceID string, now time.Time, data map[string]any) store.WebhookEvent {
	now = now.UTC()
	id := ids.New(ids.WebhookMessage, now)
	body, _ := json.Marshal(map[string]any{"id": id, "type": typ, "timestamp": now.Format(time.RFC3339Nano), "data": data})
	return store.WebhookEvent{ID: id, WorkspaceID: workspaceID, Type: typ, Payload: body, CreatedAt: now}
}

func accountData(a store.Account) map[string]any {
	data := map[string]any{
		"account_id": a.ID,
		"app":        a.App,
		"owner_id":   a.OwnerID,
		"nickname":   a.Nickname,
		"identity":   a.IdentityLabel,
		"status":     string(a.Status),
		"shared":     a.Shared,
	}
	if a.ExternalUserID != "" {
		data["external_user_id"] = a.ExternalUserID
	}
	if len(a.Tags) > 0 {
		data["tags"] = a.Tags
	}
	return data
}
