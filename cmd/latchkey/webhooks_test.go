package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/latchkeyhq/latchkey/internal/server"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
)

// The CLI adds an endpoint, lists it, shows a failed then a good attempt
// of a delivery, redelivers it, turns the endpoint off and on, rotates its
// secret and deletes it. The receiver verifies every signature.
func TestWebhooksCLI(t *testing.T) {
	var (
		mu     sync.Mutex
		secret string
		calls  int
		bad    int
	)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		calls++
		if wh, err := standardwebhooks.NewWebhook(secret); err != nil || wh.Verify(body, r.Header) != nil {
			bad++
		}
		if calls == 1 {
			http.Error(w, "not yet", http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(rcv.Close)
	cfg := servertest.Config(t, "")
	cfg.WebhookOrigins = []string{rcv.URL}
	inst := servertest.Start(t, cfg, server.Options{})
	env := map[string]string{"LATCHKEY_DATA_DIR": inst.Config.DataDir, "LATCHKEY_LISTEN": inst.Config.Listen}

	out, err := run(t, env, "webhooks", "create", rcv.URL+"/hook", "--event", "account.connected")
	secret = regexp.MustCompile(`whsec_\S+`).FindString(out)
	id := regexp.MustCompile(`whk_[0-9a-z]+`).FindString(out)
	if err != nil || secret == "" || id == "" {
		t.Fatalf("webhooks create: %v\n%s", err, out)
	}
	if _, err := run(t, env, "webhooks", "create", rcv.URL, "--event", "account.made_up"); err == nil || !strings.Contains(err.Error(), "not an event type") {
		t.Fatalf("a made-up event type: %v", err)
	}
	if out, err = run(t, env, "webhooks", "list"); err != nil || !strings.Contains(out, id) || strings.Contains(out, "whsec_") {
		t.Fatalf("webhooks list (no secret shown again): %v\n%s", err, out)
	}
	if out, err = run(t, env, "accounts", "create", "sendgrid", "--field", "api_key=SG.cli-test", "--no-test"); err != nil {
		t.Fatalf("accounts create: %v\n%s", err, out)
	}
	if n, err := inst.Webhooks().DeliverDue(t.Context()); err != nil || n != 1 {
		t.Fatalf("DeliverDue: %d, %v", n, err)
	}
	out, err = run(t, env, "webhooks", "deliveries", id)
	delivery := regexp.MustCompile(`whd_[0-9a-z]+`).FindString(out)
	if err != nil || delivery == "" || !strings.Contains(out, "pending") || !strings.Contains(out, "503") {
		t.Fatalf("webhooks deliveries after a 503: %v\n%s", err, out)
	}
	if out, err = run(t, env, "webhooks", "redeliver", id, delivery); err != nil || !strings.Contains(out, "pending") {
		t.Fatalf("webhooks redeliver: %v\n%s", err, out)
	}
	if n, err := inst.Webhooks().DeliverDue(t.Context()); err != nil || n != 1 {
		t.Fatalf("DeliverDue after redeliver: %d, %v", n, err)
	}
	out, err = run(t, env, "webhooks", "delivery", id, delivery)
	if err != nil || !strings.Contains(out, "delivered after 2 attempts") || !strings.Contains(out, "503 Service Unavailable: not yet") || !regexp.MustCompile(`(?m)\s200\s`).MatchString(out) {
		t.Fatalf("webhooks delivery: %v\n%s", err, out)
	}
	if out, err = run(t, env, "webhooks", "disable", id); err != nil || !strings.Contains(out, "off: turned off by a person") {
		t.Fatalf("webhooks disable: %v\n%s", err, out)
	}
	if out, err = run(t, env, "webhooks", "enable", id); err != nil || !strings.Contains(out, " on") {
		t.Fatalf("webhooks enable: %v\n%s", err, out)
	}
	out, err = run(t, env, "webhooks", "rotate-secret", id, "--overlap", "0s")
	if err != nil || regexp.MustCompile(`whsec_\S+`).FindString(out) == secret {
		t.Fatalf("webhooks rotate-secret: %v\n%s", err, out)
	}
	if out, err = run(t, env, "webhooks", "delete", id); err != nil || !strings.Contains(out, "deleted") {
		t.Fatalf("webhooks delete: %v\n%s", err, out)
	}
	if _, err := run(t, env, "webhooks", "show", id); err == nil {
		t.Fatal("webhooks show of a deleted endpoint worked")
	}
	mu.Lock()
	defer mu.Unlock()
	if calls != 2 || bad != 0 {
		t.Errorf("receiver: %d calls, %d unverified; want 2, all verified", calls, bad)
	}
}
