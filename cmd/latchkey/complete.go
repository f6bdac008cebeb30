package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

// completionHelp explains cobra's completion command and its shells'
// commands, and has those write to the output of the moment.
func completionHelp(cmd *cobra.Command) {
	cmd.Short = "Print a shell's completion script: bash, zsh, fish or powershell"
	cmd.Long = `Print a script that completes latchkey's commands and flags when you
press Tab. Each shell's subcommand says where to put the script.`
	cmd.Example = `  latchkey completion bash > /etc/bash_completion.d/latchkey
  source <(latchkey completion zsh)
  latchkey completion fish > ~/.config/fish/completions/latchkey.fish`
	cmd.Annotations = offline
	use := map[string]string{
		"bash":       "  latchkey completion bash > /etc/bash_completion.d/latchkey",
		"zsh":        `  latchkey completion zsh > "${fpath[1]}/_latchkey"`,
		"fish":       "  latchkey completion fish > ~/.config/fish/completions/latchkey.fish",
		"powershell": "  latchkey completion powershell | Out-String | Invoke-Expression",
	}
	for _, sh := range cmd.Commands() {
		sh.Annotations = offline
		sh.Example = use[sh.Name()]
		sh.RunE = writeScript
	}
}

// writeScript writes a shell's script to the command's output as it is
// when the command runs: cobra's own commands keep the output the root had
// when they were made, before a caller's SetOut.
func writeScript(cmd *cobra.Command, _ []string) error {
	desc := true
	if f := cmd.Flags().Lookup("no-descriptions"); f != nil && f.Value.String() == "true" {
		desc = false
	}
	root, out := cmd.Root(), cmd.OutOrStdout()
	switch cmd.Name() {
	case "bash":
		return root.GenBashCompletionV2(out, desc)
	case "zsh":
		if !desc {
			return root.GenZshCompletionNoDesc(out)
		}
		return root.GenZshCompletion(out)
	case "fish":
		return root.GenFishCompletion(out, desc)
	case "powershell":
		if !desc {
			return root.GenPowerShellCompletion(out)
		}
		return root.GenPowerShellCompletionWithDesc(out)
	}
	return fmt.Errorf("no completion script for %s", cmd.Name())
}
