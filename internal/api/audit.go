package api

import (
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/audit"
	"github.com/latchkeyhq/latchkey/internal/identity"
)

// SurfaceHeader lets a client say which of its commands is calling, for
// the audit log; see surfaceOf.
const SurfaceHeader = "Latchkey-Surface"

// surfaces are the values SurfaceHeader may take, and what each records.
var surfaces = map[string]string{
	"":     identity.SurfaceAPI,
	"exec": identity.SurfaceCLIExec,
}

// surfaceOf is the surface a request came through: the API, unless the
// CLI's exec says otherwise. Anything else is refused, so the log holds
// only the few values it documents.
func surfaceOf(r *http.Request) (string, error) {
	v := r.Header.Get(SurfaceHeader)
	s, ok := surfaces[v]
	if !ok {
		p := problem(http.StatusBadRequest, "bad-surface", "Unknown "+SurfaceHeader, SurfaceHeader+": must be exec, or left out")
		return "", p
	}
	return s, nil
}

// peerHost is the client's address as the audit log records it: the
// connection's peer, without its port.
func peerHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// SetAudit gives the handler the audit log's reader; until then the
// audit routes answer 404.
func (h *Handler) SetAudit(svc *audit.Service) { h.audit = svc }

func (h *Handler) auditService() (*audit.Service, error) {
	if h.audit == nil {
		return nil, problem(http.StatusNotFound, "no-such-route", "No such API route", "the audit log is not served here")
	}
	return h.audit, nil
}

func auditEventView(e audit.Event) client.AuditEvent {
	return client.AuditEvent{
		ID: e.ID, Action: e.Action, ActorID: e.ActorID, AccountID: e.AccountID,
		TokenID: e.TokenID, TokenName: e.TokenName, Addr: e.Addr, Surface: e.Surface,
		Detail: e.Detail, CreatedAt: e.CreatedAt.UTC().Format(time.RFC3339Nano),
	}
}

func auditBounds(r *http.Request) (since, until time.Time, err error) {
	q := r.URL.Query()
	if since, err = audit.ParseSince(q.Get("since")); err != nil {
		return
	}
	until, err = audit.ParseUntil(q.Get("until"))
	return
}

// listAudit is GET /v1/audit: one page of the workspace's log, newest
// first, for owners and admins.
func (h *Handler) listAudit(w http.ResponseWriter, r *http.Request) error {
	svc, err := h.auditService()
	if err != nil {
		return err
	}
	limit, err := limitParam(r, 50, audit.MaxPage)
	if err != nil {
		return err
	}
	since, until, err := auditBounds(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	p, err := svc.List(r.Context(), actor(r), audit.Query{
		ActorID: q.Get("actor"), AccountID: q.Get("account"), Action: q.Get("action"),
		Since: since, Until: until, Cursor: q.Get("cursor"), Limit: limit,
	})
	if err != nil {
		return err
	}
	out := client.Page[client.AuditEvent]{Data: make([]client.AuditEvent, 0, len(p.Events))}
	for _, e := range p.Events {
		out.Data = append(out.Data, auditEventView(e))
	}
	if p.Next != "" {
		out.NextCursor = &p.Next
	}
	return reply(w, http.StatusOK, out)
}

// exportAudit is GET /v1/audit/export: every event between since and
// until as JSON Lines, oldest first, written as the store is paged.
func (h *Handler) exportAudit(w http.ResponseWriter, r *http.Request) error {
	svc, err := h.auditService()
	if err != nil {
		return err
	}
	since, until, err := auditBounds(r)
	if err != nil {
		return err
	}
	rc := http.NewResponseController(w)
	enc := newEncoder(w)
	started, n := false, 0
	begin := func() {
		if !started {
			started = true
			w.Header().Set("Content-Type", "application/x-ndjson")
			w.WriteHeader(http.StatusOK)
		}
	}
	err = svc.Export(r.Context(), actor(r), since, until, func(e audit.Event) error {
		begin()
		if n%1000 == 0 {
			// A long export outlives the server's write timeout; each
			// stretch it gets more time. Not every writer can (a test's
			// recorder cannot), and that is fine.
			_ = rc.SetWriteDeadline(time.Now().Add(time.Minute))
		}
		n++
		if err := enc.Encode(auditEventView(e)); err != nil {
			return fmt.Errorf("write: %w", err)
		}
		return nil
	})
	if err != nil && started {
		// Too late for a problem: the status is sent. The stream ends
		// short, and the log says why.
		h.log.ErrorContext(r.Context(), "audit export ended early", "events", n, "err", err)
		return nil
	}
	if err != nil {
		return err
	}
	begin()
	return nil
}
