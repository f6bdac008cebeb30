package proxy

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/latchkeyhq/latchkey/internal/catalog"
)

// RetryWait is how long to wait before sending again after a 429 or 503:
// Retry-After (seconds or an HTTP date), else the app's own reset header
// where the catalog names one, else a second.
func RetryWait(h http.Header, rl *catalog.RateLimit, now time.Time) time.Duration {
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
			return clampSeconds(float64(n))
		}
		if t, err := http.ParseTime(v); err == nil {
			return max(t.Sub(now), 0)
		}
	}
	if rl != nil {
		if v := strings.TrimSpace(h.Get(rl.ResetHeader)); v != "" {
			if n, err := strconv.ParseFloat(v, 64); err == nil && n >= 0 {
				switch rl.Format() {
				case catalog.ResetSeconds:
					return clampSeconds(n)
				case catalog.ResetUnixMS:
					return max(time.UnixMilli(int64(n)).Sub(now), 0)
				default:
					return max(time.Unix(int64(n), 0).Sub(now), 0)
				}
			}
		}
	}
	return defaultWait
}

// clampSeconds turns seconds into a duration without overflowing: a
// year is as good as forever here.
func clampSeconds(n float64) time.Duration {
	const year = 365 * 24 * time.Hour
	if n > year.Seconds() {
		return year
	}
	return time.Duration(n * float64(time.Second))
}
