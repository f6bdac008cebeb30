package main

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/latchkeyhq/latchkey/internal/server"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
)

// README markers. A ```sh block right after "<!-- runnable -->" is run by
// TestReadmeBlocks; a block right after "<!-- file: NAME -->" is written to
// NAME first, for the commands that read it.
var (
	runnableMark = "<!-- runnable -->"
	fileMark     = regexp.MustCompile(`^<!-- file: ([A-Za-z0-9_.-]+) -->$`)
	// The README's placeholders, and the ids that stand for them.
	placeholder = regexp.MustCompile(`\b(acc|wfl)_\.\.\.`)
	anyID       = regexp.MustCompile(`\b(acc|wfl)_[0-9a-z]{26}\b`)
)

type readmeBlock struct {
	line  int    // where the block starts in the README
	file  string // for a file block: the name to write it to
	lines []string
}

// readmeBlocks returns the README's marked blocks, in order.
func readmeBlocks(t *testing.T, path string) []readmeBlock {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var blocks []readmeBlock
	var cur *readmeBlock
	mark, file := false, ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		l := sc.Text()
		switch {
		case cur != nil && l == "```":
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			cur.lines = append(cur.lines, l)
		case l == runnableMark:
			mark = true
		case fileMark.MatchString(l):
			file = fileMark.FindStringSubmatch(l)[1]
		case strings.HasPrefix(l, "```") && (mark || file != ""):
			if mark && l != "```sh" {
				t.Fatalf("README.md:%d: a runnable block must be ```sh, not %s", n, l)
			}
			cur = &readmeBlock{line: n, file: file}
			mark, file = false, ""
		case strings.TrimSpace(l) != "" && (mark || file != ""):
			t.Fatalf("README.md:%d: a marker must come right before its block", n)
		}
	}
	if cur != nil {
		t.Fatalf("README.md:%d: the block never ends", cur.line)
	}
	return blocks
}

// commands joins a block's continued lines and drops comments and blank
// lines.
func commands(lines []string) []string {
	var out []string
	var acc string
	for _, l := range lines {
		if strings.HasSuffix(l, `\`) {
			acc += strings.TrimSuffix(l, `\`)
			continue
		}
		l = acc + l
		acc = ""
		if s := strings.TrimSpace(l); s != "" && !strings.HasPrefix(s, "#") {
			out = append(out, s)
		}
	}
	return out
}

// TestReadmeBlocks runs the README's runnable command blocks, as written,
// with the CLI built from this tree, against a server on loopback. A
// placeholder (acc_..., wfl_...) becomes the id of that kind an earlier
// command printed last, as a reader would type it. SendGrid is a stand-in
// that, like SendGrid, refuses every key but the one in SENDGRID_API_KEY.
func TestReadmeBlocks(t *testing.T) {
	blocks := readmeBlocks(t, filepath.Join("..", "..", "README.md"))
	runnable := 0
	for _, b := range blocks {
		if b.file == "" {
			runnable++
		}
	}
	// The quick start and the workflow walk-through at least.
	if runnable < 2 {
		t.Fatalf("the README has %d runnable blocks, want at least 2", runnable)
	}

	const realKey = "SG.readme-test-key.c2VjcmV0"
	provider := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+realKey {
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"errors":[{"field":null,"message":"authorization required"}]}`))
			return
		}
		switch r.URL.Path {
		case "/v3/scopes":
			w.Write([]byte(`{"scopes":["user.profile.read"]}`))
		case "/v3/user/profile":
			w.Write([]byte(`{"first_name":"Ada","last_name":"Lovelace"}`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer provider.Close()
	cfg := servertest.Config(t, "")
	cfg.AppOrigins = map[string]string{"sendgrid": provider.URL}
	// The quick start's first commands are the demo's.
	cfg.Demo = true
	inst := servertest.Start(t, cfg, server.Options{})

	bin := buildLatchkey(t)
	work := t.TempDir()
	// The reader's shell, without settings of their own for the CLI.
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LATCHKEY_") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"PATH="+filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"),
		"HOME="+work,
		"LATCHKEY_SERVER="+inst.URL,
		"LATCHKEY_TOKEN="+inst.Token,
		"LATCHKEY_DATA_DIR="+filepath.Join(work, "no-data"),
		"SENDGRID_API_KEY="+realKey,
	)
	last := map[string]string{}
	for _, b := range blocks {
		if b.file != "" {
			if err := os.WriteFile(filepath.Join(work, b.file), []byte(strings.Join(b.lines, "\n")+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			continue
		}
		for _, c := range commands(b.lines) {
			line := placeholder.ReplaceAllStringFunc(c, func(p string) string {
				id := last[p[:3]]
				if id == "" {
					t.Fatalf("README.md:%d: %q needs an id no earlier command printed", b.line, p)
				}
				return id
			})
			cmd := exec.CommandContext(t.Context(), "sh", "-c", line)
			cmd.Dir, cmd.Env = work, env
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("README.md:%d: %s\n%v\n%s", b.line, c, err, out)
			}
			t.Logf("$ %s\n%s", c, out)
			if strings.Contains(string(out), `\u00`) {
				t.Errorf("README.md:%d: %s printed an HTML escape:\n%s", b.line, c, out)
			}
			for _, m := range anyID.FindAllStringSubmatch(string(out), -1) {
				last[m[1]] = m[0]
			}
			// What a reader is told to expect.
			if strings.HasPrefix(c, "latchkey workflows run") && strings.Count(string(out), ": succeeded") < 2 {
				t.Errorf("README.md:%d: the workflow's two steps did not both succeed:\n%s", b.line, out)
			}
			if strings.HasPrefix(c, "latchkey workflows run") && !strings.Contains(string(out), "Hello, Ada!") {
				t.Errorf("README.md:%d: the workflow did not greet the account's owner:\n%s", b.line, out)
			}
		}
	}
}
