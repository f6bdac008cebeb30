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
	cmd := &cobra.Command{Use: "actions", Aliases: []string{"action"}, Short: "Prebuilt requests to apps' APIs, run with a connected account",
		Long: `Actions are requests to apps' APIs that the catalog describes (post a
Slack message, list Stripe charges), each with an input schema. Run one
with an account and Latchkey adds the credentials; the answer comes back
with credentials masked.`,
		Example: `  latchkey actions list --app slack
  latchkey actions run slack.post_message --account acc_01j9... --input '{"channel": "#general", "text": "Hello"}'`,
	}

	var app string
	list := &cobra.Command{
		Use: "list [--app SLUG]", Short: "List the catalog's actions",
		Long: `List the catalog's actions as a table: the action (APP.ACTION), its
method and path, and what it does. --app shows one app's actions.`,
		Example: `  latchkey actions list
  latchkey actions list --app stripe`,
		Args: cobra.NoArgs,
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
	c.completeAppFlag(list, "app")

	show := &cobra.Command{
		Use: "show APP.ACTION", Short: "An action's description, request and input schema",
		Long: `Print one action as JSON: what it does, the request it makes, and the
JSON schema of its input, which "actions run --input" must match.`,
		Example:           `  latchkey actions show slack.post_message`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: c.completeActions,
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
		Use:               "run APP.ACTION --account ID [--input JSON]",
		Short:             "Run an action with an account; prints the provider's status and answer, credentials masked",
		ValidArgsFunction: c.completeActions,
		Long: `Run an action with one of your accounts of that app (--account) and an
input object (--input, JSON, checked against the action's schema first).
Prints the provider's status and duration, then its answer; exits 1 when
the status is 400 or more. When the app refuses the credentials,
latchkey says the account's new status and how to reconnect it.`,
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
				if res.Failed && !res.CredentialsRefused {
					fmt.Fprintf(cmd.ErrOrStderr(), "the app said the request failed: %s\n", orUnsaid(res.ProviderError))
				}
				if res.CredentialsRefused {
					fmt.Fprintf(cmd.ErrOrStderr(), "the app refused the account's credentials; the account is now %s (latchkey accounts reconnect %s)\n", res.AccountStatus, res.AccountID)
				}
			}
			if res.Status >= 400 || res.Failed {
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

// orUnsaid is the app's error code, or a word for its absence.
func orUnsaid(code string) string {
	if code == "" {
		return "no error code given"
	}
	return code
}
