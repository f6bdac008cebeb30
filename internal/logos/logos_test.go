package logos

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/latchkeyhq/latchkey/internal/catalog"
)

func serve(t *testing.T, path string, header map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("GET "+Prefix+"{file}", Handler())
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	return rec
}

func TestServe(t *testing.T) {
	got := serve(t, "/logos/github.svg", nil)
	if got.Code != http.StatusOK {
		t.Fatalf("GET github.svg: %d", got.Code)
	}
	for k, want := range map[string]string{
		"Content-Type":            "image/svg+xml",
		"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
		"X-Content-Type-Options":  "nosniff",
		"Cache-Control":           "public, max-age=86400",
	} {
		if v := got.Header().Get(k); v != want {
			t.Errorf("%s: %q, want %q", k, v, want)
		}
	}
	if body := got.Body.String(); !strings.HasPrefix(body, `<svg fill="#181717"`) || !strings.Contains(body, "<title>GitHub</title>") {
		t.Errorf("the body is not GitHub's logo in its colour: %.80s", body)
	}
	etag := got.Header().Get("ETag")
	if !strings.HasPrefix(etag, `"`) || len(etag) < 10 {
		t.Fatalf("ETag %q", etag)
	}

	for _, tc := range []struct {
		name, path, inm string
		want            int
	}{
		{"the same version", "/logos/github.svg", etag, http.StatusNotModified},
		{"the same version among others", "/logos/github.svg", `"old", ` + etag, http.StatusNotModified},
		{"another version", "/logos/github.svg", `"old"`, http.StatusOK},
		{"another app's version", "/logos/gitlab.svg", etag, http.StatusOK},
		{"an app without a logo", "/logos/sendgrid.svg", "", http.StatusNotFound},
		{"no such app", "/logos/nosuch.svg", "", http.StatusNotFound},
		{"not an svg", "/logos/github.png", "", http.StatusNotFound},
		{"no extension", "/logos/github", "", http.StatusNotFound},
		{"the index", "/logos/index.json", "", http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := map[string]string{}
			if tc.inm != "" {
				h["If-None-Match"] = tc.inm
			}
			rec := serve(t, tc.path, h)
			if rec.Code != tc.want {
				t.Fatalf("%s: %d, want %d", tc.path, rec.Code, tc.want)
			}
			if tc.want == http.StatusNotModified && rec.Body.Len() != 0 {
				t.Errorf("a 304 came with %d bytes", rec.Body.Len())
			}
		})
	}
}

// Every logo is of a shipped app and a plain coloured SVG: an app renamed
// or removed must not leave a logo behind for a custom app to inherit.
func TestLogosAreOfShippedApps(t *testing.T) {
	cat, err := catalog.Load(catalog.Embedded())
	if err != nil {
		t.Fatal(err)
	}
	if Len() < 100 || Version() == "" {
		t.Fatalf("%d logos of simple-icons %q", Len(), Version())
	}
	for slug, e := range byApp {
		if _, ok := cat.Get(slug); !ok {
			t.Errorf("%s has a logo but is not in the catalog", slug)
		}
		if s := string(e.svg); !strings.HasPrefix(s, `<svg fill="#`) || strings.Contains(s, "<script") || strings.Contains(s, "href") {
			t.Errorf("%s.svg is not a plain coloured icon: %.60s", slug, s)
		}
	}
	if _, ok := For("sendgrid"); ok {
		t.Error("sendgrid has a logo, but simple-icons has none")
	}
	if l, ok := For("stripe"); !ok || l.URL != "/logos/stripe.svg" {
		t.Errorf("stripe: %+v %v", l, ok)
	}
}

func TestLight(t *testing.T) {
	for hex, want := range map[string]bool{
		"FFFC00": true,  // Snapchat
		"FFFFFF": true,  //
		"9FE870": true,  // Wise
		"000000": false, //
		"4285F4": false, // Google
		"FF0000": false, // YouTube
		"zzzzzz": false, // not a colour: drawn as is
	} {
		if got := light(hex); got != want {
			t.Errorf("light(%s) = %v, want %v", hex, got, want)
		}
	}
}
