package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/latchkeyhq/latchkey/internal/catalog"
	"github.com/latchkeyhq/latchkey/internal/config"
)

// completionHelp explains cobra's completion command and its shells'
// commands, and has those write to the output of the moment.
func completionHelp(cmd *cobra.Command) {
	cmd.Short = "Print a shell's completion script: bash, zsh, fish or powershell"
	cmd.Long = `Print a script that completes latchkey's commands, flags, app slugs and
action names when you press Tab. App slugs and actions come from the
catalog built into latchkey (and catalog_dir); completion never asks the
server. Each shell's subcommand says where to put the script.`
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

// completionCatalog is the catalog completion offers: the shipped apps and
// the operator's catalog_dir, read from disk.
func (c *cli) completionCatalog() *catalog.Catalog {
	dir := ""
	if cfg, err := config.Load(c.configPath, c.getenv); err == nil {
		dir = cfg.CatalogDir
	}
	cat, err := catalog.LoadDir(dir)
	if err != nil {
		if cat, err = catalog.LoadDir(""); err != nil {
			return catalog.Of()
		}
	}
	return cat
}

// What connect and accounts create accept: OAuth apps, and the others.
var (
	oauthApps = (*catalog.App).UsesOAuth
	keyApps   = func(a *catalog.App) bool { return !a.UsesOAuth() }
)

// completeApps completes a command's first argument with the slugs of the
// apps keep accepts (nil: every app).
func (c *cli) completeApps(keep func(*catalog.App) bool) cobra.CompletionFunc {
	return func(_ *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return c.appSlugs(keep, toComplete), cobra.ShellCompDirectiveNoFileComp
	}
}

func (c *cli) appSlugs(keep func(*catalog.App) bool, prefix string) []cobra.Completion {
	var out []cobra.Completion
	for _, a := range c.completionCatalog().All() {
		if strings.HasPrefix(a.Slug, prefix) && (keep == nil || keep(a)) {
			out = append(out, cobra.CompletionWithDesc(a.Slug, a.Name))
		}
	}
	return out
}

// completeAppFlag completes a flag's value with app slugs.
func (c *cli) completeAppFlag(cmd *cobra.Command, flag string) {
	err := cmd.RegisterFlagCompletionFunc(flag, func(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return c.appSlugs(nil, toComplete), cobra.ShellCompDirectiveNoFileComp
	})
	if err != nil {
		panic(err) // the flag does not exist: a mistake every test finds
	}
}

// completeActions completes the first argument with action refs, app.action.
func (c *cli) completeActions(_ *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []cobra.Completion
	for _, a := range c.completionCatalog().All() {
		for _, act := range a.Actions {
			if ref := catalog.Ref(a.Slug, act.Name); strings.HasPrefix(ref, toComplete) {
				out = append(out, cobra.CompletionWithDesc(ref, act.Description))
			}
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}
