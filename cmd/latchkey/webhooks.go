package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/latchkeyhq/latchkey/client"
)

func (c *cli) webhooksCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "webhooks", Aliases: []string{"webhook"}, Short: "Manage the workspace's webhook endpoints and see their deliveries (owners and admins)",
		Example: `  latchkey webhooks create https://hooks.example.com/latchkey --event account.needs_reconnect
  latchkey webhooks deliveries whk_01j9...`,
		Long: `Webhook endpoints are sent the workspace's events, signed per Standard
Webhooks. The signing secret is printed once, when the endpoint is made
or its secret rotated.`}
	endpointRow := func(e client.WebhookEndpoint) []string {
		types := "all"
		if len(e.EventTypes) > 0 {
			types = strings.Join(e.EventTypes, ",")
		}
		state := "on"
		if !e.Enabled {
			state = "off: " + e.DisabledReason
		}
		return []string{e.ID, e.URL, types, state}
	}
	endpointHeader := []string{"ID", "URL", "EVENTS", "STATE"}
	one := func(cmd *cobra.Command, e client.WebhookEndpoint) error {
		if c.jsonOut {
			return printJSON(cmd.OutOrStdout(), e)
		}
		return render(c, cmd.OutOrStdout(), []client.WebhookEndpoint{e}, endpointHeader, endpointRow)
	}

	list := &cobra.Command{
		Use: "list", Short: "List the endpoints",
		Long: `List the workspace's webhook endpoints as a table: id, URL, the event
types each gets, and whether it is on.`,
		Args:    cobra.NoArgs,
		Example: `  latchkey webhooks list`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := c.client()
			if err != nil {
				return err
			}
			l, err := cl.Webhooks(cmd.Context())
			if err != nil {
				return err
			}
			return render(c, cmd.OutOrStdout(), l, endpointHeader, endpointRow)
		},
	}

	var events []string
	create := &cobra.Command{
		Use: "create URL [--event TYPE ...]", Short: "Add an endpoint; prints its signing secret once",
		Long: `Add a webhook endpoint at URL that is sent the event types you
name with --event (repeat, or comma-separated; none means every type).
Prints its id and its signing secret, once; verify deliveries with it.`,
		Args:    cobra.ExactArgs(1),
		Example: `  latchkey webhooks create https://hooks.example.com/latchkey --event account.connected --event account.needs_reconnect`,
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := c.client()
			if err != nil {
				return err
			}
			e, err := cl.CreateWebhook(cmd.Context(), client.CreateWebhook{URL: args[0], EventTypes: events})
			if err != nil {
				return err
			}
			if c.jsonOut {
				return printJSON(cmd.OutOrStdout(), e)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "created %s; its signing secret (shown once):\n%s\n", e.ID, e.Secret)
			return nil
		},
	}
	create.Flags().StringSliceVar(&events, "event", nil, "an event type to send (repeat; none means every type)")

	show := &cobra.Command{
		Use: "show ID", Short: "One endpoint",
		Long: `Print one webhook endpoint as a table: id, URL, the event types it gets
and whether it is on (and if not, why).`,
		Args:    cobra.ExactArgs(1),
		Example: `  latchkey webhooks show whk_01j9...`,
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := c.client()
			if err != nil {
				return err
			}
			e, err := cl.Webhook(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return one(cmd, e)
		},
	}

	turn := func(use, short, long string, on bool) *cobra.Command {
		return &cobra.Command{
			Use: use + " ID", Short: short, Long: long, Args: cobra.ExactArgs(1),
			Example: "  latchkey webhooks " + use + " whk_01j9...",
			RunE: func(cmd *cobra.Command, args []string) error {
				cl, err := c.client()
				if err != nil {
					return err
				}
				e, err := cl.UpdateWebhook(cmd.Context(), args[0], client.UpdateWebhook{Enabled: &on})
				if err != nil {
					return err
				}
				return one(cmd, e)
			},
		}
	}

	del := &cobra.Command{
		Use: "delete ID", Short: "Delete an endpoint and its deliveries",
		Long: `Delete a webhook endpoint and its deliveries; nothing more is sent to
it. Prints "deleted ID".`,
		Args:    cobra.ExactArgs(1),
		Example: `  latchkey webhooks delete whk_01j9...`,
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := c.client()
			if err != nil {
				return err
			}
			if err := cl.DeleteWebhook(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "deleted %s\n", args[0])
			return nil
		},
	}

	var overlap time.Duration
	rotate := &cobra.Command{
		Use: "rotate-secret ID [--overlap 24h]", Short: "Give an endpoint a new signing secret; the old one signs too for the overlap",
		Long: `Give an endpoint a new signing secret and print it once. For --overlap
(default 24h, at most 168h) deliveries are signed with both secrets, so
the receiver can switch over.`,
		Args:    cobra.ExactArgs(1),
		Example: `  latchkey webhooks rotate-secret whk_01j9... --overlap 1h`,
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := c.client()
			if err != nil {
				return err
			}
			secs := int(overlap / time.Second)
			sec, err := cl.RotateWebhookSecret(cmd.Context(), args[0], client.RotateWebhookSecret{OverlapSeconds: &secs})
			if err != nil {
				return err
			}
			if c.jsonOut {
				return printJSON(cmd.OutOrStdout(), sec)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "new signing secret of %s (shown once; the old one signs too for %s):\n%s\n", args[0], overlap, sec.Secret)
			return nil
		},
	}
	rotate.Flags().DurationVar(&overlap, "overlap", 24*time.Hour, "how long the old secret keeps signing (at most 168h)")

	deliveryHeader := []string{"ID", "EVENT", "TYPE", "STATUS", "ATTEMPTS", "LAST"}
	deliveryRow := func(d client.WebhookDelivery) []string {
		last := ""
		if d.LastAttemptAt != nil {
			last = fmt.Sprintf("%s %d %s", *d.LastAttemptAt, d.LastStatusCode, d.LastError)
		}
		return []string{d.ID, d.EventID, d.EventType, d.Status, fmt.Sprint(d.Attempts), strings.TrimSpace(last)}
	}
	var limit int
	var cursor string
	deliveries := &cobra.Command{
		Use: "deliveries ID [--limit N]", Short: "An endpoint's deliveries, newest first",
		Long: `List an endpoint's deliveries, newest first, as a table: id, event,
type, status, attempts and the last attempt. --limit sets how many; with
--json the output has a next_cursor for --cursor.`,
		Args:    cobra.ExactArgs(1),
		Example: `  latchkey webhooks deliveries whk_01j9... --limit 20`,
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := c.client()
			if err != nil {
				return err
			}
			p, err := cl.WebhookDeliveries(cmd.Context(), args[0], cursor, limit)
			if err != nil {
				return err
			}
			return renderPage(c, cmd.OutOrStdout(), p, deliveryHeader, deliveryRow)
		},
	}
	deliveries.Flags().IntVar(&limit, "limit", 50, "how many (at most 200)")
	deliveries.Flags().StringVar(&cursor, "cursor", "", "start where an earlier page's next_cursor (--json) says")

	delivery := &cobra.Command{
		Use: "delivery ID DELIVERY_ID", Short: "One delivery with every attempt",
		Long: `Print one delivery of an endpoint: its event, status and number of
attempts, then each attempt's time, response status and error.`,
		Args:    cobra.ExactArgs(2),
		Example: `  latchkey webhooks delivery whk_01j9... whd_01j9...`,
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := c.client()
			if err != nil {
				return err
			}
			d, err := cl.WebhookDelivery(cmd.Context(), args[0], args[1])
			if err != nil {
				return err
			}
			if c.jsonOut {
				return printJSON(cmd.OutOrStdout(), d)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %s %s, %s after %d attempts\n", d.ID, d.EventType, d.EventID, d.Status, d.Attempts)
			return render(c, cmd.OutOrStdout(), d.AttemptLog, []string{"AT", "STATUS", "MS", "ERROR"}, func(a client.WebhookAttempt) []string {
				return []string{a.At, fmt.Sprint(a.StatusCode), fmt.Sprint(a.DurationMS), a.Error}
			})
		},
	}

	redeliver := &cobra.Command{
		Use: "redeliver ID DELIVERY_ID", Short: "Send a delivery again, now",
		Long: `Send a delivery to its endpoint again, now, and print the delivery as
"webhooks deliveries" does.`,
		Args:    cobra.ExactArgs(2),
		Example: `  latchkey webhooks redeliver whk_01j9... whd_01j9...`,
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := c.client()
			if err != nil {
				return err
			}
			d, err := cl.Redeliver(cmd.Context(), args[0], args[1])
			if err != nil {
				return err
			}
			if c.jsonOut {
				return printJSON(cmd.OutOrStdout(), d)
			}
			return render(c, cmd.OutOrStdout(), []client.WebhookDelivery{d}, deliveryHeader, deliveryRow)
		},
	}

	cmd.AddCommand(list, create, show, turn("enable", "Turn an endpoint on again",
		"Turn an endpoint on again: new events are sent to it. Prints the endpoint.", true),
		turn("disable", "Turn an endpoint off; its pending deliveries fail",
			"Turn an endpoint off: nothing is sent to it and its pending deliveries\nfail. Prints the endpoint.", false),
		del, rotate, deliveries, delivery, redeliver)
	return cmd
}
