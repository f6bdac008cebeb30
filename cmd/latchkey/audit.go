package main

import (
	"bufio"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/latchkeyhq/latchkey/client"
)

func (c *cli) auditCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "Read and export the workspace's audit log (owners and admins)",
		Example: `  latchkey audit list --since 2026-01-01
  latchkey audit export --since 2026-01-01 > audit.jsonl`,
		Long: `The workspace's audit log: every credential read and every change to
accounts, members, tokens, OAuth clients and workflows, with who did it
(the user, and the API token if one was used), from which address and
through which surface (api, web, workflow, cli-exec).

The log is append-only: nothing, not even an owner, changes or deletes
an event. Dates mean whole days in UTC; times are RFC 3339.`}

	var q client.AuditQuery
	var all bool
	list := &cobra.Command{
		Use: "list", Short: "List events, newest first",
		Long: `List the workspace's audit events, newest first, as a table, 50 at a
time (--limit, at most 200); --all reads every page. The other flags
narrow the list; they combine. With --json the output has a
next_cursor; give it to --cursor for the next page.`,
		Args: cobra.NoArgs,
		Example: `  latchkey audit list --action account.credentials_read --since 2026-01-01
  latchkey audit list --account acc_01j... --action account.
  latchkey audit list --actor usr_01j... --until 2026-01-31`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := c.client()
			if err != nil {
				return err
			}
			var events client.Page[client.AuditEvent]
			for {
				page, err := cl.Audit(cmd.Context(), q)
				if err != nil {
					return err
				}
				events.Data = append(events.Data, page.Data...)
				// Without --all, the cursor says where the next page starts.
				events.NextCursor = page.NextCursor
				if !all || page.NextCursor == nil {
					break
				}
				q.Cursor = *page.NextCursor
			}
			return renderPage(c, cmd.OutOrStdout(), events, []string{"TIME", "ACTION", "ACTOR", "TOKEN", "SURFACE", "ADDRESS", "ACCOUNT", "DETAIL"}, func(e client.AuditEvent) []string {
				var detail []string
				for k, v := range e.Detail {
					detail = append(detail, k+"="+v)
				}
				sort.Strings(detail)
				return []string{e.CreatedAt, e.Action, orDash(e.ActorID), orDash(e.TokenName), orDash(e.Surface), orDash(e.Addr), orDash(e.AccountID), strings.Join(detail, " ")}
			})
		},
	}
	list.Flags().StringVar(&q.Actor, "actor", "", "only events of this user (id)")
	list.Flags().StringVar(&q.Account, "account", "", "only events of this account (id)")
	list.Flags().StringVar(&q.Action, "action", "", "only this action, or actions starting with a prefix ending in a dot (account.)")
	list.Flags().StringVar(&q.Since, "since", "", "from this date or time on")
	list.Flags().StringVar(&q.Until, "until", "", "up to this date (through its end) or time")
	list.Flags().IntVar(&q.Limit, "limit", 50, "events per page (at most 200)")
	list.Flags().BoolVar(&all, "all", false, "every page, not only the first")
	list.Flags().StringVar(&q.Cursor, "cursor", "", "start where an earlier page's next_cursor (--json) says")

	var since, until string
	export := &cobra.Command{
		Use: "export [--since DATE] [--until DATE]", Short: "Write events as JSON Lines, oldest first, for a SIEM",
		Long: `Write the workspace's audit events to standard output as JSON Lines,
one event a line, oldest first, every page; --since and --until bound
them. Redirect it to a file or pipe it to your log system.`,
		Args:    cobra.NoArgs,
		Example: `  latchkey audit export --since 2026-01-01 > audit.jsonl`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := c.client()
			if err != nil {
				return err
			}
			w := bufio.NewWriter(cmd.OutOrStdout())
			err = cl.ExportAudit(cmd.Context(), since, until, w)
			if ferr := w.Flush(); err == nil {
				err = ferr
			}
			return err
		},
	}
	export.Flags().StringVar(&since, "since", "", "from this date or time on")
	export.Flags().StringVar(&until, "until", "", "up to this date (through its end) or time; now if left out")

	cmd.AddCommand(list, export)
	return cmd
}
