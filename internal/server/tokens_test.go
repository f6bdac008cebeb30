package server_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/ids"
	"github.com/latchkeyhq/latchkey/internal/server"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
	"github.com/latchkeyhq/latchkey/internal/store"
)

// sendgrid makes a SendGrid account with the stand-in's good key.
func sendgrid(t *testing.T, api *client.Client, nickname string) client.Account {
	t.Helper()
	acc, err := api.CreateAccount(context.Background(), client.CreateAccount{App: "sendgrid", Nickname: ptr(nickname),
		Fields: map[string]string{"api_key": goodKey}})
	if err != nil {
		t.Fatal(err)
	}
	return acc
}

func twilio(t *testing.T, api *client.Client) client.Account {
	t.Helper()
	acc, err := api.CreateAccount(context.Background(), client.CreateAccount{App: "twilio",
		Fields: map[string]string{"account_sid": twilioSID, "auth_token": twilioToken}})
	if err != nil {
		t.Fatal(err)
	}
	return acc
}

func mint(t *testing.T, inst *servertest.Instance, api *client.Client, in client.CreateToken) (client.Token, *client.Client) {
	t.Helper()
	nt, err := api.CreateToken(context.Background(), in)
	if err != nil {
		t.Fatalf("create token %+v: %v", in, err)
	}
	return nt.Token, client.New(inst.URL, nt.Secret, nil)
}

func accountIDs(t *testing.T, api *client.Client, o client.ListOptions) []string {
	t.Helper()
	page, err := api.ListAccounts(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range page.Data {
		out = append(out, a.ID)
	}
	return out
}

// A token limited to one account reads it and is told "not found" for
// every other; a token limited to an app lists only that app's accounts.
func TestTokenLimits(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b servertest.Backend) {
		f := start(t, b)
		ctx := context.Background()
		mail := sendgrid(t, f.api, "mail")
		other := sendgrid(t, f.api, "newsletter")
		sms := twilio(t, f.api)

		_, one := mint(t, f.Instance, f.api, client.CreateToken{Name: "mailer", Scopes: []string{identity.ScopeCredentialsRead, identity.ScopeAccountsRead},
			AccountIDs: []string{mail.ID}})
		if creds, err := one.Credentials(ctx, mail.ID); err != nil || creds["api_key"] != goodKey {
			t.Fatalf("the token's own account: %v, %v", creds, err)
		}
		if got, err := one.GetAccount(ctx, mail.ID); err != nil || got.ID != mail.ID {
			t.Fatalf("get its own account: %+v, %v", got, err)
		}
		for _, id := range []string{other.ID, sms.ID, "acc_01j0000000000000000000000"} {
			calls := map[string]error{
				"get":         errOf(one.GetAccount(ctx, id)),
				"credentials": errOf(one.Credentials(ctx, id)),
				"events":      errOf(one.Events(ctx, id, client.ListOptions{})),
				"used by":     errOf(one.UsedBy(ctx, id)),
				"rename":      errOf(one.RenameAccount(ctx, id, "x")),
				"delete":      one.DeleteAccount(ctx, id),
				"reconnect":   errOf(one.Reconnect(ctx, id)),
				"replace":     errOf(one.ReplaceKeys(ctx, id, client.ReplaceKeys{Fields: map[string]string{"api_key": goodKey}})),
			}
			for name, err := range calls {
				if !client.IsProblem(err, "not-found") {
					t.Errorf("%s of %s beyond the limit: %v, want not-found", name, id, err)
				}
			}
		}
		if got := accountIDs(t, one, client.ListOptions{}); !slices.Equal(got, []string{mail.ID}) {
			t.Errorf("the one-account token lists %v, want only %s", got, mail.ID)
		}
		// Nothing changed for those it could not see.
		if got := accountIDs(t, f.api, client.ListOptions{}); len(got) != 3 {
			t.Errorf("the owner lists %v after the refusals", got)
		}

		_, app := mint(t, f.Instance, f.api, client.CreateToken{Name: "sendgrid", Scopes: []string{identity.ScopeAccountsRead, identity.ScopeAccountsWrite},
			Apps: []string{"sendgrid"}})
		if got := accountIDs(t, app, client.ListOptions{}); !slices.Equal(got, []string{mail.ID, other.ID}) {
			t.Errorf("the SendGrid token lists %v, want %s and %s", got, mail.ID, other.ID)
		}
		if got := accountIDs(t, app, client.ListOptions{App: "twilio"}); len(got) != 0 {
			t.Errorf("the SendGrid token lists Twilio accounts: %v", got)
		}
		// Pages stay full while more follow.
		p1, err := app.ListAccounts(ctx, client.ListOptions{Limit: 1})
		if err != nil || len(p1.Data) != 1 || p1.NextCursor == nil {
			t.Fatalf("first page of one: %+v, %v", p1, err)
		}
		if _, err := app.GetAccount(ctx, sms.ID); !client.IsProblem(err, "not-found") {
			t.Errorf("the SendGrid token gets the Twilio account: %v", err)
		}
		if _, err := app.CreateAccount(ctx, client.CreateAccount{App: "twilio",
			Fields: map[string]string{"account_sid": twilioSID, "auth_token": twilioToken}}); !client.IsProblem(err, "forbidden") {
			t.Errorf("the SendGrid token makes a Twilio account: %v", err)
		}

		// A token made by a limited token stays within its limits.
		if _, err := app.CreateToken(ctx, client.CreateToken{Name: "wider", Scopes: []string{identity.ScopeAccountsRead}}); !client.IsProblem(err, "forbidden") {
			t.Errorf("an unlimited token from a limited one: %v", err)
		}
		if _, err := app.CreateToken(ctx, client.CreateToken{Name: "sms", Scopes: []string{identity.ScopeAccountsRead}, Apps: []string{"twilio"}}); !client.IsProblem(err, "forbidden") {
			t.Errorf("a Twilio token from a SendGrid one: %v", err)
		}
		if _, err := app.CreateToken(ctx, client.CreateToken{Name: "creds", Scopes: []string{identity.ScopeCredentialsRead}, Apps: []string{"sendgrid"}}); !client.IsProblem(err, "forbidden") {
			t.Errorf("a scope the maker lacks: %v", err)
		}
		if _, narrow := mint(t, f.Instance, app, client.CreateToken{Name: "one", Scopes: []string{identity.ScopeAccountsRead}, AccountIDs: []string{other.ID}}); true {
			if got := accountIDs(t, narrow, client.ListOptions{}); !slices.Equal(got, []string{other.ID}) {
				t.Errorf("the narrower token lists %v", got)
			}
		}
		if _, err := app.CreateToken(ctx, client.CreateToken{Name: "sms", Scopes: []string{identity.ScopeAccountsRead}, AccountIDs: []string{sms.ID}}); !client.IsProblem(err, "validation") {
			t.Errorf("a SendGrid token naming the Twilio account: %v", err)
		}
	})
}

// errOf keeps the error of a two-value call.
func errOf[T any](_ T, err error) error { return err }

// Bad input is refused with a clear problem, and no token is made.
func TestTokenBadInput(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b servertest.Backend) {
		f := start(t, b)
		ctx := context.Background()
		member := addUser(t, f.Instance, "mia@acme.test", store.RoleMember)
		before, err := f.api.ListTokens(ctx)
		if err != nil {
			t.Fatal(err)
		}
		past := time.Now().Add(-time.Hour)
		for _, tc := range []struct {
			name string
			api  *client.Client
			in   client.CreateToken
			kind string
		}{
			{"unknown scope", f.api, client.CreateToken{Name: "x", Scopes: []string{"accounts:delete"}}, "validation"},
			{"no scope", f.api, client.CreateToken{Name: "x"}, "validation"},
			{"no name", f.api, client.CreateToken{Scopes: []string{"accounts:read"}}, "validation"},
			{"expiry in the past", f.api, client.CreateToken{Name: "x", Scopes: []string{"accounts:read"}, ExpiresAt: &past}, "validation"},
			{"unknown account", f.api, client.CreateToken{Name: "x", Scopes: []string{"accounts:read"}, AccountIDs: []string{"acc_01j0000000000000000000000"}}, "validation"},
			{"unknown app", f.api, client.CreateToken{Name: "x", Scopes: []string{"accounts:read"}, Apps: []string{"no-such-app"}}, "validation"},
			{"a member grants members:write", member.api, client.CreateToken{Name: "x", Scopes: []string{identity.ScopeMembersWrite}}, "forbidden"},
			{"a member grants everything", member.api, client.CreateToken{Name: "x", Scopes: []string{identity.ScopeAll}}, "forbidden"},
		} {
			if _, err := tc.api.CreateToken(ctx, tc.in); !client.IsProblem(err, tc.kind) {
				t.Errorf("%s: %v, want %s", tc.name, err, tc.kind)
			}
		}
		if _, err := f.api.RotateToken(ctx, before[0].ID, client.RotateToken{Overlap: "eight days"}); !client.IsProblem(err, "validation") {
			t.Errorf("a bad overlap: %v", err)
		}
		if _, err := f.api.RotateToken(ctx, before[0].ID, client.RotateToken{Overlap: "200h"}); !client.IsProblem(err, "validation") {
			t.Errorf("an overlap past the maximum: %v", err)
		}
		after, err := f.api.ListTokens(ctx)
		if err != nil || len(after) != len(before) || after[0].ReplacedBy != "" {
			t.Fatalf("tokens after bad input: %+v (%v), before %+v", after, err, before)
		}
		mine, err := member.api.ListTokens(ctx)
		if err != nil || len(mine) != 1 {
			t.Fatalf("the member's tokens after bad input: %+v, %v", mine, err)
		}
	})
}

// Another user's and another workspace's tokens cannot be listed, revoked
// or rotated: to them, the token is not there.
func TestTokensAreTheirMakers(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b servertest.Backend) {
		f := start(t, b)
		ctx := context.Background()
		ann := addUser(t, f.Instance, "ann@acme.test", store.RoleMember)
		bob := addUser(t, f.Instance, "bob@acme.test", store.RoleOwner)
		annTok, _ := mint(t, f.Instance, ann.api, client.CreateToken{Name: "ann's", Scopes: []string{identity.ScopeAccountsRead}})

		// Carol is an owner in another workspace.
		st := f.Store()
		now := time.Now()
		other := store.Workspace{ID: ids.New(ids.Workspace, now), Name: "Other", CreatedAt: now}
		if err := st.CreateWorkspace(ctx, other); err != nil {
			t.Fatal(err)
		}
		carolUser, err := f.Identity().CreateUser(ctx, identity.NewUser{WorkspaceID: other.ID, Email: "carol@other.test", Role: identity.RoleOwner})
		if err != nil {
			t.Fatal(err)
		}
		sec, _, err := f.Identity().IssueToken(ctx, other.ID, carolUser.ID, "carol", []string{identity.ScopeAll})
		if err != nil {
			t.Fatal(err)
		}
		carol := client.New(f.URL, sec.Reveal(), nil)

		for name, api := range map[string]*client.Client{"another member": bob.api, "the admin": f.api, "another workspace": carol} {
			list, err := api.ListTokens(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, tk := range list {
				if tk.ID == annTok.ID {
					t.Errorf("%s lists ann's token", name)
				}
			}
			if err := api.RevokeToken(ctx, annTok.ID); !client.IsProblem(err, "not-found") {
				t.Errorf("%s revokes ann's token: %v", name, err)
			}
			if _, err := api.RotateToken(ctx, annTok.ID, client.RotateToken{}); !client.IsProblem(err, "not-found") {
				t.Errorf("%s rotates ann's token: %v", name, err)
			}
		}
		list, err := ann.api.ListTokens(ctx)
		if err != nil || len(list) != 2 || list[1].ID != annTok.ID || list[1].ReplacedBy != "" {
			t.Fatalf("ann's tokens after the others tried: %+v, %v", list, err)
		}

		// A narrow token does not manage its user's broader ones.
		_, narrow := mint(t, f.Instance, ann.api, client.CreateToken{Name: "narrow", Scopes: []string{identity.ScopeAccountsRead}, Apps: []string{"sendgrid"}})
		if err := narrow.RevokeToken(ctx, annTok.ID); !client.IsProblem(err, "forbidden") {
			t.Errorf("a narrow token revokes a broader one: %v", err)
		}
	})
}

// twoReplicas starts two servers on one PostgreSQL database, with one
// fake clock.
func twoReplicas(t *testing.T) (a, b *servertest.Instance, clock *clockwork.FakeClock) {
	t.Helper()
	p := newProvider(t)
	clock = clockwork.NewFakeClockAt(time.Now())
	cfg := servertest.Config(t, servertest.Backends[1].DatabaseURL(t))
	cfg.AppOrigins = map[string]string{"sendgrid": p.URL, "twilio": p.URL}
	a = servertest.Start(t, cfg, server.Options{Clock: clock})
	cfg2 := cfg
	cfg2.DataDir = filepath.Join(t.TempDir(), "data")
	cfg2.Listen, cfg2.PublicURL = "127.0.0.1:0", ""
	b = servertest.Start(t, cfg2, server.Options{Clock: clock})
	return a, b, clock
}

// A revoked token stops on the replica that revoked it at once, and on
// another within the documented 5 seconds.
func TestTokenRevocation(t *testing.T) {
	ra, rb, clock := twoReplicas(t)
	ctx := context.Background()
	acc := sendgrid(t, ra.Client(), "mail")
	nt, err := ra.Client().CreateToken(ctx, client.CreateToken{Name: "ci", Scopes: []string{identity.ScopeCredentialsRead}})
	if err != nil {
		t.Fatal(err)
	}
	tok := nt.Token
	onA, onB := client.New(ra.URL, nt.Secret, nil), client.New(rb.URL, nt.Secret, nil)
	for name, api := range map[string]*client.Client{"a": onA, "b": onB} {
		if _, err := api.Credentials(ctx, acc.ID); err != nil {
			t.Fatalf("replica %s before revocation: %v", name, err)
		}
	}
	if err := ra.Client().RevokeToken(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := onA.Credentials(ctx, acc.ID); !client.IsProblem(err, "unauthorized") {
		t.Fatalf("replica a right after revocation: %v", err)
	}
	// Replica b trusts its cache for up to 5 s, and no longer.
	clock.Advance(5*time.Second - time.Millisecond)
	if _, err := onB.Credentials(ctx, acc.ID); err != nil {
		t.Fatalf("replica b within the bound: %v (the README documents up to 5 s)", err)
	}
	clock.Advance(time.Millisecond)
	if _, err := onB.Credentials(ctx, acc.ID); !client.IsProblem(err, "unauthorized") {
		t.Fatalf("replica b 5 s after revocation: %v", err)
	}
}

// Rotation: the old secret works during the overlap, and not after; the
// new one works on; a rotated token is not rotated twice. Last use shows.
func TestTokenRotation(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b servertest.Backend) {
		p := newProvider(t)
		clock := clockwork.NewFakeClockAt(time.Now())
		cfg := servertest.Config(t, b.DatabaseURL(t))
		cfg.AppOrigins = map[string]string{"sendgrid": p.URL}
		inst := servertest.Start(t, cfg, server.Options{Clock: clock})
		ctx := context.Background()
		admin := inst.Client()
		acc := sendgrid(t, admin, "mail")
		tok, old := mint(t, inst, admin, client.CreateToken{Name: "deploy", Scopes: []string{identity.ScopeCredentialsRead},
			AccountIDs: []string{acc.ID}})
		if tok.LastUsedAt != nil {
			t.Fatalf("a new token was used at %v", tok.LastUsedAt)
		}
		if _, err := old.Credentials(ctx, acc.ID); err != nil {
			t.Fatal(err)
		}
		used := clock.Now()
		clock.Advance(10 * time.Second)
		if _, err := old.Credentials(ctx, acc.ID); err != nil {
			t.Fatal(err)
		}
		list, err := admin.ListTokens(ctx)
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(list, func(x client.Token) bool { return x.ID == tok.ID })
		if i < 0 || list[i].LastUsedAt == nil || !list[i].LastUsedAt.Truncate(time.Second).Equal(used.Truncate(time.Second)) {
			t.Fatalf("last used shows %+v, want about %v (written once a minute)", list, used)
		}

		rot, err := admin.RotateToken(ctx, tok.ID, client.RotateToken{Overlap: "1h"})
		if err != nil {
			t.Fatal(err)
		}
		fresh := client.New(inst.URL, rot.Secret, nil)
		if rot.Token.ID == tok.ID || rot.Token.Name != "deploy" || !slices.Equal(rot.Token.AccountIDs, []string{acc.ID}) {
			t.Fatalf("the replacement: %+v", rot.Token)
		}
		for name, api := range map[string]*client.Client{"old": old, "new": fresh} {
			if _, err := api.Credentials(ctx, acc.ID); err != nil {
				t.Errorf("the %s secret during the overlap: %v", name, err)
			}
		}
		if _, err := admin.RotateToken(ctx, tok.ID, client.RotateToken{}); !client.IsProblem(err, "token-rotated") {
			t.Errorf("rotating a rotated token: %v", err)
		}
		clock.Advance(time.Hour - time.Second)
		if _, err := old.Credentials(ctx, acc.ID); err != nil {
			t.Errorf("the old secret just before the overlap ends: %v", err)
		}
		clock.Advance(time.Second)
		if _, err := old.Credentials(ctx, acc.ID); !client.IsProblem(err, "unauthorized") {
			t.Errorf("the old secret after the overlap: %v", err)
		}
		if _, err := fresh.Credentials(ctx, acc.ID); err != nil {
			t.Errorf("the new secret after the overlap: %v", err)
		}
		list, err = admin.ListTokens(ctx)
		if err != nil || slices.ContainsFunc(list, func(x client.Token) bool { return x.ID == tok.ID }) {
			t.Errorf("the old token is listed after its overlap: %+v, %v", list, err)
		}

		// Revoking a replacement during its overlap stops the old secret too.
		rot2, err := admin.RotateToken(ctx, rot.Token.ID, client.RotateToken{Overlap: "1h"})
		if err != nil {
			t.Fatal(err)
		}
		if err := admin.RevokeToken(ctx, rot2.Token.ID); err != nil {
			t.Fatal(err)
		}
		for name, api := range map[string]*client.Client{"rotated": fresh, "revoked": client.New(inst.URL, rot2.Secret, nil)} {
			if _, err := api.Credentials(ctx, acc.ID); !client.IsProblem(err, "unauthorized") {
				t.Errorf("the %s secret after revoking the replacement: %v", name, err)
			}
		}
	})
}
