package sandbox_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/latchkeyhq/latchkey/internal/sandbox"
	"github.com/latchkeyhq/latchkey/internal/sandbox/sandboxtest"
)

// A program that lives outside the system folders runs, but its folder
// (which could be the server's own) stays out of the sandbox.
func TestProgramOutsideSystemFolders(t *testing.T) {
	sandboxtest.Require(t)
	dir := t.TempDir()
	// The sandbox may run as nobody: the folders must be open to it.
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	neighbour := filepath.Join(dir, "master.key")
	if err := os.WriteFile(neighbour, []byte("not for steps"), 0o644); err != nil {
		t.Fatal(err)
	}
	prog := filepath.Join(dir, "probe")
	script := "#!/bin/sh\nif [ -e " + neighbour + " ]; then echo seen; else echo hidden; fi\n"
	if err := os.WriteFile(prog, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	s, err := sandbox.New(sandbox.Config{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Run(context.Background(), sandbox.Cmd{Argv: []string{prog}, Timeout: 10 * time.Second})
	if err != nil || strings.TrimSpace(res.Stdout) != "hidden" {
		t.Fatalf("the program outside /usr: %q %q %v", res.Stdout, res.Stderr, err)
	}
}
