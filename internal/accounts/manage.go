package accounts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/latchkeyhq/latchkey/internal/audit"
	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/ids"
	"github.com/latchkeyhq/latchkey/internal/store"
	"github.com/latchkeyhq/latchkey/internal/webhooks"
)

// Audit actions.
const (
	ActionConnected       = "account.connected"
	ActionRenamed         = "account.renamed"
	ActionDeleted         = "account.deleted"
	ActionCredentialsRead = "credentials.read"
)

// CreateInput is a new key-based account.
type CreateInput struct {
	App string
	// Nickname defaults to the app's name when nil.
	Nickname *string
	Fields   map[string]string
	// SkipTest saves without running the app's test request; the account
	// is marked untested.
	SkipTest bool
	// SkipIdentify saves without running the app's identity request; the
	// account has no identity label. SkipTest does not imply it.
	SkipIdentify bool
	// Shared makes the account visible to the whole workspace.
	Shared bool
	// ExternalUserID gives the account to a product's end user; Tags and
	// Metadata are what the product keeps with it.
	ExternalUserID string
	Tags           map[string]string
	Metadata       json.RawMessage
	// Claim, when set, runs after the keys passed the test request and
	// just before the account is saved; its error saves nothing. A
	// connect token is spent here, so a refused key leaves it usable.
	Claim func(ctx context.Context) error
	// ConnectTokenID is the connect token the account is made through,
	// named in its account.connected event.
	ConnectTokenID string
}

// Create checks and saves a key-based account. When the app has a test
// request it runs first, and a refusal saves nothing.
func (s *Service) Create(ctx context.Context, actor Actor, in CreateInput) (Account, error) {
	if err := actor.Require(identity.ScopeAccountsWrite); err != nil {
		return Account{}, err
	}
	if !actor.CanChangeAccounts() {
		return Account{}, refuse(actor, "connect")
	}
	if in.App == "" {
		return Account{}, invalid("app", "is required")
	}
	tags, metadata, err := endUserFields(in)
	if err != nil {
		return Account{}, err
	}
	if !actor.MayUseAccount("", in.App) {
		return Account{}, fmt.Errorf("%w: this token is limited to chosen accounts or apps, and %q is not one of its apps", ErrForbidden, in.App)
	}
	app, err := s.apps.App(ctx, actor.WorkspaceID, in.App)
	if err != nil {
		return Account{}, err
	}
	if !app.EntersKeys() {
		return Account{}, invalid("app", "%s connects with %s, not with keys; start a connection instead", app.Name, app.Auth)
	}
	nickname := app.Name
	if in.Nickname != nil {
		if nickname, err = checkNickname(*in.Nickname); err != nil {
			return Account{}, err
		}
	}
	checked, err := s.checkKeys(ctx, app, in.Fields, in.SkipTest, in.SkipIdentify)
	if err != nil {
		return Account{}, err
	}
	creds, untested, label := checked.creds, checked.untested, checked.label

	now := s.clock.Now().UTC()
	acc := store.Account{
		ID:             ids.New(ids.Account, now),
		WorkspaceID:    actor.WorkspaceID,
		OwnerID:        actor.UserID,
		App:            app.Slug,
		Nickname:       nickname,
		IdentityLabel:  label,
		Status:         store.StatusHealthy,
		Shared:         in.Shared,
		Untested:       untested,
		CreatedAt:      now,
		UpdatedAt:      now,
		ExternalUserID: in.ExternalUserID,
		Tags:           tags,
		Metadata:       metadata,
	}
	if acc.Credentials, err = s.seal(acc.ID, creds); err != nil {
		return Account{}, err
	}
	s.scheduleMinted(&acc, app, now, checked.tok)
	acc.Outbox = []store.WebhookEvent{connectedEvent(acc, now, in.ConnectTokenID)}
	if in.Claim != nil {
		if err := in.Claim(ctx); err != nil {
			return Account{}, err
		}
	}
	if err := s.store.CreateAccount(ctx, acc); err != nil {
		return Account{}, fmt.Errorf("save account: %w", err)
	}
	acc.Outbox = nil
	detail := map[string]string{"app": app.Slug, "untested": fmt.Sprint(untested)}
	if acc.ExternalUserID != "" {
		detail["external_user_id"] = acc.ExternalUserID
	}
	s.audit(ctx, actor, acc.ID, ActionConnected, detail)
	s.log.InfoContext(ctx, "account connected", "account", acc.ID, "app", app.Slug, "untested", untested)
	return viewOf(acc), nil
}

// connectedEvent is the account.connected event of a new account, made
// through a connect token or not.
func connectedEvent(acc store.Account, now time.Time, connectTokenID string) store.WebhookEvent {
	if connectTokenID != "" {
		return webhooks.TokenAccountEvent(webhooks.AccountConnected, acc, now, connectTokenID)
	}
	return webhooks.AccountEvent(webhooks.AccountConnected, acc, now, nil)
}

// Get returns an account the actor may see.
func (s *Service) Get(ctx context.Context, actor Actor, id string) (Account, error) {
	if err := actor.Require(identity.ScopeAccountsRead); err != nil {
		return Account{}, err
	}
	acc, err := s.visible(ctx, actor, id)
	if err != nil {
		return Account{}, err
	}
	return viewOf(acc), nil
}

func (s *Service) visible(ctx context.Context, actor Actor, id string) (store.Account, error) {
	if !ids.Valid(ids.Account, id) {
		return store.Account{}, fmt.Errorf("account %q: %w", id, ErrNotFound)
	}
	acc, ok := s.cache.Get(cacheKey(actor.WorkspaceID, id))
	if !ok {
		var err error
		if acc, err = s.store.GetAccount(ctx, actor.WorkspaceID, id); err != nil {
			return store.Account{}, err
		}
		s.remember(acc)
	}
	// An account the actor may not see is, to them, not there.
	if !canSee(actor, acc) {
		return store.Account{}, fmt.Errorf("account %s: %w", id, ErrNotFound)
	}
	return acc, nil
}

// ListInput selects accounts.
type ListInput struct {
	App    string
	Status Status
	Text   string
	// ExternalUserID selects one end user's accounts; Tags ("key=value"
	// each) the accounts that carry all of them.
	ExternalUserID string
	Tags           []string
	// Owner selects the accounts of one member, by user id.
	Owner string
	After string
	Limit int
}

// MaxPage is the largest page size.
const MaxPage = 200

// List returns a page of the accounts the actor may see, and whether more
// follow.
func (s *Service) List(ctx context.Context, actor Actor, in ListInput) ([]Account, bool, error) {
	if err := actor.Require(identity.ScopeAccountsRead); err != nil {
		return nil, false, err
	}
	switch in.Status {
	case "", StatusHealthy, StatusNeedsReconnect:
	default:
		return nil, false, invalid("status", "%q must be healthy or needs_reconnect", in.Status)
	}
	if in.Limit <= 0 {
		in.Limit = 50
	}
	if in.Limit > MaxPage {
		return nil, false, invalid("limit", "must be at most %d", MaxPage)
	}
	if in.After != "" && !ids.Valid(ids.Account, in.After) {
		return nil, false, invalid("cursor", "is not a cursor this server gave")
	}
	if in.Owner != "" && !ids.Valid(ids.User, in.Owner) {
		return nil, false, invalid("owner", "%q is not a user id", in.Owner)
	}
	f := store.AccountFilter{
		WorkspaceID:    actor.WorkspaceID,
		App:            in.App,
		Status:         store.AccountStatus(in.Status),
		Text:           in.Text,
		ExternalUserID: in.ExternalUserID,
		OwnerID:        in.Owner,
		After:          in.After,
		Limit:          in.Limit + 1,
	}
	if len(in.Tags) > MaxTags {
		return nil, false, invalid("tags", "may name at most %d tags", MaxTags)
	}
	for _, t := range in.Tags {
		tag, err := ParseTagFilter(t)
		if err != nil {
			return nil, false, err
		}
		f.Tags = append(f.Tags, tag)
	}
	s.scope(actor, &f)
	list, err := s.store.ListAccounts(ctx, f)
	if err != nil {
		return nil, false, fmt.Errorf("list accounts: %w", err)
	}
	more := len(list) > in.Limit
	if more {
		list = list[:in.Limit]
	}
	return viewsOf(list), more, nil
}

// Apps lists, sorted, the apps of every account the actor may see, in
// one query whatever their number: a list page's app filter, which must
// not depend on what the page holds.
func (s *Service) Apps(ctx context.Context, actor Actor) ([]string, error) {
	if err := actor.Require(identity.ScopeAccountsRead); err != nil {
		return nil, err
	}
	f := store.AccountFilter{WorkspaceID: actor.WorkspaceID}
	s.scope(actor, &f)
	list, err := s.store.AccountApps(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("apps of the accounts: %w", err)
	}
	return list, nil
}

// scope narrows a filter to what the actor may see (canSee), so that a
// page is one query and never short while more follow.
func (s *Service) scope(actor Actor, f *store.AccountFilter) {
	if !actor.SeesAllAccounts() {
		f.VisibleTo = actor.UserID
	}
	if actor.Limited() {
		f.WithinIDs, f.WithinApps = actor.Accounts, actor.Apps
	}
}

// Rename changes an account's nickname.
func (s *Service) Rename(ctx context.Context, actor Actor, id, nickname string) (Account, error) {
	if err := actor.Require(identity.ScopeAccountsWrite); err != nil {
		return Account{}, err
	}
	nickname, err := checkNickname(nickname)
	if err != nil {
		return Account{}, err
	}
	if !actor.CanChangeAccounts() {
		return Account{}, refuse(actor, "rename")
	}
	acc, err := s.visible(ctx, actor, id)
	if err != nil {
		return Account{}, err
	}
	if !canChange(actor, acc) {
		return Account{}, refuse(actor, "rename")
	}
	old := acc.Nickname
	acc, err = s.store.UpdateAccount(ctx, actor.WorkspaceID, id, func(a *store.Account) error {
		a.Nickname = nickname
		a.UpdatedAt = s.clock.Now().UTC()
		return nil
	})
	if err != nil {
		return Account{}, fmt.Errorf("rename account %s: %w", id, err)
	}
	s.remember(acc)
	s.audit(ctx, actor, id, ActionRenamed, map[string]string{"from": old, "to": nickname})
	return viewOf(acc), nil
}

// Revocation outcomes of Delete.
const (
	RevokeNotAsked    = ""
	RevokeDone        = "revoked"
	RevokeUnsupported = "unsupported"
	RevokeFailed      = "failed"
)

// Delete removes an account and its credentials; its audit events stay.
// With revoke, an OAuth account's tokens are first revoked at the provider
// (RFC 7009) where the app supports it; the account is deleted whatever
// the revocation's outcome, which is returned with any error's text.
func (s *Service) Delete(ctx context.Context, actor Actor, id string, revoke bool) (outcome, detail string, err error) {
	if err := actor.Require(identity.ScopeAccountsWrite); err != nil {
		return "", "", err
	}
	if !actor.CanChangeAccounts() {
		return "", "", refuse(actor, "delete")
	}
	acc, err := s.visible(ctx, actor, id)
	if err != nil {
		return "", "", err
	}
	if !canChange(actor, acc) {
		return "", "", refuse(actor, "delete")
	}
	if revoke {
		outcome, detail = s.revoke(ctx, acc)
	}
	s.cache.Delete(cacheKey(actor.WorkspaceID, id))
	gone := webhooks.AccountEvent(webhooks.AccountDeleted, acc, s.clock.Now(), nil)
	if err := s.store.DeleteAccountWithEvents(ctx, actor.WorkspaceID, id, []store.WebhookEvent{gone}); err != nil {
		return outcome, detail, fmt.Errorf("delete account %s: %w", id, err)
	}
	s.cache.Delete(cacheKey(actor.WorkspaceID, id))
	s.audit(ctx, actor, id, ActionDeleted, map[string]string{"app": acc.App, "nickname": acc.Nickname, "revocation": outcome})
	s.log.InfoContext(ctx, "account deleted", "account", id, "app", acc.App, "revocation", outcome)
	return outcome, detail, nil
}

// Events returns the audit log of one account, newest first.
func (s *Service) Events(ctx context.Context, actor Actor, id, before string, limit int) ([]audit.Event, error) {
	if _, err := s.Get(ctx, actor, id); err != nil {
		return nil, err
	}
	s.auditLog.Flush(ctx)
	if limit <= 0 {
		limit = 50
	}
	// One past a full page lets callers tell whether more follow.
	limit = min(limit, MaxPage+1)
	list, err := s.store.ListAudit(ctx, store.AuditFilter{WorkspaceID: actor.WorkspaceID, AccountID: id, Before: before, Limit: limit})
	if err != nil {
		return nil, fmt.Errorf("events of account %s: %w", id, err)
	}
	return audit.EventsOf(list), nil
}

// IsNotFound reports whether err means the thing asked for is not there.
func IsNotFound(err error) bool {
	return errors.Is(err, ErrNotFound) || errors.Is(err, ErrUnknownApp)
}

// ActionCredentialsReplaced records new keys for a key-based account.
const ActionCredentialsReplaced = "account.credentials_replaced"

// ReplaceKeys gives a key-based account new credentials, keeping its id
// (and so every workflow link): the key-based form of reconnecting. The
// app's test request runs first, as when creating, and a refusal changes
// nothing.
func (s *Service) ReplaceKeys(ctx context.Context, actor Actor, id string, fields map[string]string, skipTest bool) (Account, error) {
	return s.replaceKeys(ctx, actor, id, ReconnectKeysInput{Fields: fields}, skipTest)
}

// ReconnectKeysInput is new keys given through a connect token for an
// account of its end user.
type ReconnectKeysInput struct {
	Fields map[string]string
	// Claim runs, as in CreateInput, after the test request passed and
	// just before the keys are saved; its error saves nothing.
	Claim func(ctx context.Context) error
	// ConnectTokenID is the token, named in the account.reconnected
	// event written with the new keys.
	ConnectTokenID string
}

// ReconnectKeys is ReplaceKeys for a reconnect link: it always tests
// the keys, spends the link through Claim, and reports an
// account.reconnected event.
func (s *Service) ReconnectKeys(ctx context.Context, actor Actor, id string, in ReconnectKeysInput) (Account, error) {
	return s.replaceKeys(ctx, actor, id, in, false)
}

func (s *Service) replaceKeys(ctx context.Context, actor Actor, id string, in ReconnectKeysInput, skipTest bool) (Account, error) {
	fields := in.Fields
	if err := actor.Require(identity.ScopeAccountsWrite); err != nil {
		return Account{}, err
	}
	if !actor.CanChangeAccounts() {
		return Account{}, refuse(actor, "give new credentials to")
	}
	acc, err := s.visible(ctx, actor, id)
	if err != nil {
		return Account{}, err
	}
	if !canChange(actor, acc) {
		return Account{}, refuse(actor, "give new credentials to")
	}
	app, err := s.apps.App(ctx, acc.WorkspaceID, acc.App)
	if err != nil {
		return Account{}, err
	}
	if !app.EntersKeys() {
		return Account{}, invalid("app", "%s connects with %s; reconnect it instead", app.Name, app.Auth)
	}
	checked, err := s.checkKeys(ctx, app, fields, skipTest, false)
	if err != nil {
		return Account{}, err
	}
	creds, untested, label := checked.creds, checked.untested, checked.label
	sealed, err := s.seal(acc.ID, creds)
	if err != nil {
		return Account{}, err
	}
	if in.Claim != nil {
		if err := in.Claim(ctx); err != nil {
			return Account{}, err
		}
	}
	acc, err = s.store.UpdateAccount(ctx, acc.WorkspaceID, acc.ID, func(a *store.Account) error {
		now := s.clock.Now().UTC()
		a.Credentials, a.Untested, a.IdentityLabel = sealed, untested, label
		a.Status, a.StatusError = store.StatusHealthy, ""
		a.UpdatedAt = now
		s.scheduleMinted(a, app, now, checked.tok)
		if in.ConnectTokenID != "" {
			a.Outbox = []store.WebhookEvent{webhooks.TokenAccountEvent(webhooks.AccountReconnected, *a, now, in.ConnectTokenID)}
		}
		return nil
	})
	if err != nil {
		return Account{}, fmt.Errorf("replace credentials of %s: %w", id, err)
	}
	s.remember(acc)
	s.audit(ctx, actor, acc.ID, ActionCredentialsReplaced, map[string]string{"app": app.Slug, "untested": fmt.Sprint(untested)})
	return viewOf(acc), nil
}
