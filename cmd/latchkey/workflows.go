package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/latchkeyhq/latchkey/client"
)

func (c *cli) workflowsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "workflows", Aliases: []string{"workflow"}, Short: "Build and run workflows whose steps use connected accounts",
		Long: `A workflow is a list of steps (code or commands) that run on the server,
each with the credentials of the accounts linked to it. Create one from
a JSON file, link each step's apps to accounts, then run it.`,
		Example: `  latchkey workflows create --name "Say hello" --file steps.json
  latchkey workflows run wfl_01j9...`,
	}

	list := &cobra.Command{
		Use: "list", Short: "List workflows",
		Long: `List the workflows you can see as a table: id, name, number of steps
and when it changed.`,
		Example: `  latchkey workflows list
  latchkey workflows list --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := c.client()
			if err != nil {
				return err
			}
			wfs, err := cl.ListWorkflows(cmd.Context())
			if err != nil {
				return err
			}
			return render(c, cmd.OutOrStdout(), wfs, []string{"ID", "NAME", "STEPS", "UPDATED"}, func(w client.Workflow) []string {
				return []string{w.ID, w.Name, fmt.Sprint(len(w.Steps)), w.UpdatedAt}
			})
		},
	}

	var name, file string
	create := &cobra.Command{
		Use:   "create --name NAME --file STEPS.json",
		Short: "Create a workflow from a JSON file: a list of steps, or {\"name\", \"steps\"}",
		Long: `Create a workflow from --file: a JSON list of steps, or an object with
"name" and "steps". --name names it (and overrides the file's name).
Prints "created ID (NAME)"; link its steps to accounts next.`,
		Example: `  latchkey workflows create --name "Say hello" --file steps.json
  # steps.json: [{"key": "post", "kind": "code", "apps": ["slack"], "code": "return auths.slack ? 'ok' : 'no'"}]`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			in, err := readWorkflow(file)
			if err != nil {
				return err
			}
			if name != "" {
				in.Name = name
			}
			cl, err := c.client()
			if err != nil {
				return err
			}
			w, err := cl.CreateWorkflow(cmd.Context(), in)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "created %s (%s)\n", w.ID, w.Name)
			return nil
		},
	}
	create.Flags().StringVar(&name, "name", "", "the workflow's name")
	create.Flags().StringVar(&file, "file", "", "the JSON file with the steps")

	show := &cobra.Command{
		Use: "show ID", Short: "Show a workflow as JSON",
		Long: `Print a workflow as JSON: its name, steps and the accounts linked to
each step's apps.`,
		Example: `  latchkey workflows show wfl_01j9...`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := c.client()
			if err != nil {
				return err
			}
			w, err := cl.GetWorkflow(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return printJSON(cmd.OutOrStdout(), w)
		},
	}

	link := &cobra.Command{
		Use:   "link ID STEP APP ACCOUNT",
		Short: "Link an app of a step to an account (give \"\" as ACCOUNT to unlink)",
		Long: `Choose the account a step uses for one of its apps: the workflow's id,
the step's key, the app's slug and the account's id, in that order. Give
"" as ACCOUNT to unlink. Prints what the step uses now.`,
		Example: `  latchkey workflows link wfl_01j9... post slack acc_01j9...
  latchkey workflows link wfl_01j9... post slack ""`,
		Args: cobra.ExactArgs(4),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := c.client()
			if err != nil {
				return err
			}
			if _, err := cl.LinkAccount(cmd.Context(), args[0], args[1], args[2], args[3]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "step %s uses %s for %s\n", args[1], orDash(args[3]), args[2])
			return nil
		},
	}

	run := &cobra.Command{
		Use: "run ID", Short: "Run a workflow now and show each step's outcome",
		Long: `Run a workflow now and wait for it. Prints the run's status, then each
step's outcome, time, result, logs and any error; exits 1 unless the
run succeeded.`,
		Example: `  latchkey workflows run wfl_01j9...
  latchkey workflows run wfl_01j9... --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := c.client()
			if err != nil {
				return err
			}
			r, err := cl.RunWorkflow(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if c.jsonOut {
				if err := printJSON(cmd.OutOrStdout(), r); err != nil {
					return err
				}
			} else {
				printRun(cmd, r)
			}
			if r.Status != "succeeded" {
				return exitCode(1)
			}
			return nil
		},
	}

	runs := &cobra.Command{
		Use: "runs ID", Short: "List a workflow's recent runs",
		Long: `List a workflow's recent runs as a table: run id, status and when it
started.`,
		Example: `  latchkey workflows runs wfl_01j9...`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := c.client()
			if err != nil {
				return err
			}
			list, err := cl.ListRuns(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return render(c, cmd.OutOrStdout(), list, []string{"RUN", "STATUS", "STARTED"}, func(r client.Run) []string {
				return []string{r.ID, r.Status, r.StartedAt}
			})
		},
	}

	del := &cobra.Command{
		Use: "delete ID", Short: "Delete a workflow and its runs",
		Long: `Delete a workflow and the record of its runs; prints "deleted ID". The
accounts it used are not touched.`,
		Example: `  latchkey workflows delete wfl_01j9...`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := c.client()
			if err != nil {
				return err
			}
			if err := cl.DeleteWorkflow(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "deleted %s\n", args[0])
			return nil
		},
	}
	cmd.AddCommand(list, create, show, link, run, runs, del)
	return cmd
}

func readWorkflow(file string) (client.SaveWorkflow, error) {
	if file == "" {
		return client.SaveWorkflow{}, errors.New("give --file with the steps")
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return client.SaveWorkflow{}, err
	}
	var in client.SaveWorkflow
	if strings.HasPrefix(strings.TrimSpace(string(b)), "[") {
		err = json.Unmarshal(b, &in.Steps)
	} else {
		err = json.Unmarshal(b, &in)
	}
	if err != nil {
		return client.SaveWorkflow{}, fmt.Errorf("%s: %w", file, err)
	}
	return in, nil
}

func printRun(cmd *cobra.Command, r client.Run) {
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "run %s: %s\n", r.ID, r.Status)
	for _, s := range r.Steps {
		fmt.Fprintf(out, "\n  %s (%s): %s in %d ms\n", s.Key, s.Kind, s.Status, s.DurationMS)
		if s.Error != "" {
			fmt.Fprintf(out, "    error: %s\n", s.Error)
		}
		if s.ErrorKind == "credentials" && s.AccountID != "" {
			fmt.Fprintf(out, "    credentials error: reconnect with: latchkey accounts reconnect %s\n", s.AccountID)
		}
		if len(s.Result) > 0 {
			res := string(s.Result)
			if len(res) > 500 {
				res = res[:500] + "..."
			}
			fmt.Fprintf(out, "    result: %s\n", res)
		}
		if s.Logs != "" {
			fmt.Fprintf(out, "    logs:\n      %s\n", strings.ReplaceAll(strings.TrimRight(s.Logs, "\n"), "\n", "\n      "))
		}
	}
}
