package ratelimit

import "testing"

func TestPeer(t *testing.T) {
	for remote, want := range map[string]string{
		"127.0.0.1:4242":              "127.0.0.1/32",
		"127.0.0.1":                   "127.0.0.1/32",
		"[::ffff:127.0.0.1]:4242":     "127.0.0.1/32",
		"[2001:db8:1:2:3:4:5:6]:4242": "2001:db8:1:2::/64",
		"[2001:db8:1:2:ffff::1]:4242": "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1":        "2001:db8:1:2::/64",
		"[fe80::1%eth0]:4242":         "fe80::/64",
		"not an address":              "invalid Prefix",
	} {
		if got := Peer(remote).String(); got != want {
			t.Errorf("Peer(%q) = %s, want %s", remote, got, want)
		}
	}
}
