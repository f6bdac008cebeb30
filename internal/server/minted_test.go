package server_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/config"
	"github.com/latchkeyhq/latchkey/internal/oauth/oauthtest"
	"github.com/latchkeyhq/latchkey/internal/server"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
)

// m2mApp is a client credentials app on the in-test authorization server.
const m2mApp = `slug: testm2m
name: Test M2M
categories: [developer-tools]
docs_url: https://idp.example/docs
auth: client_credentials
base_url: https://idp.example
fields:
  - {name: client_id, label: Client ID}
  - {name: client_secret, label: Client secret, secret: true}
client_credentials:
  token_url: https://idp.example/token
  client_auth: basic
  scopes: [read]
identity:
  url: /userinfo
  label: '{sub}'
actions:
  - name: whoami
    description: Who the token acts for.
    docs_url: https://idp.example/docs/userinfo
    input: {type: object}
    request: {method: GET, path: /userinfo}
`

type mintedFixture struct {
	idp   *oauthtest.Server
	clock *clockwork.FakeClock
	inst  *servertest.Instance
	api   *client.Client
}

func startMinted(t *testing.T, b servertest.Backend, extra func(cfg *config.Config)) mintedFixture {
	t.Helper()
	f := mintedFixture{clock: clockwork.NewFakeClockAt(time.Now())}
	f.idp = servertest.NewJWTIdP(t)
	cfg := servertest.Config(t, b.DatabaseURL(t))
	cfg.RefreshInterval = 0 // tests drive renewals themselves
	servertest.UseJWTIdP(t, &cfg, f.idp)
	servertest.WriteApp(t, &cfg, "testm2m", m2mApp)
	cfg.AppOrigins["testm2m"] = f.idp.URL
	if extra != nil {
		extra(&cfg)
	}
	f.inst = servertest.Start(t, cfg, server.Options{Clock: f.clock})
	f.api = f.inst.Client()
	return f
}

// events counts an account's events by action.
func events(t *testing.T, api *client.Client, id string) map[string]int {
	t.Helper()
	page, err := api.Events(context.Background(), id, client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, e := range page.Data {
		n[e.Action]++
	}
	return n
}

// TestClientCredentialsAccount runs a client credentials account end to
// end against the fosite server: a wrong secret saves nothing; the right
// one mints at connect (the identity request uses the token); reads hand
// out the token and never the secret; an expired token is minted again on
// read; the proxy and actions use it; a secret rotated at the provider
// turns the account needs_reconnect with one event; new keys mend it.
func TestClientCredentialsAccount(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b servertest.Backend) {
		f := startMinted(t, b, nil)
		ctx := context.Background()
		secret := f.idp.ClientSecret()

		_, err := f.api.CreateAccount(ctx, client.CreateAccount{App: "testm2m", Fields: map[string]string{"client_id": f.idp.ClientID(), "client_secret": "wrong-secret-1234"}})
		var p *client.Problem
		if !asProblem(err, &p) || p.Status != 422 || !client.IsProblem(err, "credentials-test-failed") || !strings.Contains(p.Detail, "invalid_client") {
			t.Fatalf("a wrong secret: %v, want a 422 credentials-test-failed with the provider's invalid_client", err)
		}
		if page, _ := f.api.ListAccounts(ctx, client.ListOptions{App: "testm2m"}); len(page.Data) != 0 {
			t.Fatalf("a refused secret saved %d accounts", len(page.Data))
		}

		mints := f.idp.Mints()
		acc, err := f.api.CreateAccount(ctx, client.CreateAccount{App: "testm2m", Shared: true, Fields: map[string]string{"client_id": f.idp.ClientID(), "client_secret": secret}})
		if err != nil {
			t.Fatal(err)
		}
		if acc.Status != "healthy" || acc.IdentityLabel != f.idp.ClientID() || acc.ExpiresAt == nil || f.idp.Mints() != mints+1 {
			t.Fatalf("account %+v after %d mints, want healthy, labelled by the identity request with the minted token", acc, f.idp.Mints()-mints)
		}
		creds, err := f.api.Credentials(ctx, acc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, has := creds["client_secret"]; has || creds["client_id"] != f.idp.ClientID() || creds["oauth_access_token"] == "" {
			t.Fatalf("credentials hold %v, want the token and client id, never the secret", keysOf(creds))
		}
		if code, _ := userinfo(t, f.idp, creds["oauth_access_token"]); code != 200 {
			t.Fatalf("the minted token does not work: %d", code)
		}
		again, _ := f.api.Credentials(ctx, acc.ID)
		if again["oauth_access_token"] != creds["oauth_access_token"] || f.idp.Mints() != mints+1 {
			t.Fatal("a read of a fresh token minted again")
		}

		f.clock.Advance(2 * time.Hour)
		fresh, err := f.api.Credentials(ctx, acc.ID)
		if err != nil || fresh["oauth_access_token"] == creds["oauth_access_token"] || f.idp.Mints() != mints+2 {
			t.Fatalf("read after expiry: %v, mints %d, want a new token minted once", err, f.idp.Mints()-mints)
		}

		resp, body := proxyCall(t, f.inst.URL, f.inst.Token, http.MethodGet, "/v1/proxy/"+acc.ID+"/userinfo", nil, nil)
		if resp.StatusCode != 200 || !strings.Contains(string(body), f.idp.ClientID()) {
			t.Fatalf("proxy: %d %s", resp.StatusCode, body)
		}
		res, err := f.api.RunAction(ctx, "testm2m.whoami", client.RunAction{AccountID: acc.ID})
		if err != nil || res.Status != 200 {
			t.Fatalf("action: %+v, %v", res, err)
		}

		f.idp.SetClientSecret(t, "rotated-at-the-provider")
		f.clock.Advance(2 * time.Hour)
		for range 2 {
			if _, err := f.api.Credentials(ctx, acc.ID); !client.IsProblem(err, "needs-reconnect") {
				t.Fatalf("read after the secret was rotated: %v, want needs-reconnect", err)
			}
		}
		got, _ := f.api.GetAccount(ctx, acc.ID)
		if got.Status != "needs_reconnect" || f.idp.Mints() != mints+3 {
			t.Fatalf("account %s after %d mints, want needs_reconnect after one refused mint", got.Status, f.idp.Mints()-mints)
		}
		if n := events(t, f.api, acc.ID)["account.needs_reconnect"]; n != 1 {
			t.Fatalf("%d needs_reconnect events, want 1", n)
		}

		fixed, err := f.api.ReplaceKeys(ctx, acc.ID, client.ReplaceKeys{Fields: map[string]string{"client_id": f.idp.ClientID(), "client_secret": "rotated-at-the-provider"}})
		if err != nil || fixed.Status != "healthy" {
			t.Fatalf("new keys: %+v, %v", fixed, err)
		}
		creds, err = f.api.Credentials(ctx, acc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if code, _ := userinfo(t, f.idp, creds["oauth_access_token"]); code != 200 {
			t.Fatal("the token minted with the new keys does not work")
		}

		for _, s := range []string{secret, "rotated-at-the-provider", "wrong-secret-1234"} {
			if strings.Contains(f.inst.Logs.String(), s) {
				t.Fatalf("a client secret reached the log")
			}
		}
	})
}

// TestMintedTransientFailure: a token endpoint outage at connect says so
// (502, nothing saved); later, it keeps the account healthy with one
// refresh_failed event, and the next read mints.
func TestMintedTransientFailure(t *testing.T) {
	f := startMinted(t, servertest.Backends[0], nil)
	ctx := context.Background()
	f.idp.FailNextToken(http.StatusServiceUnavailable, 1)
	in := client.CreateAccount{App: "testm2m", Fields: map[string]string{"client_id": f.idp.ClientID(), "client_secret": f.idp.ClientSecret()}}
	if _, err := f.api.CreateAccount(ctx, in); !client.IsProblem(err, "provider-unreachable") {
		t.Fatalf("connecting during an outage: %v, want provider-unreachable", err)
	}
	acc, err := f.api.CreateAccount(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(2 * time.Hour)
	f.idp.FailNextToken(http.StatusServiceUnavailable, 1)
	if _, err := f.api.Credentials(ctx, acc.ID); err == nil {
		t.Fatal("a read during the outage got an expired token")
	}
	got, _ := f.api.GetAccount(ctx, acc.ID)
	if got.Status != "healthy" || events(t, f.api, acc.ID)["account.refresh_failed"] != 1 {
		t.Fatalf("after a 503: status %s, events %v", got.Status, events(t, f.api, acc.ID))
	}
	if creds, err := f.api.Credentials(ctx, acc.ID); err != nil || creds["oauth_access_token"] == "" {
		t.Fatalf("read after the outage: %v", err)
	}
}

// TestMintedBackgroundRenewal: the background refresher mints a new token
// before the old one expires, so a read after its expiry needs no mint.
func TestMintedBackgroundRenewal(t *testing.T) {
	f := startMinted(t, servertest.Backends[0], nil)
	ctx := context.Background()
	acc, err := f.api.CreateAccount(ctx, client.CreateAccount{App: "testm2m", Fields: map[string]string{"client_id": f.idp.ClientID(), "client_secret": f.idp.ClientSecret()}})
	if err != nil {
		t.Fatal(err)
	}
	before := f.idp.Mints()
	if n, err := f.inst.Accounts().RefreshDue(ctx, 10); err != nil || n != 0 {
		t.Fatalf("renewed %d fresh accounts (%v), want none", n, err)
	}
	f.clock.Advance(50 * time.Minute) // the hour-long token is due, not yet expired
	if n, err := f.inst.Accounts().RefreshDue(ctx, 10); err != nil || n != 1 || f.idp.Mints() != before+1 {
		t.Fatalf("renewed %d accounts with %d mints (%v), want one", n, f.idp.Mints()-before, err)
	}
	f.clock.Advance(30 * time.Minute) // past the first token's expiry
	creds, err := f.api.Credentials(ctx, acc.ID)
	if err != nil || f.idp.Mints() != before+1 {
		t.Fatalf("read after the background mint: %v, %d mints", err, f.idp.Mints()-before)
	}
	if code, _ := userinfo(t, f.idp, creds["oauth_access_token"]); code != 200 {
		t.Fatal("the token minted in the background does not work")
	}
}

// TestMintedSkipTest: saved without its test, a minted account makes no
// token request at connect; its first read mints.
func TestMintedSkipTest(t *testing.T) {
	f := startMinted(t, servertest.Backends[0], nil)
	ctx := context.Background()
	acc, err := f.api.CreateAccount(ctx, client.CreateAccount{App: "testm2m", Test: ptr(false),
		Fields: map[string]string{"client_id": f.idp.ClientID(), "client_secret": f.idp.ClientSecret()}})
	if err != nil || !acc.Untested || f.idp.Mints() != 0 {
		t.Fatalf("created %+v (%v) after %d mints, want untested and none", acc, err, f.idp.Mints())
	}
	creds, err := f.api.Credentials(ctx, acc.ID)
	if err != nil || f.idp.Mints() != 1 {
		t.Fatalf("first read: %v after %d mints, want one", err, f.idp.Mints())
	}
	if code, _ := userinfo(t, f.idp, creds["oauth_access_token"]); code != 200 {
		t.Fatal("the token minted on first read does not work")
	}
}

// TestMintedConcurrentReads: many concurrent reads of an expired minted
// account make exactly one token request, on both backends.
func TestMintedConcurrentReads(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b servertest.Backend) {
		f := startMinted(t, b, nil)
		ctx := context.Background()
		acc, err := f.api.CreateAccount(ctx, client.CreateAccount{App: "testm2m", Fields: map[string]string{"client_id": f.idp.ClientID(), "client_secret": f.idp.ClientSecret()}})
		if err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(2 * time.Hour)
		f.idp.SetTokenDelay(300 * time.Millisecond)
		before := f.idp.Mints()
		const readers = 25
		tokens := make([]string, readers)
		var wg sync.WaitGroup
		for i := range readers {
			wg.Go(func() {
				creds, err := f.api.Credentials(ctx, acc.ID)
				if err != nil {
					t.Error(err)
					return
				}
				tokens[i] = creds["oauth_access_token"]
			})
		}
		wg.Wait()
		if n := f.idp.Mints() - before; n != 1 {
			t.Fatalf("%d concurrent reads made %d token requests, want 1", readers, n)
		}
		for _, tok := range tokens {
			if tok != tokens[0] || tok == "" {
				t.Fatal("the readers got different tokens")
			}
		}
	})
}

// TestJWTBearerAccount: a bad key file is refused before any request and
// saves nothing; a good one signs an assertion for the delegated subject,
// which the identity request and reads see; the key is never handed out;
// a key the provider stops trusting turns the account needs_reconnect.
func TestJWTBearerAccount(t *testing.T) {
	f := startMinted(t, servertest.Backends[0], nil)
	ctx := context.Background()
	const email = "robot@project.iam.example.com"
	saJSON := servertest.ServiceAccountKey(t, f.idp, email, "bob@acme.example")

	_, err := f.api.CreateAccount(ctx, client.CreateAccount{App: "testjwt", Fields: map[string]string{"service_account_json": `{"type": "authorized_user"}`}})
	var p *client.Problem
	if !asProblem(err, &p) || p.Field != "fields.service_account_json" || !strings.Contains(p.Detail, "not a service-account key") {
		t.Fatalf("a bad key file: %v, want a validation problem on the field", err)
	}
	if f.idp.Mints() != 0 {
		t.Fatal("a bad key reached the provider")
	}

	acc, err := f.api.CreateAccount(ctx, client.CreateAccount{App: "testjwt", Fields: map[string]string{"service_account_json": saJSON, "sub": "bob@acme.example"}})
	if err != nil {
		t.Fatal(err)
	}
	if acc.IdentityLabel != "bob@acme.example" {
		t.Fatalf("label %q, want the delegated subject", acc.IdentityLabel)
	}
	creds, err := f.api.Credentials(ctx, acc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, has := creds["service_account_json"]; has || creds["sub"] != "bob@acme.example" || creds["oauth_access_token"] == "" {
		t.Fatalf("credentials hold %v, want the token and sub, never the key", keysOf(creds))
	}
	if strings.Contains(f.inst.Logs.String(), "PRIVATE KEY") {
		t.Fatal("the private key reached the log")
	}

	f.idp.DistrustIssuer(email)
	f.clock.Advance(2 * time.Hour)
	if _, err := f.api.Credentials(ctx, acc.ID); !client.IsProblem(err, "needs-reconnect") {
		t.Fatalf("read after the key was distrusted: %v", err)
	}
	if n := events(t, f.api, acc.ID)["account.needs_reconnect"]; n != 1 {
		t.Fatalf("%d needs_reconnect events, want 1", n)
	}
}

func keysOf(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}
