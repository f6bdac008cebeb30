package main

import (
	"bytes"
	"context"
	"os/exec"
	"slices"
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

// TestShippedBinariesLinkNoTestHelpers: neither command links a package of
// this module that imports testing, as the test helpers (servertest,
// pgtest, oauthtest and the others, which take a testing.TB) do. The testing
// package itself is linked since the demo's authorization server is
// fosite, whose dependencies (ory/x's tracing, through a Thrift library)
// import it; that is upstream's, and no code of ours runs a test from it.
func TestShippedBinariesLinkNoTestHelpers(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list the dependencies: %v", err)
	}
	cmd := exec.Command(gobin, "list", "-deps", "-f", "{{.ImportPath}} {{join .Imports \",\"}}",
		"github.com/latchkeyhq/latchkey/cmd/latchkey", "github.com/latchkeyhq/latchkey/cmd/latchkey-load")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const module = "github.com/latchkeyhq/latchkey"
	n, ours := 0, 0
	for line := range strings.Lines(string(out)) {
		pkg, imports, _ := strings.Cut(strings.TrimSpace(line), " ")
		n++
		if pkg != module && !strings.HasPrefix(pkg, module+"/") {
			continue
		}
		ours++
		if slices.Contains(strings.Split(imports, ","), "testing") {
			t.Errorf("the shipped commands link %s, which imports testing", pkg)
		}
	}
	if n < 100 || ours < 20 {
		t.Fatalf("go list listed %d packages, %d of ours; it cannot have listed both commands' dependencies:\n%s", n, ours, out)
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
