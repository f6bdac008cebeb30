// Package audit writes the audit log: events queued by the services and
// written in batches from one goroutine.
package audit

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/ids"
	"github.com/latchkeyhq/latchkey/internal/store"
)

// Log writes audit events in batches from one goroutine, so that a
// credential read does not wait for its own database commit (on SQLite,
// one writer at a time). Events are written within flushEvery, before any
// read of the log by this process, and at Close; a crash can lose the
// events of the last flushEvery.
type Log struct {
	// mu guards closed: an event that arrives after close is written
	// directly rather than sent on the closed channel.
	mu      sync.RWMutex
	closed  bool
	st      store.Audit
	log     *slog.Logger
	events  chan store.AuditEvent
	flushes chan chan struct{}
	done    chan struct{}
}

const (
	flushEvery = 50 * time.Millisecond
	batchMax   = 500
	// holdMax bounds the events held for another try while the database
	// is away; past it the oldest go, logged.
	holdMax = 100_000
)

// New starts a Log that writes to st; Close stops it.
func New(st store.Audit, log *slog.Logger) *Log {
	a := &Log{st: st, log: log, events: make(chan store.AuditEvent, 8192), flushes: make(chan chan struct{}), done: make(chan struct{})}
	go a.run()
	return a
}

// Add queues an event; it blocks only when the queue is full.
func (a *Log) Add(e store.AuditEvent) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.closed {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := a.st.AppendAudits(ctx, []store.AuditEvent{e}); err != nil {
			a.log.Error("audit write failed", "events", 1, "err", err)
		}
		return
	}
	a.events <- e
}

// Flush returns once every event added before it is written.
func (a *Log) Flush(ctx context.Context) {
	done := make(chan struct{})
	select {
	case a.flushes <- done:
	case <-a.done:
		return
	case <-ctx.Done():
		return
	}
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// Close writes what is queued and stops.
func (a *Log) Close() {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return
	}
	a.closed = true
	close(a.events)
	a.mu.Unlock()
	<-a.done
}

func (a *Log) run() {
	defer close(a.done)
	tick := time.NewTicker(flushEvery)
	defer tick.Stop()
	var batch []store.AuditEvent
	write := func() { batch = a.write(batch) }
	for {
		select {
		case e, ok := <-a.events:
			if !ok {
				write()
				return
			}
			batch = append(batch, e)
			if len(batch) >= batchMax {
				write()
			}
		case done := <-a.flushes:
			// Take what is already queued, then write.
			for drained := false; !drained; {
				select {
				case e, ok := <-a.events:
					if !ok {
						drained = true
						break
					}
					batch = append(batch, e)
				default:
					drained = true
				}
			}
			write()
			close(done)
		case <-tick.C:
			write()
		}
	}
}

// write stores batch, batchMax events at a time, and returns what is left
// to write later: the events the database could not take for now (it is
// unreachable, or did not say whether it kept them). The store has retried
// already; they are tried again on the next tick, so that a database
// restart loses no event.
func (a *Log) write(batch []store.AuditEvent) []store.AuditEvent {
	all := batch
	for len(batch) > 0 {
		n := min(len(batch), batchMax)
		err := a.append(batch[:n])
		if errors.Is(err, store.ErrUnavailable) || errors.Is(err, store.ErrOutcomeUnknown) {
			if drop := len(batch) - holdMax; drop > 0 {
				a.log.Error("audit events dropped: the database has been away too long", "events", drop, "err", err)
				batch = batch[drop:]
			}
			a.log.Warn("audit write failed; will try again", "events", len(batch), "err", err)
			return append(all[:0], batch...)
		}
		if err != nil {
			// The actions themselves happened; an audit gap is logged loudly.
			a.log.Error("audit write failed", "events", n, "err", err)
		}
		batch = batch[n:]
	}
	return all[:0]
}

// append stores events in one transaction. An event already stored (an
// earlier try was kept although its answer was lost) is a conflict; then
// each is stored alone and the ones already there are passed over.
func (a *Log) append(events []store.AuditEvent) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := a.st.AppendAudits(ctx, events)
	if !errors.Is(err, store.ErrConflict) {
		return err
	}
	for _, e := range events {
		if err := a.st.AppendAudit(ctx, e); err != nil && !errors.Is(err, store.ErrConflict) {
			return err
		}
	}
	return nil
}

// Record queues an event of the actor's, at now, with the actor's facts
// (token, address, surface) in its detail. The facts travel on the Actor,
// so recording them costs no query.
func (a *Log) Record(actor identity.Actor, accountID, action string, detail map[string]string, now time.Time) {
	a.Add(store.AuditEvent{
		ID:          ids.New(ids.Event, now),
		WorkspaceID: actor.WorkspaceID,
		ActorID:     actor.UserID,
		AccountID:   accountID,
		Action:      action,
		Detail:      actor.AuditDetail(detail),
		CreatedAt:   now.UTC(),
	})
}

// Event is one entry of the audit log as callers see it. The actor's
// facts (token, address, surface) are lifted out of the stored detail.
type Event struct {
	ID        string
	ActorID   string
	AccountID string
	Action    string
	// TokenID and TokenName name the API token the actor used; empty for
	// a session and for the system.
	TokenID, TokenName string
	// Addr is the client's address; Surface is how it came (api, web,
	// workflow, cli-exec).
	Addr, Surface string
	// Detail holds non-secret facts about the event.
	Detail    map[string]string
	CreatedAt time.Time
}

// EventsOf is the callers' view of stored events.
func EventsOf(list []store.AuditEvent) []Event {
	out := make([]Event, len(list))
	for i, e := range list {
		out[i] = eventOf(e)
	}
	return out
}

func eventOf(e store.AuditEvent) Event {
	out := Event{ID: e.ID, ActorID: e.ActorID, AccountID: e.AccountID, Action: e.Action, CreatedAt: e.CreatedAt}
	facts := map[string]*string{
		identity.DetailTokenID: &out.TokenID, identity.DetailTokenName: &out.TokenName,
		identity.DetailAddr: &out.Addr, identity.DetailSurface: &out.Surface,
	}
	for k, v := range e.Detail {
		if p, ok := facts[k]; ok {
			*p = v
			continue
		}
		if out.Detail == nil {
			out.Detail = make(map[string]string, len(e.Detail))
		}
		out.Detail[k] = v
	}
	return out
}
