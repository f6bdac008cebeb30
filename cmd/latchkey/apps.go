package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/latchkeyhq/latchkey/client"
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
			var all []client.App
			q := o
			q.Limit = 500
			for {
				page, err := cl.ListApps(cmd.Context(), q)
				if err != nil {
					return err
				}
				all = append(all, page.Data...)
				if page.NextCursor == nil {
					break
				}
				q.Cursor = *page.NextCursor
			}
			if c.jsonOut {
				return printJSON(cmd.OutOrStdout(), all)
			}
			rows := make([][]string, 0, len(all))
			for _, a := range all {
				rows = append(rows, []string{a.Slug, a.Name, a.Auth, strings.Join(a.Categories, ",")})
			}
			if err := table(cmd.OutOrStdout(), []string{"SLUG", "NAME", "AUTH", "CATEGORIES"}, rows); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "%d apps\n", len(all))
			return nil
		},
	}
	list.Flags().StringVar(&o.Auth, "auth", "", "only apps that authenticate this way: oauth2, keys or none")
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
			var out bytes.Buffer
			if err := json.Indent(&out, raw, "", "  "); err != nil {
				return err
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), out.String())
			return err
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
			if c.jsonOut {
				return printJSON(cmd.OutOrStdout(), cats)
			}
			var rows [][]string
			for _, k := range cats {
				rows = append(rows, []string{k.Category, fmt.Sprint(k.Apps)})
			}
			return table(cmd.OutOrStdout(), []string{"CATEGORY", "APPS"}, rows)
		},
	}
	apps.AddCommand(list, show, categories)
	return apps
}
