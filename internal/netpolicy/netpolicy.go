// Package netpolicy decides which network addresses Latchkey may reach on a
// user's behalf: the public internet, and none of the host's own, private or
// special-purpose networks. The guarded outbound client checks it at dial
// time and the step sandbox turns it into firewall rules, so both refuse the
// same ranges.
package netpolicy

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// ErrBlocked is wrapped by every refusal.
var ErrBlocked = errors.New("address not allowed")

// Range is a block of addresses no outbound request may reach, and why.
type Range struct {
	Prefix netip.Prefix
	Why    string
}

var blocked = func() []Range {
	list := []struct{ cidr, why string }{
		{"0.0.0.0/8", "unspecified"},
		{"10.0.0.0/8", "private"},
		{"100.64.0.0/10", "carrier-grade NAT"},
		{"127.0.0.0/8", "loopback"},
		{"169.254.0.0/16", "link-local"},
		{"172.16.0.0/12", "private"},
		{"192.0.0.0/24", "IETF protocol assignments"},
		{"192.0.2.0/24", "documentation"},
		{"192.88.99.0/24", "6to4 relay"},
		{"192.168.0.0/16", "private"},
		{"198.18.0.0/15", "benchmarking"},
		{"198.51.100.0/24", "documentation"},
		{"203.0.113.0/24", "documentation"},
		{"224.0.0.0/4", "multicast"},
		{"240.0.0.0/4", "reserved"}, // includes 255.255.255.255
		{"::/128", "unspecified"},
		{"::1/128", "loopback"},
		{"::/96", "IPv4-compatible"},
		{"::ffff:0:0/96", "IPv4-mapped"},
		{"64:ff9b::/96", "NAT64"},
		{"64:ff9b:1::/48", "NAT64"},
		{"100::/64", "discard"},
		{"2001::/23", "IETF protocol assignments"}, // Teredo, ORCHID and friends
		{"2001:db8::/32", "documentation"},
		{"2002::/16", "6to4"},
		{"fc00::/7", "unique-local"},
		{"fe80::/10", "link-local"},
		{"fec0::/10", "site-local"},
		{"ff00::/8", "multicast"},
	}
	out := make([]Range, len(list))
	for i, r := range list {
		out[i] = Range{Prefix: netip.MustParsePrefix(r.cidr), Why: r.why}
	}
	return out
}()

// Blocked returns the refused ranges, IPv4 first.
func Blocked() []Range { return append([]Range(nil), blocked...) }

// Check returns nil for an address on the public internet, and an error
// wrapping ErrBlocked that names the range otherwise. An IPv4-mapped IPv6
// address is judged as the IPv4 address it carries.
func Check(a netip.Addr) error {
	if !a.IsValid() {
		return fmt.Errorf("%w: not an IP address", ErrBlocked)
	}
	a = a.WithZone("")
	if a.Is4In6() {
		a = a.Unmap()
	}
	for _, r := range blocked {
		if r.Prefix.Contains(a) {
			return fmt.Errorf("%w: %s is %s", ErrBlocked, a, r.Why)
		}
	}
	return nil
}

// HostAddrs lists the addresses of this machine's own interfaces, which
// are refused too: a public address of the host reaches its services.
func HostAddrs() []netip.Addr {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var out []netip.Addr
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil {
			out = append(out, p.Addr().WithZone(""))
		}
	}
	return out
}

// ParseHost reads a URL host as an IP address the way resolvers do, so the
// other spellings of an address are caught too: "127.1", "0x7f000001",
// "2130706433", "0177.0.0.1", "[::ffff:127.0.0.1]". It reports false for a
// name that is not an address.
func ParseHost(host string) (netip.Addr, bool) {
	h := strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if i := strings.IndexByte(h, '%'); i >= 0 {
		h = h[:i]
	}
	if a, err := netip.ParseAddr(h); err == nil {
		return a, true
	}
	return parseInetAton(strings.TrimSuffix(h, "."))
}

// parseInetAton accepts the forms of inet_aton(3): one to four parts, each
// decimal, octal (leading 0) or hex (0x), the last filling the bytes left.
func parseInetAton(s string) (netip.Addr, bool) {
	parts := strings.Split(s, ".")
	if s == "" || len(parts) > 4 {
		return netip.Addr{}, false
	}
	vals := make([]uint64, len(parts))
	for i, p := range parts {
		base, digits := 10, p
		switch {
		case strings.HasPrefix(p, "0x") || strings.HasPrefix(p, "0X"):
			base, digits = 16, p[2:]
		case len(p) > 1 && p[0] == '0':
			base, digits = 8, p[1:]
		}
		if digits == "" && base == 16 {
			return netip.Addr{}, false
		}
		if digits == "" {
			digits = "0"
		}
		v, err := strconv.ParseUint(digits, base, 32)
		if err != nil {
			return netip.Addr{}, false
		}
		vals[i] = v
	}
	var n uint64
	for i, v := range vals[:len(vals)-1] {
		if v > 255 {
			return netip.Addr{}, false
		}
		n |= v << (24 - 8*uint(i))
	}
	last := vals[len(vals)-1]
	if last >= 1<<(8*(5-uint(len(vals)))) && len(vals) > 1 || last > 0xffffffff {
		return netip.Addr{}, false
	}
	n |= last
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}), true
}

// PlainHost reports whether a URL's host (with its port) is made of the
// characters of host names, IP addresses and ports alone. url.Parse lets
// ";", "," and quotes into a host: such a host names no server, and one
// written into a page's CSP would end a directive and start another.
func PlainHost(host string) bool {
	return host != "" && !strings.ContainsFunc(host, func(r rune) bool {
		return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune(".-:[]", r))
	})
}
