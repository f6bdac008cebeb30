package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/ids"
	"github.com/latchkeyhq/latchkey/internal/sandbox/sandboxtest"
	"github.com/latchkeyhq/latchkey/internal/server"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
)

// sandboxed is a server whose steps run in the real sandbox, with the key
// in a key file (as on a fresh install), a secret in the server's own
// environment, a loopback listener that is not allow-listed and one that
// is.
type sandboxed struct {
	inst      *servertest.Instance
	api       *client.Client
	dataDir   string
	bystander *silent
	gateway   *httptest.Server
}

func newSandboxed(t *testing.T) *sandboxed {
	sandboxtest.Require(t)
	gateway := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "hello from the gateway")
	}))
	t.Cleanup(gateway.Close)
	cfg := servertest.Config(t, "")
	cfg.MasterKey = "" // a key file in the data folder
	cfg.StepsUnsandboxed = false
	cfg.StepNetworkAllow = sandboxtest.HostPorts(t, gateway.URL)
	inst := servertest.Start(t, cfg, server.Options{})
	return &sandboxed{inst: inst, api: inst.Client(), dataDir: cfg.DataDir,
		bystander: newSilent(t), gateway: gateway}
}

// run saves a one-step workflow and runs it.
func (s *sandboxed) run(t *testing.T, st client.WorkflowStep) client.StepResult {
	t.Helper()
	ctx := context.Background()
	st.Key = "probe"
	wf, err := s.api.CreateWorkflow(ctx, client.SaveWorkflow{Name: t.Name(), Steps: []client.WorkflowStep{st}})
	if err != nil {
		t.Fatal(err)
	}
	run, err := s.api.RunWorkflow(ctx, wf.ID)
	if err != nil {
		t.Fatal(err)
	}
	return run.Steps[0]
}

func TestSandboxHidesTheServersFiles(t *testing.T) {
	s := newSandboxed(t)
	key, err := os.ReadFile(filepath.Join(s.dataDir, "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	token, err := os.ReadFile(filepath.Join(s.dataDir, "admin.token"))
	if err != nil {
		t.Fatal(err)
	}
	hostTmp, err := os.CreateTemp("", "latchkey-host-tmp-*")
	if err != nil {
		t.Fatal(err)
	}
	hostTmp.Close()
	t.Cleanup(func() { os.Remove(hostTmp.Name()) })
	pid := strconv.Itoa(os.Getpid())
	script := `
for f in "$DATA/master.key" "$DATA/admin.token" "$DATA/latchkey.db" "$DATA" "$HOSTTMP" /proc/$SERVERPID; do
  if [ -e "$f" ]; then echo "FOUND:$f"; fi
done
cat "$DATA/master.key" "$DATA/admin.token" /proc/$SERVERPID/environ 2>/dev/null
cat /proc/*/environ 2>/dev/null | tr '\0' '\n'
ls /tmp; echo "HOME=$HOME PWD=$(pwd)"; touch "$HOME/written" && echo "home is writable"
for p in /proc/[0-9]*; do tr '\0' ' ' < $p/cmdline; echo; done
if touch /usr/bin/latchkey-probe 2>/dev/null; then echo "FOUND:$(echo /usr)/bin is writable"; fi
`
	res := s.run(t, client.WorkflowStep{Kind: "command", Command: []string{"sh", "-c", script},
		Env: map[string]string{"DATA": s.dataDir, "HOSTTMP": hostTmp.Name(), "SERVERPID": pid}})
	out := string(res.Result) + res.Logs
	if res.Status != "succeeded" {
		t.Fatalf("the probe failed: %+v", res)
	}
	for what, secret := range map[string]string{"the key file": strings.TrimSpace(string(key)), "the admin token": strings.TrimSpace(string(token))} {
		if strings.Contains(out, secret) {
			t.Errorf("the step read %s", what)
		}
	}
	// The server's environment (where LATCHKEY_MASTER_KEY would be):
	// none of its longer entries may show up.
	environ, err := os.ReadFile("/proc/self/environ")
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range strings.Split(string(environ), "\x00") {
		if len(kv) >= 24 && strings.Contains(out, kv) {
			t.Errorf("the step read the server's environment: %.40s…", kv)
		}
	}
	if strings.Contains(out, "FOUND:/") {
		t.Errorf("the step saw the server's files:\n%s", out)
	}
	if !strings.Contains(out, "home is writable") || !strings.Contains(out, "HOME=/home/step PWD=/home/step") {
		t.Errorf("the step has no private writable HOME:\n%s", out)
	}
	// Host processes: the test binary itself must not be listed.
	if strings.Contains(out, filepath.Base(os.Args[0])) {
		t.Errorf("the step sees the server's process:\n%s", out)
	}
}

func TestSandboxNetwork(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("Node.js is not installed; code steps need node on PATH")
	}
	s := newSandboxed(t)
	_, serverPort, _ := net.SplitHostPort(strings.TrimPrefix(s.inst.URL, "http://"))
	code := `
const net = await import('node:net');
const probe = (host, port) => new Promise(done => {
  const c = net.connect({ host, port: Number(port) });
  c.on('connect', () => { c.destroy(); done('connected'); });
  c.on('error', e => done(e.code));
  setTimeout(() => { c.destroy(); done('timeout'); }, 5000);
});
const e = process.env;
return {
  server: await probe('127.0.0.1', e.SERVER_PORT),
  bystander: await probe('127.0.0.1', e.BYSTANDER_PORT),
  bystander_localhost: await probe('localhost', e.BYSTANDER_PORT),
  bystander_mapped: await probe('::ffff:127.0.0.1', e.BYSTANDER_PORT),
  bystander_v6: await probe('::1', e.BYSTANDER_PORT),
  gateway: await (await fetch(e.GATEWAY)).text(),
};`
	res := s.run(t, client.WorkflowStep{Kind: "code", Code: code, Env: map[string]string{
		"SERVER_PORT": serverPort, "BYSTANDER_PORT": s.bystander.port(), "GATEWAY": s.gateway.URL}})
	if res.Status != "succeeded" {
		t.Fatalf("the probe failed: %+v", res)
	}
	var got map[string]string
	if err := json.Unmarshal(res.Result, &got); err != nil {
		t.Fatalf("result %s: %v", res.Result, err)
	}
	for _, k := range []string{"server", "bystander", "bystander_localhost", "bystander_mapped", "bystander_v6"} {
		// A refusal is immediate, not a time-out.
		if got[k] != "ECONNREFUSED" {
			t.Errorf("%s: %q, want ECONNREFUSED", k, got[k])
		}
	}
	if got["gateway"] != "hello from the gateway" {
		t.Errorf("the allow-listed stand-in: %q", got["gateway"])
	}
	if n := s.bystander.conns.Load(); n != 0 {
		t.Fatalf("the loopback listener that is not allow-listed saw %d connections", n)
	}
	for _, want := range []string{"the sandbox refused connections to", "127.0.0.1:" + serverPort + " (127.0.0.1 is loopback)", "step_network_allow"} {
		if !strings.Contains(res.Logs, want) {
			t.Errorf("the step's log does not say %q:\n%s", want, res.Logs)
		}
	}
}

// markedProcesses lists the host's processes whose environment carries
// marker: whatever a step left running.
func markedProcesses(marker string) []string {
	var out []string
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		env, err := os.ReadFile(d + "/environ")
		if err != nil || !bytes.Contains(env, []byte(marker)) {
			continue
		}
		cmd, _ := os.ReadFile(d + "/cmdline")
		out = append(out, filepath.Base(d)+": "+strings.ReplaceAll(string(cmd), "\x00", " "))
	}
	return out
}

// gone waits, a bounded while, for the kernel to finish killing a step's
// processes, and returns those still there.
func gone(marker string) []string {
	deadline := time.Now().Add(5 * time.Second)
	for {
		left := markedProcesses(marker)
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestSandboxLeavesNoProcessBehind(t *testing.T) {
	s := newSandboxed(t)
	marker := "STEP_MARKER=" + ids.New("mrk", time.Now())
	k, v, _ := strings.Cut(marker, "=")
	script := `setsid sleep 300 >/dev/null 2>&1 < /dev/null &
(sh -c 'sleep 301 >/dev/null 2>&1 < /dev/null &' &)
nohup sleep 302 >/dev/null 2>&1 &
echo started`
	res := s.run(t, client.WorkflowStep{Kind: "command", Command: []string{"sh", "-c", script}, Env: map[string]string{k: v}})
	if res.Status != "succeeded" {
		t.Fatalf("the step failed: %+v", res)
	}
	if left := gone(marker); len(left) > 0 {
		t.Fatalf("the step's background processes outlived it: %v", left)
	}
}

func TestSandboxLimits(t *testing.T) {
	s := newSandboxed(t)
	marker := "STEP_MARKER=" + ids.New("mrk", time.Now())
	k, v, _ := strings.Cut(marker, "=")
	// The server answers while a step tries to exhaust the host.
	responsive := func(stop <-chan struct{}) <-chan error {
		errs := make(chan error, 1)
		go func() {
			defer close(errs)
			for {
				select {
				case <-stop:
					return
				case <-time.After(200 * time.Millisecond):
				}
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.inst.URL+"/healthz", nil)
				resp, err := http.DefaultClient.Do(req)
				cancel()
				if err != nil {
					errs <- err
					return
				}
				resp.Body.Close()
			}
		}()
		return errs
	}

	t.Run("fork bomb", func(t *testing.T) {
		stop := make(chan struct{})
		errs := responsive(stop)
		res := s.run(t, client.WorkflowStep{Kind: "command", TimeoutSeconds: 5, Env: map[string]string{k: v},
			Command: []string{"sh", "-c", `bomb() { bomb | bomb & }; bomb; sleep 60`}})
		close(stop)
		if err := <-errs; err != nil {
			t.Fatalf("the server did not answer during the fork bomb: %v", err)
		}
		if res.Status != "failed" {
			t.Fatalf("the fork bomb: %+v", res)
		}
		if left := gone(marker); len(left) > 0 {
			t.Fatalf("%d of the fork bomb's processes outlived it", len(left))
		}
	})
	t.Run("limits in force", func(t *testing.T) {
		res := s.run(t, client.WorkflowStep{Kind: "command", Command: []string{"sh", "-c", "cat /proc/self/limits; grep -E 'NoNewPrivs|CapEff|CapBnd' /proc/self/status; id -u"}})
		var out string
		if err := json.Unmarshal(res.Result, &out); err != nil {
			t.Fatalf("result %s: %v", res.Result, err)
		}
		for _, want := range []string{"Max data size             536870912", "Max processes             64", "NoNewPrivs:\t1", "CapEff:\t0000000000000000", "CapBnd:\t0000000000000000"} {
			if !strings.Contains(out, want) {
				t.Errorf("the step's limits lack %q:\n%s", want, out)
			}
		}
		if lines := strings.Fields(out); lines[len(lines)-1] == "0" {
			t.Errorf("the step runs as root in its namespace:\n%s", out)
		}
	})
	t.Run("memory hog", func(t *testing.T) {
		if _, err := exec.LookPath("node"); err != nil {
			t.Skip("Node.js is not installed; code steps need node on PATH")
		}
		stop := make(chan struct{})
		errs := responsive(stop)
		res := s.run(t, client.WorkflowStep{Kind: "code", TimeoutSeconds: 60, Env: map[string]string{k: v},
			Code: `const hog = []; for (;;) hog.push(Buffer.alloc(64 << 20, 1));`})
		close(stop)
		if err := <-errs; err != nil {
			t.Fatalf("the server did not answer during the memory hog: %v", err)
		}
		if res.Status != "failed" || res.ErrorKind == "timeout" {
			t.Fatalf("the memory hog was not stopped by its memory limit: %+v", res)
		}
	})
}
