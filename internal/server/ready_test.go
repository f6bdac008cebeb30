package server_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/server"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
	"github.com/latchkeyhq/latchkey/internal/store/postgres/pgtest"
)

// While PostgreSQL is away (a restart, played by a relay that ends every
// session and refuses new ones), /readyz says not ready and /healthz still
// answers; an API request made meanwhile waits, and gets its answer, not
// a 5xx, once the database is back; then /readyz is ready again.
func TestReadyWhileDatabaseAway(t *testing.T) {
	relay, url := pgtest.NewRelay(t, pgtest.URL(t))
	inst := servertest.Start(t, servertest.Config(t, url), server.Options{})
	get := func(path string) int {
		t.Helper()
		resp, err := http.Get(inst.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get("/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz = %d before the outage", code)
	}

	relay.Stop()
	if code := get("/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz = %d while the database is away, want 503", code)
	}
	if code := get("/healthz"); code != http.StatusOK {
		t.Errorf("/healthz = %d while the database is away, want 200: the process is up", code)
	}
	refused := relay.Refused()
	done := make(chan error, 1)
	go func() {
		_, err := inst.Client().ListAccounts(t.Context(), client.ListOptions{})
		done <- err
	}()
	for relay.Refused() < refused+10 {
		select {
		case err := <-done:
			t.Fatalf("the request returned (%v) while the database was away", err)
		case <-t.Context().Done():
			t.Fatal("nothing tried to connect")
		case <-time.After(5 * time.Millisecond):
		}
	}
	relay.Start()
	if err := <-done; err != nil {
		t.Errorf("request made while the database was away: %v, want its answer", err)
	}
	if code := get("/readyz"); code != http.StatusOK {
		t.Errorf("/readyz = %d once the database is back", code)
	}
}
