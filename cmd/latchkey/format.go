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
	// Raw JSON from the server (json.RawMessage fields) keeps the server's
	// escapes, which SetEscapeHTML cannot undo.
	_, err := w.Write(unescapeHTML(buf.Bytes()))
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
	_, err := w.Write(unescapeHTML(buf.Bytes()))
	return err
}

// unescapeLines is a writer of JSON Lines that undoes HTML escapes line by
// line, so an escape split between two writes is still seen whole.
type unescapeLines struct {
	w    io.Writer
	rest []byte
}

func (u *unescapeLines) Write(p []byte) (int, error) {
	u.rest = append(u.rest, p...)
	if i := bytes.LastIndexByte(u.rest, '\n'); i >= 0 {
		if _, err := u.w.Write(unescapeHTML(u.rest[:i+1])); err != nil {
			return 0, err
		}
		u.rest = append(u.rest[:0], u.rest[i+1:]...)
	}
	return len(p), nil
}

// Close writes what is left after the last newline.
func (u *unescapeLines) Close() error {
	_, err := u.w.Write(unescapeHTML(u.rest))
	u.rest = nil
	return err
}

// unescapeHTML turns the escapes \u003c, \u003e and \u0026 that Go's encoder
// writes for <, > and & back into those characters. It reads the text escape
// by escape, so an escaped backslash followed by "u003e" stays as it is.
func unescapeHTML(b []byte) []byte {
	if !bytes.Contains(b, []byte(`\u00`)) {
		return b
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' || i+1 >= len(b) {
			out = append(out, b[i])
			continue
		}
		if b[i+1] == 'u' && i+6 <= len(b) {
			switch strings.ToLower(string(b[i+2 : i+6])) {
			case "003c":
				out = append(out, '<')
				i += 5
				continue
			case "003e":
				out = append(out, '>')
				i += 5
				continue
			case "0026":
				out = append(out, '&')
				i += 5
				continue
			}
		}
		// Any other escape is copied whole, so its second byte is never
		// taken for the start of another.
		out = append(out, b[i], b[i+1])
		i++
	}
	return out
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
