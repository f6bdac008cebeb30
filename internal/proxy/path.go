package proxy

import (
	"net/url"
	"regexp"
	"strings"
)

// schemeRE is a path that reads as an absolute URL ("https:...").
var schemeRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*:`)

// CheckPath refuses a path (escaped, without its leading slash) that could
// leave the app's base URL, in any spelling: dot segments, plain or
// percent-encoded; encoded slashes and backslashes, which servers and
// proxies disagree on; empty segments ("//host"); an absolute URL; control
// characters.
func CheckPath(p string) error {
	lower := strings.ToLower(p)
	switch {
	case strings.Contains(lower, "%2f"):
		return &PathError{Reason: "has an encoded slash (%2F)"}
	case strings.Contains(lower, "%5c") || strings.Contains(p, `\`):
		return &PathError{Reason: "has a backslash"}
	case schemeRE.MatchString(p):
		return &PathError{Reason: "is an absolute URL; give a path under the app's base URL"}
	}
	segs := strings.Split(p, "/")
	for i, seg := range segs {
		dec, err := url.PathUnescape(seg)
		if err != nil {
			return &PathError{Reason: "has a malformed %-escape"}
		}
		switch {
		case dec == "." || dec == "..":
			return &PathError{Reason: "has a dot segment (. or ..)"}
		case dec == "" && i < len(segs)-1:
			return &PathError{Reason: "has an empty segment (//)"}
		case strings.ContainsFunc(dec, func(r rune) bool { return r < 0x20 || r == 0x7f }):
			return &PathError{Reason: "has a control character"}
		}
	}
	return nil
}

// within checks, once more on the URL itself, that target is on base's
// scheme and host and under its path.
func within(base, target string) error {
	b, err := url.Parse(base)
	if err != nil {
		return &PathError{Reason: "cannot be joined to the app's base URL"}
	}
	u, err := url.Parse(target)
	if err != nil {
		return &PathError{Reason: "does not make a request URL"}
	}
	prefix := strings.TrimSuffix(b.EscapedPath(), "/") + "/"
	if u.Scheme != b.Scheme || u.Host != b.Host || u.User != nil || !strings.HasPrefix(u.EscapedPath()+"/", prefix) {
		return &PathError{Reason: "leaves the app's base URL"}
	}
	return nil
}
