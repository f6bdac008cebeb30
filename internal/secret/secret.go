// Package secret provides a string type for credentials that cannot reach a
// log line, an error message or a JSON body by accident: it prints, logs and
// marshals as "[redacted]". Code that must send the value calls Reveal.
package secret

import (
	"fmt"
	"log/slog"
)

// Redacted is what a secret shows in place of its value.
const Redacted = "[redacted]"

// String holds a secret value.
type String struct{ v string }

// New wraps a value.
func New(v string) String { return String{v: v} }

// Reveal returns the value itself, for the places that must send it.
func (s String) Reveal() string { return s.v }

// IsZero reports whether the secret is empty.
func (s String) IsZero() bool { return s.v == "" }

// String implements fmt.Stringer.
func (s String) String() string { return Redacted }

// GoString implements fmt.GoStringer, so %#v hides the value too.
func (s String) GoString() string { return Redacted }

// Format hides the value for every verb, %x and %q included.
func (s String) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(Redacted)) }

// LogValue implements slog.LogValuer.
func (s String) LogValue() slog.Value { return slog.StringValue(Redacted) }

// MarshalJSON implements json.Marshaler.
func (s String) MarshalJSON() ([]byte, error) { return []byte(`"` + Redacted + `"`), nil }

// MarshalText implements encoding.TextMarshaler.
func (s String) MarshalText() ([]byte, error) { return []byte(Redacted), nil }
