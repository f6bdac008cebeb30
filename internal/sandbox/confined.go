package sandbox

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// wrapper runs inside pasta's namespaces, as root of pasta's user
// namespace: it installs the firewall, then starts bubblewrap, which
// drops into a nested user namespace as an unprivileged uid with no
// capabilities, so the step can never change the firewall.
//
//go:embed wrapper.sh
var wrapper string

// dnsAddr is where a step's resolver sends queries; pasta forwards them
// to the host's resolver.
const dnsAddr = "169.254.1.53"

// stepUID is the step's uid inside its user namespace.
const stepUID = "1000"

// confined builds the command that runs c in the sandbox, and a function
// that reads, after the run, what the firewall refused.
func (s *Sandbox) confined(dir string, c Cmd) (*exec.Cmd, func() []string, error) {
	home := filepath.Join(dir, "home")
	files := filepath.Join(dir, "files")
	for _, d := range []string{home, files} {
		if err := os.Mkdir(d, 0o700); err != nil {
			return nil, nil, err
		}
	}
	etc := map[string]string{
		"resolv.conf": "nameserver " + dnsAddr + "\n",
		"hosts":       "127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n",
		"passwd":      "root:x:0:0::/:/usr/sbin/nologin\nstep:x:" + stepUID + ":" + stepUID + "::" + stepHome + ":/bin/sh\nnobody:x:65534:65534::/:/usr/sbin/nologin\n",
		"group":       "root:x:0:\nstep:x:" + stepUID + ":\nnogroup:x:65534:\n",
	}
	write := func(name string, b []byte) error { return os.WriteFile(filepath.Join(files, name), b, 0o644) }
	for name, body := range etc {
		if err := write("etc-"+name, []byte(body)); err != nil {
			return nil, nil, err
		}
	}
	if err := write("rules.nft", []byte(s.net.rules())); err != nil {
		return nil, nil, err
	}

	args := []string{
		"--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
		"--die-with-parent", "--new-session", "--cap-drop", "ALL",
		"--uid", stepUID, "--gid", stepUID, "--hostname", "step",
		"--ro-bind", "/usr", "/usr",
	}
	for _, d := range []string{"/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"} {
		if t, err := os.Readlink(d); err == nil {
			args = append(args, "--symlink", t, d)
		} else if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			args = append(args, "--ro-bind", d, d)
		}
	}
	// What programs need of /etc, and nothing that names the server.
	for _, p := range []string{"/etc/ssl", "/etc/ca-certificates", "/etc/pki", "/etc/localtime", "/etc/alternatives", "/etc/nsswitch.conf", "/etc/ld.so.cache", "/etc/mime.types"} {
		args = append(args, "--ro-bind-try", p, p)
	}
	for name := range etc {
		args = append(args, "--ro-bind", filepath.Join(files, "etc-"+name), "/etc/"+name)
	}
	args = append(args, "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
		"--bind", home, stepHome, "--chdir", stepHome, "--clearenv")
	for _, kv := range env(stepHome, "/tmp", c.Env) {
		k, v, _ := strings.Cut(kv, "=")
		args = append(args, "--setenv", k, v)
	}
	// A program outside /usr (a node installed under /opt) is bound where
	// it is, read-only: the file alone, never its folder, which could be
	// the server's own.
	if bin, err := exec.LookPath(c.Argv[0]); err == nil && filepath.IsAbs(bin) {
		if real, err := filepath.EvalSymlinks(bin); err == nil && !underSystem(real) {
			args = append(args, "--ro-bind", real, real)
			if bin != real && !underSystem(bin) {
				args = append(args, "--ro-bind", real, bin)
			}
		}
	}
	names := make([]string, 0, len(c.Files))
	for p := range c.Files {
		names = append(names, p)
	}
	sort.Strings(names)
	for i, p := range names {
		local := filepath.Join(files, "file-"+strconv.Itoa(i))
		if err := os.WriteFile(local, c.Files[p], 0o644); err != nil {
			return nil, nil, err
		}
		args = append(args, "--ro-bind", local, p)
	}
	args = append(args, "--")
	args = append(args, c.Argv...)

	refusedFile := filepath.Join(files, "refused")
	pasta := []string{s.tools.pasta, "--config-net", "--quiet", "--foreground",
		"--log-file", filepath.Join(files, "pasta.log"),
		"-t", "none", "-u", "none", "-U", "none", "-T", s.net.forwardSpec(),
		"--no-map-gw", "--dns-forward", dnsAddr,
		"--", s.tools.sh, "-c", wrapper, "latchkey-sandbox",
		s.tools.nft, filepath.Join(files, "rules.nft"), refusedFile,
		s.tools.prlimit, strconv.FormatInt(s.cfg.Memory, 10), strconv.Itoa(s.cfg.Processes),
		s.tools.bwrap,
	}
	cmd := exec.Command(pasta[0], append(pasta[1:], args...)...)
	cmd.Dir = "/"
	// pasta, the wrapper and bubblewrap see no more of the server's
	// environment than the step does.
	cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if s.asUser != nil {
		cmd.SysProcAttr.Credential = s.asUser
		if err := chownTree(dir, int(s.asUser.Uid), int(s.asUser.Gid)); err != nil {
			return nil, nil, err
		}
	}
	return cmd, func() []string { return readRefused(refusedFile) }, nil
}

// underSystem reports whether the sandbox already holds path read-only.
func underSystem(path string) bool {
	for _, d := range []string{"/usr/", "/bin/", "/sbin/", "/lib/", "/lib64/"} {
		if strings.HasPrefix(path, d) {
			return true
		}
	}
	return false
}

func chownTree(dir string, uid, gid int) error {
	return filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
}

// readRefused reads the firewall's record of refused connections, which
// the wrapper wrote as nft's JSON listing of the two sets.
func readRefused(path string) []string {
	var out []string
	for _, suffix := range []string{"4", "6"} {
		b, err := os.ReadFile(path + suffix)
		if err != nil {
			continue
		}
		var doc struct {
			Nftables []struct {
				Set *struct {
					Elem []struct {
						Concat []json.RawMessage `json:"concat"`
					} `json:"elem"`
				} `json:"set"`
			} `json:"nftables"`
		}
		if json.Unmarshal(b, &doc) != nil {
			continue
		}
		for _, n := range doc.Nftables {
			if n.Set == nil {
				continue
			}
			for _, e := range n.Set.Elem {
				if len(e.Concat) != 2 {
					continue
				}
				var host string
				var port int
				_ = json.Unmarshal(e.Concat[0], &host)
				_ = json.Unmarshal(e.Concat[1], &port)
				if strings.Contains(host, ":") {
					host = "[" + host + "]"
				}
				out = append(out, fmt.Sprintf("%s:%d", host, port))
			}
		}
	}
	sort.Strings(out)
	return out
}
