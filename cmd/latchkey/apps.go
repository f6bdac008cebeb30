package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/catalog"
)

func (c *cli) appsCmd() *cobra.Command {
	apps := &cobra.Command{Use: "apps", Short: "Browse the app catalog",
		Long: `The catalog lists the apps Latchkey can connect: how each
authenticates, its fields and scopes, and its actions. "apps lint"
checks it without a server; the other commands ask the server, which
also knows the workspace's own apps.`,
		Example: `  latchkey apps list --auth oauth2
  latchkey apps show github`,
	}

	var o client.ListOptions
	list := &cobra.Command{
		Use:   "list",
		Short: "List apps (all pages), optionally filtered",
		Long: `List the catalog's apps, all pages, as a table: slug, name, how it
authenticates and its categories; the count goes to standard error. The
flags narrow the list; they combine.`,
		Example: `  latchkey apps list
  latchkey apps list --auth keys --category email
  latchkey apps list -q mail --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := c.client()
			if err != nil {
				return err
			}
			all, err := allPages(cmd.Context(), o, 500, cl.ListApps)
			if err != nil {
				return err
			}
			if err := render(c, cmd.OutOrStdout(), all, []string{"SLUG", "NAME", "AUTH", "CATEGORIES"}, func(a client.App) []string {
				return []string{a.Slug, a.Name, a.Auth, strings.Join(a.Categories, ",")}
			}); err != nil {
				return err
			}
			if c.jsonOut {
				return nil
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "%d apps\n", len(all))
			return nil
		},
	}
	list.Flags().StringVar(&o.Auth, "auth", "", "only apps that authenticate this way: oauth2, oauth1, keys, basic, none, client_credentials, jwt_bearer or two_step")
	list.Flags().StringVar(&o.Category, "category", "", "only apps in this category")
	list.Flags().StringVarP(&o.Query, "query", "q", "", "search name, slug and category")

	show := &cobra.Command{
		Use:               "show SLUG",
		Short:             "Show an app's catalog entry",
		ValidArgsFunction: c.completeApps(nil),
		Long: `Print one app's catalog entry as JSON: its auth type, the fields an
account needs, default scopes, connection settings and actions. SLUG is
the short name "apps list" shows.`,
		Example: `  latchkey apps show sendgrid
  latchkey apps show slack`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := c.client()
			if err != nil {
				return err
			}
			raw, err := cl.GetApp(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return printRawJSON(cmd.OutOrStdout(), raw)
		},
	}

	categories := &cobra.Command{
		Use:   "categories",
		Short: "List the catalog's categories with their app counts",
		Long: `List the catalog's categories and how many apps each has, as a table;
give one to "apps list --category".`,
		Example: `  latchkey apps categories
  latchkey apps categories --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := c.client()
			if err != nil {
				return err
			}
			cats, err := cl.Categories(cmd.Context())
			if err != nil {
				return err
			}
			return render(c, cmd.OutOrStdout(), cats, []string{"CATEGORY", "APPS"}, func(k client.Category) []string {
				return []string{k.Category, fmt.Sprint(k.Apps)}
			})
		},
	}
	apps.AddCommand(list, show, categories, c.appsLintCmd(), c.appsRequestCmd(), c.appsRequestsCmd(), c.appsDefineCmd())
	return apps
}

func (c *cli) appsLintCmd() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:         "lint [--dir DIR]",
		Short:       "Check the shipped catalog (and a folder of custom apps) against the schema; needs no server",
		Annotations: offline,
		Long: `Load and validate the catalog built into latchkey, plus a folder of
custom *.yaml apps (--dir, default catalog_dir / LATCHKEY_CATALOG_DIR),
without a server. Prints how many apps and actions are valid by auth
type and category, or every problem with its file and field, and exits
non-zero.`,
		Example: `  latchkey apps lint
  latchkey apps lint --dir ./my-apps`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				dir = c.cfg.CatalogDir
			}
			cat, err := catalog.LoadDir(dir)
			if err != nil {
				return err
			}
			counts := map[catalog.AuthType]int{}
			actions := 0
			for _, a := range cat.All() {
				counts[a.Auth]++
				actions += len(a.Actions)
			}
			minted := counts[catalog.AuthClientCredentials] + counts[catalog.AuthJWTBearer] + counts[catalog.AuthTwoStep]
			fmt.Fprintf(cmd.OutOrStdout(), "%d apps are valid: %d oauth2, %d oauth1, %d keys, %d basic, %d minted, %d none; %d actions are valid\n",
				cat.Len(), counts[catalog.AuthOAuth2], counts[catalog.AuthOAuth1], counts[catalog.AuthKeys], counts[catalog.AuthBasic], minted, counts[catalog.AuthNone], actions)
			for _, cc := range cat.CategoryCounts() {
				fmt.Fprintf(cmd.OutOrStdout(), "  %-20s %d\n", cc.Category, cc.Apps)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "a folder of *.yaml apps to check with the shipped ones (default: catalog_dir)")
	return cmd
}

func (c *cli) appsRequestCmd() *cobra.Command {
	var in client.AppRequest
	cmd := &cobra.Command{
		Use:   "request NAME --reason TEXT [--url URL]",
		Short: "Ask for an app the catalog lacks; workspace owners see the requests",
		Long: `Record a request for an app the catalog lacks, with what you would use
it for (--reason) and, if you know it, its API documentation (--url).
Prints the request's id. Owners list requests with "apps requests".`,
		Example: `  latchkey apps request "Acme CRM" --reason "sync deals to the sales sheet" --url https://developer.acme.example/api`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in.Name = args[0]
			cl, err := c.client()
			if err != nil {
				return err
			}
			got, err := cl.RequestApp(cmd.Context(), in)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "recorded request %s for %s\n", got.ID, got.Name)
			return nil
		},
	}
	cmd.Flags().StringVar(&in.Reason, "reason", "", "what you would use the app for")
	cmd.Flags().StringVar(&in.URL, "url", "", "the app's API documentation, if you know it")
	return cmd
}

func (c *cli) appsRequestsCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "requests",
		Short: "List the workspace's app requests (owners)",
		Long: `List the workspace's app requests as a table: when, app, reason, URL
and who asked. Owners only.`,
		Example: `  latchkey apps requests
  latchkey apps requests --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := c.client()
			if err != nil {
				return err
			}
			list, err := cl.AppRequests(cmd.Context())
			if err != nil {
				return err
			}
			return render(c, cmd.OutOrStdout(), list, []string{"WHEN", "APP", "REASON", "URL", "BY"}, func(r client.AppRequest) []string {
				return []string{r.CreatedAt, r.Name, r.Reason, orDash(r.URL), r.UserID}
			})
		},
	}
}

func (c *cli) appsDefineCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "define FILE",
		Short: "Define (or replace) one of the workspace's own apps from a YAML file in the catalog's schema",
		Long: `Define one of the workspace's own apps from a YAML file in the catalog's
schema, or replace the one with the same slug. The file is checked here
first and every problem named. Prints "defined SLUG (NAME)". Owners and
admins only.`,
		Example: `  latchkey apps define acme_crm.yaml`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			app, err := catalog.Parse(b)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			cl, err := c.client()
			if err != nil {
				return err
			}
			if _, err := cl.SetCustomApp(cmd.Context(), app.Slug, b); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "defined %s (%s)\n", app.Slug, app.Name)
			return nil
		},
	}
}
