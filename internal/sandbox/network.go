package sandbox

import (
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/latchkeyhq/latchkey/internal/netpolicy"
)

// network is what a step may reach: the public internet, minus the
// policy's ranges and the host's own addresses, plus the allow-list.
type network struct {
	// loopbackPorts are allow-listed ports on the host's loopback, which
	// pasta forwards from the step's own loopback.
	loopbackPorts []int
	// allowed are other allow-listed destinations.
	allowed []netip.AddrPort
	deny    []netip.Prefix
}

// AllowError says an entry of step_network_allow is not usable.
type AllowError struct {
	Entry, Reason string
}

func (e *AllowError) Error() string {
	return fmt.Sprintf("step_network_allow: %q %s", e.Entry, e.Reason)
}

// ParseAllow checks step_network_allow entries: host:port, where a
// loopback host is 127.0.0.1, ::1 or localhost, and a name is resolved
// once, at start.
func ParseAllow(entries []string) (loopbackPorts []int, allowed []netip.AddrPort, err error) {
	seen := map[int]bool{}
	for _, e := range entries {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		host, portText, err := net.SplitHostPort(e)
		if err != nil {
			return nil, nil, &AllowError{e, "is not host:port"}
		}
		port, err := strconv.Atoi(portText)
		if err != nil || port < 1 || port > 65535 {
			return nil, nil, &AllowError{e, "has no port between 1 and 65535"}
		}
		var addrs []netip.Addr
		if host == "localhost" {
			addrs = []netip.Addr{netip.MustParseAddr("127.0.0.1")}
		} else if a, ok := netpolicy.ParseHost(host); ok {
			addrs = []netip.Addr{a.Unmap()}
		} else {
			ips, err := net.LookupIP(host)
			if err != nil || len(ips) == 0 {
				return nil, nil, &AllowError{e, "does not resolve"}
			}
			for _, ip := range ips {
				if a, ok := netip.AddrFromSlice(ip); ok {
					addrs = append(addrs, a.Unmap())
				}
			}
		}
		for _, a := range addrs {
			switch {
			case a.IsLoopback() && a != netip.MustParseAddr("127.0.0.1") && a != netip.IPv6Loopback():
				return nil, nil, &AllowError{e, "is on loopback but not 127.0.0.1 or ::1, which are the only loopback addresses a step can be given"}
			case a.IsLoopback():
				if !seen[port] {
					seen[port] = true
					loopbackPorts = append(loopbackPorts, port)
				}
			default:
				allowed = append(allowed, netip.AddrPortFrom(a, uint16(port)))
			}
		}
	}
	sort.Ints(loopbackPorts)
	return loopbackPorts, allowed, nil
}

func newNetwork(allow []string) (network, error) {
	lp, al, err := ParseAllow(allow)
	if err != nil {
		return network{}, err
	}
	var deny []netip.Prefix
	for _, r := range netpolicy.Blocked() {
		deny = append(deny, r.Prefix)
	}
	for _, a := range netpolicy.HostAddrs() {
		if !a.IsLoopback() {
			deny = append(deny, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
		}
	}
	return network{loopbackPorts: lp, allowed: al, deny: disjoint(deny)}, nil
}

// disjoint drops prefixes that another one covers; nft refuses
// overlapping intervals in a set.
func disjoint(ps []netip.Prefix) []netip.Prefix {
	sort.Slice(ps, func(i, j int) bool { return ps[i].Bits() < ps[j].Bits() })
	var out []netip.Prefix
next:
	for _, p := range ps {
		for _, q := range out {
			if q.Addr().Is4() == p.Addr().Is4() && q.Contains(p.Addr()) {
				continue next
			}
		}
		out = append(out, p)
	}
	return out
}

// forwardSpec is pasta's -T argument: the loopback ports to forward.
func (n network) forwardSpec() string {
	if len(n.loopbackPorts) == 0 {
		return "none"
	}
	parts := make([]string, len(n.loopbackPorts))
	for i, p := range n.loopbackPorts {
		parts[i] = strconv.Itoa(p)
	}
	return strings.Join(parts, ",")
}

// rules is the nftables ruleset installed in the step's network
// namespace. Everything that leaves goes through pasta, so a refused range
// is refused here; the step's own loopback is refused too but for the
// forwarded ports, so a connection to 127.0.0.1 fails as loudly as one to
// 10.0.0.1. Refused TCP and UDP destinations are recorded, so the step's
// log can say what happened.
func (n network) rules() string {
	var v4, v6 []string
	for _, p := range n.deny {
		if p.Addr().Is4() {
			v4 = append(v4, p.String())
		} else {
			v6 = append(v6, p.String())
		}
	}
	var b strings.Builder
	b.WriteString("table inet latchkey {\n")
	b.WriteString("  set refused4 { type ipv4_addr . inet_service; flags dynamic; size 256; }\n")
	b.WriteString("  set refused6 { type ipv6_addr . inet_service; flags dynamic; size 256; }\n")
	fmt.Fprintf(&b, "  set deny4 { type ipv4_addr; flags interval; elements = { %s } }\n", strings.Join(v4, ", "))
	fmt.Fprintf(&b, "  set deny6 { type ipv6_addr; flags interval; elements = { %s } }\n", strings.Join(v6, ", "))
	b.WriteString("  chain out {\n    type filter hook output priority 0; policy accept;\n")
	b.WriteString("    ct state established,related accept\n")
	if spec := n.forwardSpec(); spec != "none" {
		fmt.Fprintf(&b, "    ip daddr 127.0.0.1 tcp dport { %s } accept\n", spec)
		fmt.Fprintf(&b, "    ip6 daddr ::1 tcp dport { %s } accept\n", spec)
	}
	fmt.Fprintf(&b, "    ip daddr %s meta l4proto { tcp, udp } th dport 53 accept\n", dnsAddr)
	for _, a := range n.allowed {
		fam := "ip"
		if a.Addr().Is6() {
			fam = "ip6"
		}
		fmt.Fprintf(&b, "    %s daddr %s tcp dport %d accept\n", fam, a.Addr(), a.Port())
	}
	for _, f := range []struct{ fam, v string }{{"ip", "4"}, {"ip6", "6"}} {
		fmt.Fprintf(&b, "    meta l4proto { tcp, udp } %s daddr @deny%s update @refused%s { %s daddr . th dport }\n", f.fam, f.v, f.v, f.fam)
		fmt.Fprintf(&b, "    %s daddr @deny%s meta l4proto tcp reject with tcp reset\n", f.fam, f.v)
		fmt.Fprintf(&b, "    %s daddr @deny%s reject with icmpx type admin-prohibited\n", f.fam, f.v)
	}
	b.WriteString("  }\n}\n")
	return b.String()
}
