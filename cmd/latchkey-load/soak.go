package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/latchkeyhq/latchkey/internal/loadtest"
)

// soak is `latchkey-load soak`: mixed traffic against several replicas of
// one installation, each at its own loopback URL, for a bounded time.
// Each worker sends a credential read (most), a create or a rename to
// one replica after another; a replica that cannot be reached (killed,
// restarting) is skipped for the next, as a client with several
// addresses does, and counted as unreachable rather than as an answer.
// It prints every operation's answers by status class, and exits 1 if any
// answer was a 5xx.
func soak(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("latchkey-load soak", flag.ContinueOnError)
	fs.SetOutput(stderr)
	urls := fs.String("urls", "", "the replicas' loopback base URLs, comma separated (required)")
	token := fs.String("token", "", "an API token of the installation (required)")
	app := fs.String("app", "", "a key app whose test and identity requests answer (required)")
	key := fs.String("key", "", "the key its stand-in accepts (required)")
	duration := fs.Duration("duration", 10*time.Minute, "how long the soak runs (at most 1h)")
	concurrency := fs.Int("concurrency", 8, "workers")
	rate := fs.Int("rate", 200, "requests a second in all, at most")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var bases []string
	for _, u := range strings.Split(*urls, ",") {
		if u = strings.TrimSpace(u); u != "" {
			bases = append(bases, strings.TrimSuffix(u, "/"))
		}
	}
	for _, b := range bases {
		pu, err := url.Parse(b)
		if err != nil || pu.Scheme != "http" || !loopback(pu.Hostname()) {
			fmt.Fprintf(stderr, "latchkey-load soak: %q is not a loopback http URL\n", b)
			return 2
		}
	}
	switch {
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "latchkey-load soak: unexpected arguments %q\n", fs.Args())
		return 2
	case len(bases) == 0 || *token == "" || *app == "" || *key == "":
		fmt.Fprintln(stderr, "latchkey-load soak: -urls, -token, -app and -key are required")
		return 2
	case *duration <= 0 || *duration > time.Hour || *concurrency < 1 || *rate < 1:
		fmt.Fprintln(stderr, "latchkey-load soak: -duration must be from 0 to 1h, -concurrency and -rate at least 1")
		return 2
	}
	s := &soaker{bases: bases, token: *token, app: *app, key: *key, hc: loadtest.NewClient(*concurrency * len(bases)),
		counts: map[string]map[string]int{}, start: time.Now()}
	s.hc.Timeout = 10 * time.Second
	ctx, cancel := context.WithTimeout(ctx, *duration)
	defer cancel()
	// A few accounts to read and rename from the start.
	for len(s.ids) < 20 && ctx.Err() == nil {
		s.step(ctx, 0, "create")
	}
	tick := time.NewTicker(time.Second / time.Duration(*rate))
	defer tick.Stop()
	var wg sync.WaitGroup
	for w := range *concurrency {
		wg.Go(func() {
			for i := w; ; i++ {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
				op := "read"
				switch r := rand.IntN(100); {
				case r < 10:
					op = "create"
				case r < 20:
					op = "rename"
				}
				s.step(ctx, i, op)
			}
		})
	}
	wg.Wait()
	return s.report(stdout)
}

type soaker struct {
	bases             []string
	token, app, key   string
	hc                *http.Client
	start             time.Time
	mu                sync.Mutex
	ids               []string
	counts            map[string]map[string]int // op -> class -> n
	fivexx            []string
	unreachable, gone int
}

// step sends op to the replicas in turn from the i-th, until one answers.
func (s *soaker) step(ctx context.Context, i int, op string) {
	for k := range s.bases {
		base := s.bases[(i+k)%len(s.bases)]
		status, id, err := s.send(ctx, base, op)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			s.mu.Lock()
			s.unreachable++
			s.mu.Unlock()
			continue
		}
		class := fmt.Sprintf("%dxx", status/100)
		s.mu.Lock()
		if s.counts[op] == nil {
			s.counts[op] = map[string]int{}
		}
		s.counts[op][class]++
		if status >= 500 {
			s.fivexx = append(s.fivexx, fmt.Sprintf("+%.1fs %s %s: %d", time.Since(s.start).Seconds(), op, base, status))
		}
		if id != "" {
			s.ids = append(s.ids, id)
		}
		s.mu.Unlock()
		return
	}
	s.mu.Lock()
	s.gone++ // no replica answered at all
	s.mu.Unlock()
}

func (s *soaker) pick() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.ids) == 0 {
		return ""
	}
	return s.ids[rand.IntN(len(s.ids))]
}

// send makes one request; err is a transport error (no answer at all).
func (s *soaker) send(ctx context.Context, base, op string) (int, string, error) {
	var req *http.Request
	var err error
	switch id := s.pick(); {
	case op == "create" || id == "":
		op = "create"
		body, _ := json.Marshal(map[string]any{"app": s.app, "nickname": "soak", "fields": map[string]string{"api_key": s.key}})
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/accounts", bytes.NewReader(body))
	case op == "rename":
		body, _ := json.Marshal(map[string]string{"nickname": fmt.Sprintf("soak %d", rand.IntN(1000))})
		req, err = http.NewRequestWithContext(ctx, http.MethodPatch, base+"/v1/accounts/"+id, bytes.NewReader(body))
	default:
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/accounts/"+id+"/credentials", nil)
	}
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.hc.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	var created struct {
		ID string `json:"id"`
	}
	if op == "create" && resp.StatusCode == http.StatusCreated {
		_ = json.NewDecoder(resp.Body).Decode(&created)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, created.ID, nil
}

func (s *soaker) report(w io.Writer) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	ops := make([]string, 0, len(s.counts))
	for op := range s.counts {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	total := 0
	for _, op := range ops {
		var parts []string
		classes := make([]string, 0, len(s.counts[op]))
		for c := range s.counts[op] {
			classes = append(classes, c)
		}
		sort.Strings(classes)
		for _, c := range classes {
			parts = append(parts, fmt.Sprintf("%s %d", c, s.counts[op][c]))
			total += s.counts[op][c]
		}
		fmt.Fprintf(w, "soak: %-6s %s\n", op, strings.Join(parts, ", "))
	}
	el := time.Since(s.start).Seconds()
	fmt.Fprintf(w, "soak: %d answers in %.0f s (%.0f/s); %d tries found a replica unreachable and went to the next; %d found none\n", total, el, float64(total)/el, s.unreachable, s.gone)
	fmt.Fprintf(w, "soak: 5xx answers: %d\n", len(s.fivexx))
	for _, l := range s.fivexx[:min(len(s.fivexx), 20)] {
		fmt.Fprintf(w, "soak:   %s\n", l)
	}
	if len(s.fivexx) > 0 {
		return 1
	}
	return 0
}
