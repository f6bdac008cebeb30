package ids

import (
	"testing"
	"time"

	"github.com/oklog/ulid/v2"
)

// Every id made in Floor's millisecond or later sorts at or after it, and
// every id made earlier before it: a time bound can be an id bound.
func TestFloor(t *testing.T) {
	times := []time.Time{
		time.UnixMilli(0),
		time.Date(2026, 1, 31, 12, 0, 0, 0, time.UTC),
		time.Date(2026, 1, 31, 12, 0, 0, 999_999, time.UTC),
		time.Date(2031, 7, 4, 23, 59, 59, 999_999_999, time.FixedZone("X", 3600)),
	}
	for _, at := range times {
		floor, ok := Floor(Event, at)
		if !ok || !Valid(Event, floor) {
			t.Fatalf("Floor(%v) = %q, %v; want a valid id", at, floor, ok)
		}
		ms := at.Truncate(time.Millisecond)
		for _, made := range []time.Time{ms, at, ms.Add(time.Millisecond - 1), ms.Add(time.Millisecond), ms.Add(time.Hour)} {
			if id := New(Event, made); id < floor {
				t.Errorf("New at %v = %s sorts before Floor(%v) = %s", made, id, at, floor)
			}
		}
		if ms.After(time.UnixMilli(0)) {
			if id := New(Event, ms.Add(-time.Nanosecond)); id >= floor {
				t.Errorf("New a moment before %v = %s sorts at or after Floor = %s", ms, id, floor)
			}
		}
	}
	for _, at := range []time.Time{time.UnixMilli(-1), ulid.Time(ulid.MaxTime()).Add(time.Millisecond)} {
		if id, ok := Floor(Event, at); ok {
			t.Errorf("Floor(%v) = %q, true; want false, outside an id's times", at, id)
		}
	}
}
