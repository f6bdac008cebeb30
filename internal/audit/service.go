package audit

import (
	"context"
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/ids"
	"github.com/latchkeyhq/latchkey/internal/store"
	"github.com/latchkeyhq/latchkey/internal/validation"
)

// Service reads the workspace audit log for its owners and admins. It
// has no method that changes or deletes an event: the log is append-only
// for everyone, owners included.
type Service struct {
	store store.Audit
	log   *Log
	clock clockwork.Clock
}

// NewService reads from st, after writing what log has queued.
func NewService(st store.Audit, log *Log, clock clockwork.Clock) *Service {
	return &Service{store: st, log: log, clock: clock}
}

// Query selects events. Zero fields select everything.
type Query struct {
	// ActorID is the user who acted.
	ActorID   string
	AccountID string
	// Action is one action ("account.credentials_read"), or, ending in
	// a dot, every action that starts with it ("account.").
	Action string
	// Since <= CreatedAt < Until.
	Since, Until time.Time
	// Cursor is a page's Next.
	Cursor string
	Limit  int
}

// Page is one page of events, newest first; Next fetches the next page
// and is empty on the last.
type Page struct {
	Events []Event
	Next   string
}

// MaxPage is the most events one page holds.
const MaxPage = 200

// exportPage is how many events Export reads from the store at a time.
const exportPage = 500

var actionPattern = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*\.?$`)

// may returns ErrForbidden unless the actor may read the log: an owner or
// an admin, and a token carrying audit:read.
func may(a identity.Actor) error {
	if err := a.Require(identity.ScopeAuditRead); err != nil {
		return err
	}
	if !a.CanReadAudit() {
		return fmt.Errorf("%w: only the workspace's owners and admins read its audit log", identity.ErrForbidden)
	}
	return nil
}

// filter turns a query into the store's filter of the actor's workspace.
func filter(a identity.Actor, q Query) (store.AuditFilter, error) {
	f := store.AuditFilter{WorkspaceID: a.WorkspaceID, ActorID: q.ActorID, AccountID: q.AccountID, Since: q.Since, Until: q.Until}
	if len(q.ActorID) > 100 {
		return f, validation.Invalid("actor", "is longer than 100 characters")
	}
	if len(q.AccountID) > 100 {
		return f, validation.Invalid("account", "is longer than 100 characters")
	}
	if q.Action != "" {
		if len(q.Action) > 100 || !actionPattern.MatchString(q.Action) {
			return f, validation.Invalid("action", "must be an action such as account.credentials_read, or a prefix ending in a dot such as account.")
		}
		if strings.HasSuffix(q.Action, ".") {
			f.ActionPrefix = q.Action
		} else {
			f.Action = q.Action
		}
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Since.Before(q.Until) {
		return f, validation.Invalid("until", "must be after since")
	}
	// An event's id is a ULID made at its CreatedAt, so the time bounds
	// are id bounds too (a millisecond wider), which the store reads along
	// its primary key.
	if !q.Since.IsZero() {
		f.FromID, _ = ids.Floor(ids.Event, q.Since)
	}
	if !q.Until.IsZero() {
		f.ToID, _ = ids.Floor(ids.Event, q.Until.Add(time.Millisecond))
	}
	return f, nil
}

// List returns one page of the actor's workspace's log, newest first.
func (s *Service) List(ctx context.Context, a identity.Actor, q Query) (Page, error) {
	if err := may(a); err != nil {
		return Page{}, err
	}
	f, err := filter(a, q)
	if err != nil {
		return Page{}, err
	}
	if q.Cursor != "" {
		if f.Before, err = parseCursor(q.Cursor); err != nil {
			return Page{}, err
		}
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, MaxPage)
	// One past the page tells whether another follows.
	f.Limit = limit + 1
	s.log.Flush(ctx)
	list, err := s.store.ListAudit(ctx, f)
	if err != nil {
		return Page{}, fmt.Errorf("audit log: %w", err)
	}
	var p Page
	if len(list) > limit {
		list = list[:limit]
		p.Next = cursor(list[limit-1].ID)
	}
	p.Events = EventsOf(list)
	return p, nil
}

// Export hands every event of the actor's workspace between since and
// until to emit, oldest first, reading the store a page at a time so the
// log is never held in memory whole. A zero until means now, so that an
// export of a busy log ends. It stops at emit's first error.
func (s *Service) Export(ctx context.Context, a identity.Actor, since, until time.Time, emit func(Event) error) error {
	if err := may(a); err != nil {
		return err
	}
	if until.IsZero() {
		// Past the last microsecond of now: an event of this very instant
		// (the store keeps microseconds) is in.
		until = s.clock.Now().Add(time.Microsecond)
	}
	f, err := filter(a, Query{Since: since, Until: until})
	if err != nil {
		return err
	}
	f.OldestFirst, f.Limit = true, exportPage
	s.log.Flush(ctx)
	for {
		list, err := s.store.ListAudit(ctx, f)
		if err != nil {
			return fmt.Errorf("audit export: %w", err)
		}
		for _, e := range list {
			if err := emit(eventOf(e)); err != nil {
				return err
			}
		}
		if len(list) < exportPage {
			return nil
		}
		f.After = list[len(list)-1].ID
	}
}

// cursor is the opaque form of the id a page ended with.
func cursor(id string) string { return base64.RawURLEncoding.EncodeToString([]byte("b:" + id)) }

func parseCursor(c string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	id, ok := strings.CutPrefix(string(b), "b:")
	if err != nil || !ok || !ids.Valid(ids.Event, id) {
		return "", validation.Invalid("cursor", "is not a cursor this log gave")
	}
	return id, nil
}

// ParseSince reads a query's lower bound: RFC 3339, or a date alone
// (2026-01-31), which means the start of that day in UTC.
func ParseSince(s string) (time.Time, error) { return parseTime("since", s, 0) }

// ParseUntil reads a query's upper bound: RFC 3339, or a date alone,
// which means through the end of that day in UTC.
func ParseUntil(s string) (time.Time, error) { return parseTime("until", s, 1) }

func parseTime(field, s string, days int) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, validation.Invalid(field, "must be a date (2026-01-31) or a time (2026-01-31T12:00:00Z)")
	}
	return d.AddDate(0, 0, days), nil
}
