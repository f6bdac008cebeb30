package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/latchkeyhq/latchkey/client"
)

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// table prints rows under a header, columns aligned.
func table(w io.Writer, header []string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		for i := range r {
			// A nickname with a tab or newline must not break the table.
			r[i] = strings.Map(func(c rune) rune {
				if c < 0x20 {
					return ' '
				}
				return c
			}, r[i])
		}
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// allPages fetches every page of a list, size items at a time.
func allPages[T any](ctx context.Context, o client.ListOptions, size int, fetch func(context.Context, client.ListOptions) (client.Page[T], error)) ([]T, error) {
	var all []T
	o.Limit = size
	for {
		page, err := fetch(ctx, o)
		if err != nil {
			return nil, err
		}
		all = append(all, page.Data...)
		if page.NextCursor == nil {
			return all, nil
		}
		o.Cursor = *page.NextCursor
	}
}

// render prints items as JSON (with --json) or as a table.
func render[T any](c *cli, w io.Writer, items []T, header []string, row func(T) []string) error {
	if c.jsonOut {
		if items == nil {
			items = []T{}
		}
		return printJSON(w, items)
	}
	rows := make([][]string, 0, len(items))
	for _, it := range items {
		rows = append(rows, row(it))
	}
	return table(w, header, rows)
}
