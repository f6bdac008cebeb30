package workflows_test

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/latchkeyhq/latchkey/internal/identity"

	"github.com/jonboulle/clockwork"

	"github.com/latchkeyhq/latchkey/internal/accounts"
	"github.com/latchkeyhq/latchkey/internal/apps"
	"github.com/latchkeyhq/latchkey/internal/audit"
	"github.com/latchkeyhq/latchkey/internal/catalog"
	"github.com/latchkeyhq/latchkey/internal/clients"
	"github.com/latchkeyhq/latchkey/internal/sandbox"
	"github.com/latchkeyhq/latchkey/internal/sandbox/sandboxtest"
	"github.com/latchkeyhq/latchkey/internal/seal"
	"github.com/latchkeyhq/latchkey/internal/store"
	"github.com/latchkeyhq/latchkey/internal/store/sqlite"
	"github.com/latchkeyhq/latchkey/internal/workflows"
)

type fixture struct {
	st       store.Store
	accounts *accounts.Service
	apps     *apps.Service
	a, b     identity.Actor
	// clock is the accounts service's.
	clock *clockwork.FakeClock
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	k, _ := seal.GenerateKey()
	ring, _ := seal.NewRing(k)
	cat, err := catalog.Load(catalog.Embedded())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	f := fixture{st: st,
		a: identity.Actor{WorkspaceID: "wsp_a", UserID: "usr_a", Role: identity.RoleOwner},
		b: identity.Actor{WorkspaceID: "wsp_b", UserID: "usr_b", Role: identity.RoleOwner}}
	for _, ac := range []identity.Actor{f.a, f.b} {
		st.CreateWorkspace(ctx, store.Workspace{ID: ac.WorkspaceID, Name: ac.WorkspaceID, CreatedAt: now})
		st.CreateUser(ctx, store.User{ID: ac.UserID, WorkspaceID: ac.WorkspaceID, Email: ac.UserID + "@x", Role: store.Role(ac.Role), CreatedAt: now})
	}
	f.clock = clockwork.NewFakeClockAt(now)
	auditLog := audit.New(st, slog.New(slog.DiscardHandler))
	t.Cleanup(auditLog.Close)
	f.apps = apps.New(apps.Options{Store: st, Catalog: cat, Audit: auditLog, Clock: f.clock, Log: slog.New(slog.DiscardHandler)})
	clientSvc := clients.New(clients.Options{Store: st, Apps: f.apps, Operators: identity.New(identity.Options{Store: st}), Ring: ring, Audit: auditLog, Clock: f.clock, Log: slog.New(slog.DiscardHandler)})
	f.accounts = accounts.New(accounts.Options{Store: st, Apps: f.apps, Clients: clientSvc, Audit: auditLog, Ring: ring, Clock: f.clock, Log: slog.New(slog.DiscardHandler)})
	t.Cleanup(f.accounts.Close)
	return f
}

func (f fixture) service(t *testing.T, node string) *workflows.Service {
	return workflows.New(workflows.Options{Store: f.st, Accounts: f.accounts, Apps: f.apps, Clock: clockwork.NewFakeClock(), Log: slog.New(slog.DiscardHandler), Node: node,
		Sandbox: sandboxtest.New(t)})
}

// TestNoCrossWorkspaceAccounts: a workflow cannot link, and so cannot run
// with, another workspace's account.
func TestNoCrossWorkspaceAccounts(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	acc, err := f.accounts.Create(ctx, f.a, accounts.CreateInput{App: "openai", Fields: map[string]string{"api_key": "sk-a-secret"}, SkipTest: true})
	if err != nil {
		t.Fatal(err)
	}
	svc := f.service(t, "")
	_, err = svc.Save(ctx, f.b, "", "steal", []workflows.Step{{Key: "s", Kind: "command", Command: []string{"cat"}, Apps: []string{"openai"}, Accounts: map[string]string{"openai": acc.ID}}})
	var ve *accounts.ValidationError
	if !errors.As(err, &ve) || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("linking another workspace's account: %v", err)
	}
	if list, _ := svc.List(ctx, f.b); len(list) != 0 {
		t.Fatal("the workflow was saved")
	}
}

// TestCodeStepWithoutNode: with no Node.js, a code step fails clearly and
// the command steps before it still run.
func TestCodeStepWithoutNode(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	t.Setenv("PATH", t.TempDir()) // a server with no node on its PATH
	svc := f.service(t, "")
	wf, err := svc.Save(ctx, f.a, "", "mixed", []workflows.Step{
		{Key: "first", Kind: "command", Command: []string{"/bin/sh", "-c", "echo hello"}},
		{Key: "code", Kind: "code", Code: "return 1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	run, err := svc.Run(ctx, f.a, wf.ID)
	if err != nil {
		t.Fatal(err)
	}
	if run.Steps[0].Status != "succeeded" || string(run.Steps[0].Result) != `"hello\n"` {
		t.Fatalf("command step: %+v", run.Steps[0])
	}
	if st := run.Steps[1]; st.Status != "failed" || st.ErrorKind != "node_missing" || !strings.Contains(st.Error, "need Node.js") {
		t.Fatalf("code step without node: %+v", run.Steps[1])
	}
}

// TestOutputLimit: a step that prints too much is stopped.
func TestOutputLimit(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	svc := f.service(t, "")
	wf, err := svc.Save(ctx, f.a, "", "loud", []workflows.Step{{Key: "loud", Kind: "command", Command: []string{"sh", "-c", "yes latchkey"}, TimeoutSeconds: 20}})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	run, err := svc.Run(ctx, f.a, wf.ID)
	if err != nil {
		t.Fatal(err)
	}
	if st := run.Steps[0]; st.ErrorKind != "output_limit" || time.Since(start) > 15*time.Second {
		t.Fatalf("loud step: kind %q after %v", st.ErrorKind, time.Since(start))
	}
}

// TestStepsRefuseWithoutSandbox: where the sandbox cannot be set up, code
// and command steps refuse with one error that names what is missing,
// while http steps still run.
func TestStepsRefuseWithoutSandbox(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	box, err := sandbox.New(sandbox.Config{ToolPath: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	svc := workflows.New(workflows.Options{Store: f.st, Accounts: f.accounts, Apps: f.apps, Clock: clockwork.NewFakeClock(), Log: slog.New(slog.DiscardHandler), Node: "/usr/bin/node", Sandbox: box})
	for _, st := range []workflows.Step{
		{Key: "cmd", Kind: "command", Command: []string{"sh", "-c", "echo hello"}},
		{Key: "code", Kind: "code", Code: "return 1"},
	} {
		wf, err := svc.Save(ctx, f.a, "", st.Key, []workflows.Step{st})
		if err != nil {
			t.Fatal(err)
		}
		run, err := svc.Run(ctx, f.a, wf.ID)
		if err != nil {
			t.Fatal(err)
		}
		got := run.Steps[0]
		if got.Status != "failed" || got.ErrorKind != "sandbox_unavailable" || got.Result != nil {
			t.Fatalf("%s step without a sandbox: %+v", st.Kind, got)
		}
		for _, want := range []string{"bwrap (Debian package bubblewrap)", "pasta (Debian package passt)", "nft (Debian package nftables)", "apt-get install bubblewrap passt nftables", "steps_unsandboxed"} {
			if !strings.Contains(got.Error, want) {
				t.Errorf("the error does not say %q: %s", want, got.Error)
			}
		}
	}
}
