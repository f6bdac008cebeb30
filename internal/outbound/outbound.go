// Package outbound is the one guarded HTTP client: every request Latchkey
// makes for an app (key tests, identity requests, token exchange, refresh
// and revocation, http steps) goes through it. It dials only public
// addresses, judged after name resolution; it never follows a redirect and
// never uses a proxy from the environment; and Clip shortens what providers
// send back before it reaches an error, a log or a label.
package outbound

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/latchkeyhq/latchkey/internal/netpolicy"
)

// Options configure the client.
type Options struct {
	// Allow are host:port pairs the operator trusts (the app_origins), dialled
	// whatever they resolve to. Origin turns an app_origins value into one.
	Allow []string
	// Scoped are host:port pairs dialled whatever they resolve to, for
	// requests under their paths only.
	Scoped []Scoped
	// Timeout bounds each request, redirects included (none are followed).
	Timeout time.Duration
}

// New returns the guarded client.
func New(o Options) *http.Client {
	allow := append([]string(nil), o.Allow...)
	scoped := map[string]Scoped{}
	for _, sc := range o.Scoped {
		allow = append(allow, sc.HostPort)
		scoped[normalize(sc.HostPort)] = sc
	}
	p := NewPolicy(allow, netpolicy.HostAddrs())
	t := &http.Transport{
		// No proxy from the environment: a proxy on loopback would carry
		// every request past the address check.
		Proxy:             nil,
		DialContext:       p.DialContext,
		ForceAttemptHTTP2: true,
		MaxIdleConns:      100,
		// The proxy sends many requests at once to one app's host; the
		// default of 2 idle connections a host would dial for most.
		MaxIdleConnsPerHost:    32,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    10 * time.Second,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: 64 << 10,
	}
	var rt http.RoundTripper = t
	if len(scoped) > 0 {
		rt = scopedTransport{next: t, scoped: scoped}
	}
	return &http.Client{
		Timeout:   o.Timeout,
		Transport: rt,
		// A redirect would carry the request's credentials (an
		// Authorization header, a client secret) to wherever the provider
		// points; hand the 3xx back and let the caller report it.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Origin turns an app_origins value (scheme://host[:port]) into the
// host:port the client allows.
func Origin(origin string) (string, error) {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("%q is not scheme://host[:port]", origin)
	}
	port := u.Port()
	if port == "" {
		switch u.Scheme {
		case "http":
			port = "80"
		case "https":
			port = "443"
		default:
			return "", fmt.Errorf("%q must be http or https", origin)
		}
	}
	return normalize(net.JoinHostPort(u.Hostname(), port)), nil
}

// normalize writes host:port the one way a dial address and an allowed
// origin are compared: a lower-case name, or an address in canonical form.
func normalize(hostport string) string {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return strings.ToLower(hostport)
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return net.JoinHostPort(a.WithZone("").Unmap().String(), port)
	}
	return strings.ToLower(strings.TrimSuffix(host, ".")) + ":" + port
}

// Policy decides which dials the client makes.
type Policy struct {
	allow map[string]bool
	own   map[netip.Addr]bool
}

// NewPolicy returns the policy with the trusted host:port pairs and this
// machine's own addresses, which are refused like private ones.
func NewPolicy(allow []string, own []netip.Addr) *Policy {
	p := &Policy{allow: map[string]bool{}, own: map[netip.Addr]bool{}}
	for _, hp := range allow {
		p.allow[normalize(hp)] = true
	}
	for _, a := range own {
		p.own[a.WithZone("").Unmap()] = true
	}
	return p
}

// Trusted reports whether the operator named this host:port in app_origins.
func (p *Policy) Trusted(requested string) bool { return p.allow[normalize(requested)] }

// Check decides one connection: requested is the host:port the request
// names, resolved the ip:port about to be connected. It is nil or an
// *BlockedError, which wraps netpolicy.ErrBlocked.
func (p *Policy) Check(requested, resolved string) error {
	if p.Trusted(requested) {
		return nil
	}
	host, _, err := net.SplitHostPort(requested)
	if err != nil {
		host = requested
	}
	ap, err := netip.ParseAddrPort(resolved)
	if err != nil {
		return &BlockedError{Host: host, Why: "not an IP address", err: fmt.Errorf("%w: %q is not an IP address", netpolicy.ErrBlocked, resolved)}
	}
	a := ap.Addr().WithZone("").Unmap()
	if err := netpolicy.Check(a); err != nil {
		return &BlockedError{Host: host, Addr: a, Why: why(a), err: err}
	}
	if p.own[a] {
		return &BlockedError{Host: host, Addr: a, Why: "one of this machine's own addresses", err: fmt.Errorf("%w: %s is this machine's", netpolicy.ErrBlocked, a)}
	}
	return nil
}

// why names the refused range an address is in, for the error text; the
// decision itself is netpolicy.Check's.
func why(a netip.Addr) string {
	for _, r := range netpolicy.Blocked() {
		if r.Prefix.Contains(a) {
			return "in the " + r.Why + " range " + r.Prefix.String()
		}
	}
	return "not a public address"
}

// Control is the net.Dialer.Control of a dial for requested: it sees the
// address actually connected, after resolution, so a name that resolves to
// a private address (DNS rebinding included) is refused.
func (p *Policy) Control(requested string) func(network, address string, c syscall.RawConn) error {
	return func(network, address string, _ syscall.RawConn) error {
		switch network {
		case "tcp", "tcp4", "tcp6":
		default:
			return &BlockedError{Host: requested, Why: "not a TCP connection", err: fmt.Errorf("%w: network %s", netpolicy.ErrBlocked, network)}
		}
		return p.Check(requested, address)
	}
}

// DialContext dials addr with Control checking every address tried.
func (p *Policy) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	if !p.Trusted(addr) {
		d.Control = p.Control(addr)
	}
	conn, err := d.DialContext(ctx, network, addr)
	if err != nil {
		// Hand back the refusal itself rather than net's "dial tcp ...:"
		// wrapping, so the message reads as a sentence.
		var be *BlockedError
		if errors.As(err, &be) {
			return nil, be
		}
		return nil, err
	}
	return conn, nil
}

// BlockedError is a refused dial: the host a request named and the
// address it resolved to.
type BlockedError struct {
	Host string
	// Addr is the zero Addr when there was no address to judge.
	Addr netip.Addr
	Why  string
	err  error
}

func (e *BlockedError) Error() string {
	host := Clip(e.Host)
	switch {
	case !e.Addr.IsValid():
		return fmt.Sprintf("%s: %s; Latchkey calls only public internet addresses", host, e.Why)
	case host == e.Addr.String():
		return fmt.Sprintf("%s is %s; Latchkey calls only public internet addresses", host, e.Why)
	default:
		return fmt.Sprintf("%s resolves to %s, %s; Latchkey calls only public internet addresses", host, e.Addr, e.Why)
	}
}

func (e *BlockedError) Unwrap() error { return e.err }

// ErrRedirect is wrapped by every *RedirectError.
var ErrRedirect = errors.New("redirect not followed")

// RedirectError is a provider's answer that sends the request elsewhere.
// It names only the target's host: its path and query may carry secrets.
type RedirectError struct {
	Status int
	// Host is the target's host, "" when the answer names none.
	Host string
}

func (e *RedirectError) Error() string {
	to := "elsewhere"
	if e.Host != "" {
		to = "to " + e.Host
	}
	return fmt.Sprintf("the provider answered %d %s, a redirect %s; Latchkey does not follow redirects", e.Status, http.StatusText(e.Status), to)
}

func (e *RedirectError) Unwrap() error { return ErrRedirect }

// Redirect returns a *RedirectError when resp is a redirect the client
// did not follow, and nil otherwise.
func Redirect(resp *http.Response) error {
	switch resp.StatusCode {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
	default:
		return nil
	}
	e := &RedirectError{Status: resp.StatusCode}
	if loc := resp.Header.Get("Location"); loc != "" {
		if u, err := url.Parse(loc); err == nil {
			if resp.Request != nil && resp.Request.URL != nil {
				u = resp.Request.URL.ResolveReference(u)
			}
			e.Host = Clip(u.Host)
		}
	}
	return e
}
