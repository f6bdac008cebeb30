package web

import (
	"net/url"
	"path"
	"strings"
)

// maxRedirectLen bounds a next or back value; no page of ours is longer.
const maxRedirectLen = 2048

// localPath returns raw as a path on this server, re-serialised from its
// parsed form, or false when raw could lead a browser anywhere else.
//
// Browsers are more lenient than Go's parser: they drop TAB, CR and LF
// anywhere in a URL and read a backslash as a slash, so "/\t/evil.example"
// and "/\evil.example" both mean "//evil.example", another origin. Such
// values are refused outright rather than repaired.
func localPath(raw string) (string, bool) {
	if raw == "" || len(raw) > maxRedirectLen || raw[0] != '/' {
		return "", false
	}
	if strings.ContainsFunc(raw, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }) {
		return "", false
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || !strings.HasPrefix(u.Path, "/") {
		return "", false
	}
	// Cleaning collapses "//" and dot segments, which http.Redirect would
	// otherwise clean later, after this check.
	p := path.Clean(u.Path)
	if strings.HasSuffix(u.Path, "/") && p != "/" {
		p += "/"
	}
	out := (&url.URL{Path: p, RawQuery: u.RawQuery}).String()
	// The result must parse back as a bare path: nothing that a browser
	// could read as a scheme or an authority.
	back, err := url.Parse(out)
	if err != nil || back.Scheme != "" || back.Host != "" || back.User != nil ||
		!strings.HasPrefix(out, "/") || strings.HasPrefix(out, "//") || strings.ContainsAny(out, "\\\t\r\n") {
		return "", false
	}
	return out, true
}

// safeNext is where to go after signing in: next, if it is a path on this
// server, else the accounts page.
func safeNext(next string) string {
	if p, ok := localPath(next); ok {
		return p
	}
	return "/"
}
