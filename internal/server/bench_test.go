package server_test

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/loadtest"
	"github.com/latchkeyhq/latchkey/internal/server"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
)

// The benchmarks below measure the warm credential read over HTTP on
// loopback and a bare net/http handler returning a JSON body of the same
// size, the same way (internal/loadtest: one keep-alive client, benchWorkers
// concurrent requests), so their rates compare:
//
//	go test -run XXX -bench . -benchtime 3s ./internal/server/
//
// BenchmarkBareHandler runs first and the credential reads report their
// rate as a fraction of its rate ("ratio"). go run ./cmd/latchkey-load
// measures the same from the command line.

// benchWorkers is the number of requests in flight.
const benchWorkers = loadtest.DefaultConcurrency

// benchWarmup runs before each measured loop, uncounted.
const benchWarmup = 200 * time.Millisecond

// bareRate is the last rate BenchmarkBareHandler measured, in req/s.
var (
	bareMu   sync.Mutex
	bareRate float64
)

// BenchmarkBareHandler measures a plain net/http handler that answers with
// a JSON body as long as a credential read's answer. It is declared first
// so that it runs before BenchmarkCredentialRead.
func BenchmarkBareHandler(b *testing.B) {
	// The credential read's body length, from a real Latchkey that is
	// stopped before the measurement.
	lk := startLoad(b, "")
	lk.Stop()
	bare := loadtest.NewBare(len(lk.Body))
	defer bare.Close()
	rate := measure(b, bare.Target())
	bareMu.Lock()
	bareRate = rate
	bareMu.Unlock()
}

// BenchmarkCredentialRead measures GET /v1/accounts/{id}/credentials of an
// OAuth 2 account whose access token is valid (no refresh happens), with
// the server's default log level.
func BenchmarkCredentialRead(b *testing.B) {
	for _, be := range servertest.Backends {
		b.Run(be.Name, func(b *testing.B) {
			lk := startLoad(b, be.DatabaseURL(b))
			rate := measure(b, lk.Target())
			bareMu.Lock()
			bare := bareRate
			bareMu.Unlock()
			if bare > 0 {
				b.ReportMetric(rate/bare, "ratio")
			}
		})
	}
}

// startLoad starts a Latchkey with a connected account, stopped at the
// end of the benchmark.
func startLoad(b *testing.B, databaseURL string) *loadtest.Latchkey {
	b.Helper()
	lk, err := loadtest.Start(b.Context(), databaseURL, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(lk.Stop)
	return lk
}

// measure warms target up, then sends b.N requests from benchWorkers
// goroutines and reports the rate, which it returns.
func measure(b *testing.B, target loadtest.Target) float64 {
	b.Helper()
	client := loadtest.NewClient(benchWorkers)
	defer client.CloseIdleConnections()
	if _, err := loadtest.Run(context.Background(), client, target, loadtest.Options{Concurrency: benchWorkers, Duration: benchWarmup}); err != nil {
		b.Fatalf("warm-up: %v", err)
	}
	// RunParallel starts parallelism*GOMAXPROCS goroutines.
	b.SetParallelism((benchWorkers + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := loadtest.Do(ctx, client, target); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	rate := float64(b.N) / b.Elapsed().Seconds()
	b.ReportMetric(rate, "req/s")
	return rate
}

// BenchmarkCreateAccount measures POST /v1/accounts of a key-based app
// whose test and identity requests go to a stand-in that answers at once,
// from benchWorkers concurrent clients; scripts/bench-create measures the
// same from outside with wrk.
func BenchmarkCreateAccount(b *testing.B) {
	for _, be := range servertest.Backends {
		b.Run(be.Name, func(b *testing.B) {
			p := servertest.NewProvider(b, servertest.ProviderKeys{SendGridKey: goodKey})
			cfg := servertest.Config(b, be.DatabaseURL(b))
			cfg.AppOrigins = map[string]string{"sendgrid": p.URL}
			cfg.LogLevel = "warn"
			inst := servertest.StartWith(b, cfg, server.Options{}, servertest.DiscardLogger())
			api := inst.Client()
			in := client.CreateAccount{App: "sendgrid", Fields: map[string]string{"api_key": goodKey}}
			if acc, err := api.CreateAccount(b.Context(), in); err != nil || acc.IdentityLabel == "" {
				b.Fatalf("first create: %+v, %v", acc, err)
			}
			b.SetParallelism((benchWorkers + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := api.CreateAccount(context.Background(), in); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "accounts/s")
		})
	}
}
