package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
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
