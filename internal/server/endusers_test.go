package server_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
)

// TestEndUsersAPI: a product's backend keeps its users' accounts with
// tags and metadata, finds them by end user and tag, mints connect
// tokens with connect:write only, and deletes an end user with all
// their accounts; bad input stores nothing, and another workspace sees
// none of it.
func TestEndUsersAPI(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b servertest.Backend) {
		f := start(t, b)
		ctx := context.Background()
		me, err := f.api.Me(ctx)
		if err != nil {
			t.Fatal(err)
		}
		backend := namedToken(t, f, me.UserID, "backend", identity.ScopeConnectWrite, identity.ScopeAccountsRead, identity.ScopeAccountsWrite)
		noConnect := namedToken(t, f, me.UserID, "no-connect", identity.ScopeAccountsRead, identity.ScopeAccountsWrite)

		connect := func(user string, tags map[string]string, metadata string) client.Account {
			t.Helper()
			a, err := backend.CreateAccount(ctx, client.CreateAccount{App: "sendgrid", Fields: map[string]string{"api_key": goodKey},
				ExternalUserID: user, Tags: tags, Metadata: json.RawMessage(metadata)})
			if err != nil {
				t.Fatal(err)
			}
			return a
		}
		a1 := connect("customer-42", map[string]string{"org": "acme", "env": "prod"}, `{"seat": 7}`)
		a2 := connect("customer-42", map[string]string{"org": "acme", "env": "dev"}, "")
		a3 := connect("customer-43", map[string]string{"org": "globex"}, "")
		if a1.ExternalUserID != "customer-42" || a1.Tags["org"] != "acme" || string(a1.Metadata) != `{"seat":7}` {
			t.Errorf("created %+v, want the end user, tags and metadata", a1)
		}
		got, err := backend.GetAccount(ctx, a1.ID)
		if err != nil || got.ExternalUserID != "customer-42" || got.Tags["env"] != "prod" || string(got.Metadata) != `{"seat":7}` {
			t.Errorf("read back %+v, %v", got, err)
		}

		list := func(o client.ListOptions) []string {
			t.Helper()
			return accountIDs(t, backend, o)
		}
		for _, tc := range []struct {
			name string
			o    client.ListOptions
			want []string
		}{
			{"end user", client.ListOptions{ExternalUserID: "customer-42"}, []string{a1.ID, a2.ID}},
			{"tag", client.ListOptions{Tags: []string{"org=acme"}}, []string{a1.ID, a2.ID}},
			{"two tags", client.ListOptions{Tags: []string{"org=acme", "env=dev"}}, []string{a2.ID}},
			{"end user and tag", client.ListOptions{ExternalUserID: "customer-43", Tags: []string{"org=globex"}}, []string{a3.ID}},
			{"no match", client.ListOptions{Tags: []string{"org=initech"}}, []string{}},
		} {
			if ids := list(tc.o); !slices.Equal(ids, tc.want) {
				t.Errorf("%s: %v, want %v", tc.name, ids, tc.want)
			}
		}
		if _, err := backend.ListAccounts(ctx, client.ListOptions{Tags: []string{"org"}}); status(err) != 422 {
			t.Errorf("a malformed tag filter: %v, want 422", err)
		}

		// Bad input on create stores nothing.
		before := list(client.ListOptions{})
		for name, in := range map[string]client.CreateAccount{
			"metadata over 16 KiB": {Metadata: json.RawMessage(`"` + strings.Repeat("x", 16<<10) + `"`)},
			"malformed tag":        {Tags: map[string]string{"bad key": "v"}},
			"end user id too long": {ExternalUserID: strings.Repeat("u", 251)},
		} {
			in.App, in.Fields = "sendgrid", map[string]string{"api_key": goodKey}
			if _, err := backend.CreateAccount(ctx, in); status(err) != 422 {
				t.Errorf("create with %s: %v, want 422", name, err)
			}
		}
		if after := list(client.ListOptions{}); !slices.Equal(after, before) {
			t.Errorf("refused creates stored accounts: %v, was %v", after, before)
		}

		// PATCH changes tags and metadata; bad input changes nothing, the
		// nickname included.
		tags := map[string]string{"org": "initech"}
		up, err := backend.UpdateAccount(ctx, a2.ID, client.RenameAccount{Tags: &tags, Metadata: json.RawMessage(`{"plan":"pro"}`)})
		if err != nil || up.Tags["org"] != "initech" || up.Tags["env"] != "" || string(up.Metadata) != `{"plan":"pro"}` {
			t.Errorf("PATCH tags and metadata: %+v, %v", up, err)
		}
		if ids := list(client.ListOptions{Tags: []string{"org=initech"}}); !slices.Equal(ids, []string{a2.ID}) {
			t.Errorf("after retagging: %v", ids)
		}
		nick := "renamed"
		bad := map[string]string{"org": ""}
		if _, err := backend.UpdateAccount(ctx, a2.ID, client.RenameAccount{Nickname: &nick, Tags: &bad}); status(err) != 422 {
			t.Errorf("PATCH with an empty tag value: %v, want 422", err)
		}
		if _, err := backend.UpdateAccount(ctx, a2.ID, client.RenameAccount{Metadata: json.RawMessage(`[` + strings.Repeat(`1,`, 9000) + `1]`)}); status(err) != 422 {
			t.Errorf("PATCH with metadata over 16 KiB: %v, want 422", err)
		}
		if got, err := backend.GetAccount(ctx, a2.ID); err != nil || got.Nickname == nick || got.Tags["org"] != "initech" || string(got.Metadata) != `{"plan":"pro"}` {
			t.Errorf("after refused PATCHes: %+v, %v", got, err)
		}

		// Connect tokens: connect:write only.
		req := client.CreateConnectToken{ExternalUserID: "customer-42", Apps: []string{"sendgrid"}, Tags: map[string]string{"org": "acme"},
			SuccessRedirectURI: "https://app.example/ok", AllowedOrigins: []string{"https://app.example"}}
		if _, err := noConnect.CreateConnectToken(ctx, req); status(err) != 403 {
			t.Errorf("mint without connect:write: %v, want 403", err)
		}
		ct, err := backend.CreateConnectToken(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if want := strings.TrimSuffix(f.URL, "/") + "/connect/link?token=" + ct.Token; ct.ConnectLinkURL != want {
			t.Errorf("connect_link_url does not carry the token under the public URL")
		}
		exp, err := time.Parse(time.RFC3339Nano, ct.ExpiresAt)
		if err != nil || exp.Sub(time.Now()) > 4*time.Hour || exp.Sub(time.Now()) < 4*time.Hour-time.Minute {
			t.Errorf("expires_at %s, want in 4 h", ct.ExpiresAt)
		}
		if _, err := backend.CreateConnectToken(ctx, client.CreateConnectToken{ExternalUserID: "u", AllowedOrigins: []string{"https://app.example/x"}}); status(err) != 422 {
			t.Errorf("mint with a bad origin: %v, want 422", err)
		}

		// Another workspace: its customer-42 is nobody here.
		outsider := otherWorkspace(t, f.Instance)
		if _, err := outsider.GetEndUser(ctx, "customer-42"); status(err) != 404 {
			t.Errorf("another workspace's GET end user: %v, want 404", err)
		}
		if _, err := outsider.DeleteEndUser(ctx, "customer-42"); status(err) != 404 {
			t.Errorf("another workspace's DELETE end user: %v, want 404", err)
		}
		if ids := accountIDs(t, outsider, client.ListOptions{ExternalUserID: "customer-42"}); len(ids) != 0 {
			t.Errorf("another workspace lists %v", ids)
		}

		// The end user and their accounts; then deleting them.
		u, err := backend.GetEndUser(ctx, "customer-42")
		if err != nil || u.ExternalUserID != "customer-42" || len(u.Accounts) != 2 || u.Accounts[0].ID != a1.ID || u.Accounts[1].ID != a2.ID {
			t.Fatalf("GET end user: %+v, %v", u, err)
		}
		d, err := backend.DeleteEndUser(ctx, "customer-42")
		if err != nil || len(d.Deleted) != 2 {
			t.Fatalf("DELETE end user: %+v, %v", d, err)
		}
		for _, x := range d.Deleted {
			if x.Revocation != "unsupported" {
				t.Errorf("a key account's revocation: %q, want unsupported", x.Revocation)
			}
		}
		if _, err := backend.GetEndUser(ctx, "customer-42"); status(err) != 404 {
			t.Errorf("GET after DELETE: %v, want 404", err)
		}
		if _, err := backend.GetAccount(ctx, a1.ID); status(err) != 404 {
			t.Errorf("a deleted end user's account: %v, want 404", err)
		}
		if ids := list(client.ListOptions{ExternalUserID: "customer-43"}); !slices.Equal(ids, []string{a3.ID}) {
			t.Errorf("another end user's accounts: %v", ids)
		}
		events := allEvents(t, f.api, client.AuditQuery{Action: "account.deleted"})
		var gone []string
		for _, e := range events {
			gone = append(gone, e.AccountID)
		}
		slices.Sort(gone)
		if !slices.Equal(gone, []string{a1.ID, a2.ID}) {
			t.Errorf("account.deleted events for %v, want %s and %s", gone, a1.ID, a2.ID)
		}
	})
}
