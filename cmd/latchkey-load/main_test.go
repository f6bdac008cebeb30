package main

import (
	"bytes"
	"context"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/latchkeyhq/latchkey/internal/store/postgres/pgtest"
)

// TestRunSQLite runs the command briefly on SQLite. It checks that it
// measures and reports, never how fast anything is.
func TestRunSQLite(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"-duration", "200ms", "-warmup", "50ms", "-concurrency", "4"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, &out, &errOut)
	}
	t.Logf("output:\n%s", &out)
	rate := func(prefix string) float64 {
		t.Helper()
		for line := range strings.Lines(out.String()) {
			if rest, ok := strings.CutPrefix(line, prefix); ok {
				f := strings.Fields(rest)
				if len(f) < 2 {
					break
				}
				v, err := strconv.ParseFloat(f[0], 64)
				if err != nil {
					t.Fatalf("%q: %v", line, err)
				}
				return v
			}
		}
		t.Fatalf("no line starting %q in:\n%s", prefix, &out)
		return 0
	}
	if r := rate("credential read (sqlite):"); r <= 0 {
		t.Errorf("credential read rate %v", r)
	}
	if r := rate("bare net/http handler:"); r <= 0 {
		t.Errorf("bare handler rate %v", r)
	}
	if r := rate("ratio:"); r <= 0 {
		t.Errorf("ratio %v", r)
	}
}

func TestRunRefusesBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-backend", "mysql"},
		{"-backend", "postgres", "-postgres-url", ""},
		{"-duration", "0s"},
		{"extra"},
	} {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), args, &out, &errOut); code != 2 {
			t.Errorf("%q: exit %d, want 2 (stderr %s)", args, code, &errOut)
		}
	}
}

// TestShippedBinariesLinkNoTesting: neither command links the testing
// package (test helpers such as servertest and pgtest take a testing.TB,
// and fosite, which the tests' authorization server is built on, links it
// too).
func TestShippedBinariesLinkNoTesting(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list the dependencies: %v", err)
	}
	cmd := exec.Command(gobin, "list", "-deps", "github.com/latchkeyhq/latchkey/cmd/latchkey", "github.com/latchkeyhq/latchkey/cmd/latchkey-load")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	n := 0
	for pkg := range strings.Lines(string(out)) {
		pkg = strings.TrimSpace(pkg)
		n++
		if pkg == "testing" || strings.HasPrefix(pkg, "testing/") {
			t.Errorf("the shipped commands link %s", pkg)
		}
	}
	if n < 100 {
		t.Fatalf("go list listed %d packages; it cannot have listed both commands' dependencies:\n%s", n, out)
	}
}

// TestRunPostgres runs the command briefly on a fresh schema and checks
// that the schema is gone afterwards.
func TestRunPostgres(t *testing.T) {
	base := pgtest.BaseURL(t)
	schemas := func() int {
		t.Helper()
		conn, err := pgx.Connect(context.Background(), base)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		var n int
		if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM information_schema.schemata WHERE schema_name LIKE 'lk_load_%'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := schemas()
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"-backend", "postgres", "-postgres-url", base, "-duration", "200ms", "-warmup", "50ms", "-concurrency", "4"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, &out, &errOut)
	}
	if !strings.Contains(out.String(), "credential read (postgres):") {
		t.Fatalf("output:\n%s", &out)
	}
	if after := schemas(); after != before {
		t.Fatalf("%d load schemas before the run, %d after: the run's schema was not dropped", before, after)
	}
}

// TestRunWebhooks runs a small fan-out against a real latchkey process:
// it checks that every delivery arrives verified and once, and that the
// figures are reported, never how fast anything is.
func TestRunWebhooks(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the latchkey binary")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command to build latchkey with: %v", err)
	}
	bin := t.TempDir() + "/latchkey"
	if out, err := exec.CommandContext(t.Context(), goTool, "build", "-o", bin, "../latchkey").CombinedOutput(); err != nil {
		t.Skipf("cannot build latchkey here: %v\n%s", err, out)
	}
	var out, errOut bytes.Buffer
	if code := run(t.Context(), []string{"webhooks", "-latchkey", bin, "-events", "20", "-endpoints", "3", "-timeout", "2m"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, &out, &errOut)
	}
	t.Logf("output:\n%s", &out)
	for _, want := range []string{"20 events x 3 endpoints", "60 verified, 0 duplicates, 0 unverified", "delay p99", "events/s"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	if code := run(t.Context(), []string{"webhooks"}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "-latchkey names the binary") {
		t.Errorf("without -latchkey: exit %d, %s", code, &errOut)
	}
}

func TestSeedRefusesBadFlags(t *testing.T) {
	for _, args := range [][]string{{"seed", "-n", "0"}, {"seed", "extra"}, {"seed", "-n", "x"}} {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), args, &out, &errOut); code != 2 {
			t.Errorf("%q: exit %d, want 2\n%s", args, code, &errOut)
		}
	}
}
