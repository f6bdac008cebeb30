// Package loadtest measures Latchkey's warm credential read over HTTP on
// loopback against a bare net/http handler that returns a JSON body of the
// same size. The benchmark in internal/server and the latchkey-load command
// share it, so both measure the same way: one HTTP client with keep-alive
// and enough idle connections for every worker, a fixed number of workers,
// a warm-up, then a timed run. Start runs the Latchkey to measure, with an
// authorization server of its own, without the testing package.
package loadtest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultConcurrency is the number of workers (and of keep-alive
// connections) when none is given.
const DefaultConcurrency = 16

// Target is one GET request to repeat.
type Target struct {
	URL    string
	Header http.Header
	// BodyLen, when above 0, is the body length every answer must have.
	BodyLen int64
}

// NewClient returns an HTTP client that keeps a connection alive for each
// of concurrency workers, so a run measures requests, not TCP handshakes.
func NewClient(concurrency int) *http.Client {
	if concurrency < 1 {
		concurrency = 1
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 2 * concurrency
	tr.MaxIdleConnsPerHost = concurrency
	tr.MaxConnsPerHost = 0
	tr.IdleConnTimeout = time.Minute
	tr.DisableCompression = true
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// Do sends one request for target and reads the whole answer; anything but
// a 200 with the expected body length is an error.
func Do(ctx context.Context, c *http.Client, t Target) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.URL, nil)
	if err != nil {
		return err
	}
	for k, v := range t.Header {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", t.URL, resp.Status)
	}
	if t.BodyLen > 0 && n != t.BodyLen {
		return fmt.Errorf("GET %s: body of %d bytes, want %d", t.URL, n, t.BodyLen)
	}
	return nil
}

// Options shape a run.
type Options struct {
	// Concurrency is the number of workers, each sending one request
	// after another. Default DefaultConcurrency.
	Concurrency int
	// Warmup runs before the measurement and is not counted.
	Warmup time.Duration
	// Duration is the measured time.
	Duration time.Duration
}

// Result is what a run measured.
type Result struct {
	Requests int64
	Elapsed  time.Duration
}

// Rate is requests per second.
func (r Result) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// Run keeps o.Concurrency workers sending requests for target through c:
// for o.Warmup uncounted, then for o.Duration counted. It stops early when
// ctx ends (the result covers the time until then) and fails on the first
// request that goes wrong.
func Run(ctx context.Context, c *http.Client, target Target, o Options) (Result, error) {
	if o.Concurrency < 1 {
		o.Concurrency = DefaultConcurrency
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		done     atomic.Int64
		errOnce  sync.Once
		firstErr error
		wg       sync.WaitGroup
	)
	for range o.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if err := Do(ctx, c, target); err != nil {
					if ctx.Err() == nil {
						errOnce.Do(func() { firstErr = err; cancel() })
					}
					return
				}
				done.Add(1)
			}
		}()
	}
	wait := func(d time.Duration) {
		if d <= 0 {
			return
		}
		tm := time.NewTimer(d)
		defer tm.Stop()
		select {
		case <-tm.C:
		case <-ctx.Done():
		}
	}
	wait(o.Warmup)
	n0, t0 := done.Load(), time.Now()
	wait(o.Duration)
	n1, t1 := done.Load(), time.Now()
	cancel()
	wg.Wait()
	if firstErr != nil {
		return Result{}, firstErr
	}
	return Result{Requests: n1 - n0, Elapsed: t1.Sub(t0)}, nil
}

// JSONBody returns a JSON object of exactly n bytes (at least 12), with a
// trailing newline as json.Encoder writes: {"data":"xxx...x"}\n.
func JSONBody(n int) []byte {
	const frame = len(`{"data":""}` + "\n")
	if n < frame+1 {
		n = frame + 1
	}
	return []byte(`{"data":"` + strings.Repeat("x", n-frame) + `"}` + "\n")
}

// Bare is a plain net/http server on loopback that answers every request
// with the same JSON body.
type Bare struct {
	*httptest.Server
	Body []byte
}

// NewBare starts a bare handler returning a JSON body of bodyLen bytes
// with Content-Type application/json. Close it when done.
func NewBare(bodyLen int) *Bare {
	body := JSONBody(bodyLen)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
	// httptest listens on 127.0.0.1 with a plain http.Server.
	return &Bare{Server: httptest.NewServer(h), Body: body}
}

// Target is a request to the bare handler.
func (b *Bare) Target() Target {
	return Target{URL: b.URL + "/", Header: http.Header{}, BodyLen: int64(len(b.Body))}
}
