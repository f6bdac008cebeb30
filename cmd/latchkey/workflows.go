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
	cmd := &cobra.Command{Use: "workflows", Aliases: []string{"workflow"}, Short: "Build and run workflows whose steps use connected accounts"}

	list := &cobra.Command{
		Use: "list", Short: "List workflows", Args: cobra.NoArgs,
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
		Use: "show ID", Short: "Show a workflow as JSON", Args: cobra.ExactArgs(1),
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
		Args:  cobra.ExactArgs(4),
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
		Use: "run ID", Short: "Run a workflow now and show each step's outcome", Args: cobra.ExactArgs(1),
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
		Use: "runs ID", Short: "List a workflow's recent runs", Args: cobra.ExactArgs(1),
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
		Use: "delete ID", Short: "Delete a workflow and its runs", Args: cobra.ExactArgs(1),
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
