package accounts_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/latchkeyhq/latchkey/internal/accounts"
)

// TestTokenLimitsInTheService: a token limited to one account, or to one
// app, is held to it by the accounts service itself (so workflows and
// the web obey it as the API does): beyond its limits an account is not
// found, not listed, and cannot be made.
func TestTokenLimitsInTheService(t *testing.T) {
	svc, who := newService(t)
	ctx := context.Background()
	mk := func(app, key string) accounts.Account {
		acc, err := svc.Create(ctx, who["owner"], accounts.CreateInput{App: app, Fields: map[string]string{"api_key": key}, SkipTest: true})
		if err != nil {
			t.Fatal(err)
		}
		return acc
	}
	one, two := mk("openai", "sk-one"), mk("openai", "sk-two")
	other := mk("anthropic", "sk-ant-x")

	byAccount := who["owner"]
	byAccount.Scopes, byAccount.Accounts = []string{"*"}, []string{one.ID}
	byApp := who["owner"]
	byApp.Scopes, byApp.Apps = []string{"*"}, []string{"openai"}

	for _, tc := range []struct {
		name    string
		actor   accounts.Actor
		allowed []string
	}{
		{"limited to one account", byAccount, []string{one.ID}},
		{"limited to one app", byApp, []string{one.ID, two.ID}},
		{"no limits", who["owner"], []string{one.ID, two.ID, other.ID}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			list, _, err := svc.List(ctx, tc.actor, accounts.ListInput{})
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, a := range list {
				ids = append(ids, a.ID)
			}
			if !slices.Equal(ids, tc.allowed) {
				t.Errorf("list: %v, want %v", ids, tc.allowed)
			}
			// A page of one is full and says more follow only when they do.
			page, more, err := svc.List(ctx, tc.actor, accounts.ListInput{Limit: 1})
			if err != nil || len(page) != 1 || more != (len(tc.allowed) > 1) {
				t.Errorf("page of one: %d accounts, more %v, %v", len(page), more, err)
			}
			for _, id := range []string{one.ID, two.ID, other.ID} {
				_, err := svc.Get(ctx, tc.actor, id)
				_, _, cerr := svc.Credentials(ctx, tc.actor, id)
				if want := slices.Contains(tc.allowed, id); (err == nil) != want || (cerr == nil) != want {
					t.Errorf("%s: get %v, credentials %v, want allowed %v", id, err, cerr, want)
				} else if !want && (!errors.Is(err, accounts.ErrNotFound) || !errors.Is(cerr, accounts.ErrNotFound)) {
					t.Errorf("%s beyond the limits: %v / %v, want not found", id, err, cerr)
				}
			}
		})
	}
	if _, err := svc.Create(ctx, byApp, accounts.CreateInput{App: "anthropic", Fields: map[string]string{"api_key": "sk-ant-y"}, SkipTest: true}); !errors.Is(err, accounts.ErrForbidden) {
		t.Errorf("a token limited to openai creates an anthropic account: %v", err)
	}
}
