package main

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"
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
