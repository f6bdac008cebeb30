package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/latchkeyhq/latchkey/client"
)

func (c *cli) actionsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "actions", Aliases: []string{"action"}, Short: "Prebuilt requests to apps' APIs, run with a connected account"}

	var app string
	list := &cobra.Command{
		Use: "list [--app SLUG]", Short: "List the catalog's actions", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := c.client()
			if err != nil {
				return err
			}
			acts, err := cl.ListActions(cmd.Context(), app)
			if err != nil {
				return err
			}
			return render(c, cmd.OutOrStdout(), acts, []string{"ACTION", "REQUEST", "DESCRIPTION"}, func(a client.Action) []string {
				return []string{a.Ref, a.Method + " " + a.Path, a.Description}
			})
		},
	}
	list.Flags().StringVar(&app, "app", "", "only this app's actions")

	show := &cobra.Command{
		Use: "show APP.ACTION", Short: "An action's description, request and input schema", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := c.client()
			if err != nil {
				return err
			}
			a, err := cl.GetAction(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return printJSON(cmd.OutOrStdout(), a)
		},
	}

	var account, input string
	run := &cobra.Command{
		Use:   "run APP.ACTION --account ID [--input JSON]",
		Short: "Run an action with an account; prints the provider's status and answer, credentials masked",
		Example: `  latchkey actions run slack.post_message --account acc_... --input '{"channel": "#general", "text": "Hello"}'
  latchkey actions run stripe.list_charges --account acc_... --input '{"limit": 3}'`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if account == "" {
				return errors.New("give --account ID: the account to run the action with (latchkey accounts list --app APP)")
			}
			var raw json.RawMessage
			if strings.TrimSpace(input) != "" {
				if !json.Valid([]byte(input)) {
					return errors.New("--input is not valid JSON; give an object such as '{\"channel\": \"#general\"}'")
				}
				raw = json.RawMessage(input)
			}
			cl, err := c.client()
			if err != nil {
				return err
			}
			res, err := cl.RunAction(cmd.Context(), args[0], client.RunAction{AccountID: account, Input: raw})
			var p *client.Problem
			if errors.As(err, &p) && len(p.Problems) > 0 {
				msg := []string{p.Title + ":"}
				for _, x := range p.Problems {
					if x.Field == "" {
						msg = append(msg, "  "+x.Message)
					} else {
						msg = append(msg, "  "+x.Field+": "+x.Message)
					}
				}
				return errors.New(strings.Join(msg, "\n") + "\n(latchkey actions show " + args[0] + " prints the input schema)")
			}
			if err != nil {
				return err
			}
			if c.jsonOut {
				if err := printJSON(cmd.OutOrStdout(), res); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "status %d (%d ms)\n", res.Status, res.DurationMS)
				show := res.Output
				if len(show) == 0 {
					show = res.Body
				}
				if len(show) > 0 {
					var v any
					if json.Unmarshal(show, &v) == nil {
						_ = printJSON(cmd.OutOrStdout(), v)
					} else {
						fmt.Fprintln(cmd.OutOrStdout(), string(show))
					}
				}
				if res.CredentialsRefused {
					fmt.Fprintf(cmd.ErrOrStderr(), "the app refused the account's credentials; the account is now %s (latchkey accounts reconnect %s)\n", res.AccountStatus, res.AccountID)
				}
			}
			if res.Status >= 400 {
				return exitCode(1)
			}
			return nil
		},
	}
	run.Flags().StringVar(&account, "account", "", "the account to run the action with")
	run.Flags().StringVar(&input, "input", "", "the input, a JSON object (see actions show)")

	cmd.AddCommand(list, show, run)
	return cmd
}
