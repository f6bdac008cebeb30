package server_test

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestLayers keeps the house's one rule: surfaces (the API, the web UI,
// the CLI and its client, and the errkind they share) talk to services
// and never to the store; only services, the store's backends and the
// server's wiring import it; and no service imports a surface.
func TestLayers(t *testing.T) {
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := exec.LookPath(goTool); err != nil {
		t.Skipf("skipping: the go command is not at %s", goTool)
	}
	const mod = "github.com/latchkeyhq/latchkey/"
	out, err := exec.Command(goTool, "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, mod+"...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	// errkind is the surfaces' shared reading of service errors: held to
	// their rule, and no service's to import.
	surfaces := []string{"internal/api", "internal/web", "internal/mcpserver", "cmd/latchkey", "client", "internal/errkind"}
	services := []string{"internal/identity", "internal/accounts", "internal/connecting", "internal/clients", "internal/apps", "internal/workflows",
		"internal/endusers", "internal/webhooks", "internal/actions", "internal/proxy", "internal/audit", "internal/mcpauth"}
	is := func(pkg string, list []string) bool {
		for _, p := range list {
			if pkg == mod+p || strings.HasPrefix(pkg, mod+p+"/") {
				return true
			}
		}
		return false
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg, imports := fields[0], fields[1:]
		for _, imp := range imports {
			switch {
			case is(pkg, surfaces) && is(imp, []string{"internal/store"}):
				t.Errorf("%s imports %s: a surface must go through a service", strings.TrimPrefix(pkg, mod), strings.TrimPrefix(imp, mod))
			case is(pkg, services) && is(imp, surfaces):
				t.Errorf("%s imports %s: a service must not know its surfaces", strings.TrimPrefix(pkg, mod), strings.TrimPrefix(imp, mod))
			}
		}
		if is(pkg, surfaces) {
			checked++
		}
	}
	if checked < 5 {
		t.Fatalf("only %d surface packages were listed; the rule checked nothing", checked)
	}
}
