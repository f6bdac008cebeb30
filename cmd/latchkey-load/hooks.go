package main

import (
	"encoding/json"
	"net/http"
	"sync"
)

// hooks is the stand-in's webhook receiver (POST /hooks): it takes every
// delivery with a 204 and counts them by webhook-id, so that a run can
// tell deliveries from repeats of one (delivery is at least once). GET
// /hooks/stats answers the counts. It checks no signature: the soak asks
// whether deliveries arrive, not whether they verify (the webhook tests
// do that).
type hooks struct {
	mu   sync.Mutex
	seen map[string]int
}

func newHooks() *hooks { return &hooks{seen: map[string]int{}} }

func (h *hooks) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := r.Header.Get("webhook-id")
	if id == "" {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	h.seen[id]++
	h.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// hookStats is what GET /hooks/stats answers: events that arrived, and
// arrivals beyond the first of an event.
type hookStats struct {
	Events  int `json:"events"`
	Repeats int `json:"repeats"`
}

func (h *hooks) serveStats(w http.ResponseWriter, _ *http.Request) {
	h.mu.Lock()
	s := hookStats{Events: len(h.seen)}
	for _, n := range h.seen {
		s.Repeats += n - 1
	}
	h.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(s)
}
