package main

import "github.com/spf13/cobra"

// serverHelp ends the help of every command that talks to the server.
const serverHelp = `

Server and token: --server (LATCHKEY_SERVER) is the server's URL; it
defaults to http:// and the address serve listens on, --listen
(LATCHKEY_LISTEN). LATCHKEY_TOKEN is the API token; without it the CLI
reads the admin token from the data folder (--data-dir,
LATCHKEY_DATA_DIR), so on the server's machine no token is needed.`

// offline marks the commands that never talk to the server.
var offline = map[string]string{"offline": "true"}

// Groups of "latchkey help".
var groups = []*cobra.Group{
	{ID: "server", Title: "Run the server:"},
	{ID: "accounts", Title: "Connect accounts and use their credentials:"},
	{ID: "catalog", Title: "Apps, actions, workflows and webhooks:"},
	{ID: "access", Title: "People, tokens and the audit log:"},
	{ID: "shell", Title: "Help and shell completion:"},
}

// manual finishes the command tree's help: groups for the root's commands,
// cobra's own help and completion commands, and the server paragraph.
func manual(root *cobra.Command, group map[string]string) {
	root.AddGroup(groups...)
	for _, cmd := range root.Commands() {
		cmd.GroupID = group[cmd.Name()]
	}
	root.SetHelpCommandGroupID("shell")
	root.SetCompletionCommandGroupID("shell")
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	for _, cmd := range root.Commands() {
		switch cmd.Name() {
		case "help":
			cmd.Example = "  latchkey help accounts list\n  latchkey help members invite"
			cmd.Annotations = offline
		case "completion":
			completionHelp(cmd)
		}
	}
	addServerHelp(root)
}

// needsNoConfig tells the commands that skip loading the configuration:
// help and shell completion must work even when it is broken, and
// completion reads only the catalog.
func needsNoConfig(cmd *cobra.Command) bool {
	for ; cmd != nil; cmd = cmd.Parent() {
		switch cmd.Name() {
		case "help", "completion", cobra.ShellCompRequestCmd, cobra.ShellCompNoDescRequestCmd:
			return cmd.Parent() != nil && !cmd.Parent().HasParent()
		}
	}
	return false
}

// addServerHelp adds serverHelp to the commands that talk to the server.
func addServerHelp(cmd *cobra.Command) {
	for _, sub := range cmd.Commands() {
		addServerHelp(sub)
	}
	if cmd.Runnable() && !cmd.Hidden && cmd.Annotations["offline"] == "" {
		cmd.Long += serverHelp
	}
}
