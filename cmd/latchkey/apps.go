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
	apps := &cobra.Command{Use: "apps", Short: "Browse the app catalog"}

	var o client.ListOptions
	list := &cobra.Command{
		Use:   "list",
		Short: "List apps (all pages), optionally filtered",
		Args:  cobra.NoArgs,
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
		Use:   "show SLUG",
		Short: "Show an app's catalog entry",
		Args:  cobra.ExactArgs(1),
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
		Args:  cobra.NoArgs,
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
		Use:   "lint [--dir DIR]",
		Short: "Check the shipped catalog (and a folder of custom apps) against the schema; needs no server",
		Args:  cobra.NoArgs,
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
		Args:  cobra.ExactArgs(1),
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
		Args:  cobra.NoArgs,
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
		Args:  cobra.ExactArgs(1),
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
