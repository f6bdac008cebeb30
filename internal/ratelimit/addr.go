package ratelimit

import (
	"net"
	"net/netip"
)

// Peer is the key a limit by address counts a peer under: remoteAddr
// (host and port, as in http.Request.RemoteAddr, or a bare host) with an
// IPv6 address widened to its /64, since one host commonly holds a whole
// /64. Forwarded-for headers are not the caller's to pass: any client can
// send one. An address that does not parse is the zero Prefix.
func Peer(remoteAddr string) netip.Prefix {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Prefix{}
	}
	ip = ip.Unmap().WithZone("")
	bits := 32
	if ip.Is6() {
		bits = 64
	}
	p, _ := ip.Prefix(bits)
	return p
}
