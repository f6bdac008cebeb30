package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
)

const durableKey = "SG.durability.Zm9vYmFyYmF6cXV4"

// buildLatchkey builds this binary into a temporary folder, or skips the
// test when no Go toolchain can.
func buildLatchkey(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command to build latchkey with: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "latchkey")
	out, err := exec.CommandContext(t.Context(), goTool, "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Skipf("cannot build latchkey here: %v\n%s", err, out)
	}
	return bin
}

// freeAddr reserves a loopback port and frees it again, for a server or a
// receiver started on it later.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// latchkeyProcess is a `latchkey serve` running as a process of its own.
type latchkeyProcess struct {
	cmd *exec.Cmd
	log string
}

func startLatchkey(t *testing.T, bin, logFile string, env []string) *latchkeyProcess {
	t.Helper()
	f, err := os.OpenFile(logFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(bin, "serve")
	cmd.Env, cmd.Stdout, cmd.Stderr = env, f, f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &latchkeyProcess{cmd: cmd, log: logFile}
	t.Cleanup(func() { p.kill() })
	return p
}

// kill ends the process with SIGKILL: no shutdown, no flush.
func (p *latchkeyProcess) kill() {
	if p.cmd.ProcessState == nil {
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		_ = p.cmd.Wait()
	}
}

func waitHealthy(t *testing.T, base string, p *latchkeyProcess) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
	}
	b, _ := os.ReadFile(p.log)
	t.Fatalf("latchkey did not become healthy:\n%s", b)
}

// durableReceiver verifies each webhook with the Standard Webhooks library
// and records, in arrival order, what it got.
type durableReceiver struct {
	mu     sync.Mutex
	wh     *standardwebhooks.Webhook
	byID   map[string]int
	order  []receivedHook
	failed []string
}

type receivedHook struct{ id, typ, account string }

func (r *durableReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.wh.Verify(body, req.Header); err != nil {
		r.failed = append(r.failed, err.Error())
		http.Error(w, "bad signature", http.StatusBadRequest)
		return
	}
	var ev struct {
		Type string
		Data struct {
			AccountID string `json:"account_id"`
		}
	}
	_ = json.Unmarshal(body, &ev)
	id := req.Header.Get("webhook-id")
	r.byID[id]++
	r.order = append(r.order, receivedHook{id, ev.Type, ev.Data.AccountID})
}

func (r *durableReceiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.order)
}

// TestWebhooksSurviveSIGKILL: with the receiver down, a real latchkey
// process records events for several accounts, is killed with SIGKILL,
// restarts on the same SQLite file and records more; when the receiver
// comes up, every event arrives, verified, each exactly once by
// webhook-id, and in order per account.
func TestWebhooksSurviveSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the latchkey binary")
	}
	bin := buildLatchkey(t)
	provider := servertest.NewProvider(t, servertest.ProviderKeys{SendGridKey: durableKey})
	dataDir := t.TempDir()
	listen, rcvAddr := freeAddr(t), freeAddr(t)
	base, rcvURL := "http://"+listen, "http://"+rcvAddr
	env := append(os.Environ(),
		"LATCHKEY_DATA_DIR="+dataDir, "LATCHKEY_LISTEN="+listen,
		"LATCHKEY_APP_ORIGINS=sendgrid="+provider.URL, "LATCHKEY_WEBHOOK_ORIGINS="+rcvURL,
		// Retries every few hundred milliseconds, not minutes.
		"LATCHKEY_WEBHOOK_INTERVAL=100ms", "LATCHKEY_WEBHOOK_RETRY=200ms",
		"LATCHKEY_REFRESH_INTERVAL=0", "LATCHKEY_LOG_LEVEL=debug")
	logFile := filepath.Join(t.TempDir(), "latchkey.log")
	defer func() {
		if t.Failed() {
			b, _ := os.ReadFile(logFile)
			t.Logf("latchkey's log:\n%s", b)
		}
	}()

	first := startLatchkey(t, bin, logFile, env)
	waitHealthy(t, base, first)
	token, err := os.ReadFile(filepath.Join(dataDir, "admin.token"))
	if err != nil {
		t.Fatal(err)
	}
	api := client.New(base, strings.TrimSpace(string(token)), nil)
	ctx := t.Context()
	ep, err := api.CreateWebhook(ctx, client.CreateWebhook{URL: rcvURL + "/hook"})
	if err != nil {
		t.Fatal(err)
	}
	connect := func(name string) string {
		t.Helper()
		acc, err := api.CreateAccount(ctx, client.CreateAccount{App: "sendgrid", Nickname: &name, Fields: map[string]string{"api_key": durableKey}})
		if err != nil {
			t.Fatalf("connect %s: %v", name, err)
		}
		return acc.ID
	}
	remove := func(id string) {
		t.Helper()
		if err := api.DeleteAccount(ctx, id); err != nil {
			t.Fatalf("delete %s: %v", id, err)
		}
	}
	want := map[string][]string{}
	var accs []string
	for _, n := range []string{"one", "two", "three", "four"} {
		id := connect(n)
		accs = append(accs, id)
		want[id] = []string{"account.connected"}
	}
	for _, id := range accs[:2] {
		remove(id)
		want[id] = append(want[id], "account.deleted")
	}
	// Let the deliverer fail against the closed port a few times.
	time.Sleep(time.Second)
	first.kill()

	second := startLatchkey(t, bin, logFile, env)
	waitHealthy(t, base, second)
	for _, n := range []string{"five", "six"} {
		id := connect(n)
		accs = append(accs, id)
		want[id] = []string{"account.connected"}
	}
	for _, id := range []string{accs[2], accs[4]} {
		remove(id)
		want[id] = append(want[id], "account.deleted")
	}
	total := 0
	for _, l := range want {
		total += len(l)
	}

	wh, err := standardwebhooks.NewWebhook(ep.Secret)
	if err != nil {
		t.Fatal(err)
	}
	rcv := &durableReceiver{wh: wh, byID: map[string]int{}}
	ln, err := net.Listen("tcp", rcvAddr)
	if err != nil {
		t.Skipf("the receiver's reserved port was taken meanwhile: %v", err)
	}
	srv := &http.Server{Handler: rcv, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Shutdown(context.Background()) })

	// Backoff after the downtime is a few seconds at most; a lease the
	// killed process held lapses after 30 s.
	for deadline := time.Now().Add(90 * time.Second); rcv.count() < total; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the receiver got %d of %d events", rcv.count(), total)
		}
	}
	// Anything sent twice would come within a few passes more.
	time.Sleep(time.Second)

	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if len(rcv.failed) > 0 {
		t.Errorf("%d webhooks failed verification: %v", len(rcv.failed), rcv.failed)
	}
	for id, n := range rcv.byID {
		if n != 1 {
			t.Errorf("webhook-id %s arrived %d times", id, n)
		}
	}
	got := map[string][]string{}
	for _, h := range rcv.order {
		got[h.account] = append(got[h.account], h.typ)
	}
	for id, types := range want {
		if strings.Join(got[id], " ") != strings.Join(types, " ") {
			t.Errorf("account %s: got %v, want %v in this order", id, got[id], types)
		}
	}
	if len(rcv.order) != total {
		t.Errorf("got %d webhooks, want %d", len(rcv.order), total)
	}
	// The attempts before the receiver came up are on record.
	page, err := api.WebhookDeliveries(ctx, ep.ID, "", 50)
	if err != nil {
		t.Fatal(err)
	}
	failedFirst := 0
	for _, d := range page.Data {
		if d.Status != "delivered" || len(d.AttemptLog) != d.Attempts {
			t.Errorf("delivery %s: %s with %d attempts and %d logged", d.ID, d.Status, d.Attempts, len(d.AttemptLog))
		}
		if len(d.AttemptLog) > 1 && d.AttemptLog[0].StatusCode == 0 && d.AttemptLog[0].Error != "" {
			failedFirst++
			if strings.Contains(d.AttemptLog[0].Error, "/hook") {
				t.Errorf("an attempt's error repeats the endpoint's URL: %q", d.AttemptLog[0].Error)
			}
		}
	}
	if failedFirst == 0 {
		t.Error("no delivery logged a failed attempt while the receiver was down")
	}
}
