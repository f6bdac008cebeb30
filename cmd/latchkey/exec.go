package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/latchkeyhq/latchkey/internal/appapi"
)

func (c *cli) credentialsCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "credentials ID",
		Short: "Print an account's credentials as JSON: the auths.<app> object code reads",
		Long: `Print an account's credentials as one JSON object, field by field, the
same object workflow code reads as auths.<app>; OAuth tokens are
refreshed first if they must be. The read is in the audit log. Keep the
output out of logs.`,
		Example: `  latchkey credentials acc_01j9...
  latchkey credentials acc_01j9... | jq -r .api_key`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := c.client()
			if err != nil {
				return err
			}
			creds, err := cl.Credentials(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return printJSON(cmd.OutOrStdout(), creds)
		},
	}
}

// Latchkey's own secrets never reach a child process.
var withheld = []string{"LATCHKEY_MASTER_KEY", "LATCHKEY_TOKEN"}

func (c *cli) execCmd() *cobra.Command {
	var ids []string
	cmd := &cobra.Command{
		Use:   "exec --account ID [--account ID ...] -- COMMAND [ARGS...]",
		Short: "Run a command with accounts' credentials in its environment (LATCHKEY_<APP>_<FIELD>)",
		Long: `Run COMMAND with each account's credential fields in its environment,
named LATCHKEY_<APP>_<FIELD> in capitals (LATCHKEY_SENDGRID_API_KEY).
Everything after -- is the command. The command gets your environment
without LATCHKEY_MASTER_KEY and LATCHKEY_TOKEN; latchkey exits with its
exit status. Give --account once per account; two accounts of one app
would clash and are refused.`,
		Example: `  latchkey exec --account acc_01j... -- env
  latchkey exec --account acc_01j... -- sh -c 'curl -H "Authorization: Bearer $LATCHKEY_SENDGRID_API_KEY" https://api.sendgrid.com/v3/scopes'`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(ids) == 0 {
				return errors.New("name at least one --account")
			}
			cl, err := c.client()
			if err != nil {
				return err
			}
			// The server's audit log records these reads as exec's.
			cl = cl.WithSurface("exec")
			env := map[string]string{}
			from := map[string]string{}
			for _, id := range ids {
				a, err := cl.GetAccount(cmd.Context(), id)
				if err != nil {
					return fmt.Errorf("account %s: %w", id, err)
				}
				if other, dup := from[a.App]; dup {
					return fmt.Errorf("accounts %s and %s are both %s accounts; their variables would clash", other, id, a.App)
				}
				from[a.App] = id
				creds, err := cl.Credentials(cmd.Context(), id)
				if err != nil {
					return fmt.Errorf("account %s: %w", id, err)
				}
				for k, v := range creds {
					env[appapi.EnvName(a.App, k)] = v
				}
			}
			child := exec.CommandContext(cmd.Context(), args[0], args[1:]...)
			child.Stdin, child.Stdout, child.Stderr = os.Stdin, cmd.OutOrStdout(), cmd.ErrOrStderr()
			child.Env = childEnv(os.Environ(), env)
			err = child.Run()
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				return exitCode(exit.ExitCode())
			}
			return err
		},
	}
	cmd.Flags().StringArrayVar(&ids, "account", nil, "an account whose credentials the command gets (repeatable)")
	return cmd
}

// childEnv is the parent's environment without Latchkey's own secrets,
// plus the credentials.
func childEnv(parent []string, creds map[string]string) []string {
	var out []string
	for _, kv := range parent {
		name, _, _ := strings.Cut(kv, "=")
		if _, over := creds[name]; over {
			continue
		}
		keep := true
		for _, w := range withheld {
			if name == w {
				keep = false
			}
		}
		if keep {
			out = append(out, kv)
		}
	}
	names := make([]string, 0, len(creds))
	for k := range creds {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		out = append(out, k+"="+creds[k])
	}
	return out
}
