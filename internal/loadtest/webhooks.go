package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// FanOutOptions configure a webhook fan-out run.
type FanOutOptions struct {
	// Latchkey is the latchkey binary to run as the server, a process of
	// its own.
	Latchkey string
	// Events are how many changes (key accounts connected) are made, each
	// one account.connected event; Endpoints how many endpoints take each.
	Events, Endpoints int
	// Concurrency is how many clients make the changes at once.
	Concurrency int
	// Timeout bounds the whole run.
	Timeout time.Duration
	// ServerLog receives the server's log; nil discards it.
	ServerLog io.Writer
}

// FanOutResult is what a fan-out run measured.
type FanOutResult struct {
	Events, Endpoints int
	// Deliveries arrived and verified, each counted once.
	Deliveries int
	// Duplicates arrived again (the same webhook-id to the same
	// endpoint); Unverified failed the signature check.
	Duplicates, Unverified int
	// Changes is how long making the changes took; Elapsed runs from the
	// first change to the last delivery.
	Changes, Elapsed time.Duration
	// Delays are, per delivery, its arrival less its event's time, sorted.
	Delays []time.Duration
}

// EventsPerSecond is events fanned out to every endpoint per second,
// first change to last delivery.
func (r FanOutResult) EventsPerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Deliveries) / float64(max(r.Endpoints, 1)) / r.Elapsed.Seconds()
}

// Percentile is the delay below which the fraction p of deliveries came.
func (r FanOutResult) Percentile(p float64) time.Duration {
	if len(r.Delays) == 0 {
		return 0
	}
	i := min(int(p*float64(len(r.Delays))), len(r.Delays)-1)
	return r.Delays[i]
}

// fanReceiver is the endpoints' receiver: /hook/{n} is endpoint n. It
// verifies every signature with the Standard Webhooks library.
type fanReceiver struct {
	mu        sync.Mutex
	hooks     []*standardwebhooks.Webhook
	seen      map[string]bool
	delays    []time.Duration
	last      time.Time
	dups, bad int
	arrived   atomic.Int64
}

func (f *fanReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	n, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/hook/"))
	f.mu.Lock()
	defer f.mu.Unlock()
	if err != nil || n < 0 || n >= len(f.hooks) || f.hooks[n] == nil || f.hooks[n].Verify(body, r.Header) != nil {
		f.bad++
		http.Error(w, "not verified", http.StatusBadRequest)
		return
	}
	key := strconv.Itoa(n) + "/" + r.Header.Get("webhook-id")
	if f.seen[key] {
		f.dups++
		return
	}
	f.seen[key] = true
	var ev struct{ Timestamp time.Time }
	if json.Unmarshal(body, &ev) == nil && !ev.Timestamp.IsZero() {
		f.delays = append(f.delays, now.Sub(ev.Timestamp))
	}
	f.last = now
	f.arrived.Add(1)
}

// loopback listens on a free loopback port.
func loopback() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }

func serve(ln net.Listener, h http.Handler) *http.Server {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return srv
}

// FanOut runs the latchkey binary on SQLite in a temporary folder, adds
// the endpoints, makes the changes through the API, and waits for every
// delivery at the receiver in this process. Everything is on loopback.
func FanOut(ctx context.Context, o FanOutOptions) (res FanOutResult, err error) {
	res.Events, res.Endpoints = o.Events, o.Endpoints
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	dir, err := os.MkdirTemp("", "latchkey-fanout-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)

	// A stand-in for SendGrid's identity request, so connecting reaches
	// nothing off this machine.
	pln, err := loopback()
	if err != nil {
		return res, err
	}
	provider := serve(pln, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"first_name":"Load","last_name":"Test"}`))
	}))
	defer provider.Close()
	rcv := &fanReceiver{hooks: make([]*standardwebhooks.Webhook, o.Endpoints), seen: map[string]bool{}}
	rln, err := loopback()
	if err != nil {
		return res, err
	}
	receiver := serve(rln, rcv)
	defer receiver.Close()
	sln, err := loopback()
	if err != nil {
		return res, err
	}
	listen := sln.Addr().String()
	sln.Close()

	logOut := o.ServerLog
	if logOut == nil {
		logOut = io.Discard
	}
	cmd := exec.Command(o.Latchkey, "serve")
	cmd.Env = append(cleanEnv(), "LATCHKEY_DATA_DIR="+dir, "LATCHKEY_LISTEN="+listen,
		"LATCHKEY_APP_ORIGINS=sendgrid=http://"+pln.Addr().String(), "LATCHKEY_WEBHOOK_ORIGINS=http://"+rln.Addr().String(),
		"LATCHKEY_REFRESH_INTERVAL=0", "LATCHKEY_LOG_LEVEL=warn")
	cmd.Stdout, cmd.Stderr = logOut, logOut
	if err := cmd.Start(); err != nil {
		return res, fmt.Errorf("start %s: %w", o.Latchkey, err)
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	base := "http://" + listen
	hc := NewClient(o.Concurrency)
	if err := waitUp(ctx, hc, base); err != nil {
		return res, err
	}
	token, err := os.ReadFile(filepath.Join(dir, "admin.token"))
	if err != nil {
		return res, err
	}
	api := &apiClient{hc: hc, base: base, token: strings.TrimSpace(string(token))}

	for i := range o.Endpoints {
		var ep struct{ Secret string }
		if err := api.post(ctx, "/v1/webhooks", fmt.Sprintf(`{"url":"http://%s/hook/%d","event_types":["account.connected"]}`, rln.Addr(), i), http.StatusCreated, &ep); err != nil {
			return res, err
		}
		wh, err := standardwebhooks.NewWebhook(ep.Secret)
		if err != nil {
			return res, err
		}
		rcv.mu.Lock()
		rcv.hooks[i] = wh
		rcv.mu.Unlock()
	}

	start := time.Now()
	var (
		next atomic.Int64
		wg   sync.WaitGroup
		errs = make(chan error, o.Concurrency)
	)
	for range o.Concurrency {
		wg.Go(func() {
			for next.Add(1) <= int64(o.Events) {
				if err := api.post(ctx, "/v1/accounts", `{"app":"sendgrid","fields":{"api_key":"SG.load"},"test":false}`, http.StatusCreated, nil); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	res.Changes = time.Since(start)
	close(errs)
	if err := <-errs; err != nil {
		return res, err
	}
	want := int64(o.Events * o.Endpoints)
	for rcv.arrived.Load() < want {
		select {
		case <-ctx.Done():
			return res, fmt.Errorf("%d of %d deliveries arrived before the time ran out", rcv.arrived.Load(), want)
		case <-time.After(20 * time.Millisecond):
		}
	}
	// A little longer, for anything sent twice.
	time.Sleep(500 * time.Millisecond)
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	res.Deliveries, res.Duplicates, res.Unverified = len(rcv.seen), rcv.dups, rcv.bad
	res.Elapsed = rcv.last.Sub(start)
	res.Delays = slices.Clone(rcv.delays)
	slices.Sort(res.Delays)
	return res, nil
}

// cleanEnv is this process's environment without LATCHKEY_ settings, so
// the server runs on what FanOut gives it alone.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LATCHKEY_") {
			out = append(out, kv)
		}
	}
	return out
}

func waitUp(ctx context.Context, hc *http.Client, base string) error {
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/healthz", nil)
		if resp, err := hc.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return errors.New("the latchkey server did not come up")
		case <-time.After(50 * time.Millisecond):
		}
	}
}

type apiClient struct {
	hc          *http.Client
	base, token string
}

func (a *apiClient) post(ctx context.Context, path, body string, want int, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.base+path, bytes.NewReader([]byte(body)))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.hc.Do(req)
	if err != nil {
		return fmt.Errorf("POST %s: %w", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != want {
		return fmt.Errorf("POST %s: %s: %s", path, resp.Status, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}
