package main

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/latchkeyhq/latchkey/client"
)

func (c *cli) accountsCmd() *cobra.Command {
	accounts := &cobra.Command{Use: "accounts", Aliases: []string{"account"}, Short: "Manage connected accounts",
		Long: `Connected accounts: an app's credentials, sealed on the server, with a
nickname, an owner and a status (healthy or needs_reconnect). Make a
key-based account with "accounts create" and an OAuth one with
"latchkey connect". An account is private to its owner until shared.`,
		Example: `  latchkey accounts list --app slack
  latchkey accounts show acc_01j9...`,
	}
	accounts.AddCommand(c.accountsListCmd(), c.accountsCreateCmd(), c.accountsShowCmd(), c.accountsRenameCmd(), c.accountsDeleteCmd(), c.accountsEventsCmd(), c.accountsReconnectCmd(),
		c.accountsShareCmd(), c.accountsUnshareCmd())
	return accounts
}

func (c *cli) printAccount(cmd *cobra.Command, a client.Account) error {
	if c.jsonOut {
		return printJSON(cmd.OutOrStdout(), a)
	}
	rows := [][]string{
		{"id", a.ID}, {"app", a.AppName + " (" + a.App + ")"}, {"nickname", a.Nickname},
		{"identity", orDash(a.IdentityLabel)}, {"status", status(a)}, {"scopes", orDash(strings.Join(a.Scopes, " "))},
		{"owner", a.OwnerID}, {"shared with", sharingText(a)},
		{"created", a.CreatedAt}, {"updated", a.UpdatedAt},
	}
	if a.StatusError != "" {
		rows = append(rows, []string{"last error", a.StatusError})
	}
	return table(cmd.OutOrStdout(), []string{"FIELD", "VALUE"}, rows)
}

func status(a client.Account) string {
	s := a.Status
	if a.Untested {
		s += " (untested)"
	}
	return s
}

func (c *cli) accountsListCmd() *cobra.Command {
	var o client.ListOptions
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the accounts you can see",
		Long: `List the accounts you own and those shared with you, all pages, as a
table: id, app, nickname, identity, status and when it was made. The
flags narrow the list; they combine.`,
		Example: `  latchkey accounts list
  latchkey accounts list --app sendgrid --status needs_reconnect
  latchkey accounts list -q marketing --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := c.client()
			if err != nil {
				return err
			}
			all, err := allPages(cmd.Context(), o, 200, cl.ListAccounts)
			if err != nil {
				return err
			}
			return render(c, cmd.OutOrStdout(), all, []string{"ID", "APP", "NICKNAME", "IDENTITY", "STATUS", "CREATED"}, func(a client.Account) []string {
				return []string{a.ID, a.App, a.Nickname, orDash(a.IdentityLabel), status(a), a.CreatedAt}
			})
		},
	}
	cmd.Flags().StringVar(&o.App, "app", "", "only accounts of this app")
	c.completeAppFlag(cmd, "app")
	cmd.Flags().StringVar(&o.Status, "status", "", "only accounts with this status: healthy or needs_reconnect")
	cmd.Flags().StringVarP(&o.Query, "query", "q", "", "search nickname, identity and app")
	return cmd
}

func (c *cli) accountsCreateCmd() *cobra.Command {
	var (
		nickname   string
		fields     []string
		files      []string
		noTest     bool
		noIdentify bool
		shared     bool
	)
	cmd := &cobra.Command{
		Use:               "create APP --field NAME=VALUE ...",
		Short:             "Connect a key-based account; the app's test request runs first",
		ValidArgsFunction: c.completeApps(keyApps),
		Long: `Save a new account for an app that takes keys (API keys, basic auth, a
service account). Give each of the app's fields with --field NAME=VALUE,
or --field-file NAME=PATH for a file's contents; "latchkey apps show APP"
lists the fields. Latchkey runs the app's test request first and refuses
keys the app refuses, then asks who the account is. Prints the account
(never its credentials). For OAuth apps use "latchkey connect".`,
		Example: `  latchkey accounts create sendgrid --nickname marketing --field api_key=SG.xxxx
  latchkey accounts create twilio --field account_sid=AC... --field auth_token=...
  latchkey accounts create google_sheets_service_account --field-file service_account_json=key.json --field sub=ada@acme.com`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			values, err := fieldValues(fields, files)
			if err != nil {
				return err
			}
			in := client.CreateAccount{App: args[0], Fields: values, Shared: shared}
			if cmd.Flags().Changed("nickname") {
				in.Nickname = &nickname
			}
			if noTest {
				f := false
				in.Test = &f
			}
			if noIdentify {
				f := false
				in.Identify = &f
			}
			cl, err := c.client()
			if err != nil {
				return err
			}
			a, err := cl.CreateAccount(cmd.Context(), in)
			if err != nil {
				return err
			}
			return c.printAccount(cmd, a)
		},
	}
	cmd.Flags().StringVar(&nickname, "nickname", "", "a name that tells this account apart (default: the app's name)")
	cmd.Flags().StringArrayVar(&fields, "field", nil, "a credential or connection field, NAME=VALUE (repeat for each field)")
	cmd.Flags().StringArrayVar(&files, "field-file", nil, "a field read from a file, NAME=PATH (a private key, a service-account JSON)")
	cmd.Flags().BoolVar(&noTest, "no-test", false, "save without running the app's test request (the account is marked untested; the identity request still runs)")
	cmd.Flags().BoolVar(&noIdentify, "no-identify", false, "save without running the app's identity request (the account has no identity label)")
	cmd.Flags().BoolVar(&shared, "shared", false, "let everyone in the workspace see and use the account")
	return cmd
}

// fieldValues reads --field NAME=VALUE and --field-file NAME=PATH flags.
func fieldValues(fields, files []string) (map[string]string, error) {
	out := map[string]string{}
	for _, f := range fields {
		name, value, ok := strings.Cut(f, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("--field %q: write it as NAME=VALUE", name)
		}
		out[name] = value
	}
	for _, f := range files {
		name, path, ok := strings.Cut(f, "=")
		if !ok || name == "" || path == "" {
			return nil, fmt.Errorf("--field-file %q: write it as NAME=PATH", name)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("--field-file %s: the field is given twice", name)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("--field-file %s: %w", name, err)
		}
		out[name] = string(b)
	}
	return out, nil
}

func (c *cli) accountsShowCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "show ID",
		Short: "Show one account (never its credentials)",
		Long: `Print one account as a table: id, app, nickname, identity, status,
scopes, owner, sharing and times, and the last error if it has one.
"latchkey credentials ID" prints the credentials themselves.`,
		Example: `  latchkey accounts show acc_01j9...
  latchkey accounts show acc_01j9... --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := c.client()
			if err != nil {
				return err
			}
			a, err := cl.GetAccount(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return c.printAccount(cmd, a)
		},
	}
}

func (c *cli) accountsRenameCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "rename ID NICKNAME",
		Short: "Change an account's nickname",
		Long: `Give an account a new nickname, the name that tells it apart from other
accounts of the same app. Quote a nickname with spaces. Prints the
account.`,
		Example: `  latchkey accounts rename acc_01j9... "marketing (EU)"`,
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := c.client()
			if err != nil {
				return err
			}
			a, err := cl.RenameAccount(cmd.Context(), args[0], args[1])
			if err != nil {
				return err
			}
			return c.printAccount(cmd, a)
		},
	}
}

func (c *cli) accountsDeleteCmd() *cobra.Command {
	var revoke, force bool
	cmd := &cobra.Command{
		Use:   "delete ID",
		Short: "Delete an account and its credentials",
		Long: `Delete an account and its sealed credentials; prints "deleted ID".
When workflows use the account Latchkey refuses and names them; --force
deletes it anyway. --revoke first asks the provider to revoke the
account's OAuth tokens, and says whether it did.`,
		Example: `  latchkey accounts delete acc_01j9...
  latchkey accounts delete acc_01j9... --revoke --force`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := c.client()
			if err != nil {
				return err
			}
			if !revoke {
				del := cl.DeleteAccount
				if force {
					del = cl.ForceDeleteAccount
				}
				if err := del(cmd.Context(), args[0]); err != nil {
					return deleteError(err, args[0], false)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "deleted %s\n", args[0])
				return nil
			}
			del := cl.DeleteAndRevoke
			if force {
				del = cl.ForceDeleteAndRevoke
			}
			res, err := del(cmd.Context(), args[0])
			if err != nil {
				return deleteError(err, args[0], true)
			}
			msg := map[string]string{
				"revoked":     "the provider revoked its tokens",
				"unsupported": "the app has no revocation endpoint; revoke access in the app's settings",
				"failed":      "revocation failed; revoke access in the app's settings",
			}[res.Revocation]
			fmt.Fprintf(cmd.OutOrStdout(), "deleted %s; %s", args[0], msg)
			if res.RevocationDetail != "" {
				fmt.Fprintf(cmd.OutOrStdout(), " (%s)", res.RevocationDetail)
			}
			fmt.Fprintln(cmd.OutOrStdout())
			return nil
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "delete even when workflows use the account (they will break)")
	cmd.Flags().BoolVar(&revoke, "revoke", false, "revoke the account's tokens at the provider first (OAuth apps that support it)")
	return cmd
}

func (c *cli) accountsEventsCmd() *cobra.Command {
	var cursor string
	cmd := &cobra.Command{
		Use:   "events ID",
		Short: "Show an account's audit log, newest first",
		Long: `Print the audit events of one account, newest first, up to 200: time,
action, actor and detail. With --json the output has a next_cursor;
give it to --cursor for the next page.`,
		Example: `  latchkey accounts events acc_01j9...
  latchkey accounts events acc_01j9... --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := c.client()
			if err != nil {
				return err
			}
			page, err := cl.Events(cmd.Context(), args[0], client.ListOptions{Limit: 200, Cursor: cursor})
			if err != nil {
				return err
			}
			return renderPage(c, cmd.OutOrStdout(), page, []string{"TIME", "ACTION", "ACTOR", "DETAIL"}, func(e client.Event) []string {
				var detail []string
				for k, v := range e.Detail {
					detail = append(detail, k+"="+v)
				}
				sort.Strings(detail)
				return []string{e.CreatedAt, e.Action, e.ActorID, strings.Join(detail, " ")}
			})
		},
	}
	cmd.Flags().StringVar(&cursor, "cursor", "", "start where an earlier page's next_cursor (--json) says")
	return cmd
}

// deleteError says how to delete an account that workflows use.
func deleteError(err error, id string, revoke bool) error {
	if p, ok := errors.AsType[*client.Problem](err); ok && client.IsProblem(p, "account-in-use") {
		return inUseHint(p, id, revoke)
	}
	return err
}
