package workflows

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync"
	"syscall"
	"time"
)

//go:embed runner.js
var runnerJS []byte

// MaxOutput caps what a step may print, and its result.
const MaxOutput = 1 << 20

func findNode() string {
	p, err := exec.LookPath("node")
	if err != nil {
		return ""
	}
	return p
}

// limitedBuffer keeps at most max bytes and notes that more came.
type limitedBuffer struct {
	mu       sync.Mutex
	buf      bytes.Buffer
	max      int
	overflow bool
	onFull   func()
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if room := l.max - l.buf.Len(); len(p) > room {
		l.buf.Write(p[:max(room, 0)])
		if !l.overflow {
			l.overflow = true
			if l.onFull != nil {
				go l.onFull()
			}
		}
		return len(p), nil
	}
	return l.buf.Write(p)
}

func (l *limitedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// procResult is what a step's process left behind.
type procResult struct {
	Stdout, Stderr string
	// Report is what the process wrote on file descriptor 3, if asked.
	Report   []byte
	ExitCode int
	TimedOut bool
	TooMuch  bool
}

// runProcess runs argv with a clean environment (only PATH, HOME in a
// fresh folder, and env), stdin, a time limit and capped output. The whole
// process group is killed at the limit, so children die too.
func runProcess(ctx context.Context, argv []string, env map[string]string, stdin []byte, timeout time.Duration, wantReport bool) (procResult, error) {
	dir, err := os.MkdirTemp("", "latchkey-step-")
	if err != nil {
		return procResult{}, fmt.Errorf("step folder: %w", err)
	}
	defer os.RemoveAll(dir)

	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = cleanEnv(dir, env)
	cmd.Stdin = bytes.NewReader(stdin)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	killed := make(chan struct{})
	var once sync.Once
	kill := func() {
		once.Do(func() {
			close(killed)
			if cmd.Process != nil {
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			}
		})
	}
	stdout := &limitedBuffer{max: MaxOutput, onFull: kill}
	stderr := &limitedBuffer{max: MaxOutput, onFull: kill}
	cmd.Stdout, cmd.Stderr = stdout, stderr

	var reportR, reportW *os.File
	if wantReport {
		if reportR, reportW, err = os.Pipe(); err != nil {
			return procResult{}, err
		}
		defer reportR.Close()
		cmd.ExtraFiles = []*os.File{reportW}
	}
	if err := cmd.Start(); err != nil {
		if reportW != nil {
			reportW.Close()
		}
		return procResult{}, err
	}
	var report []byte
	reportDone := make(chan struct{})
	if wantReport {
		reportW.Close()
		go func() {
			report, _ = io.ReadAll(io.LimitReader(reportR, MaxOutput+1))
			close(reportDone)
		}()
	} else {
		close(reportDone)
	}
	waitDone := make(chan error, 1)
	go func() { waitDone <- cmd.Wait() }()
	var waitErr error
	timedOut := false
	select {
	case waitErr = <-waitDone:
	case <-ctx.Done():
		timedOut = true
		kill()
		waitErr = <-waitDone
	}
	// A grandchild may hold the report pipe open; the group kill ends it.
	select {
	case <-reportDone:
	case <-time.After(2 * time.Second):
		kill()
		<-reportDone
	}
	res := procResult{Stdout: stdout.String(), Stderr: stderr.String(), Report: report, TimedOut: timedOut,
		TooMuch: stdout.overflow || stderr.overflow || len(report) > MaxOutput}
	var exit *exec.ExitError
	switch {
	case waitErr == nil:
	case errors.As(waitErr, &exit):
		res.ExitCode = exit.ExitCode()
	default:
		return res, waitErr
	}
	return res, nil
}

// cleanEnv is all a step's process sees: no master key, no database path,
// no Latchkey token; only PATH, a throw-away HOME and the step's own env.
func cleanEnv(home string, extra map[string]string) []string {
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "TMPDIR=" + home, "LANG=C.UTF-8"}
	keys := make([]string, 0, len(extra))
	for k := range extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		env = append(env, k+"="+extra[k])
	}
	return env
}

// writeRunner puts runner.js where node can read it.
func writeRunner() (string, func(), error) {
	dir, err := os.MkdirTemp("", "latchkey-runner-")
	if err != nil {
		return "", nil, err
	}
	p := filepath.Join(dir, "runner.js")
	if err := os.WriteFile(p, runnerJS, 0o600); err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	return p, func() { os.RemoveAll(dir) }, nil
}
