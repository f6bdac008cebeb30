package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/spf13/cobra"
)

// everyCommand returns the tree's commands a user can reach, root first.
func everyCommand(root *cobra.Command) []*cobra.Command {
	out := []*cobra.Command{root}
	for _, sub := range root.Commands() {
		if !sub.Hidden {
			out = append(out, everyCommand(sub)...)
		}
	}
	return out
}

func noEnv(string) string { return "" }

// TestEveryCommandHasManual: each command's --help says what it is (Short),
// what it does and prints (Long, besides the shared server paragraph), and
// how to type it (an Example with at least one latchkey line).
func TestEveryCommandHasManual(t *testing.T) {
	cmds := everyCommand(newRoot(noEnv))
	names := map[string]bool{}
	for _, cmd := range cmds {
		names[cmd.CommandPath()] = true
		if strings.TrimSpace(cmd.Short) == "" {
			t.Errorf("%s has no Short", cmd.CommandPath())
		}
		if strings.TrimSpace(strings.TrimSuffix(cmd.Long, serverHelp)) == "" {
			t.Errorf("%s has no Long of its own", cmd.CommandPath())
		}
		if len(exampleLines(cmd)) == 0 {
			t.Errorf("%s has no Example line that starts with latchkey:\n%s", cmd.CommandPath(), cmd.Example)
		}
	}
	// The walk reaches the nested and the built-in commands too.
	for _, want := range []string{"latchkey accounts list", "latchkey webhooks enable", "latchkey completion bash", "latchkey completion powershell", "latchkey help"} {
		if !names[want] {
			t.Errorf("the walk missed %s", want)
		}
	}
}

// TestServerHelp: the commands that talk to the server say how it is found;
// those that never do don't.
func TestServerHelp(t *testing.T) {
	root := newRoot(noEnv)
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{[]string{"accounts", "list"}, true},
		{[]string{"exec"}, true},
		{[]string{"apps", "lint"}, false},
		{[]string{"serve"}, false},
		{[]string{"keys", "generate"}, false},
		{[]string{"completion", "bash"}, false},
		{[]string{"accounts"}, false},
	} {
		cmd, _, err := root.Find(tc.args)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(cmd.Long, "LATCHKEY_TOKEN"); got != tc.want {
			t.Errorf("%s: help names LATCHKEY_TOKEN: %v, want %v", cmd.CommandPath(), got, tc.want)
		}
	}
}

// exampleLines returns the Example's command lines, split into words as a
// shell would, without the program's name and from the first redirection
// or pipe on.
func exampleLines(cmd *cobra.Command) [][]string {
	var out [][]string
	for _, l := range strings.Split(cmd.Example, "\n") {
		words := shellWords(strings.TrimSpace(l))
		if len(words) == 0 || words[0] != "latchkey" {
			continue
		}
		words = words[1:]
		for i, w := range words {
			if w == ">" || w == "<" || w == "|" || w == ";" || w == "&&" {
				words = words[:i]
				break
			}
		}
		out = append(out, words)
	}
	return out
}

// shellWords splits a line at blanks, honouring single and double quotes
// (enough for the examples; no escapes or expansions).
func shellWords(line string) []string {
	var words []string
	var cur strings.Builder
	quote, word := rune(0), false
	for _, r := range line {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			quote, word = r, true
		case r == ' ' || r == '\t':
			if word {
				words = append(words, cur.String())
				cur.Reset()
			}
			word = false
		default:
			cur.WriteRune(r)
			word = true
		}
	}
	if word {
		words = append(words, cur.String())
	}
	return words
}

func TestShellWords(t *testing.T) {
	got := shellWords(`latchkey a --input '{"x": 1}' "two words" "" -- sh -c 'exit 7'`)
	want := []string{"latchkey", "a", "--input", `{"x": 1}`, "two words", "", "--", "sh", "-c", "exit 7"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("shellWords = %q, want %q", got, want)
	}
}

// TestExamplesAreRight: every example names this command (or one below
// it), uses only flags that command has, and gives it arguments it accepts.
func TestExamplesAreRight(t *testing.T) {
	for _, cmd := range everyCommand(newRoot(noEnv)) {
		for _, words := range exampleLines(cmd) {
			line := "latchkey " + strings.Join(words, " ")
			// A root of its own per line: parsing sets flags.
			root := newRoot(noEnv)
			found, rest, err := root.Find(words)
			if err != nil {
				t.Errorf("%s: example %q: %v", cmd.CommandPath(), line, err)
				continue
			}
			if p := found.CommandPath(); p != cmd.CommandPath() && !strings.HasPrefix(p, cmd.CommandPath()+" ") {
				t.Errorf("%s: example %q runs %s", cmd.CommandPath(), line, p)
				continue
			}
			bad := false
			for _, w := range rest {
				if w == "--" {
					break
				}
				name, isFlag := strings.CutPrefix(w, "--")
				name, _, _ = strings.Cut(name, "=")
				if isFlag && found.Flags().Lookup(name) == nil && found.InheritedFlags().Lookup(name) == nil {
					t.Errorf("%s: example %q uses --%s, which %s does not have", cmd.CommandPath(), line, name, found.CommandPath())
					bad = true
				}
				if short, ok := strings.CutPrefix(w, "-"); ok && !isFlag && short != "" &&
					found.Flags().ShorthandLookup(short[:1]) == nil && found.InheritedFlags().ShorthandLookup(short[:1]) == nil {
					t.Errorf("%s: example %q uses -%s, which %s does not have", cmd.CommandPath(), line, short[:1], found.CommandPath())
					bad = true
				}
			}
			if bad {
				continue
			}
			if err := found.ParseFlags(rest); err != nil {
				t.Errorf("%s: example %q: %v", cmd.CommandPath(), line, err)
				continue
			}
			if err := found.ValidateArgs(found.Flags().Args()); err != nil {
				t.Errorf("%s: example %q: arguments: %v", cmd.CommandPath(), line, err)
			}
		}
	}
}

// TestCompletionScripts: each shell's script names the program, even with
// a config file that cannot be read (completion needs none); bash's parses.
func TestCompletionScripts(t *testing.T) {
	env := map[string]string{"LATCHKEY_CONFIG": filepath.Join(t.TempDir(), "missing.yaml")}
	for shell, want := range map[string]string{
		"bash":       "complete -o default -F __start_latchkey latchkey",
		"zsh":        "#compdef latchkey",
		"fish":       "complete -c latchkey",
		"powershell": "Register-ArgumentCompleter -CommandName 'latchkey'",
	} {
		t.Run(shell, func(t *testing.T) {
			out, err := run(t, env, "completion", shell)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out, want) {
				t.Fatalf("the %s script lacks %q:\n%.300s", shell, want, out)
			}
			if shell != "bash" {
				return
			}
			bash, err := exec.LookPath("bash")
			if err != nil {
				t.Skip("no bash to parse the script with")
			}
			script := filepath.Join(t.TempDir(), "latchkey.bash")
			if err := os.WriteFile(script, []byte(out), 0o600); err != nil {
				t.Fatal(err)
			}
			if msg, err := exec.CommandContext(t.Context(), bash, "-n", script).CombinedOutput(); err != nil {
				t.Fatalf("bash -n: %v\n%s", err, msg)
			}
		})
	}
}

// TestCompletion asks for completions as a shell's script does (the
// hidden __complete command) and checks what the user would be offered.
// The server the CLI is pointed at fails the test if anything reaches it.
func TestCompletion(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.Error(w, "completion must not call the server", http.StatusTeapot)
	}))
	defer srv.Close()
	env := map[string]string{"LATCHKEY_SERVER": srv.URL, "LATCHKEY_TOKEN": "lk_unused"}
	for _, tc := range []struct {
		args      []string
		want, not []string
	}{
		{args: []string{"apps", "show", "sen"}, want: []string{"sendgrid\tSendGrid"}, not: []string{"slack"}},
		{args: []string{"apps", "show", "sendgrid", ""}, not: []string{"sendgrid", "slack"}},
		{args: []string{"connect", "s"}, want: []string{"slack\t"}, not: []string{"sendgrid"}},
		{args: []string{"accounts", "create", "s"}, want: []string{"sendgrid\t"}, not: []string{"slack\t"}},
		{args: []string{"oauth-clients", "set", "git"}, want: []string{"github\t"}},
		{args: []string{"actions", "show", "slack.post"}, want: []string{"slack.post_message\t"}, not: []string{"slack.list_channels"}},
		{args: []string{"actions", "run", "stripe."}, want: []string{"stripe.list_charges\t"}, not: []string{"slack."}},
		{args: []string{"accounts", "list", "--app", "sendg"}, want: []string{"sendgrid\t"}},
		{args: []string{"tokens", "create", "ci", "--app", "sendg"}, want: []string{"sendgrid\t"}},
		{args: []string{"acc"}, want: []string{"accounts\t"}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out, err := run(t, env, append([]string{cobra.ShellCompRequestCmd}, tc.args...)...)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if last := lines[len(lines)-1]; last != ":4" {
				t.Errorf("directive %q, want :4 (no file names)", last)
			}
			for _, w := range tc.want {
				if !hasLinePrefix(lines, w) {
					t.Errorf("not offered %q:\n%s", w, out)
				}
			}
			for _, n := range tc.not {
				if hasLinePrefix(lines, n) {
					t.Errorf("offered %q:\n%s", n, out)
				}
			}
		})
	}
	// Nor does it need a config file it can read.
	env["LATCHKEY_CONFIG"] = filepath.Join(t.TempDir(), "missing.yaml")
	if out, err := run(t, env, cobra.ShellCompRequestCmd, "apps", "show", "sen"); err != nil || !strings.Contains(out, "sendgrid\t") {
		t.Errorf("with an unreadable config: %v\n%s", err, out)
	}
	if n := calls.Load(); n > 0 {
		t.Fatalf("completion called the server %d times", n)
	}
}

func hasLinePrefix(lines []string, prefix string) bool {
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}
