// Package storetest is the conformance suite every store.Store backend
// runs: the same behaviour, checked the same way, for SQLite and
// PostgreSQL alike.
package storetest

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/latchkeyhq/latchkey/internal/store"
)

// Run runs the suite. open must return an empty, migrated store for the
// test it is given and close it when that test ends; subtests run in
// parallel, each with its own store.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Ping", testPing},
		{"Workspaces", testWorkspaces},
		{"Users", testUsers},
		{"APITokens", testAPITokens},
		{"AccountsCreateGetDelete", testAccountsCreateGetDelete},
		{"AccountsWorkspaceIsolation", testAccountsWorkspaceIsolation},
		{"ListAccountsFilters", testListAccountsFilters},
		{"ListAccountsPages", testListAccountsPages},
		{"ListAccountsDefaultLimit", testListAccountsDefaultLimit},
		{"AccountApps", testAccountApps},
		{"UpdateAccountRoundTrip", testUpdateAccountRoundTrip},
		{"UpdateAccountKeepsIdentity", testUpdateAccountKeepsIdentity},
		{"UpdateAccountFnError", testUpdateAccountFnError},
		{"UpdateAccountConcurrent", testUpdateAccountConcurrent},
		{"AllAccountIDs", testAllAccountIDs},
		{"Audit", testAudit},
		{"AuditPages", testAuditPages},
		{"AuditBatch", testAuditBatch},
		{"Meta", testMeta},
		{"MetaConcurrentPutIfAbsent", testMetaConcurrentPutIfAbsent},
		{"OAuthClientUpdate", testOAuthClientUpdate},
		{"OAuthClientUpdateConcurrent", testOAuthClientUpdateConcurrent},
		{"OAuthClientLookup", testOAuthClientLookup},
		{"ConnectionsCreateGet", testConnectionsCreateGet},
		{"ConnectionsUpdate", testConnectionsUpdate},
		{"ClaimConnection", testClaimConnection},
		{"ClaimConnectionConcurrent", testClaimConnectionConcurrent},
		{"FinishConnection", testFinishConnection},
		{"DeleteExpiredConnections", testDeleteExpiredConnections},
		{"DeleteExpiredSessions", testDeleteExpiredSessions},
		{"DeleteUserSessions", testDeleteUserSessions},
		{"RefreshDue", testRefreshDue},
		{"RefreshDueFnError", testRefreshDueFnError},
		{"RefreshDueMustMoveOn", testRefreshDueMustMoveOn},
		{"RefreshDueConcurrent", testRefreshDueConcurrent},
		{"NextRefreshAt", testNextRefreshAt},
		{"CountAccountsByStatus", testCountAccountsByStatus},
		{"RefreshLease", testRefreshLease},
		{"RefreshLeaseConcurrent", testRefreshLeaseConcurrent},
	}
	tests = append(tests, workflowTests...)
	tests = append(tests, memberTests...)
	tests = append(tests, shareTests...)
	tests = append(tests, tokenTests...)
	tests = append(tests, endUserTests...)
	tests = append(tests, webhookTests...)
	tests = append(tests, scaleTests...)
	tests = append(tests, mcpAuthTests...)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

func testPing(t *testing.T, s store.Store) {
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

// t0 is the suite's fixed "now". It has nanoseconds so that tests notice a
// backend that keeps more precision than it promises, or less.
var t0 = time.Date(2025, 3, 1, 12, 0, 0, 123456789, time.UTC)

func at(minutes int) time.Time { return t0.Add(time.Duration(minutes) * time.Minute) }

func ptr(t time.Time) *time.Time { return &t }

// micro is t as a backend keeps it: UTC, to the microsecond.
func micro(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func microPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	return ptr(micro(*t))
}

func sameTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if !got.Equal(micro(want)) {
		t.Errorf("%s = %v, want %v", what, got, micro(want))
	}
	if got.Location() != time.UTC {
		t.Errorf("%s is in %v, want UTC", what, got.Location())
	}
}

// wantErr fails the test unless err is (or wraps) want.
func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: got error %v, want %v", what, err, want)
	}
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func mustWorkspace(t *testing.T, s store.Store, id string) {
	t.Helper()
	must(t, "CreateWorkspace "+id, s.CreateWorkspace(t.Context(), store.Workspace{ID: id, Name: id, CreatedAt: t0}))
}

// newAccount returns a healthy account with the fields every account has.
func newAccount(workspaceID, id, ownerID, app string) store.Account {
	return store.Account{
		ID:          id,
		WorkspaceID: workspaceID,
		OwnerID:     ownerID,
		App:         app,
		Status:      store.StatusHealthy,
		CreatedAt:   t0,
		UpdatedAt:   t0,
	}
}

func mustAccount(t *testing.T, s store.Store, a store.Account) {
	t.Helper()
	must(t, "CreateAccount "+a.ID, s.CreateAccount(t.Context(), a))
}

// canonAccount renders a as a backend returns it (times in UTC to the
// microsecond, empty credentials as none), so two accounts compare as
// strings and a mismatch prints readably.
func canonAccount(a store.Account) string {
	a.CreatedAt = micro(a.CreatedAt)
	a.UpdatedAt = micro(a.UpdatedAt)
	a.ExpiresAt = microPtr(a.ExpiresAt)
	a.LastRefreshedAt = microPtr(a.LastRefreshedAt)
	a.NextRefreshAt = microPtr(a.NextRefreshAt)
	a.FailingSince = microPtr(a.FailingSince)
	a.RefreshLeaseUntil = microPtr(a.RefreshLeaseUntil)
	if len(a.Credentials) == 0 {
		a.Credentials = nil
	}
	b, err := json.Marshal(a)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func sameAccount(t *testing.T, what string, got, want store.Account) {
	t.Helper()
	for _, tm := range []*time.Time{&got.CreatedAt, &got.UpdatedAt, got.ExpiresAt, got.LastRefreshedAt, got.NextRefreshAt, got.FailingSince, got.RefreshLeaseUntil} {
		if tm != nil && tm.Location() != time.UTC {
			t.Errorf("%s: time %v is not in UTC", what, tm)
		}
	}
	if g, w := canonAccount(got), canonAccount(want); g != w {
		t.Errorf("%s:\n got %s\nwant %s", what, g, w)
	}
}

func accountIDs(as []store.Account) []string {
	ids := []string{}
	for _, a := range as {
		ids = append(ids, a.ID)
	}
	return ids
}
