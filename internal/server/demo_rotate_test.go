package server_test

import (
	"context"
	"testing"

	"github.com/latchkeyhq/latchkey/internal/seal"
	"github.com/latchkeyhq/latchkey/internal/server"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
)

// TestKeysRotateAfterDemo: a data folder the demo ran on can still have
// its keys rotated without --demo: the demo's stored client is sealed
// again like any other.
func TestKeysRotateAfterDemo(t *testing.T) {
	cfg := servertest.Config(t, "")
	cfg.Demo = true
	inst := servertest.Start(t, cfg, server.Options{})
	inst.Stop()
	cfg = inst.Config
	cfg.Demo = false
	k, err := seal.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	cfg.MasterKey = seal.EncodeKey(k) + "," + cfg.MasterKey // a new primary key
	st, err := server.RotateKeys(context.Background(), cfg, servertest.DiscardLogger(), false)
	if err != nil {
		t.Fatalf("keys rotate after a demo run: %v", err)
	}
	if st.Clients < 1 {
		t.Fatalf("sealed again: %+v, want the demo's client among them", st)
	}
}
