package server

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// middleware wraps every request: security headers, panic recovery, an
// access log line without query strings (they may carry OAuth codes), and
// request metrics by route pattern.
func (s *Server) middleware(next http.Handler) http.Handler {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "latchkey_http_requests_total", Help: "HTTP requests by route and status.",
	}, []string{"route", "status"})
	latency := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "latchkey_http_request_duration_seconds", Help: "HTTP request latency by route.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
	}, []string{"route"})
	s.registry.MustRegister(requests, latency)
	metrics := &routeMetrics{requests: requests, latency: latency, routes: map[string]*routeSeries{}}
	debug := s.log.Enabled(context.Background(), slog.LevelDebug)

	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.clock.Now()
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			p := recover()
			if p == http.ErrAbortHandler {
				// A handler breaking off a response on purpose (the proxy,
				// when an answer is cut): count it, then let net/http
				// close the connection.
				defer panic(p)
			} else if p != nil {
				s.log.ErrorContext(r.Context(), "panic serving request", "method", r.Method, "path", logPath(r.URL.Path), "panic", p)
				if rec.status == 0 {
					http.Error(rec, "internal error", http.StatusInternalServerError)
				}
			}
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			elapsed := s.clock.Since(start)
			metrics.observe(route, rec.status, elapsed)
			if debug {
				s.log.DebugContext(r.Context(), "request", "method", r.Method, "path", logPath(r.URL.Path), "status", rec.status, "duration", elapsed.Round(time.Microsecond))
			}
		}()
		next.ServeHTTP(rec, r)
	})
}

// routeMetrics holds the series of each route, so that a request looks
// its series up in a map rather than hashing its labels in the vectors.
type routeMetrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	mu       sync.RWMutex
	routes   map[string]*routeSeries
}

// routeSeries are one route's series; byStatus holds the few statuses it
// answers with.
type routeSeries struct {
	latency  prometheus.Observer
	mu       sync.RWMutex
	byStatus map[int]prometheus.Counter
}

func (m *routeMetrics) observe(route string, status int, elapsed time.Duration) {
	m.mu.RLock()
	rs := m.routes[route]
	m.mu.RUnlock()
	if rs == nil {
		m.mu.Lock()
		if rs = m.routes[route]; rs == nil {
			rs = &routeSeries{latency: m.latency.WithLabelValues(route), byStatus: map[int]prometheus.Counter{}}
			m.routes[route] = rs
		}
		m.mu.Unlock()
	}
	rs.mu.RLock()
	c := rs.byStatus[status]
	rs.mu.RUnlock()
	if c == nil {
		rs.mu.Lock()
		if c = rs.byStatus[status]; c == nil {
			c = m.requests.WithLabelValues(route, strconv.Itoa(status))
			rs.byStatus[status] = c
		}
		rs.mu.Unlock()
	}
	c.Inc()
	rs.latency.Observe(elapsed.Seconds())
}

// logPath keeps the token of an invitation or reset link out of the log.
func logPath(p string) string {
	for _, prefix := range []string{"/invite/", "/reset/"} {
		if strings.HasPrefix(p, prefix) {
			return prefix + "[redacted]"
		}
	}
	return p
}
