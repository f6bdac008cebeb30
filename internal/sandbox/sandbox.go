// Package sandbox runs the programs of workflow steps, written by users,
// where they can reach nothing of the server: each run gets its own user,
// PID, mount, IPC and network namespaces (bubblewrap), a private writable
// HOME that is deleted afterwards, user-mode networking to the public
// internet only (passt's pasta, with an nftables deny-list inside the
// step's own network namespace), limits on memory, processes, time and
// output, and no process left behind when it ends.
//
// Where the sandbox cannot be set up, Run refuses with an *UnavailableError
// naming what is missing, unless the operator turned sandboxing off.
package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Defaults for a step's limits.
const (
	DefaultMemory    = 512 << 20
	DefaultProcesses = 64
	// MaxOutput caps what a step may print on stdout, on stderr, and its
	// report.
	MaxOutput = 1 << 20
)

// Config says how steps are confined.
type Config struct {
	// Allow lists host:port pairs a step may reach although the policy
	// refuses their addresses: a gateway, or stand-in providers on
	// loopback in tests.
	Allow []string
	// Memory caps each process's data (bytes); Processes caps how many
	// processes a step may run at once.
	Memory    int64
	Processes int
	// Unsandboxed runs steps as plain processes of the server's user, for
	// a single-user machine. Steps then see everything the server sees.
	Unsandboxed bool
	// ToolPath is where bwrap, pasta, nft and prlimit are looked for;
	// empty means PATH and the usual sbin folders.
	ToolPath string
}

// Cmd is one program to run.
type Cmd struct {
	Argv []string
	// Env is the step's own environment; PATH, HOME, TMPDIR and LANG are
	// set by the sandbox.
	Env   map[string]string
	Stdin []byte
	// Files are put read-only in the sandbox at the given absolute paths
	// (the code runner).
	Files   map[string][]byte
	Timeout time.Duration
	// Report asks for file descriptor 3 to be a pipe whose contents come
	// back in Result.Report.
	Report bool
}

// Result is what a program left behind.
type Result struct {
	Stdout, Stderr string
	Report         []byte
	ExitCode       int
	TimedOut       bool
	TooMuch        bool
	// Refused lists the connections the sandbox's firewall refused,
	// as host:port.
	Refused []string
}

// UnavailableError says why steps cannot be sandboxed here and how to fix
// it.
type UnavailableError struct {
	Missing string
	Fix     string
}

func (e *UnavailableError) Error() string {
	return "code and command steps run in a sandbox, which cannot be set up on this server: " + e.Missing + ". " + e.Fix
}

// ErrUnavailable is matched by every *UnavailableError.
var ErrUnavailable = errors.New("sandbox unavailable")

func (e *UnavailableError) Is(target error) bool { return target == ErrUnavailable }

// installHint names the Debian packages the sandbox needs.
const installHint = "Install Debian's bubblewrap, passt and nftables packages (apt-get install bubblewrap passt nftables) and allow unprivileged user namespaces, or set steps_unsandboxed: true on a single-user machine."

// Sandbox runs steps' programs.
type Sandbox struct {
	cfg     Config
	tools   tools
	net     network
	unavail error
	// asUser is the host uid and gid the sandbox runs as when the server
	// runs as root: steps must not hold root's identity on the host.
	asUser *syscall.Credential
}

type tools struct{ bwrap, pasta, nft, prlimit, sh string }

// New checks the tools and the kernel once, by running an empty sandbox.
// It returns a Sandbox either way: when sandboxing is impossible, Run
// refuses and Available says why.
func New(cfg Config) (*Sandbox, error) {
	if cfg.Memory <= 0 {
		cfg.Memory = DefaultMemory
	}
	if cfg.Processes <= 0 {
		cfg.Processes = DefaultProcesses
	}
	s := &Sandbox{cfg: cfg}
	if cfg.Unsandboxed {
		return s, nil
	}
	n, err := newNetwork(cfg.Allow)
	if err != nil {
		return nil, err
	}
	s.net = n
	if os.Geteuid() == 0 {
		s.asUser = &syscall.Credential{Uid: nobody, Gid: nobody}
	}
	s.unavail = s.find()
	if s.unavail == nil {
		s.unavail = s.probe()
	}
	return s, nil
}

// nobody is the host uid steps run under when the server is root.
const nobody = 65534

// Available returns nil when steps run sandboxed, or the reason they
// cannot.
func (s *Sandbox) Available() error { return s.unavail }

// Unsandboxed reports whether the operator turned the sandbox off.
func (s *Sandbox) Unsandboxed() bool { return s.cfg.Unsandboxed }

func (s *Sandbox) find() error {
	var missing []string
	dirs := filepath.SplitList(s.cfg.ToolPath)
	if s.cfg.ToolPath == "" {
		dirs = append(filepath.SplitList(os.Getenv("PATH")), "/usr/sbin", "/sbin", "/usr/bin", "/bin")
	}
	look := func(name, pkg string) string {
		for _, dir := range dirs {
			if c := filepath.Join(dir, name); filepath.IsAbs(c) && isExec(c) {
				return c
			}
		}
		missing = append(missing, name+" (Debian package "+pkg+")")
		return ""
	}
	s.tools = tools{
		bwrap: look("bwrap", "bubblewrap"), pasta: look("pasta", "passt"), nft: look("nft", "nftables"),
		prlimit: look("prlimit", "util-linux"), sh: look("sh", "dash"),
	}
	if len(missing) > 0 {
		return &UnavailableError{Missing: strings.Join(missing, ", ") + " not found", Fix: installHint}
	}
	return nil
}

func isExec(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// probe runs `true` in a sandbox, so a kernel without unprivileged user
// namespaces is found at start rather than at a user's first run.
func (s *Sandbox) probe() error {
	res, err := s.Run(context.Background(), Cmd{Argv: []string{"true"}, Timeout: 10 * time.Second})
	if err == nil && res.ExitCode == 0 {
		return nil
	}
	detail := strings.TrimSpace(res.Stderr)
	if err != nil {
		detail = err.Error()
	}
	if len(detail) > 300 {
		detail = detail[:300]
	}
	return &UnavailableError{Missing: "a test run failed (" + detail + ")", Fix: installHint}
}

// Run runs one program and waits for it and everything it started.
func (s *Sandbox) Run(ctx context.Context, c Cmd) (Result, error) {
	if len(c.Argv) == 0 {
		return Result{}, errors.New("nothing to run")
	}
	if s.unavail != nil {
		return Result{}, s.unavail
	}
	dir, err := os.MkdirTemp("", "latchkey-step-")
	if err != nil {
		return Result{}, fmt.Errorf("step folder: %w", err)
	}
	defer removeAll(dir)
	var cmd *exec.Cmd
	var refused func() []string
	if s.cfg.Unsandboxed {
		cmd, err = s.plain(dir, c)
	} else {
		cmd, refused, err = s.confined(dir, c)
	}
	if err != nil {
		return Result{}, err
	}
	res, err := supervise(ctx, cmd, c)
	if refused != nil {
		res.Refused = refused()
	}
	return res, err
}

// plain is today's process: a clean environment and a fresh folder, but
// the server's user and view of the machine.
func (s *Sandbox) plain(dir string, c Cmd) (*exec.Cmd, error) {
	for p, b := range c.Files {
		// Plain runs read the files from the step's folder.
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(p)), b, 0o600); err != nil {
			return nil, err
		}
	}
	argv := append([]string(nil), c.Argv...)
	for i, a := range argv {
		if _, ok := c.Files[a]; ok {
			argv[i] = filepath.Join(dir, filepath.Base(a))
		}
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = env(dir, dir, c.Env)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd, nil
}

// stepHome is the step's HOME and working folder inside the sandbox.
const stepHome = "/home/step"

// env is all a step's process sees: no master key, no database path, no
// Latchkey token; only PATH, a throw-away HOME and the step's own env.
func env(home, tmp string, extra map[string]string) []string {
	out := []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + home, "TMPDIR=" + tmp, "LANG=C.UTF-8"}
	keys := make([]string, 0, len(extra))
	for k := range extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, k+"="+extra[k])
	}
	return out
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

// supervise starts cmd in its own process group, feeds it stdin, caps its
// output and kills the whole group at the time limit. In the sandbox the
// group holds pasta and bubblewrap; the step's own processes live in a
// PID namespace that dies with them.
func supervise(ctx context.Context, cmd *exec.Cmd, c Cmd) (Result, error) {
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	cmd.Stdin = bytes.NewReader(c.Stdin)
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
	var err error
	if c.Report {
		if reportR, reportW, err = os.Pipe(); err != nil {
			return Result{}, err
		}
		defer reportR.Close()
		cmd.ExtraFiles = []*os.File{reportW}
	}
	if err := cmd.Start(); err != nil {
		if reportW != nil {
			reportW.Close()
		}
		return Result{}, err
	}
	var report []byte
	reportDone := make(chan struct{})
	if c.Report {
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
	// Whatever is left of the group goes too (an unsandboxed step's
	// background children).
	kill()
	res := Result{Stdout: stdout.String(), Stderr: stderr.String(), Report: report, TimedOut: timedOut,
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

// removeAll deletes a step's folder even where the step took away its own
// write permission on a folder inside it.
func removeAll(dir string) {
	if os.RemoveAll(dir) == nil {
		return
	}
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(p, 0o700)
		}
		return nil
	})
	_ = os.RemoveAll(dir)
}
