package proxy

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/latchkeyhq/latchkey/internal/appapi"
	"github.com/latchkeyhq/latchkey/internal/catalog"
)

func TestCheckPath(t *testing.T) {
	for path, want := range map[string]string{
		"":                       "",
		"v3/user/profile":        "",
		"v3/users/":              "",
		"v1/sheets/A1:append":    "",
		"files/a%20b.txt":        "",
		"search?q=x":             "", // a ? in the path is the caller's, escaped by the surface
		"..":                     "dot segment",
		"v3/../admin":            "dot segment",
		"v3/./x":                 "dot segment",
		"%2e%2e/admin":           "dot segment",
		"%2E./admin":             "dot segment",
		"v3/%2fadmin":            "encoded slash",
		"v3%2F..%2Fadmin":        "encoded slash",
		`v3\..\admin`:            "backslash",
		"v3%5cadmin":             "backslash",
		"https://evil.example/x": "absolute URL",
		"javascript:alert(1)":    "absolute URL",
		"/evil.example/x":        "empty segment",
		"v3//x":                  "empty segment",
		"v3/%00":                 "control character",
		"v3/a%0d%0aHost:%20evil": "control character",
		"v3/%zz":                 "malformed",
	} {
		err := CheckPath(path)
		if want == "" {
			if err != nil {
				t.Errorf("CheckPath(%q) = %v, want it forwarded", path, err)
			}
			continue
		}
		var pe *PathError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckPath(%q) = %v, want a refusal saying %q", path, err, want)
		}
	}
}

func TestTargetStaysUnderBase(t *testing.T) {
	s := New(Options{})
	app := &catalog.App{Slug: "acme", BaseURL: "https://{region}.acme.example/api", Fields: []catalog.Field{{Name: "region"}, {Name: "api_key", Secret: true}}}
	v := appapi.Values{"region": "eu", "api_key": "sk_live_secret"}
	got, err := s.target(app, v, "v1/items", "a=1&b=2")
	if err != nil || got != "https://eu.acme.example/api/v1/items?a=1&b=2" {
		t.Fatalf("target = %q, %v", got, err)
	}
	// A template in the caller's path is text, never filled in.
	got, err = s.target(app, v, "v1/{api_key}", "")
	if err != nil || strings.Contains(got, "sk_live_secret") {
		t.Fatalf("target = %q, %v: the caller's path must not be expanded", got, err)
	}
	if err := within("https://eu.acme.example/api/", "https://eu.acme.example/apiary"); err == nil {
		t.Error("a sibling of the base path was let through")
	}
	if err := within("https://eu.acme.example/api/", "https://evil.example/api/x"); err == nil {
		t.Error("another host was let through")
	}
}

func TestRetryWait(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	gh := &catalog.RateLimit{ResetHeader: "X-RateLimit-Reset"}
	ms := &catalog.RateLimit{ResetHeader: "X-Reset", ResetFormat: catalog.ResetUnixMS}
	secs := &catalog.RateLimit{ResetHeader: "X-Reset", ResetFormat: catalog.ResetSeconds}
	for _, tt := range []struct {
		name   string
		header map[string]string
		rl     *catalog.RateLimit
		want   time.Duration
	}{
		{"seconds", map[string]string{"Retry-After": "3"}, nil, 3 * time.Second},
		{"zero", map[string]string{"Retry-After": "0"}, nil, 0},
		{"http date", map[string]string{"Retry-After": now.Add(7 * time.Second).Format(http.TimeFormat)}, nil, 7 * time.Second},
		{"date passed", map[string]string{"Retry-After": now.Add(-time.Hour).Format(http.TimeFormat)}, nil, 0},
		{"huge", map[string]string{"Retry-After": "99999999999999"}, nil, 365 * 24 * time.Hour},
		{"garbage, no hint", map[string]string{"Retry-After": "soon"}, nil, time.Second},
		{"none", nil, nil, time.Second},
		{"reset header unix", map[string]string{"X-RateLimit-Reset": "1777636805"}, gh, 5 * time.Second},
		{"retry-after wins", map[string]string{"Retry-After": "2", "X-RateLimit-Reset": "1777636805"}, gh, 2 * time.Second},
		{"reset header not named by the catalog", map[string]string{"X-RateLimit-Reset": "1777636805"}, nil, time.Second},
		{"reset unix ms", map[string]string{"X-Reset": "1777636801500"}, ms, 1500 * time.Millisecond},
		{"reset seconds", map[string]string{"X-Reset": "4"}, secs, 4 * time.Second},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.header {
				h.Set(k, v)
			}
			if got := RetryWait(h, tt.rl, now); got != tt.want {
				t.Errorf("RetryWait = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestHeaders(t *testing.T) {
	in := http.Header{
		"Authorization":       {"Bearer lk_caller"},
		"Cookie":              {"latchkey_session=x"},
		"Proxy-Authorization": {"Basic eA=="},
		"Connection":          {"keep-alive, X-Private"},
		"X-Private":           {"hop"},
		"Te":                  {"trailers"},
		"Latchkey-Surface":    {"exec"},
		"Accept":              {"application/json"},
		"X-Custom":            {"kept"},
	}
	out := requestHeader(in)
	for _, k := range []string{"Authorization", "Cookie", "Proxy-Authorization", "Connection", "X-Private", "Te", "Latchkey-Surface"} {
		if out.Get(k) != "" {
			t.Errorf("request header %s was forwarded", k)
		}
	}
	if out.Get("Accept") != "application/json" || out.Get("X-Custom") != "kept" || in.Get("Authorization") == "" {
		t.Errorf("request headers = %v (and the caller's must be left as they were)", out)
	}

	ans := answerHeader(http.Header{
		"Set-Cookie":   {"session=abc"},
		"Location":     {"https://api.acme.example/v1/x?key=sk_live_secret"},
		"Content-Type": {"application/json"},
		"Keep-Alive":   {"timeout=5"},
	}, appapi.Values{"api_key": "sk_live_secret"})
	if ans.Get("Set-Cookie") != "" || ans.Get("Keep-Alive") != "" {
		t.Errorf("answer headers = %v, want no cookie and no hop-by-hop header", ans)
	}
	if strings.Contains(ans.Get("Location"), "sk_live_secret") || ans.Get("Content-Type") != "application/json" {
		t.Errorf("answer headers = %v, want the credential blanked and the rest kept", ans)
	}
}
