package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/latchkeyhq/latchkey/client"
)

func (c *cli) tokensCmd() *cobra.Command {
	tokens := &cobra.Command{Use: "tokens", Short: "Manage your API tokens: create, list, revoke, rotate",
		Long: `API tokens let code and other machines call Latchkey as you, with the
scopes you give and never more than you may do. Give one to a program in
LATCHKEY_TOKEN. A token's secret is printed once, when it is made or
rotated.`,
		Example: `  latchkey tokens create mailer --scope credentials:read --app sendgrid
  latchkey tokens list`,
	}
	tokens.AddCommand(c.tokensCreateCmd(), c.tokensListCmd(), c.tokensRevokeCmd(), c.tokensRotateCmd())
	return tokens
}

// parseLife reads a lifetime such as 30d, 12h or 90m; days are 24 hours.
func parseLife(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days <= 0 {
			return 0, fmt.Errorf("--expires %q: give a number of days (30d) or a duration (12h)", s)
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("--expires %q: give a number of days (30d) or a duration (12h)", s)
	}
	return d, nil
}

// printSecret shows a new token's secret, the one time it can be seen.
func (c *cli) printSecret(cmd *cobra.Command, nt client.NewToken) error {
	if c.jsonOut {
		return printJSON(cmd.OutOrStdout(), nt)
	}
	w := cmd.OutOrStdout()
	fmt.Fprintln(w, nt.Secret)
	fmt.Fprintf(cmd.ErrOrStderr(), "token %s (%s): copy the secret above now; it is not shown again\n", nt.Token.ID, nt.Token.Name)
	return nil
}

func (c *cli) tokensCreateCmd() *cobra.Command {
	var (
		in      client.CreateToken
		expires string
	)
	cmd := &cobra.Command{
		Use:   "create NAME --scope SCOPE ...",
		Short: "Create an API token, no broader than you; its secret is printed once",
		Long: `Create an API token named NAME with the scopes you give (--scope, once
for each). --account and --app limit it to those accounts or those apps'
accounts; --expires makes it stop working after a while. Prints the
secret on standard output, once, and its id on standard error.`,
		Example: `  latchkey tokens create mailer --scope credentials:read --app sendgrid --expires 30d
  latchkey tokens create ci --scope accounts:read --scope credentials:read --account acc_...`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in.Name = args[0]
			if expires != "" {
				d, err := parseLife(expires)
				if err != nil {
					return err
				}
				at := time.Now().Add(d).UTC()
				in.ExpiresAt = &at
			}
			cl, err := c.client()
			if err != nil {
				return err
			}
			nt, err := cl.CreateToken(cmd.Context(), in)
			if err != nil {
				return err
			}
			return c.printSecret(cmd, nt)
		},
	}
	cmd.Flags().StringArrayVar(&in.Scopes, "scope", nil, "a scope to grant (repeat): accounts:read, accounts:write, credentials:read, clients:write, workflows:run, members:write, audit:read, or *")
	cmd.Flags().StringArrayVar(&in.AccountIDs, "account", nil, "limit the token to this account (repeat)")
	cmd.Flags().StringArrayVar(&in.Apps, "app", nil, "limit the token to this app's accounts (repeat)")
	c.completeAppFlag(cmd, "app")
	cmd.Flags().StringVar(&expires, "expires", "", "expire after this long: 30d, 12h; default never")
	return cmd
}

func when(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func limits(t client.Token) string {
	var parts []string
	parts = append(parts, t.AccountIDs...)
	for _, a := range t.Apps {
		parts = append(parts, "app:"+a)
	}
	if len(parts) == 0 {
		return "any account"
	}
	return strings.Join(parts, " ")
}

func (c *cli) tokensListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List your API tokens, with when each was last used",
		Long: `List your API tokens as a table: id, name, scopes, limits, when each
was last used and when it expires. Secrets are never shown.`,
		Example: `  latchkey tokens list
  latchkey tokens list --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := c.client()
			if err != nil {
				return err
			}
			list, err := cl.ListTokens(cmd.Context())
			if err != nil {
				return err
			}
			return render(c, cmd.OutOrStdout(), list, []string{"ID", "NAME", "SCOPES", "LIMITS", "LAST USED", "EXPIRES"}, func(t client.Token) []string {
				exp := when(t.ExpiresAt)
				if t.ValidUntil != nil {
					exp = when(t.ValidUntil) + " (rotated)"
				}
				return []string{t.ID, t.Name, strings.Join(t.Scopes, " "), limits(t), when(t.LastUsedAt), exp}
			})
		},
	}
}

func (c *cli) tokensRevokeCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke an API token; it stops working at once",
		Long: `Revoke one of your API tokens by its id (from "tokens list"); every
request with it is refused from now on. Prints "revoked ID".`,
		Example: `  latchkey tokens revoke tok_01j9...`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := c.client()
			if err != nil {
				return err
			}
			if err := cl.RevokeToken(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "revoked %s\n", args[0])
			return nil
		},
	}
}

func (c *cli) tokensRotateCmd() *cobra.Command {
	var overlap time.Duration
	cmd := &cobra.Command{
		Use:   "rotate ID [--overlap 1h]",
		Short: "Give a token a new secret; the old one works for the overlap",
		Long: `Give an API token a new secret and print it once; the old secret keeps
working for --overlap (default 1h) so you can update the programs that
use it. --overlap 0s stops the old secret at once.`,
		Example: `  latchkey tokens rotate tok_01j9...
  latchkey tokens rotate tok_01j9... --overlap 24h`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := c.client()
			if err != nil {
				return err
			}
			nt, err := cl.RotateToken(cmd.Context(), args[0], client.RotateToken{Overlap: overlap.String()})
			if err != nil {
				return err
			}
			return c.printSecret(cmd, nt)
		},
	}
	cmd.Flags().DurationVar(&overlap, "overlap", time.Hour, "how long the old secret keeps working (0s: stop it now)")
	return cmd
}
