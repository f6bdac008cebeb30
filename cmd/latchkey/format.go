package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/latchkeyhq/latchkey/client"
)

// printJSON prints v indented, with <, > and & as themselves: the output is
// for people and programs, never for an HTML page.
func printJSON(w io.Writer, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// printRawJSON prints a JSON document from the server indented, as printJSON
// does, keeping its key order.
func printRawJSON(w io.Writer, raw []byte) error {
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return err
	}
	buf.WriteByte('\n')
	_, err := w.Write(buf.Bytes())
	return err
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

// listJSON is the one shape of every list the CLI prints with --json, the
// API's own: {"data": [...]}, plus next_cursor when more can be fetched.
type listJSON[T any] struct {
	Data       []T     `json:"data"`
	NextCursor *string `json:"next_cursor,omitempty"`
}

// render prints a list as JSON (with --json) or as a table.
func render[T any](c *cli, w io.Writer, items []T, header []string, row func(T) []string) error {
	return renderPage(c, w, client.Page[T]{Data: items}, header, row)
}

// renderPage is render for one page of a longer list: --json says where the
// next page starts.
func renderPage[T any](c *cli, w io.Writer, page client.Page[T], header []string, row func(T) []string) error {
	if c.jsonOut {
		if page.Data == nil {
			page.Data = []T{}
		}
		return printJSON(w, listJSON[T]{Data: page.Data, NextCursor: page.NextCursor})
	}
	items := page.Data
	rows := make([][]string, 0, len(items))
	for _, it := range items {
		rows = append(rows, row(it))
	}
	return table(w, header, rows)
}
