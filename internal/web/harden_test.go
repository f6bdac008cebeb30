package web_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/server"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
)

// noFollow makes b stop at the first answer, so a test reads the Location
// a browser would follow instead of letting Go's client follow it.
func noFollow(b *browserClient) *browserClient {
	c := *b.Client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &browserClient{Client: &c, base: b.base}
}

// browserLocation resolves a Location as a browser would: TAB, CR and LF
// dropped, a backslash read as a slash.
func browserLocation(t *testing.T, base, loc string) *url.URL {
	t.Helper()
	b, _ := url.Parse(base + "/login")
	loc = strings.NewReplacer("\t", "", "\r", "", "\n", "", `\`, "/").Replace(loc)
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatalf("Location %q does not parse: %v", loc, err)
	}
	return b.ResolveReference(u)
}

// The report: /login?next=%2F%09%2Fevil.example signed in and then
// sent the browser to another origin.
func TestSignInNextStaysOnThisServer(t *testing.T) {
	inst, b := start(t)
	setup(t, b)
	b.post(t, "/logout", nil, "")
	// The sign-in page carries next into its form; it keeps only a path here.
	_, page := b.get(t, "/login?next=%2F%09%2Fevil.example")
	if strings.Contains(page, "evil.example") {
		t.Fatalf("the sign-in form carries the foreign next on:\n%s", page)
	}
	// Sign-ins are limited to five a minute; TestLocalPath has the rest.
	for _, next := range []string{"/\t/evil.example", `/\evil.example`, `/./\evil.example`, "//evil.example"} {
		nb := noFollow(newBrowser(t, inst.URL))
		resp, _ := nb.post(t, "/login", url.Values{"email": {"owner@acme.test"}, "password": {password}, "next": {next}}, "")
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("next %q: sign-in answered %d", next, resp.StatusCode)
		}
		u := browserLocation(t, inst.URL, resp.Header.Get("Location"))
		if u.Scheme+"://"+u.Host != inst.URL || u.Path != "/" {
			t.Errorf("next %q: signed in, the browser goes to %s (Location %q)", next, u, resp.Header.Get("Location"))
		}
	}
	// A path on this server is still honoured.
	nb := noFollow(newBrowser(t, inst.URL))
	resp, _ := nb.post(t, "/login", url.Values{"email": {"owner@acme.test"}, "password": {password}, "next": {"/connect?q=slack"}}, "")
	if loc := resp.Header.Get("Location"); loc != "/connect?q=slack" {
		t.Fatalf("next /connect?q=slack: Location %q", loc)
	}
}

// multipartBody is a form as the pages' script sends it (FormData).
func multipartBody(t *testing.T, fields map[string]string) (string, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		if err := mw.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	mw.Close()
	return buf.String(), mw.FormDataContentType()
}

func (b *browserClient) postBody(t *testing.T, path, contentType string, body io.Reader) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", b.base+path, body)
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Origin", b.base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := b.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp, string(out)
}

func TestOversizeFormsChangeNothing(t *testing.T) {
	inst, b := start(t)
	setup(t, b)
	ctx := context.Background()
	acc, err := inst.Client().CreateAccount(ctx, client.CreateAccount{App: "openai", Nickname: ptr("before"), Fields: map[string]string{"api_key": "sk-x"}, Test: ptr(false)})
	if err != nil {
		t.Fatal(err)
	}
	rename := "/accounts/" + acc.ID + "/rename"
	big := strings.Repeat("x", 65<<10)
	mp, mpType := multipartBody(t, map[string]string{"nickname": "pwned", "padding": big})
	for name, post := range map[string]func() (*http.Response, string){
		"urlencoded": func() (*http.Response, string) {
			return b.post(t, rename, url.Values{"nickname": {"pwned"}, "padding": {big}}, "")
		},
		"multipart": func() (*http.Response, string) {
			return b.postBody(t, rename, mpType, strings.NewReader(mp))
		},
	} {
		resp, body := post()
		if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(body, "larger than 64 KiB") {
			t.Errorf("%s: %d\n%s", name, resp.StatusCode, body)
		}
		if got, _ := inst.Client().GetAccount(ctx, acc.ID); got.Nickname != "before" {
			t.Fatalf("%s: an over-size form renamed the account to %q", name, got.Nickname)
		}
	}

	// A 50 MB post is refused before it is read: the answer comes while
	// most of the body is still unsent.
	pr, pw := io.Pipe()
	var sent atomic.Int64
	const total = 50 << 20
	go func() {
		head := "--x\r\nContent-Disposition: form-data; name=\"nickname\"\r\n\r\n"
		if _, err := io.WriteString(pw, head); err != nil {
			return
		}
		chunk := bytes.Repeat([]byte("x"), 32<<10)
		for sent.Load() < total {
			n, err := pw.Write(chunk)
			sent.Add(int64(n))
			if err != nil {
				return
			}
		}
		pw.Close()
	}()
	resp, _ := b.postBody(t, rename, "multipart/form-data; boundary=x", pr)
	pr.CloseWithError(errors.New("answered"))
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("50 MB multipart post: %d", resp.StatusCode)
	}
	if n := sent.Load(); n >= total {
		t.Fatalf("the server read all %d bytes of a 50 MB post before answering", n)
	}

	// Forms of ordinary size, multipart as the script sends them, work.
	mp, mpType = multipartBody(t, map[string]string{"nickname": "after", "back": "/accounts/" + acc.ID})
	if resp, _ := b.postBody(t, rename, mpType, strings.NewReader(mp)); resp.StatusCode != 200 || resp.Request.URL.Path != "/accounts/"+acc.ID {
		t.Fatalf("multipart rename: %d at %s", resp.StatusCode, resp.Request.URL.Path)
	}
	if got, _ := inst.Client().GetAccount(ctx, acc.ID); got.Nickname != "after" {
		t.Fatalf("multipart rename did not land: %q", got.Nickname)
	}
}

// bcrypt reads only a password's first 72 bytes, so a longer one is
// refused at set-up and at sign-in alike.
func TestPasswordsOver72BytesAreRefused(t *testing.T) {
	inst := servertest.Start(t, servertest.Config(t, ""), server.Options{PasswordCost: identity.DefaultPasswordCost})
	b := newBrowser(t, inst.URL)
	long := strings.Repeat("p", 73)
	if resp, body := b.post(t, "/setup", url.Values{"email": {"owner@acme.test"}, "password": {long}, "confirm": {long}}, ""); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "72 bytes") {
		t.Fatalf("set-up with 73 bytes: %d", resp.StatusCode)
	}
	// 72 bytes of which the last is a two-byte letter: 73 bytes.
	accented := strings.Repeat("p", 71) + "é"
	if resp, _ := b.post(t, "/setup", url.Values{"email": {"owner@acme.test"}, "password": {accented}, "confirm": {accented}}, ""); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("set-up with 72 letters in 73 bytes: %d", resp.StatusCode)
	}
	max := strings.Repeat("p", 72)
	if resp, body := b.post(t, "/setup", url.Values{"email": {"owner@acme.test"}, "password": {max}, "confirm": {max}}, ""); resp.StatusCode != 200 || !strings.Contains(body, "<h1>Accounts</h1>") {
		t.Fatalf("set-up with 72 bytes: %d", resp.StatusCode)
	}
	ws, err := inst.Store().FirstWorkspace(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	u, err := inst.Store().GetUserByEmail(context.Background(), ws.ID, "owner@acme.test")
	if err != nil {
		t.Fatal(err)
	}
	if cost, err := bcrypt.Cost([]byte(u.PasswordHash)); err != nil || cost != 12 {
		t.Fatalf("the password hash has cost %d (%v), want 12", cost, err)
	}
	b.post(t, "/logout", nil, "")
	// The right 72 bytes and anything after them used to sign in.
	if resp, body := b.post(t, "/login", url.Values{"email": {"owner@acme.test"}, "password": {max + "anything"}}, ""); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "at most 72 bytes") {
		t.Fatalf("sign-in with the password plus more: %d at %s", resp.StatusCode, resp.Request.URL.Path)
	}
	if resp, body := b.post(t, "/login", url.Values{"email": {"owner@acme.test"}, "password": {max}}, ""); resp.StatusCode != 200 || !strings.Contains(body, "<h1>Accounts</h1>") {
		t.Fatalf("sign-in with the password: %d", resp.StatusCode)
	}
}

// formAction returns the form-action sources of a CSP.
func formAction(csp string) string {
	for _, d := range strings.Split(csp, ";") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(d), "form-action "); ok {
			return v
		}
	}
	return ""
}

// Under an https public URL the session cookie is __Host-, every page
// sends Strict-Transport-Security, and form-action names only this site
// and the providers the page's forms may start. The server itself listens
// on plain loopback http, as behind a TLS proxy; the browser's side of it
// is read from the headers.
func TestHTTPSOnlyHeaders(t *testing.T) {
	cfg := servertest.Config(t, "")
	cfg.PublicURL = "https://latchkey.test"
	inst := servertest.Start(t, cfg, server.Options{})
	// No cookie jar: the test sends the session cookie itself.
	b := noFollow(newBrowser(t, inst.URL))
	b.Jar = nil
	resp, _ := b.post(t, "/setup", url.Values{"email": {"owner@acme.test"}, "password": {password}, "confirm": {password}}, "")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("set-up: %d", resp.StatusCode)
	}
	if got := resp.Header.Get("Strict-Transport-Security"); got != "max-age=31536000" {
		t.Errorf("Strict-Transport-Security %q", got)
	}
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "__Host-latchkey_session" {
			session = c
		}
	}
	if session == nil {
		t.Fatalf("no __Host- session cookie in %q", resp.Header.Values("Set-Cookie"))
	}
	if !session.Secure || session.Path != "/" || session.Domain != "" || !session.HttpOnly {
		t.Errorf("session cookie %+v: want Secure, HttpOnly, path /, no domain", session)
	}
	get := func(path string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", inst.URL+path, nil)
		req.AddCookie(&http.Cookie{Name: session.Name, Value: session.Value})
		resp, err := b.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
		return resp
	}
	// An older cookie name signs nobody in.
	req, _ := http.NewRequest("GET", inst.URL+"/", nil)
	req.AddCookie(&http.Cookie{Name: "latchkey_session", Value: session.Value})
	if resp, err := b.Do(req); err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the session under the http cookie name: %v %v", resp, err)
	}

	for path, want := range map[string]string{
		"/":                "'self'",
		"/connect":         "'self'",
		"/connect/openai":  "'self'",
		"/connect/slack":   "'self' https://slack.com",
		"/connect/shopify": "'self' https://*.myshopify.com",
		// accounts.{dc}: the placeholder is not a leading label.
		"/connect/zoho_crm": "'self' https:",
	} {
		resp := get(path)
		if got := formAction(resp.Header.Get("Content-Security-Policy")); got != want {
			t.Errorf("%s: form-action %q, want %q", path, got, want)
		}
		if resp.Header.Get("Strict-Transport-Security") == "" {
			t.Errorf("%s: no Strict-Transport-Security", path)
		}
	}

	// A plain-http install keeps its cookie name, sends no HSTS, and lets
	// forms go to any https origin.
	_, hb := start(t)
	hb = noFollow(hb)
	resp, _ = hb.post(t, "/setup", url.Values{"email": {"owner@acme.test"}, "password": {password}, "confirm": {password}}, "")
	if resp.Header.Get("Strict-Transport-Security") != "" {
		t.Error("an http install sends Strict-Transport-Security")
	}
	if sc := resp.Header.Get("Set-Cookie"); !strings.HasPrefix(sc, "latchkey_session=") || strings.Contains(sc, "Secure") {
		t.Errorf("http install session cookie %q", sc)
	}
	if got := formAction(resp.Header.Get("Content-Security-Policy")); got != "'self' https:" {
		t.Errorf("http install form-action %q", got)
	}
}
