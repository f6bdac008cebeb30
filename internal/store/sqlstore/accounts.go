package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/latchkeyhq/latchkey/internal/store"
)

const accountColumns = `id, workspace_id, owner_id, app, nickname, identity_label, scopes,
	status, status_error, shared, untested, oauth_client_id, credentials,
	expires_at, last_refreshed_at, next_refresh_at, failing_since, refresh_failures,
	refresh_lease_holder, refresh_lease_until, created_at, updated_at,
	external_user_id, metadata, tags`

// accountSelect is what every read of accounts selects: the columns, then
// the members the account is shared with, space-separated, in the same
// query (string_agg: PostgreSQL, and SQLite since 3.44).
const accountSelect = accountColumns + `,
	(SELECT COALESCE(string_agg(sh.user_id, ' '), '') FROM account_shares sh WHERE sh.account_id = accounts.id)`

// CreateAccount stores a; ErrConflict when its id exists.
func (s *Store) CreateAccount(ctx context.Context, a store.Account) error {
	values, err := accountValues(a)
	if err != nil {
		return err
	}
	return s.inTx(ctx, "create account "+a.ID, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx,
			`INSERT INTO accounts (`+accountColumns+`) VALUES
			($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25)`,
			values...)
		if err != nil {
			return s.conflict(err, "create account %s", a.ID)
		}
		if err := writeShares(ctx, tx, a.ID, nil, a.SharedWith); err != nil {
			return err
		}
		if err := writeTags(ctx, tx, a.WorkspaceID, a.ID, nil, a.Tags); err != nil {
			return err
		}
		return s.writeOutbox(ctx, tx, a.Outbox)
	})
}

// accountValues are a's values for the accountColumns of a new row.
func accountValues(a store.Account) ([]any, error) {
	scopes, err := toJSON(a.Scopes)
	if err != nil {
		return nil, fmt.Errorf("create account %s: scopes: %w", a.ID, err)
	}
	tags, err := tagsJSON(a.Tags)
	if err != nil {
		return nil, fmt.Errorf("create account %s: tags: %w", a.ID, err)
	}
	return []any{a.ID, a.WorkspaceID, a.OwnerID, a.App, a.Nickname, a.IdentityLabel, scopes,
		string(a.Status), a.StatusError, a.Shared, a.Untested, a.OAuthClientID, storedBytes(a.Credentials),
		nullMicros(a.ExpiresAt), nullMicros(a.LastRefreshedAt), nullMicros(a.NextRefreshAt),
		nullMicros(a.FailingSince), a.RefreshFailures,
		a.RefreshLeaseHolder, nullMicros(a.RefreshLeaseUntil),
		micros(a.CreatedAt), micros(a.UpdatedAt),
		a.ExternalUserID, string(a.Metadata), tags}, nil
}

// writeShares replaces the account's shares with members inside tx, when
// they differ from old.
func writeShares(ctx context.Context, tx *sql.Tx, accountID string, old, members []string) error {
	if slices.Equal(sortedSet(old), sortedSet(members)) {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM account_shares WHERE account_id = $1`, accountID); err != nil {
		return fmt.Errorf("share account %s: %w", accountID, err)
	}
	for _, m := range sortedSet(members) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO account_shares (account_id, user_id) VALUES ($1, $2)`, accountID, m); err != nil {
			return fmt.Errorf("share account %s with %s: %w", accountID, m, err)
		}
	}
	return nil
}

// tagsJSON renders tags as the accounts row keeps them: an object, "{}"
// when there are none.
func tagsJSON(tags map[string]string) (string, error) {
	if len(tags) == 0 {
		return "{}", nil
	}
	return toJSON(tags)
}

// writeTags replaces the account's rows in account_tags, the index the tag
// filter reads, with tags inside tx, when they differ from old.
func writeTags(ctx context.Context, tx *sql.Tx, workspaceID, accountID string, old, tags map[string]string) error {
	if maps.Equal(old, tags) {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM account_tags WHERE account_id = $1`, accountID); err != nil {
		return fmt.Errorf("tag account %s: %w", accountID, err)
	}
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO account_tags (account_id, workspace_id, tag_key, tag_value) VALUES ($1, $2, $3, $4)`,
			accountID, workspaceID, k, tags[k]); err != nil {
			return fmt.Errorf("tag account %s with %s: %w", accountID, k, err)
		}
	}
	return nil
}

// readShares reads the account's shares inside tx once its row is locked.
// The select that took the lock cannot be trusted with them: in
// PostgreSQL its subquery saw the shares as they were before it waited
// for the lock, so a concurrent share would be lost.
func readShares(ctx context.Context, tx *sql.Tx, accountID string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT user_id FROM account_shares WHERE account_id = $1 ORDER BY user_id`, accountID)
	if err != nil {
		return nil, fmt.Errorf("shares of account %s: %w", accountID, err)
	}
	return collect(rows, "shares of account "+accountID, scanString)
}

// sortedSet returns list sorted, without repeats; nil when empty.
func sortedSet(list []string) []string {
	if len(list) == 0 {
		return nil
	}
	out := slices.Clone(list)
	slices.Sort(out)
	return slices.Compact(out)
}

// GetAccount returns the account with the id in the workspace.
func (s *Store) GetAccount(ctx context.Context, workspaceID, id string) (store.Account, error) {
	a, err := scanAccount(s.queryRow(ctx,
		`SELECT `+accountSelect+` FROM accounts WHERE workspace_id = $1 AND id = $2`,
		workspaceID, id))
	if err != nil {
		return store.Account{}, notFound(err, "get account %s", id)
	}
	return a, nil
}

// accountWhere is the WHERE clause (and its arguments) of the accounts f
// selects, leaving out the page: After and Limit.
func (s *Store) accountWhere(ctx context.Context, f store.AccountFilter) (string, []any, error) {
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	where := []string{"workspace_id = " + arg(f.WorkspaceID)}
	if f.VisibleTo != "" {
		u := arg(f.VisibleTo)
		where = append(where, "(owner_id = "+u+" OR shared OR EXISTS (SELECT 1 FROM account_shares sh WHERE sh.account_id = accounts.id AND sh.user_id = "+u+"))")
	}
	if len(f.WithinIDs) > 0 || len(f.WithinApps) > 0 {
		var or []string
		for _, id := range f.WithinIDs {
			or = append(or, "id = "+arg(id))
		}
		for _, app := range f.WithinApps {
			or = append(or, "app = "+arg(app))
		}
		where = append(where, "("+strings.Join(or, " OR ")+")")
	}
	if f.App != "" {
		where = append(where, "app = "+arg(f.App))
	}
	if f.Status != "" {
		where = append(where, "status = "+arg(string(f.Status)))
	}
	if f.OwnerID != "" {
		where = append(where, "owner_id = "+arg(f.OwnerID))
	}
	if f.ExternalUserID != "" {
		where = append(where, "external_user_id = "+arg(f.ExternalUserID))
	}
	for _, tag := range f.Tags {
		// One lookup in account_tags_lookup per tag, not a scan of the
		// accounts' JSON.
		where = append(where, "id IN (SELECT t.account_id FROM account_tags t WHERE t.workspace_id = "+arg(f.WorkspaceID)+
			" AND t.tag_key = "+arg(tag.Key)+" AND t.tag_value = "+arg(tag.Value)+")")
	}
	if f.Text != "" {
		text, err := s.textFilter(ctx, f, arg, where)
		if err != nil {
			return "", nil, err
		}
		where = text
	}
	return strings.Join(where, " AND "), args, nil
}

// planArgs are args as a query of the accounts f selects passes them: led
// by the dialect's PlanWithValues when f searches text.
func (s *Store) planArgs(f store.AccountFilter, args []any) []any {
	if f.Text == "" || s.d.PlanWithValues == nil {
		return args
	}
	return append([]any{s.d.PlanWithValues}, args...)
}

// ListAccounts returns one page of the accounts f selects, ordered by id.
func (s *Store) ListAccounts(ctx context.Context, f store.AccountFilter) ([]store.Account, error) {
	where, args, err := s.accountWhere(ctx, f)
	if err != nil {
		return nil, err
	}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.After != "" {
		where += " AND id > " + arg(f.After)
	}
	query := `SELECT ` + accountSelect + ` FROM accounts WHERE ` + where + ` ORDER BY id LIMIT ` + arg(limit(f.Limit))

	rows, err := s.query(ctx, query, s.planArgs(f, args)...)
	if err != nil {
		return nil, fmt.Errorf("list accounts of %s: %w", f.WorkspaceID, err)
	}
	return collect(rows, "list accounts of "+f.WorkspaceID, scanAccount)
}

// workspaceApps lists a workspace's apps by skipping through the
// (workspace_id, app, id) index from one app to the next: one probe per
// app rather than a read of every account, which SELECT DISTINCT is in
// both databases (neither has a loose index scan).
const workspaceApps = `WITH RECURSIVE apps (app) AS (
	SELECT MIN(app) FROM accounts WHERE workspace_id = $1
	UNION ALL
	SELECT (SELECT MIN(a.app) FROM accounts a WHERE a.workspace_id = $1 AND a.app > apps.app)
	FROM apps WHERE apps.app IS NOT NULL
)
SELECT app FROM apps WHERE app IS NOT NULL`

// AccountApps lists, sorted, the apps of the accounts f selects, whatever
// their number. After and Limit are ignored. A filter on the workspace
// alone (an owner's or an admin's accounts page) skips through the index;
// any other filter reads the accounts it selects, once.
func (s *Store) AccountApps(ctx context.Context, f store.AccountFilter) ([]string, error) {
	query, args := workspaceApps, []any{f.WorkspaceID}
	f.After, f.Limit = "", 0
	if !reflect.DeepEqual(f, store.AccountFilter{WorkspaceID: f.WorkspaceID}) {
		where, wargs, err := s.accountWhere(ctx, f)
		if err != nil {
			return nil, err
		}
		query, args = `SELECT DISTINCT app FROM accounts WHERE `+where+` ORDER BY app`, s.planArgs(f, wargs)
	}
	rows, err := s.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("apps of the accounts of %s: %w", f.WorkspaceID, err)
	}
	return collect(rows, "apps of the accounts of "+f.WorkspaceID, scanString)
}

// UpdateAccount reads the account under its row lock, lets fn change it and
// writes it back, all in one transaction. fn must not call the store: the
// transaction holds a connection and, in SQLite, the database's write lock.
func (s *Store) UpdateAccount(ctx context.Context, workspaceID, id string, fn func(*store.Account) error) (store.Account, error) {
	var out store.Account
	err := s.inTx(ctx, "update account "+id, func(tx *sql.Tx) error {
		a, err := scanAccount(tx.QueryRowContext(ctx,
			`SELECT `+accountSelect+` FROM accounts WHERE workspace_id = $1 AND id = $2`+s.d.LockRows,
			workspaceID, id))
		if err != nil {
			return notFound(err, "update account %s", id)
		}
		if a.SharedWith, err = readShares(ctx, tx, id); err != nil {
			return err
		}
		orig := a
		if err := fn(&a); err != nil {
			return err
		}
		a.ID, a.WorkspaceID, a.CreatedAt = orig.ID, orig.WorkspaceID, orig.CreatedAt
		if err := writeAccount(ctx, tx, orig, a); err != nil {
			return err
		}
		if err := s.writeOutbox(ctx, tx, a.Outbox); err != nil {
			return err
		}
		out = storedAccount(a)
		return nil
	})
	if err != nil {
		return store.Account{}, err
	}
	return out, nil
}

// writeAccount writes every mutable column of a, read as orig, inside
// tx, and its shares when they changed.
func writeAccount(ctx context.Context, tx *sql.Tx, orig, a store.Account) error {
	if err := writeShares(ctx, tx, a.ID, orig.SharedWith, a.SharedWith); err != nil {
		return err
	}
	if err := writeTags(ctx, tx, a.WorkspaceID, a.ID, orig.Tags, a.Tags); err != nil {
		return err
	}
	scopes, err := toJSON(a.Scopes)
	if err != nil {
		return fmt.Errorf("update account %s: scopes: %w", a.ID, err)
	}
	tags, err := tagsJSON(a.Tags)
	if err != nil {
		return fmt.Errorf("update account %s: tags: %w", a.ID, err)
	}
	_, err = tx.ExecContext(ctx, `UPDATE accounts SET
		owner_id = $3, app = $4, nickname = $5, identity_label = $6, scopes = $7,
		status = $8, status_error = $9, shared = $10, untested = $11, oauth_client_id = $12,
		credentials = $13, expires_at = $14, last_refreshed_at = $15, next_refresh_at = $16,
		failing_since = $17, refresh_failures = $18, updated_at = $19,
		refresh_lease_holder = $20, refresh_lease_until = $21,
		external_user_id = $22, metadata = $23, tags = $24
		WHERE workspace_id = $1 AND id = $2`,
		a.WorkspaceID, a.ID, a.OwnerID, a.App, a.Nickname, a.IdentityLabel, scopes,
		string(a.Status), a.StatusError, a.Shared, a.Untested, a.OAuthClientID,
		storedBytes(a.Credentials), nullMicros(a.ExpiresAt), nullMicros(a.LastRefreshedAt),
		nullMicros(a.NextRefreshAt), nullMicros(a.FailingSince), a.RefreshFailures,
		micros(a.UpdatedAt), a.RefreshLeaseHolder, nullMicros(a.RefreshLeaseUntil),
		a.ExternalUserID, string(a.Metadata), tags)
	if err != nil {
		return fmt.Errorf("update account %s: %w", a.ID, err)
	}
	return nil
}

// DeleteAccount deletes the account with the id in the workspace. Its
// audit events stay.
func (s *Store) DeleteAccount(ctx context.Context, workspaceID, id string) error {
	return s.deleteOne(ctx, `DELETE FROM accounts WHERE workspace_id = $1 AND id = $2`,
		workspaceID, id, "delete account")
}

// AllAccountIDs lists every account as (workspaceID, id) pairs.
func (s *Store) AllAccountIDs(ctx context.Context) ([][2]string, error) {
	rows, err := s.query(ctx, `SELECT workspace_id, id FROM accounts ORDER BY workspace_id, id`)
	if err != nil {
		return nil, fmt.Errorf("all account ids: %w", err)
	}
	return collect(rows, "all account ids", func(row scanner) ([2]string, error) {
		var p [2]string
		err := row.Scan(&p[0], &p[1])
		return p, err
	})
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

func scanAccount(row scanner) (store.Account, error) {
	var (
		a                                        store.Account
		scopes, status, shares, metadata, tags   string
		expires, refreshed, nextRefresh, failing sql.NullInt64
		leaseUntil                               sql.NullInt64
		created, updated                         int64
	)
	err := row.Scan(&a.ID, &a.WorkspaceID, &a.OwnerID, &a.App, &a.Nickname, &a.IdentityLabel, &scopes,
		&status, &a.StatusError, &a.Shared, &a.Untested, &a.OAuthClientID, &a.Credentials,
		&expires, &refreshed, &nextRefresh, &failing, &a.RefreshFailures,
		&a.RefreshLeaseHolder, &leaseUntil, &created, &updated,
		&a.ExternalUserID, &metadata, &tags, &shares)
	if err != nil {
		return store.Account{}, err
	}
	a.SharedWith = sortedSet(strings.Fields(shares))
	if err := json.Unmarshal([]byte(scopes), &a.Scopes); err != nil {
		return store.Account{}, fmt.Errorf("account %s: scopes: %w", a.ID, err)
	}
	if err := json.Unmarshal([]byte(tags), &a.Tags); err != nil {
		return store.Account{}, fmt.Errorf("account %s: tags: %w", a.ID, err)
	}
	if len(a.Tags) == 0 {
		a.Tags = nil
	}
	if metadata != "" {
		a.Metadata = []byte(metadata)
	}
	a.Status = store.AccountStatus(status)
	a.Credentials = storedBytes(a.Credentials)
	a.ExpiresAt = fromNullMicros(expires)
	a.LastRefreshedAt = fromNullMicros(refreshed)
	a.NextRefreshAt = fromNullMicros(nextRefresh)
	a.FailingSince = fromNullMicros(failing)
	a.RefreshLeaseUntil = fromNullMicros(leaseUntil)
	a.CreatedAt = fromMicros(created)
	a.UpdatedAt = fromMicros(updated)
	return a, nil
}

// storedAccount returns a as it reads back from the database.
func storedAccount(a store.Account) store.Account {
	a.Credentials = storedBytes(a.Credentials)
	a.SharedWith = sortedSet(a.SharedWith)
	if len(a.Tags) == 0 {
		a.Tags = nil
	}
	if len(a.Metadata) == 0 {
		a.Metadata = nil
	}
	a.ExpiresAt = storedPtr(a.ExpiresAt)
	a.LastRefreshedAt = storedPtr(a.LastRefreshedAt)
	a.NextRefreshAt = storedPtr(a.NextRefreshAt)
	a.FailingSince = storedPtr(a.FailingSince)
	a.RefreshLeaseUntil = storedPtr(a.RefreshLeaseUntil)
	a.CreatedAt = stored(a.CreatedAt)
	a.UpdatedAt = stored(a.UpdatedAt)
	a.Outbox = nil
	return a
}

// escapeLike makes s match itself literally inside a LIKE pattern with
// ESCAPE '\'.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
