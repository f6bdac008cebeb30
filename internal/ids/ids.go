// Package ids makes the prefixed, time-ordered identifiers Latchkey gives
// its records ("acc_01j9...", "usr_01j9...").
package ids

import (
	"crypto/rand"
	"strings"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"
)

// Prefixes of the record kinds.
const (
	Workspace  = "wsp"
	User       = "usr"
	APIToken   = "tok"
	Account    = "acc"
	Event      = "evt"
	Invitation = "inv"
	// Webhook endpoints, outbox messages (Standard Webhooks calls an
	// event a message), deliveries and their attempts.
	WebhookEndpoint = "whk"
	WebhookMessage  = "msg"
	WebhookDelivery = "whd"
	WebhookAttempt  = "wha"
)

// entropy is monotonic, so ids made in one millisecond by this process
// still sort in the order they were made.
var (
	mu      sync.Mutex
	entropy = ulid.Monotonic(rand.Reader, 0)
)

// New returns prefix_ followed by a lower-case ULID made at t, so ids sort by
// creation time.
func New(prefix string, t time.Time) string {
	mu.Lock()
	id, err := ulid.New(ulid.Timestamp(t), entropy)
	mu.Unlock()
	if err != nil {
		// The monotonic entropy overflows only after 2^80 ids in one
		// millisecond, or when the clock goes back; start afresh.
		id = ulid.MustNew(ulid.Timestamp(t), rand.Reader)
	}
	return prefix + "_" + strings.ToLower(id.String())
}

// Valid reports whether s looks like an id with the given prefix.
func Valid(prefix, s string) bool {
	rest, ok := strings.CutPrefix(s, prefix+"_")
	if !ok || len(rest) != ulid.EncodedSize {
		return false
	}
	_, err := ulid.ParseStrict(strings.ToUpper(rest))
	return err == nil
}

// Floor returns the least id New makes at t's millisecond, so that every
// id made at t or later sorts at or after it; ok is false when t is outside
// the times an id can hold (before 1970, after the year 10889).
func Floor(prefix string, t time.Time) (id string, ok bool) {
	if t.Before(time.UnixMilli(0)) || t.After(ulid.Time(ulid.MaxTime())) {
		return "", false
	}
	var u ulid.ULID
	if err := u.SetTime(ulid.Timestamp(t)); err != nil {
		return "", false
	}
	return prefix + "_" + strings.ToLower(u.String()), true
}
