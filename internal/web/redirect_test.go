package web

import (
	"net/url"
	"strings"
	"testing"
)

// browserResolve resolves a Location header as a browser would: it drops
// TAB, CR and LF, reads a backslash as a slash (WHATWG URL parsing of
// special schemes), then resolves against the page's URL.
func browserResolve(t *testing.T, base *url.URL, loc string) *url.URL {
	t.Helper()
	loc = strings.NewReplacer("\t", "", "\r", "", "\n", "", `\`, "/").Replace(strings.TrimSpace(loc))
	u, err := url.Parse(loc)
	if err != nil {
		// An unparsable Location is not followed anywhere else.
		return base
	}
	return base.ResolveReference(u)
}

func TestLocalPath(t *testing.T) {
	base, _ := url.Parse("http://127.0.0.1:8080/login")
	tests := []struct {
		name, in, want string // want "" means refused
	}{
		{"root", "/", "/"},
		{"page", "/accounts/acc_1", "/accounts/acc_1"},
		{"query kept", "/?q=slack&app=slack", "/?q=slack&app=slack"},
		{"trailing slash kept", "/connect/", "/connect/"},
		{"escaped space", "/a%20b", "/a%20b"},
		{"at sign in the path", "/@evil.example", "/@evil.example"},
		{"dot segments cleaned", "/a/../b", "/b"},
		{"double slash inside cleaned", "/a//b", "/a/b"},
		{"encoded slashes cleaned", "/%2F%2Fevil.example", "/evil.example"},
		{"encoded slash then slash", "/%2F/evil.example", "/evil.example"},
		{"encoded backslash escaped", "/%5Cevil.example", "/%5Cevil.example"},

		{"empty", "", ""},
		{"protocol-relative", "//evil.example", ""},
		{"protocol-relative with path", "//evil.example/login", ""},
		{"slash backslash", `/\evil.example`, ""},
		{"backslash slash", `\/evil.example`, ""},
		{"dot then backslash", `/./\evil.example`, ""},
		{"tab between slashes", "/\t/evil.example", ""},
		{"tab before slashes", "\t//evil.example", ""},
		{"CR between slashes", "/\r/evil.example", ""},
		{"LF between slashes", "/\n/evil.example", ""},
		{"CRLF header injection", "/\r\nSet-Cookie: x=y", ""},
		{"NUL", "/\x00/evil.example", ""},
		{"DEL", "/\x7f/evil.example", ""},
		{"still encoded", "%2F%2Fevil.example", ""},
		{"encoded tab still encoded", "/%09/evil.example", "/%09/evil.example"},
		{"https URL", "https://evil.example/", ""},
		{"https without slashes", "https:evil.example", ""},
		{"http URL", "http://127.0.0.1:8080/", ""},
		{"javascript", "javascript:alert(1)", ""},
		{"javascript mixed case", "JaVaScRiPt:alert(1)", ""},
		{"data", "data:text/html,<script>alert(1)</script>", ""},
		{"userinfo", "//user:pass@evil.example/", ""},
		{"userinfo in a URL", "https://127.0.0.1:8080@evil.example/", ""},
		{"relative path", "accounts", ""},
		{"leading space", " //evil.example", ""},
		{"too long", "/" + strings.Repeat("a", maxRedirectLen), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := localPath(tc.in)
			if tc.want == "" {
				if ok {
					t.Fatalf("localPath(%q) = %q, want it refused", tc.in, got)
				}
				if n := safeNext(tc.in); n != "/" {
					t.Fatalf("safeNext(%q) = %q, want /", tc.in, n)
				}
				return
			}
			if !ok || got != tc.want {
				t.Fatalf("localPath(%q) = %q, %v; want %q", tc.in, got, ok, tc.want)
			}
			if u := browserResolve(t, base, got); u.Scheme != base.Scheme || u.Host != base.Host {
				t.Fatalf("localPath(%q) = %q, which a browser follows to %s", tc.in, got, u)
			}
		})
	}
}

// The query-decoded form of the report: whatever the spelling, the
// answer a browser follows stays on this origin.
func TestSafeNextStaysOnOrigin(t *testing.T) {
	base, _ := url.Parse("http://127.0.0.1:8080/login")
	for _, q := range []string{
		"%2F%09%2Fevil.example", "%2F%0D%2Fevil.example", "%2F%0A%2Fevil.example", "%2F%2Fevil.example",
		"%2F%5Cevil.example", "%2F.%2F%5Cevil.example", "%2F%252F%2Fevil.example", "https%3A%2F%2Fevil.example",
		"%2F%2F%40evil.example", "%09%2F%2Fevil.example",
	} {
		v, err := url.ParseQuery("next=" + q)
		if err != nil {
			t.Fatal(err)
		}
		got := safeNext(v.Get("next"))
		if u := browserResolve(t, base, got); u.Host != base.Host || u.Scheme != base.Scheme {
			t.Errorf("next=%s gave %q, which a browser follows to %s", q, got, u)
		}
	}
}
