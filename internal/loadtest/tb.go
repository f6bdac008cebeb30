package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TB lets a command use the test helpers (servertest, oauthtest, pgtest),
// which take a testing.TB, outside a test. Use it only through Run: Fatal
// and Skip stop the function Run is running, cleanups run in reverse order
// when it returns, and temporary folders go with them. Fatal, FailNow and
// Skip must be called on the goroutine Run runs the function on.
type TB struct {
	testing.TB // never set; makes TB a testing.TB, and any method not below panics

	name string
	log  io.Writer

	mu       sync.Mutex
	cleanups []func()
	errs     []string
	failed   bool
	skipped  bool
	tempRoot string
	tempN    int
	ctx      context.Context
	cancel   context.CancelFunc
}

// NewTB returns a TB named name that writes Log output to log (nil:
// nowhere).
func NewTB(name string, log io.Writer) *TB {
	if log == nil {
		log = io.Discard
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &TB{name: name, log: log, ctx: ctx, cancel: cancel}
}

// stopRun is the panic Fatal and Skip use to leave Run's function.
type stopRun struct{}

// Run calls fn(tb), then the cleanups, and returns the errors reported
// (Error, Fatal, Skip) or nil.
func (tb *TB) Run(fn func(testing.TB)) (err error) {
	defer func() {
		tb.runCleanups()
		tb.mu.Lock()
		defer tb.mu.Unlock()
		if len(tb.errs) > 0 {
			err = errors.New(strings.Join(tb.errs, "\n"))
		} else if tb.failed {
			err = errors.New(tb.name + " failed")
		}
	}()
	defer func() {
		if p := recover(); p != nil {
			if _, ok := p.(stopRun); !ok {
				panic(p)
			}
		}
	}()
	fn(tb)
	return nil
}

func (tb *TB) runCleanups() {
	tb.cancel()
	for {
		tb.mu.Lock()
		n := len(tb.cleanups)
		if n == 0 {
			tb.mu.Unlock()
			return
		}
		f := tb.cleanups[n-1]
		tb.cleanups = tb.cleanups[:n-1]
		tb.mu.Unlock()
		f()
	}
}

func (tb *TB) record(msg string) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	tb.failed = true
	tb.errs = append(tb.errs, msg)
}

func (tb *TB) ArtifactDir() string    { return tb.TempDir() }
func (tb *TB) Attr(key, value string) {}
func (tb *TB) Cleanup(f func()) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	tb.cleanups = append(tb.cleanups, f)
}
func (tb *TB) Error(args ...any)                 { tb.record(fmt.Sprint(args...)) }
func (tb *TB) Errorf(format string, args ...any) { tb.record(fmt.Sprintf(format, args...)) }
func (tb *TB) Fail() {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	tb.failed = true
}
func (tb *TB) FailNow() {
	tb.Fail()
	panic(stopRun{})
}
func (tb *TB) Failed() bool {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return tb.failed
}
func (tb *TB) Fatal(args ...any)                 { tb.Error(args...); panic(stopRun{}) }
func (tb *TB) Fatalf(format string, args ...any) { tb.Errorf(format, args...); panic(stopRun{}) }
func (tb *TB) Helper()                           {}
func (tb *TB) Log(args ...any)                   { fmt.Fprintln(tb.log, args...) }
func (tb *TB) Logf(format string, args ...any)   { fmt.Fprintf(tb.log, format+"\n", args...) }
func (tb *TB) Name() string                      { return tb.name }
func (tb *TB) Setenv(key, value string) {
	old, had := os.LookupEnv(key)
	if err := os.Setenv(key, value); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if had {
			os.Setenv(key, old)
		} else {
			os.Unsetenv(key)
		}
	})
}
func (tb *TB) Chdir(dir string) {
	old, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.Chdir(dir); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.Chdir(old) })
}
func (tb *TB) Skip(args ...any) { tb.record("skipped: " + fmt.Sprint(args...)); tb.SkipNow() }
func (tb *TB) SkipNow() {
	tb.mu.Lock()
	tb.skipped = true
	tb.mu.Unlock()
	panic(stopRun{})
}
func (tb *TB) Skipf(format string, args ...any) { tb.Skip(fmt.Sprintf(format, args...)) }
func (tb *TB) Skipped() bool {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return tb.skipped
}

// TempDir returns a new folder inside one temporary folder that is removed
// with everything in it at cleanup.
func (tb *TB) TempDir() string {
	tb.mu.Lock()
	root := tb.tempRoot
	tb.mu.Unlock()
	if root == "" {
		var err error
		if root, err = os.MkdirTemp("", "latchkey-load-"); err != nil {
			tb.Fatal(err)
		}
		tb.mu.Lock()
		tb.tempRoot = root
		tb.mu.Unlock()
		tb.Cleanup(func() { os.RemoveAll(root) })
	}
	tb.mu.Lock()
	tb.tempN++
	n := tb.tempN
	tb.mu.Unlock()
	dir := filepath.Join(root, fmt.Sprintf("%03d", n))
	if err := os.Mkdir(dir, 0o700); err != nil {
		tb.Fatal(err)
	}
	return dir
}
func (tb *TB) Context() context.Context { return tb.ctx }
func (tb *TB) Output() io.Writer        { return tb.log }
