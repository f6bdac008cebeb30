package server_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/bootstrap"
	"github.com/latchkeyhq/latchkey/internal/seal"
	"github.com/latchkeyhq/latchkey/internal/server"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
)

// Known values the tests look for where they must never be.
const (
	goodKey     = "SG.knownplaintextkey.Zm9vYmFyYmF6cXV4"
	twilioSID   = "AC0123456789abcdef0123456789abcdef"
	twilioToken = "twilio-auth-token-plaintext-4242"
)

func newProvider(t *testing.T) *servertest.Provider {
	return servertest.NewProvider(t, servertest.ProviderKeys{SendGridKey: goodKey, TwilioSID: twilioSID, TwilioToken: twilioToken})
}

type fixture struct {
	*servertest.Instance
	provider *servertest.Provider
	api      *client.Client
}

// start runs a server on the backend with SendGrid and Twilio pointed at
// the stand-in provider.
func start(t *testing.T, b servertest.Backend) fixture {
	p := newProvider(t)
	cfg := servertest.Config(t, b.DatabaseURL(t))
	cfg.AppOrigins = map[string]string{"sendgrid": p.URL, "twilio": p.URL}
	inst := servertest.Start(t, cfg, server.Options{})
	return fixture{Instance: inst, provider: p, api: inst.Client()}
}

func forEachBackend(t *testing.T, fn func(t *testing.T, b servertest.Backend)) {
	for _, b := range servertest.Backends {
		t.Run(b.Name, func(t *testing.T) { fn(t, b) })
	}
}

func ptr[T any](v T) *T { return &v }

func TestKeyAccountLifecycle(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b servertest.Backend) {
		f := start(t, b)
		ctx := context.Background()

		acc, err := f.api.CreateAccount(ctx, client.CreateAccount{App: "sendgrid", Nickname: ptr("marketing"), Fields: map[string]string{"api_key": goodKey}})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(acc.ID, "acc_") || acc.Nickname != "marketing" || acc.Status != "healthy" || acc.Untested {
			t.Fatalf("created %+v", acc)
		}
		if acc.IdentityLabel != "Ada Lovelace" {
			t.Errorf("identity label = %q, want the profile's name", acc.IdentityLabel)
		}

		creds, err := f.api.Credentials(ctx, acc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(creds) != 1 || creds["api_key"] != goodKey {
			t.Fatalf("credentials = %v", creds)
		}

		renamed, err := f.api.RenameAccount(ctx, acc.ID, "  marketing (EU)  ")
		if err != nil || renamed.Nickname != "marketing (EU)" {
			t.Fatalf("rename: %+v, %v", renamed, err)
		}
		got, err := f.api.GetAccount(ctx, acc.ID)
		if err != nil || got.Nickname != "marketing (EU)" {
			t.Fatalf("get after rename: %+v, %v", got, err)
		}

		events, err := f.api.Events(ctx, acc.ID, client.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, e := range events.Data {
			actions = append(actions, e.Action)
		}
		if want := "account.renamed credentials.read account.connected"; strings.Join(actions, " ") != want {
			t.Errorf("audit = %v, want %s", actions, want)
		}

		if err := f.api.DeleteAccount(ctx, acc.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.api.GetAccount(ctx, acc.ID); !client.IsProblem(err, "not-found") {
			t.Fatalf("get after delete: %v", err)
		}
		if _, err := f.api.Credentials(ctx, acc.ID); !client.IsProblem(err, "not-found") {
			t.Fatalf("credentials after delete: %v", err)
		}
	})
}

func TestTwilioBasicAuthAndIdentity(t *testing.T) {
	f := start(t, servertest.Backends[0])
	acc, err := f.api.CreateAccount(context.Background(), client.CreateAccount{App: "twilio", Fields: map[string]string{"account_sid": twilioSID, "auth_token": twilioToken}})
	if err != nil {
		t.Fatal(err)
	}
	if acc.Nickname != "Twilio" || acc.IdentityLabel != "Acme Ops" {
		t.Fatalf("nickname %q (want the app's name by default), label %q", acc.Nickname, acc.IdentityLabel)
	}
}

// TestBadInputChangesNothing sends each kind of bad input and checks the
// problem it gets back and that no account appeared.
func TestBadInputChangesNothing(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b servertest.Backend) {
		f := start(t, b)
		existing, err := f.api.CreateAccount(context.Background(), client.CreateAccount{App: "sendgrid", Fields: map[string]string{"api_key": goodKey}})
		if err != nil {
			t.Fatal(err)
		}
		before := f.provider.Requests.Load()

		tests := []struct {
			name       string
			method     string
			path       string
			body       string
			token      string // "" means the admin token; "-" means none
			wantStatus int
			wantType   string
			wantDetail string
		}{
			{"unknown app", "POST", "/v1/accounts", `{"app":"nosuch","fields":{}}`, "", 404, "unknown-app", `unknown app "nosuch"`},
			{"oauth app via keys", "POST", "/v1/accounts", `{"app":"slack","fields":{}}`, "", 422, "validation", "connects with oauth2"},
			{"missing app", "POST", "/v1/accounts", `{"fields":{}}`, "", 422, "validation", "app: is required"},
			{"malformed json", "POST", "/v1/accounts", `{"app":"sendgrid",`, "", 400, "malformed-request", "not valid JSON"},
			{"unknown json field", "POST", "/v1/accounts", `{"app":"sendgrid","colour":"red"}`, "", 400, "malformed-request", `unknown field "colour"`},
			{"two json values", "POST", "/v1/accounts", `{"app":"sendgrid"}{}`, "", 400, "malformed-request", "more than one"},
			{"wrong type", "POST", "/v1/accounts", `{"app":42}`, "", 400, "malformed-request", `"app" must be of JSON type string`},
			{"oversized body", "POST", "/v1/accounts", `{"app":"` + strings.Repeat("a", 2<<20) + `"}`, "", 413, "body-too-large", ""},
			{"empty nickname", "POST", "/v1/accounts", `{"app":"sendgrid","nickname":"  ","fields":{"api_key":"` + goodKey + `"}}`, "", 422, "validation", "nickname: must not be empty"},
			{"missing field", "POST", "/v1/accounts", `{"app":"sendgrid","fields":{}}`, "", 422, "validation", "fields.api_key: API key is required"},
			{"unknown credential field", "POST", "/v1/accounts", `{"app":"sendgrid","fields":{"api_key":"x","password":"y"}}`, "", 422, "validation", `has no field "password"`},
			{"pattern mismatch", "POST", "/v1/accounts", `{"app":"twilio","fields":{"account_sid":"not-a-sid","auth_token":"t"}}`, "", 422, "validation", "fields.account_sid: Account SID does not have the expected format"},
			{"provider refuses", "POST", "/v1/accounts", `{"app":"sendgrid","fields":{"api_key":"SG.wrong.key"}}`, "", 422, "credentials-test-failed", "401 Unauthorized: authorization required"},
			{"rename empty", "PATCH", "/v1/accounts/" + existing.ID, `{"nickname":""}`, "", 422, "validation", "nickname: must not be empty"},
			{"rename unknown account", "PATCH", "/v1/accounts/acc_01jd0000000000000000000000", `{"nickname":"x"}`, "", 404, "not-found", ""},
			{"delete unknown account", "DELETE", "/v1/accounts/acc_01jd0000000000000000000000", "", "", 404, "not-found", ""},
			{"malformed account id", "GET", "/v1/accounts/../../etc", "", "", 404, "", ""},
			{"credentials unknown account", "GET", "/v1/accounts/acc_nope/credentials", "", "", 404, "not-found", ""},
			{"no token", "GET", "/v1/accounts", "", "-", 401, "unauthorized", "Bearer"},
			{"wrong token", "GET", "/v1/accounts", "", "lk_wrong", 401, "unauthorized", "not valid"},
			{"wrong token on delete", "DELETE", "/v1/accounts/" + existing.ID, "", "lk_wrong", 401, "unauthorized", ""},
			{"bad limit", "GET", "/v1/accounts?limit=0", "", "", 422, "validation", "limit"},
			{"bad status filter", "GET", "/v1/accounts?status=happy", "", "", 422, "validation", "status"},
			{"bad cursor", "GET", "/v1/accounts?cursor=!!", "", "", 422, "validation", "cursor"},
			{"no such route", "GET", "/v1/nothing", "", "", 404, "no-such-route", ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				req, _ := http.NewRequest(tt.method, f.URL+tt.path, strings.NewReader(tt.body))
				switch tt.token {
				case "":
					req.Header.Set("Authorization", "Bearer "+f.Token)
				case "-":
				default:
					req.Header.Set("Authorization", "Bearer "+tt.token)
				}
				if tt.body != "" {
					req.Header.Set("Content-Type", "application/json")
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				if resp.StatusCode != tt.wantStatus {
					t.Fatalf("status = %d, want %d", resp.StatusCode, tt.wantStatus)
				}
				if tt.wantType == "" {
					return
				}
				if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
					t.Errorf("Content-Type = %q", ct)
				}
				var p client.Problem
				if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
					t.Fatal(err)
				}
				if p.Type != "urn:latchkey:problem:"+tt.wantType || p.Status != tt.wantStatus || p.Title == "" {
					t.Errorf("problem = %+v, want type %s", p, tt.wantType)
				}
				if !strings.Contains(p.Detail, tt.wantDetail) {
					t.Errorf("detail = %q, want it to contain %q", p.Detail, tt.wantDetail)
				}
				for _, secret := range []string{goodKey, "SG.wrong.key", f.Token} {
					if strings.Contains(p.Detail, secret) {
						t.Errorf("problem detail leaks a secret: %q", p.Detail)
					}
				}
			})
		}

		list, err := f.api.ListAccounts(context.Background(), client.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(list.Data) != 1 || list.Data[0].ID != existing.ID || list.Data[0].Nickname != existing.Nickname {
			t.Fatalf("bad input changed the accounts: %+v", list.Data)
		}
		// Only the refused key reached the provider (its test request).
		if n := f.provider.Requests.Load() - before; n != 1 {
			t.Errorf("provider got %d requests from bad input, want 1 (the refused key's test)", n)
		}
	})
}

func TestNoTestMarksUntested(t *testing.T) {
	f := start(t, servertest.Backends[0])
	before := f.provider.Requests.Load()
	acc, err := f.api.CreateAccount(context.Background(), client.CreateAccount{App: "sendgrid", Fields: map[string]string{"api_key": "SG.unreachable"}, Test: ptr(false)})
	if err != nil {
		t.Fatal(err)
	}
	if !acc.Untested {
		t.Fatal("account saved without a test is not marked untested")
	}
	// The identity request still runs (and fails quietly); the test does not.
	if n := f.provider.Requests.Load() - before; n != 1 {
		t.Errorf("provider got %d requests, want 1 (identity only)", n)
	}
}

// TestNoIdentifySkipsTheLabel: identify false makes no identity request,
// so the account has no label; with the test skipped too, the provider
// hears nothing at all. The test still runs when only identify is off.
func TestNoIdentifySkipsTheLabel(t *testing.T) {
	f := start(t, servertest.Backends[0])
	ctx := context.Background()
	tests := []struct {
		name     string
		in       client.CreateAccount
		requests int64
		untested bool
	}{
		{"test, no identity", client.CreateAccount{App: "sendgrid", Fields: map[string]string{"api_key": goodKey}, Identify: ptr(false)}, 1, false},
		{"neither", client.CreateAccount{App: "sendgrid", Fields: map[string]string{"api_key": goodKey}, Identify: ptr(false), Test: ptr(false)}, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := f.provider.Requests.Load()
			acc, err := f.api.CreateAccount(ctx, tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if acc.IdentityLabel != "" || acc.Untested != tc.untested {
				t.Errorf("created with label %q, untested %v; want no label, untested %v", acc.IdentityLabel, acc.Untested, tc.untested)
			}
			if n := f.provider.Requests.Load() - before; n != tc.requests {
				t.Errorf("provider got %d requests, want %d", n, tc.requests)
			}
		})
	}
	// A bad key is still refused when only identify is off.
	if _, err := f.api.CreateAccount(ctx, client.CreateAccount{App: "sendgrid", Fields: map[string]string{"api_key": "SG.bad"}, Identify: ptr(false)}); err == nil {
		t.Error("a refused key was saved with identify off")
	}
}

func TestListFiltersAndPages(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b servertest.Backend) {
		f := start(t, b)
		ctx := context.Background()
		for i, nick := range []string{"alpha", "beta", "gamma", "delta", "epsilon"} {
			in := client.CreateAccount{App: "sendgrid", Nickname: ptr(nick), Fields: map[string]string{"api_key": goodKey}}
			if i >= 3 {
				in = client.CreateAccount{App: "twilio", Nickname: ptr(nick), Fields: map[string]string{"account_sid": twilioSID, "auth_token": twilioToken}}
			}
			if _, err := f.api.CreateAccount(ctx, in); err != nil {
				t.Fatal(err)
			}
		}
		var seen []string
		o := client.ListOptions{Limit: 2}
		for {
			page, err := f.api.ListAccounts(ctx, o)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range page.Data {
				seen = append(seen, a.Nickname)
			}
			if page.NextCursor == nil {
				break
			}
			o.Cursor = *page.NextCursor
		}
		if strings.Join(seen, ",") != "alpha,beta,gamma,delta,epsilon" {
			t.Fatalf("pages gave %v", seen)
		}
		twilio, _ := f.api.ListAccounts(ctx, client.ListOptions{App: "twilio"})
		if len(twilio.Data) != 2 {
			t.Errorf("app filter: %d accounts", len(twilio.Data))
		}
		text, _ := f.api.ListAccounts(ctx, client.ListOptions{Query: "LOVELACE"})
		if len(text.Data) != 3 {
			t.Errorf("text search over identity labels: %d accounts, want 3", len(text.Data))
		}
		healthy, _ := f.api.ListAccounts(ctx, client.ListOptions{Status: "needs_reconnect"})
		if len(healthy.Data) != 0 {
			t.Errorf("status filter: %d accounts", len(healthy.Data))
		}
	})
}

func TestAppsAPI(t *testing.T) {
	f := start(t, servertest.Backends[0])
	ctx := context.Background()
	keys, err := f.api.ListApps(ctx, client.ListOptions{Auth: "keys", Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys.Data) < 30 {
		t.Errorf("%d keys apps, want at least 30", len(keys.Data))
	}
	for _, a := range keys.Data {
		if a.Auth != "keys" || len(a.Fields) == 0 {
			t.Errorf("%s: auth %s with %d fields", a.Slug, a.Auth, len(a.Fields))
		}
	}
	var all []client.App
	o := client.ListOptions{Limit: 25}
	for {
		page, err := f.api.ListApps(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page.Data...)
		if page.NextCursor == nil {
			break
		}
		o.Cursor = *page.NextCursor
	}
	if len(all) < 60 {
		t.Errorf("catalog pages hold %d apps, want at least 60", len(all))
	}
	found, _ := f.api.ListApps(ctx, client.ListOptions{Query: "grid"})
	if len(found.Data) == 0 || found.Data[0].Slug != "sendgrid" {
		t.Errorf("search grid: %+v", found.Data)
	}
	raw, err := f.api.GetApp(ctx, "sendgrid")
	if err != nil || !bytes.Contains(raw, []byte(`"docs_url"`)) {
		t.Fatalf("get app: %s, %v", raw, err)
	}
	if _, err := f.api.GetApp(ctx, "nosuch"); !client.IsProblem(err, "unknown-app") {
		t.Fatalf("unknown app: %v", err)
	}

	// Logos: an app with one names it in lists, in its entry and on its
	// accounts; one without (SendGrid is not in simple-icons) names none.
	send, _ := f.api.ListApps(ctx, client.ListOptions{Query: "send"})
	if len(send.Data) == 0 || send.Data[0].Slug != "sendgrid" || send.Data[0].LogoURL != "" {
		t.Errorf("search send: the first is %+v, want SendGrid without a logo", send.Data[:min(1, len(send.Data))])
	}
	stripe, _ := f.api.ListApps(ctx, client.ListOptions{Query: "stripe"})
	if len(stripe.Data) == 0 || stripe.Data[0].LogoURL != "/logos/stripe.svg" {
		t.Fatalf("search stripe: %+v", stripe.Data)
	}
	raw, err = f.api.GetApp(ctx, "stripe")
	if err != nil || !bytes.Contains(raw, []byte(`"logo_url":"/logos/stripe.svg"`)) || !bytes.Contains(raw, []byte(`"slug":"stripe"`)) {
		t.Errorf("get stripe: %s, %v", raw, err)
	}
	noTest := false
	acc, err := f.api.CreateAccount(ctx, client.CreateAccount{App: "resend", Fields: map[string]string{"api_key": "re_123456789"}, Test: &noTest, Identify: &noTest})
	if err != nil || acc.AppLogoURL != "/logos/resend.svg" {
		t.Fatalf("a Resend account: %+v, %v", acc, err)
	}
	resp, err := http.Get(f.URL + acc.AppLogoURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/svg+xml" || !bytes.Contains(body, []byte("<title>Resend</title>")) {
		t.Errorf("GET %s: %d %s %.80s", acc.AppLogoURL, resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
}

// TestNoPlaintextAtRest writes a known key and looks for it in every file
// of the SQLite data folder.
func TestNoPlaintextAtRest(t *testing.T) {
	f := start(t, servertest.Backends[0])
	if _, err := f.api.CreateAccount(context.Background(), client.CreateAccount{App: "sendgrid", Fields: map[string]string{"api_key": goodKey}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.api.CreateAccount(context.Background(), client.CreateAccount{App: "twilio", Fields: map[string]string{"account_sid": twilioSID, "auth_token": twilioToken}}); err != nil {
		t.Fatal(err)
	}
	f.Stop() // checkpoint the WAL into the database file
	files, _ := filepath.Glob(filepath.Join(f.Config.DataDir, "*"))
	if len(files) == 0 {
		t.Fatal("no data files")
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, secret := range []string{goodKey, twilioToken} {
			if bytes.Contains(b, []byte(secret)) {
				t.Errorf("%s holds a credential in plaintext", filepath.Base(file))
			}
		}
	}
	if logs := f.Logs.String(); strings.Contains(logs, goodKey) || strings.Contains(logs, twilioToken) || strings.Contains(logs, f.Token) {
		t.Error("the server log holds a secret")
	}
}

// TestRestartAndWrongKey restarts on the same data: accounts stay readable
// with the same key, and another key is refused before anything is served.
func TestRestartAndWrongKey(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b servertest.Backend) {
		p := newProvider(t)
		cfg := servertest.Config(t, b.DatabaseURL(t))
		cfg.AppOrigins = map[string]string{"sendgrid": p.URL}
		first := servertest.Start(t, cfg, server.Options{})
		acc, err := first.Client().CreateAccount(context.Background(), client.CreateAccount{App: "sendgrid", Fields: map[string]string{"api_key": goodKey}})
		if err != nil {
			t.Fatal(err)
		}
		first.Stop()

		second := servertest.Start(t, cfg, server.Options{})
		if second.Token != first.Token {
			t.Error("the admin token changed on restart")
		}
		creds, err := second.Client().Credentials(context.Background(), acc.ID)
		if err != nil || creds["api_key"] != goodKey {
			t.Fatalf("after restart: %v, %v", creds, err)
		}
		second.Stop()

		wrong := cfg
		k, _ := seal.GenerateKey()
		wrong.MasterKey = seal.EncodeKey(k)
		_, err = server.New(context.Background(), wrong, servertest.DiscardLogger(), server.Options{})
		if !errors.Is(err, bootstrap.ErrWrongKey) {
			t.Fatalf("start with another key: %v, want ErrWrongKey", err)
		}
		if strings.Contains(err.Error(), wrong.MasterKey) || strings.Contains(err.Error(), cfg.MasterKey) {
			t.Fatal("the error names a key")
		}

		// The refused start changed nothing: the right key still works.
		third := servertest.Start(t, cfg, server.Options{})
		if creds, err := third.Client().Credentials(context.Background(), acc.ID); err != nil || creds["api_key"] != goodKey {
			t.Fatalf("after a refused start: %v, %v", creds, err)
		}
	})
}

func TestHealthAndMetrics(t *testing.T) {
	f := start(t, servertest.Backends[0])
	for path, want := range map[string]string{"/healthz": "ok", "/readyz": "ready", "/metrics": "latchkey_http_requests_total"} {
		// Make one API request first so the request counter has a sample.
		_, _ = f.api.ListAccounts(context.Background(), client.ListOptions{})
		resp, err := http.Get(f.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(b.String(), want) {
			t.Errorf("%s: %d %q", path, resp.StatusCode, b.String()[:min(b.Len(), 200)])
		}
	}
}

// TestNoPlaintextInPostgresDump dumps the test's schema with pg_dump and
// looks for known credentials, as text and as bytea hex.
func TestNoPlaintextInPostgresDump(t *testing.T) {
	pgDump, err := exec.LookPath("pg_dump")
	if err != nil {
		t.Skip("pg_dump is not installed")
	}
	dbURL := servertest.Backends[1].DatabaseURL(t)
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	schema := u.Query().Get("search_path")
	p := newProvider(t)
	cfg := servertest.Config(t, dbURL)
	cfg.AppOrigins = map[string]string{"sendgrid": p.URL, "twilio": p.URL}
	inst := servertest.Start(t, cfg, server.Options{})
	ctx := context.Background()
	if _, err := inst.Client().CreateAccount(ctx, client.CreateAccount{App: "sendgrid", Fields: map[string]string{"api_key": goodKey}}); err != nil {
		t.Fatal(err)
	}
	if _, err := inst.Client().CreateAccount(ctx, client.CreateAccount{App: "twilio", Fields: map[string]string{"account_sid": twilioSID, "auth_token": twilioToken}}); err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Del("search_path")
	u.RawQuery = q.Encode()
	out, err := exec.Command(pgDump, "--data-only", "--schema="+schema, u.String()).CombinedOutput()
	if err != nil {
		t.Fatalf("pg_dump: %v\n%s", err, out)
	}
	if !bytes.Contains(out, []byte("COPY "+schema+".accounts")) {
		t.Fatalf("the dump has no accounts table:\n%s", out)
	}
	for _, s := range []string{goodKey, twilioToken, inst.Token} {
		if bytes.Contains(out, []byte(s)) || bytes.Contains(out, []byte(hex.EncodeToString([]byte(s)))) {
			t.Errorf("the dump holds a secret in plaintext")
		}
	}
}

// TestReplaceKeys: a key-based account gets new keys and keeps its id;
// keys the provider refuses change nothing.
func TestReplaceKeys(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b servertest.Backend) {
		p := servertest.NewProvider(t, servertest.ProviderKeys{SendGridKey: goodKey})
		cfg := servertest.Config(t, b.DatabaseURL(t))
		cfg.AppOrigins = map[string]string{"sendgrid": p.URL}
		inst := servertest.Start(t, cfg, server.Options{})
		api, ctx := inst.Client(), context.Background()
		acc, err := api.CreateAccount(ctx, client.CreateAccount{App: "sendgrid", Fields: map[string]string{"api_key": "SG.old.key"}, Test: ptr(false)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := api.ReplaceKeys(ctx, acc.ID, client.ReplaceKeys{Fields: map[string]string{"api_key": "SG.wrong.key"}}); !client.IsProblem(err, "credentials-test-failed") {
			t.Fatalf("refused keys: %v", err)
		}
		if creds, _ := api.Credentials(ctx, acc.ID); creds["api_key"] != "SG.old.key" {
			t.Fatalf("refused keys changed the account: %v", creds)
		}
		got, err := api.ReplaceKeys(ctx, acc.ID, client.ReplaceKeys{Fields: map[string]string{"api_key": goodKey}})
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != acc.ID || got.Untested || got.Status != "healthy" || got.IdentityLabel != "Ada Lovelace" {
			t.Fatalf("after replacing: %+v", got)
		}
		if creds, _ := api.Credentials(ctx, acc.ID); creds["api_key"] != goodKey {
			t.Fatalf("credentials after replacing: %v", creds)
		}
		_, err = api.Reconnect(ctx, acc.ID)
		if p, ok := err.(*client.Problem); !ok || !client.IsProblem(err, "validation") || !strings.Contains(p.Detail, "PUT /v1/accounts/"+acc.ID+"/credentials") ||
			p.AccountID != acc.ID || p.CredentialsPath != "/v1/accounts/"+acc.ID+"/credentials" {
			t.Fatalf("reconnecting a key account: %v", err)
		}
		if n := countEvents(t, api, acc.ID, "account.credentials_replaced"); n != 1 {
			t.Fatalf("%d credentials_replaced events", n)
		}
	})
}
