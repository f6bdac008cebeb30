package netpolicy

import (
	"errors"
	"net/netip"
	"testing"
)

// The policy's decisions, one row per range; nothing here is dialled.
func TestCheck(t *testing.T) {
	cases := []struct {
		addr    string
		allowed bool
	}{
		{"8.8.8.8", true},
		{"1.1.1.1", true},
		{"151.101.1.69", true},
		{"2606:4700:4700::1111", true},
		{"2a00:1450:4001:80b::200e", true},
		{"0.0.0.0", false},
		{"0.1.2.3", false},
		{"127.0.0.1", false},
		{"127.255.255.254", false},
		{"10.0.0.1", false},
		{"10.255.255.255", false},
		{"172.16.0.1", false},
		{"172.31.255.255", false},
		{"172.32.0.1", true},
		{"192.168.1.1", false},
		{"100.64.0.1", false},
		{"100.127.255.255", false},
		{"100.128.0.1", true},
		{"169.254.169.254", false},
		{"192.0.0.1", false},
		{"192.0.2.1", false},
		{"198.18.0.1", false},
		{"198.51.100.7", false},
		{"203.0.113.9", false},
		{"224.0.0.251", false},
		{"239.255.255.250", false},
		{"240.0.0.1", false},
		{"255.255.255.255", false},
		{"::", false},
		{"::1", false},
		{"::127.0.0.1", false},
		{"::ffff:127.0.0.1", false},
		{"::ffff:10.1.2.3", false},
		{"::ffff:169.254.169.254", false},
		{"::ffff:8.8.8.8", true},
		{"64:ff9b::a00:1", false},
		{"2001:db8::1", false},
		{"2002:7f00:1::1", false},
		{"2001:0:4136:e378::1", false},
		{"fc00::1", false},
		{"fd12:3456:789a::1", false},
		{"fe80::1", false},
		{"fe80::1%eth0", false},
		{"febf::1", false},
		{"fec0::1", false},
		{"ff02::1", false},
		{"ff05::2", false},
	}
	for _, c := range cases {
		t.Run(c.addr, func(t *testing.T) {
			err := Check(netip.MustParseAddr(c.addr))
			if (err == nil) != c.allowed {
				t.Fatalf("Check(%s) = %v, want allowed=%v", c.addr, err, c.allowed)
			}
			if err != nil && !errors.Is(err, ErrBlocked) {
				t.Fatalf("Check(%s) = %v, which does not wrap ErrBlocked", c.addr, err)
			}
		})
	}
	if Check(netip.Addr{}) == nil {
		t.Fatal("the zero address was allowed")
	}
}

// Other spellings of an address are read as resolvers read them.
func TestParseHost(t *testing.T) {
	cases := []struct {
		host string
		want string // "" when the host is a name, not an address
	}{
		{"127.0.0.1", "127.0.0.1"},
		{"127.1", "127.0.0.1"},
		{"127.0.1", "127.0.0.1"},
		{"0x7f000001", "127.0.0.1"},
		{"0X7F.0.0.1", "127.0.0.1"},
		{"2130706433", "127.0.0.1"},
		{"0177.0.0.1", "127.0.0.1"},
		{"017700000001", "127.0.0.1"},
		{"0", "0.0.0.0"},
		{"10.1", "10.0.0.1"},
		{"169.254.43518", "169.254.169.254"},
		{"127.0.0.1.", "127.0.0.1"},
		{"[::1]", "::1"},
		{"[::ffff:127.0.0.1]", "::ffff:127.0.0.1"},
		{"[fe80::1%25eth0]", "fe80::1"},
		{"example.com", ""},
		{"api.slack.com", ""},
		{"1.2.3.4.5", ""},
		{"256.0.0.1", ""},
		{"0x", ""},
		{"08.0.0.1", ""},
		{"1.2.3.256", ""},
		{"1.16777216", ""},
	}
	for _, c := range cases {
		t.Run(c.host, func(t *testing.T) {
			a, ok := ParseHost(c.host)
			if c.want == "" {
				if ok {
					t.Fatalf("ParseHost(%q) = %s, want a name", c.host, a)
				}
				return
			}
			if !ok || a.String() != c.want {
				t.Fatalf("ParseHost(%q) = %s, %v; want %s", c.host, a, ok, c.want)
			}
		})
	}
}

func TestPlainHost(t *testing.T) {
	for host, want := range map[string]bool{
		"api.example.com":           true,
		"api.example.com:8443":      true,
		"127.0.0.1:7355":            true,
		"[::1]:7355":                true,
		"":                          false,
		"a.example;frame-ancestors": false,
		"a.example,b.example":       false,
		"a.example'":                false,
		"a\"b.example":              false,
		"a.example%3B":              false,
		"[fe80::1%25eth0]":          false,
		"bücher.example":            false,
	} {
		if got := PlainHost(host); got != want {
			t.Errorf("PlainHost(%q) = %v, want %v", host, got, want)
		}
	}
}
