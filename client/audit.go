package client

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
)

// AuditQuery filters the workspace audit log. Zero values are left out.
// Since and Until are RFC 3339 times or dates (a date means the whole day,
// in UTC); Action is an action or a prefix ending in a dot ("account.").
type AuditQuery struct {
	Actor, Account, Action string
	Since, Until           string
	Cursor                 string
	Limit                  int
}

func (q AuditQuery) values() url.Values {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set("actor", q.Actor)
	set("account", q.Account)
	set("action", q.Action)
	set("since", q.Since)
	set("until", q.Until)
	set("cursor", q.Cursor)
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	return v
}

// Audit returns a page of the workspace audit log, newest first. Only
// owners and admins may read it, with a token carrying audit:read.
func (c *Client) Audit(ctx context.Context, q AuditQuery) (Page[AuditEvent], error) {
	var p Page[AuditEvent]
	return p, c.do(ctx, http.MethodGet, "/v1/audit", q.values(), nil, &p)
}

// ExportAudit copies the workspace audit log between since and until to
// w as JSON Lines, oldest first, as the server streams it.
func (c *Client) ExportAudit(ctx context.Context, since, until string, w io.Writer) error {
	q := AuditQuery{Since: since, Until: until}.values()
	u := c.base + "/v1/audit/export"
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	return c.send(req, streamTo{w})
}

// streamTo asks send to copy the answer's body to w as it arrives.
type streamTo struct{ w io.Writer }
