package sandbox_test

import (
	"context"
	"errors"
	"net/netip"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/latchkeyhq/latchkey/internal/sandbox"
	"github.com/latchkeyhq/latchkey/internal/sandbox/sandboxtest"
)

func TestParseAllow(t *testing.T) {
	lp, allowed, err := sandbox.ParseAllow([]string{"127.0.0.1:8080", "localhost:9090", "[::1]:8080", "10.1.2.3:443", " ", "[fd00::7]:80"})
	if err != nil {
		t.Fatal(err)
	}
	if len(lp) != 2 || lp[0] != 8080 || lp[1] != 9090 {
		t.Errorf("loopback ports %v, want [8080 9090]", lp)
	}
	want := []netip.AddrPort{netip.MustParseAddrPort("10.1.2.3:443"), netip.MustParseAddrPort("[fd00::7]:80")}
	if len(allowed) != 2 || allowed[0] != want[0] || allowed[1] != want[1] {
		t.Errorf("allowed %v, want %v", allowed, want)
	}
	for _, bad := range []string{"127.0.0.1", "127.0.0.2:80", "127.0.0.1:0", "127.0.0.1:70000", "host:port"} {
		_, _, err := sandbox.ParseAllow([]string{bad})
		var ae *sandbox.AllowError
		if !errors.As(err, &ae) {
			t.Errorf("%q: %v, want an AllowError", bad, err)
		}
	}
}

func TestUnavailableNamesThePackages(t *testing.T) {
	s, err := sandbox.New(sandbox.Config{ToolPath: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Run(context.Background(), sandbox.Cmd{Argv: []string{"true"}, Timeout: time.Second})
	if !errors.Is(err, sandbox.ErrUnavailable) || !strings.Contains(err.Error(), "bubblewrap") || s.Available() == nil {
		t.Fatalf("Run without the tools: %v", err)
	}
}

// The step's output stays capped and its time limited in the sandbox as
// outside it.
func TestLimitsInSandbox(t *testing.T) {
	sandboxtest.Require(t)
	s, err := sandbox.New(sandbox.Config{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Run(context.Background(), sandbox.Cmd{Argv: []string{"sh", "-c", "yes latchkey"}, Timeout: 20 * time.Second})
	if err != nil || !res.TooMuch || res.TimedOut {
		t.Fatalf("loud program: %+v %v", res.ExitCode, err)
	}
	res, err = s.Run(context.Background(), sandbox.Cmd{Argv: []string{"sleep", "30"}, Timeout: time.Second})
	if err != nil || !res.TimedOut {
		t.Fatalf("slow program: timed out %v, %v", res.TimedOut, err)
	}
	res, err = s.Run(context.Background(), sandbox.Cmd{Argv: []string{"sh", "-c", "cat; echo done >&3; cat /opt/x/file"},
		Stdin: []byte("in "), Report: true, Files: map[string][]byte{"/opt/x/file": []byte("file")}, Timeout: 10 * time.Second})
	if err != nil || res.Stdout != "in file" || string(res.Report) != "done\n" {
		t.Fatalf("stdin, report and files: %q %q %v", res.Stdout, res.Report, err)
	}
}

// BenchmarkStart compares a trivial program's run time in the sandbox with
// a plain process: the start-up the sandbox costs each step.
func BenchmarkStart(b *testing.B) {
	argv := []string{"true"}
	if node, err := exec.LookPath("node"); err == nil {
		argv = []string{node, "-e", "0"} // what a trivial code step costs
	}
	for _, mode := range []struct {
		name        string
		unsandboxed bool
	}{{"plain", true}, {"sandboxed", false}} {
		b.Run(mode.name, func(b *testing.B) {
			if !mode.unsandboxed {
				sandboxtest.Require(b)
			}
			s, err := sandbox.New(sandbox.Config{Unsandboxed: mode.unsandboxed})
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				res, err := s.Run(context.Background(), sandbox.Cmd{Argv: argv, Timeout: 30 * time.Second})
				if err != nil || res.ExitCode != 0 {
					b.Fatalf("%v %+v", err, res)
				}
			}
		})
	}
}
