package outbound

import (
	"fmt"
	"net/http"
	"path"
	"strings"

	"github.com/latchkeyhq/latchkey/internal/netpolicy"
)

// Scoped is a host:port the client may reach for some paths only: the
// server's own address while the demo runs, where its demo provider
// lives beside its API, which no app may be pointed at.
type Scoped struct {
	HostPort string
	// Paths are the path prefixes allowed there, each ending in "/".
	Paths []string
}

// allows reports whether a request to this host:port may go to the
// (escaped) path: a clean one, with no escapes that a server could decode
// into a "..", under one of the prefixes.
func (s Scoped) allows(escaped string) bool {
	if strings.Contains(escaped, "%") || path.Clean(escaped) != escaped {
		return false
	}
	for _, p := range s.Paths {
		if strings.HasPrefix(escaped, p) {
			return true
		}
	}
	return false
}

// scopedTransport refuses requests to a scoped host:port outside its
// paths before anything is dialled.
type scopedTransport struct {
	next   http.RoundTripper
	scoped map[string]Scoped
}

func (t scopedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	hp := r.URL.Host
	if r.URL.Port() == "" {
		port := "80"
		if r.URL.Scheme == "https" {
			port = "443"
		}
		hp = r.URL.Hostname() + ":" + port
	}
	if s, ok := t.scoped[normalize(hp)]; ok && !s.allows(r.URL.EscapedPath()) {
		if r.Body != nil {
			r.Body.Close()
		}
		return nil, &BlockedError{Host: r.URL.Hostname(), Why: "this server's own address, open only to the demo app",
			err: fmt.Errorf("%w: %s outside %v", netpolicy.ErrBlocked, hp, s.Paths)}
	}
	return t.next.RoundTrip(r)
}
