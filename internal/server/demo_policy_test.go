package server

import (
	"slices"
	"testing"

	"github.com/latchkeyhq/latchkey/internal/catalog"
	"github.com/latchkeyhq/latchkey/internal/config"
)

// TestDemoOutboundException: the guarded client's one loopback exception
// for the demo is this server's own host:port, for the demo provider's
// paths, and exists only while --demo is on.
func TestDemoOutboundException(t *testing.T) {
	cfg := config.Default()
	cfg.Listen = "0.0.0.0:7355"
	cfg.AppOrigins = map[string]string{"slack": "http://127.0.0.1:9000"}

	off, err := providerOptions(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(off.Scoped) != 0 || slices.Contains(off.Allow, "127.0.0.1:7355") {
		t.Fatalf("without --demo the server's own address is open: %+v", off)
	}

	cfg.Demo = true
	_, onCfg, err := withDemo(catalog.Of(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.AppOrigins["demo"] != "" {
		t.Fatal("withDemo changed the caller's app_origins")
	}
	on, err := providerOptions(onCfg)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(on.Allow, []string{"127.0.0.1:9000"}) {
		t.Fatalf("allow = %v: the demo's address must not be open to every path", on.Allow)
	}
	if len(on.Scoped) != 1 || on.Scoped[0].HostPort != "127.0.0.1:7355" ||
		!slices.Equal(on.Scoped[0].Paths, []string{"/demo/oauth/", "/demo/api/"}) {
		t.Fatalf("scoped = %+v, want 127.0.0.1:7355 for the demo provider's paths", on.Scoped)
	}
}
