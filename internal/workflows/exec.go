package workflows

import (
	_ "embed"
	"fmt"
	"net/netip"
	"os/exec"
	"strings"

	"github.com/latchkeyhq/latchkey/internal/netpolicy"
	"github.com/latchkeyhq/latchkey/internal/sandbox"
)

//go:embed runner.js
var runnerJS []byte

// runnerPath is where the code runner sits inside a step's sandbox.
const runnerPath = "/opt/latchkey/runner.js"

// MaxOutput caps what a step may print, and its result.
const MaxOutput = sandbox.MaxOutput

func findNode() string {
	p, err := exec.LookPath("node")
	if err != nil {
		return ""
	}
	return p
}

// refusedNote tells the step's author, in its log, which connections the
// sandbox refused and why, since the program itself sees only a reset.
func refusedNote(refused []string) string {
	if len(refused) == 0 {
		return ""
	}
	parts := make([]string, 0, len(refused))
	for _, hp := range refused {
		why := "not allowed"
		if ap, err := netip.ParseAddrPort(hp); err == nil {
			if err := netpolicy.Check(ap.Addr()); err != nil {
				why = strings.TrimPrefix(err.Error(), netpolicy.ErrBlocked.Error()+": ")
			} else {
				why = ap.Addr().String() + " is an address of this server"
			}
		}
		parts = append(parts, fmt.Sprintf("%s (%s)", hp, why))
	}
	return "latchkey: the sandbox refused connections to " + strings.Join(parts, ", ") +
		". Steps reach public addresses only, and the host:port pairs the operator lists in step_network_allow."
}
