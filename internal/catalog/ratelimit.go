package catalog

import (
	"fmt"
	"strings"
)

// RateLimit says how an app tells a client when it may call again, beyond
// the standard Retry-After header, which is always honoured first.
type RateLimit struct {
	// ResetHeader names the answer's header that says when the limit
	// resets (GitHub: X-RateLimit-Reset).
	ResetHeader string `yaml:"reset_header" json:"reset_header"`
	// ResetFormat is how to read it: "unix" (seconds since the epoch, the
	// default), "unix_ms" (milliseconds since the epoch) or "seconds" (a
	// delay from now).
	ResetFormat string `yaml:"reset_format,omitempty" json:"reset_format,omitempty"`
}

// Rate-limit reset formats.
const (
	ResetUnix    = "unix"
	ResetUnixMS  = "unix_ms"
	ResetSeconds = "seconds"
)

// Format is the reset format, the default filled in.
func (r *RateLimit) Format() string {
	if r.ResetFormat == "" {
		return ResetUnix
	}
	return r.ResetFormat
}

func (r *RateLimit) validate() []error {
	var errs []error
	if r.ResetHeader == "" || strings.ContainsAny(r.ResetHeader, " :\r\n\t") {
		errs = append(errs, fmt.Errorf("rate_limit.reset_header: %q is not a header name", r.ResetHeader))
	}
	switch r.ResetFormat {
	case "", ResetUnix, ResetUnixMS, ResetSeconds:
	default:
		errs = append(errs, fmt.Errorf("rate_limit.reset_format: %q must be %s, %s or %s", r.ResetFormat, ResetUnix, ResetUnixMS, ResetSeconds))
	}
	return errs
}
