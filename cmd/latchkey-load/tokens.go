package main

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// tokens is the stand-in's OAuth 2 token endpoint for refresh grants, built
// to catch a double refresh. Refresh tokens rotate: "rt.<n>.<gen>" is
// account n's token of generation gen (a seeded one is generation 0), and
// each refresh answers generation gen+1. Spending a token that is not the
// account's newest, as a second refresh of the same grant would, is
// counted as a reuse and refused with invalid_grant, as a rotating
// provider does.
type tokens struct {
	clientID, clientSecret string
	expiresIn              int
	delay                  time.Duration

	mu       sync.Mutex
	gen      map[int]int // account -> newest generation
	per      map[int]int // account -> refreshes answered
	seconds  map[int64]int
	reused   int
	inFlight int
	maxIn    int
}

func newTokens(clientID, clientSecret string, expiresIn int, delay time.Duration) *tokens {
	return &tokens{clientID: clientID, clientSecret: clientSecret, expiresIn: expiresIn, delay: delay,
		gen: map[int]int{}, per: map[int]int{}, seconds: map[int64]int{}}
}

func (t *tokens) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t.mu.Lock()
	t.inFlight++
	t.maxIn = max(t.maxIn, t.inFlight)
	t.mu.Unlock()
	defer func() {
		t.mu.Lock()
		t.inFlight--
		t.mu.Unlock()
	}()
	if t.delay > 0 {
		// A provider's think time: what makes the concurrency cap matter.
		time.Sleep(t.delay)
	}
	id, secret, ok := r.BasicAuth()
	if r.Method != http.MethodPost || !ok || id != t.clientID || secret != t.clientSecret {
		tokenError(w, http.StatusUnauthorized, "invalid_client")
		return
	}
	if r.ParseForm() != nil || r.PostForm.Get("grant_type") != "refresh_token" {
		tokenError(w, http.StatusBadRequest, "unsupported_grant_type")
		return
	}
	n, gen, ok := parseRefresh(r.PostForm.Get("refresh_token"))
	if !ok {
		tokenError(w, http.StatusBadRequest, "invalid_grant")
		return
	}
	t.mu.Lock()
	if gen != t.gen[n] {
		t.reused++
		t.mu.Unlock()
		tokenError(w, http.StatusBadRequest, "invalid_grant")
		return
	}
	t.gen[n] = gen + 1
	t.per[n]++
	t.seconds[time.Now().Unix()]++
	t.mu.Unlock()
	suffix := strconv.Itoa(n) + "." + strconv.Itoa(gen+1)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"access_token": "at." + suffix, "refresh_token": "rt." + suffix, "token_type": "bearer", "expires_in": t.expiresIn,
	})
}

func parseRefresh(s string) (n, gen int, ok bool) {
	parts := strings.Split(s, ".")
	if len(parts) != 3 || parts[0] != "rt" {
		return 0, 0, false
	}
	n, err1 := strconv.Atoi(parts[1])
	gen, err2 := strconv.Atoi(parts[2])
	return n, gen, err1 == nil && err2 == nil && n >= 0 && gen >= 0
}

func tokenError(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code})
}

// tokenStats is what GET /stats answers.
type tokenStats struct {
	Refreshes int `json:"refreshes"`
	// Accounts were refreshed at least once, Twice at least twice.
	Accounts int `json:"accounts"`
	Twice    int `json:"twice"`
	// Reused counts spent refresh tokens presented again.
	Reused      int `json:"reused"`
	MaxInFlight int `json:"max_in_flight"`
	// PerSecond is refreshes answered in each second, from the first.
	First     int64 `json:"first_unix"`
	PerSecond []int `json:"per_second"`
}

func (t *tokens) stats() tokenStats {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := tokenStats{Accounts: len(t.per), Reused: t.reused, MaxInFlight: t.maxIn}
	for _, c := range t.per {
		s.Refreshes += c
		if c > 1 {
			s.Twice++
		}
	}
	var first, last int64
	for sec := range t.seconds {
		if first == 0 || sec < first {
			first = sec
		}
		last = max(last, sec)
	}
	if first != 0 {
		s.First = first
		s.PerSecond = make([]int, last-first+1)
		for sec, c := range t.seconds {
			s.PerSecond[sec-first] = c
		}
	}
	return s
}

func (t *tokens) serveStats(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(t.stats())
}
