package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/latchkeyhq/latchkey/client"
)

func (c *cli) oauthClientsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "oauth-clients", Short: "Manage the OAuth clients Latchkey uses with apps",
		Long: `OAuth clients are the client id and secret an OAuth app's provider gave
you. The managed client of an app serves every workspace; a workspace may
set its own. Secrets are sealed and never shown again.`,
		Example: `  latchkey oauth-clients list
  latchkey oauth-clients set github --client-id Iv1.0123456789abcdef --client-secret -`,
	}

	var clientID, clientSecret, redirectName string
	var workspace bool
	set := &cobra.Command{
		Use:               "set APP --client-id ID --client-secret SECRET",
		Short:             "Set the OAuth client for an app (the managed client every workspace shares, unless --workspace)",
		ValidArgsFunction: c.completeApps(oauthApps),
		Example: `  latchkey oauth-clients set github --client-id Iv1.0123456789abcdef --client-secret - < secret.txt
  latchkey oauth-clients set slack --client-id 1234.5678 --client-secret - --workspace
  latchkey oauth-clients set ebay --client-id Acme-app-PRD --client-secret - --redirect-name Acme-Acme-app-abcd`,
		Long: `Set the OAuth client for an app. Register Latchkey's redirect URI (shown
after saving) with the provider first. Give --client-secret - to read the
secret from standard input instead of the command line.

The managed client is the operator's: only the admin token (or the config
file) may set it. A workspace owner's token sets the workspace's own client
with --workspace.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if clientSecret == "-" {
				line, err := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
				if err != nil && !errors.Is(err, io.EOF) {
					return fmt.Errorf("reading the client secret: %w", err)
				}
				clientSecret = strings.TrimSpace(line)
			}
			cl, err := c.client()
			if err != nil {
				return err
			}
			oc, err := cl.SetOAuthClient(cmd.Context(), args[0], client.SetOAuthClient{ClientID: clientID, ClientSecret: clientSecret, Managed: !workspace, RedirectName: redirectName})
			if err != nil {
				return err
			}
			if c.jsonOut {
				return printJSON(cmd.OutOrStdout(), oc)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "saved %s client %s for %s (the secret is sealed and not shown again)\nredirect URI to register with the provider: %s\n",
				kind(oc), oc.ID, oc.App, oc.RedirectURI)
			return nil
		},
	}
	set.Flags().StringVar(&clientID, "client-id", "", "the client id the provider gave")
	set.Flags().StringVar(&clientSecret, "client-secret", "", "the client secret, or - to read it from standard input")
	set.Flags().BoolVar(&workspace, "workspace", false, "set this workspace's own client instead of the managed one")
	set.Flags().StringVar(&redirectName, "redirect-name", "", "the provider's name for the redirect URI, for apps that send it instead (eBay's RuName)")

	list := &cobra.Command{
		Use:   "list",
		Short: "List the OAuth clients (never their secrets)",
		Long: `List the OAuth clients you may see as a table: id, app, client id, kind
(managed or workspace) and when it changed. The redirect URI to register
with providers goes to standard error.`,
		Example: `  latchkey oauth-clients list
  latchkey oauth-clients list --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := c.client()
			if err != nil {
				return err
			}
			ocs, err := cl.ListOAuthClients(cmd.Context())
			if err != nil {
				return err
			}
			if err := render(c, cmd.OutOrStdout(), ocs, []string{"ID", "APP", "CLIENT ID", "KIND", "UPDATED"}, func(oc client.OAuthClient) []string {
				return []string{oc.ID, oc.App, oc.ClientID, kind(oc), oc.UpdatedAt}
			}); err != nil {
				return err
			}
			if len(ocs) > 0 && !c.jsonOut {
				fmt.Fprintf(cmd.ErrOrStderr(), "redirect URI: %s\n", ocs[0].RedirectURI)
			}
			return nil
		},
	}

	del := &cobra.Command{
		Use:   "delete ID",
		Short: "Delete an OAuth client; accounts made with it must be reconnected",
		Long: `Delete an OAuth client by its id (from "oauth-clients list"); prints
"deleted ID". Accounts connected with it must be reconnected, with
another client.`,
		Example: `  latchkey oauth-clients delete ocl_01j9...`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := c.client()
			if err != nil {
				return err
			}
			if err := cl.DeleteOAuthClient(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "deleted %s\n", args[0])
			return nil
		},
	}
	cmd.AddCommand(set, list, del)
	return cmd
}

func kind(oc client.OAuthClient) string {
	if oc.Managed {
		return "managed"
	}
	return "workspace"
}

// connectOptions are shared by connect and reconnect.
type connectOptions struct {
	noWait, noBrowser bool
	timeout           time.Duration
}

func (o *connectOptions) flags(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&o.noWait, "no-wait", false, "print the authorize URL and return without waiting")
	cmd.Flags().BoolVar(&o.noBrowser, "no-browser", false, "do not try to open a browser")
	cmd.Flags().DurationVar(&o.timeout, "timeout", 10*time.Minute, "how long to wait for the approval")
}

func (c *cli) connectCmd() *cobra.Command {
	var (
		in     client.Connect
		nick   string
		fields []string
		opts   connectOptions
	)
	cmd := &cobra.Command{
		Use:               "connect APP",
		Short:             "Connect an OAuth account: prints the authorize URL, waits for the approval, prints the account",
		ValidArgsFunction: c.completeApps(oauthApps),
		Long: `Start connecting an account of an OAuth app. Latchkey prints the URL to
approve the connection at (and opens a browser when it can), waits for
the approval, then prints the new account. --no-wait prints the URL and
the connection id and returns at once; --timeout sets how long to wait.
--field gives the connection fields some apps need (a subdomain); --scope
asks for more than the app's default scopes. The app needs an OAuth
client first (latchkey oauth-clients set). For key-based apps use
"latchkey accounts create".`,
		Example: `  latchkey connect slack --nickname work
  latchkey connect zendesk --field subdomain=acme --scope tickets:write`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in.App = args[0]
			if cmd.Flags().Changed("nickname") {
				in.Nickname = &nick
			}
			if len(fields) > 0 {
				in.Fields = map[string]string{}
				for _, f := range fields {
					k, v, ok := strings.Cut(f, "=")
					if !ok || k == "" {
						return fmt.Errorf("--field %q: write it as NAME=VALUE", k)
					}
					in.Fields[k] = v
				}
			}
			cl, err := c.client()
			if err != nil {
				return err
			}
			started, err := cl.Connect(cmd.Context(), in)
			if err != nil {
				return err
			}
			return c.follow(cmd, cl, started, opts)
		},
	}
	cmd.Flags().StringVar(&nick, "nickname", "", "a name that tells this account apart (default: the app's name)")
	cmd.Flags().StringArrayVar(&in.Scopes, "scope", nil, "a scope to ask for beyond the app's defaults (repeatable)")
	cmd.Flags().StringArrayVar(&fields, "field", nil, "a connection field, NAME=VALUE, such as subdomain=acme")
	cmd.Flags().BoolVar(&in.Shared, "shared", false, "let everyone in the workspace see and use the account")
	opts.flags(cmd)
	return cmd
}

func (c *cli) accountsReconnectCmd() *cobra.Command {
	var (
		opts   connectOptions
		fields []string
		files  []string
		noTest bool
	)
	cmd := &cobra.Command{
		Use:   "reconnect ID [--field NAME=VALUE ...]",
		Short: "Renew an OAuth account's grant, or give a key-based account new keys; the account keeps its id",
		Long: `Repair an account that needs reconnecting, keeping its id, so workflows
and tokens that name it keep working. For an OAuth account it prints an
authorize URL and waits for the approval, as "latchkey connect" does.
For a key-based account give the new keys with --field or --field-file;
the app's test request runs first unless --no-test. Prints the account.`,
		Example: `  latchkey accounts reconnect acc_01j9...
  latchkey accounts reconnect acc_01j9... --no-browser --timeout 30m
  latchkey accounts reconnect acc_01j9... --field api_key=SG.new-key`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := c.client()
			if err != nil {
				return err
			}
			if len(fields)+len(files) > 0 {
				values, err := fieldValues(fields, files)
				if err != nil {
					return err
				}
				in := client.ReplaceKeys{Fields: values}
				if noTest {
					in.Test = new(bool)
				}
				acc, err := cl.ReplaceKeys(cmd.Context(), args[0], in)
				if err != nil {
					return err
				}
				return c.printAccount(cmd, acc)
			}
			started, err := cl.Reconnect(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return c.follow(cmd, cl, started, opts)
		},
	}
	opts.flags(cmd)
	cmd.Flags().StringArrayVar(&fields, "field", nil, "a key-based account's new credential, NAME=VALUE (repeat for each field)")
	cmd.Flags().StringArrayVar(&files, "field-file", nil, "a credential read from a file, NAME=PATH (a private key, a service-account JSON)")
	cmd.Flags().BoolVar(&noTest, "no-test", false, "save the new keys without running the app's test request")
	return cmd
}

// follow shows the authorize URL, opens it where it can, and waits for the
// connection's outcome.
func (c *cli) follow(cmd *cobra.Command, cl *client.Client, started client.Connection, opts connectOptions) error {
	out := cmd.ErrOrStderr()
	fmt.Fprintf(out, "Open this URL to approve the connection:\n\n  %s\n\n", started.AuthorizeURL)
	if started.OneTimeCode != "" {
		// The browser asks for it before it finishes, so a link sent to
		// someone else cannot connect their identity to this account.
		fmt.Fprintf(out, "When the browser asks for a one-time code, enter:\n\n  %s\n\nEnter it only in your own browser; it works once.\n\n", started.OneTimeCode)
	}
	if opts.noWait {
		fmt.Fprintf(cmd.OutOrStdout(), "%s\n", started.ID)
		return nil
	}
	if !opts.noBrowser {
		openBrowser(started.AuthorizeURL)
	}
	fmt.Fprintln(out, "Waiting for the approval (Ctrl-C to stop)...")
	ctx, cancel := context.WithTimeout(cmd.Context(), opts.timeout)
	defer cancel()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("gave up waiting for connection %s: %w", started.ID, ctx.Err())
		case <-tick.C:
		}
		conn, err := cl.GetConnection(ctx, started.ID)
		if err != nil {
			return err
		}
		switch conn.Status {
		case "completed":
			acc, err := cl.GetAccount(ctx, conn.AccountID)
			if err != nil {
				return err
			}
			return c.printAccount(cmd, acc)
		case "failed":
			return fmt.Errorf("the connection failed: %s", conn.Error)
		}
		if exp, err := time.Parse(time.RFC3339, conn.ExpiresAt); err == nil && time.Now().After(exp) && conn.Status == "pending" {
			return fmt.Errorf("connection %s expired before it was approved; start again", conn.ID)
		}
	}
}

// openBrowser tries the desktop's opener; where there is none (a server),
// the printed URL is enough.
func openBrowser(u string) {
	var name string
	switch runtime.GOOS {
	case "darwin":
		name = "open"
	case "windows":
		name = "rundll32"
	default:
		if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
			return
		}
		name = "xdg-open"
	}
	args := []string{u}
	if name == "rundll32" {
		args = []string{"url.dll,FileProtocolHandler", u}
	}
	if path, err := exec.LookPath(name); err == nil {
		_ = exec.Command(path, args...).Start()
	}
}

func (c *cli) tokenCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "token ID",
		Short: "Print an OAuth account's access token, valid now (refreshed first if it must be)",
		Long: `Print only an OAuth 2 account's access token, refreshed first if it is
about to expire, for a script's Authorization header. The read is in the
audit log. For other accounts use "latchkey credentials ID".`,
		Example: `  latchkey token acc_01j9...
  curl -H "Authorization: Bearer $(latchkey token acc_01j9...)" https://api.example.com/me`,
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
			tok, ok := creds["oauth_access_token"]
			if _, one := creds["oauth_token"]; !ok && one {
				return errors.New("this is an OAuth 1.0a account, whose requests are signed, not sent with a bearer token; its oauth_token, oauth_token_secret and consumer_key: latchkey credentials " + args[0])
			}
			if !ok {
				return errors.New("this account has no OAuth access token; use: latchkey credentials " + args[0])
			}
			fmt.Fprintln(cmd.OutOrStdout(), tok)
			return nil
		},
	}
}
