package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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
