package config

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

type setting struct {
	key      string // file key; the flag is the same with dashes
	env      string
	def      string
	help     string
	secret   bool // environment only: never a flag or file value
	clientOK bool // a CLI client setting as well
	set      func(c *Config, v string) error
	get      func(c *Config) string
}

func str(p func(*Config) *string) (func(*Config, string) error, func(*Config) string) {
	return func(c *Config, v string) error { *p(c) = v; return nil }, func(c *Config) string { return *p(c) }
}

func dur(p func(*Config) *time.Duration) (func(*Config, string) error, func(*Config) string) {
	return func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil {
				return fmt.Errorf("%q is not a duration such as 30s or 5m", v)
			}
			*p(c) = d
			return nil
		}, func(c *Config) string {
			return p(c).String()
		}
}

func integer(p func(*Config) *int) (func(*Config, string) error, func(*Config) string) {
	return func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil {
				return fmt.Errorf("%q is not a whole number", v)
			}
			*p(c) = n
			return nil
		}, func(c *Config) string {
			return strconv.Itoa(*p(c))
		}
}

var settings = func() []setting {
	s := []setting{
		{key: "listen", def: "127.0.0.1:" + strconv.Itoa(DefaultPort), help: "host:port the server listens on", clientOK: true},
		{key: "public_url", help: "URL users reach the server at; OAuth redirect URIs are built from it (default: http://<listen>)"},
		{key: "data_dir", def: "latchkey-data", help: "folder for the SQLite database, the key file and the admin token", clientOK: true},
		{key: "database_url", help: "store: empty for SQLite in data_dir, sqlite:PATH, or postgres://user@host/db"},
		{key: "database_connections", def: "10", help: "PostgreSQL: the most connections each replica keeps open; keep replicas times this under the server's max_connections"},
		{key: "master_key", secret: true, help: "base64 AES-256 key(s), comma separated, primary first; environment only"},
		{key: "master_key_file", help: "key file used when master_key is unset; created with mode 0600 on first start (default: <data_dir>/master.key)"},
		{key: "catalog_dir", help: "folder of extra app definitions (*.yaml) that add to or override the shipped catalog"},
		{key: "app_origins", help: "send apps' requests elsewhere: slug=scheme://host[:port],... (a gateway, or stand-in providers in tests)"},
		{key: "provider_timeout", def: "10s", help: "time limit of each request to a provider"},
		{key: "refresh_margin", def: "5m", help: "credentials expiring within this are refreshed before they are handed out"},
		{key: "refresh_interval", def: "30s", help: "how often the background refresher renews tokens due soon; 0 turns it off"},
		{key: "refresh_concurrency", def: "8", help: "how many provider calls the background refresher of each replica makes at once (1 to 256)"},
		{key: "unhealthy_after", def: "24h", help: "how long refreshes may fail transiently (network, 5xx, 429) before the account needs reconnecting"},
		{key: "shutdown_timeout", def: "15s", help: "how long a graceful shutdown waits for requests in flight"},
		{key: "log_level", def: "info", help: "debug, info, warn or error"},
		{key: "log_format", def: "text", help: "text or json"},
		{key: "step_network_allow", help: "host:port pairs that sandboxed steps may reach although their addresses are private or loopback (a gateway; stand-in providers in tests), comma separated"},
		{key: "webhook_origins", help: "origins (scheme://host[:port]) webhook endpoints may use although they are plain http or private addresses (stand-in receivers in tests), comma separated"},
		{key: "webhook_interval", def: "5s", help: "how often the webhook deliverer looks for due deliveries"},
		{key: "webhook_retry", def: "30s", help: "wait after a webhook delivery's first failure; it doubles after each next one, up to an hour"},
		{key: "steps_unsandboxed", def: "false", help: "run code and command steps as plain processes of the server's user, seeing all it sees: for a single-user machine only"},
		{key: "step_memory", def: "512MiB", help: "memory limit of each process of a sandboxed step (KiB, MiB or GiB)"},
		{key: "step_processes", def: "64", help: "how many processes a sandboxed step may run at once"},
		{key: "server", help: "CLI: the server's URL (default: http://<listen>)", clientOK: true},
		{key: "token", secret: true, help: "CLI: the API token (default: the admin token in data_dir)", clientOK: true},
		{key: "connect_token_ttl", def: "4h", help: "how long a connect token minted for an end user can be used"},
		{key: "demo", def: "false", help: "try OAuth offline: serve a small built-in authorization server and a demo app under /demo (SQLite only; never in production)"},
		{key: "pprof_listen", help: "loopback host:port serving Go's profiler (net/http/pprof) apart from the API, for measuring; empty (the default) turns it off"},
	}
	bind := map[string]func(*Config) *string{
		"listen": func(c *Config) *string { return &c.Listen }, "public_url": func(c *Config) *string { return &c.PublicURL },
		"data_dir": func(c *Config) *string { return &c.DataDir }, "database_url": func(c *Config) *string { return &c.DatabaseURL },
		"master_key": func(c *Config) *string { return &c.MasterKey }, "master_key_file": func(c *Config) *string { return &c.MasterKeyFile },
		"catalog_dir": func(c *Config) *string { return &c.CatalogDir }, "log_level": func(c *Config) *string { return &c.LogLevel },
		"log_format": func(c *Config) *string { return &c.LogFormat }, "server": func(c *Config) *string { return &c.Server },
		"token":        func(c *Config) *string { return &c.Token },
		"pprof_listen": func(c *Config) *string { return &c.PprofListen },
	}
	durs := map[string]func(*Config) *time.Duration{
		"provider_timeout":  func(c *Config) *time.Duration { return &c.ProviderTimeout },
		"refresh_margin":    func(c *Config) *time.Duration { return &c.RefreshMargin },
		"shutdown_timeout":  func(c *Config) *time.Duration { return &c.ShutdownTimeout },
		"refresh_interval":  func(c *Config) *time.Duration { return &c.RefreshInterval },
		"unhealthy_after":   func(c *Config) *time.Duration { return &c.UnhealthyAfter },
		"connect_token_ttl": func(c *Config) *time.Duration { return &c.ConnectTokenTTL },
		"webhook_interval":  func(c *Config) *time.Duration { return &c.WebhookInterval },
		"webhook_retry":     func(c *Config) *time.Duration { return &c.WebhookRetry },
	}
	for i := range s {
		st := &s[i]
		st.env = "LATCHKEY_" + strings.ToUpper(st.key)
		switch {
		case bind[st.key] != nil:
			st.set, st.get = str(bind[st.key])
		case durs[st.key] != nil:
			st.set, st.get = dur(durs[st.key])
		case st.key == "app_origins":
			st.set, st.get = setOrigins, getOrigins
		case st.key == "step_network_allow":
			st.set = func(c *Config, v string) error { c.StepNetworkAllow = splitList(v); return nil }
			st.get = func(c *Config) string { return strings.Join(c.StepNetworkAllow, ",") }
		case st.key == "webhook_origins":
			st.set = func(c *Config, v string) error { c.WebhookOrigins = splitList(v); return nil }
			st.get = func(c *Config) string { return strings.Join(c.WebhookOrigins, ",") }
		case st.key == "demo":
			st.set = func(c *Config, v string) error {
				b, err := strconv.ParseBool(v)
				if err != nil {
					return fmt.Errorf("%q is not true or false", v)
				}
				c.Demo = b
				return nil
			}
			st.get = func(c *Config) string { return strconv.FormatBool(c.Demo) }
		case st.key == "steps_unsandboxed":
			st.set = func(c *Config, v string) error {
				b, err := strconv.ParseBool(v)
				if err != nil {
					return fmt.Errorf("%q is not true or false", v)
				}
				c.StepsUnsandboxed = b
				return nil
			}
			st.get = func(c *Config) string { return strconv.FormatBool(c.StepsUnsandboxed) }
		case st.key == "step_memory":
			st.set, st.get = setBytes, func(c *Config) string { return strconv.FormatInt(c.StepMemory, 10) }
		case st.key == "step_processes":
			st.set, st.get = integer(func(c *Config) *int { return &c.StepProcesses })
		case st.key == "database_connections":
			st.set, st.get = integer(func(c *Config) *int { return &c.DatabaseConnections })
		case st.key == "refresh_concurrency":
			st.set, st.get = integer(func(c *Config) *int { return &c.RefreshConcurrency })
		}
	}
	return s
}()

func setOrigins(c *Config, v string) error {
	m := map[string]string{}
	for _, pair := range strings.Split(v, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		slug, origin, ok := strings.Cut(pair, "=")
		if !ok {
			return fmt.Errorf("%q is not slug=origin", pair)
		}
		m[strings.TrimSpace(slug)] = strings.TrimSpace(origin)
	}
	c.AppOrigins = m
	return nil
}

func splitList(v string) []string {
	var out []string
	for _, x := range strings.Split(v, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

// setBytes reads a size such as 512MiB, 1GiB or 65536 (bytes).
func setBytes(c *Config, v string) error {
	units := []struct {
		suffix string
		n      int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"", 1}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(strings.TrimSpace(v), u.suffix); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
			if err != nil {
				break
			}
			c.StepMemory = n * u.n
			return nil
		}
	}
	return fmt.Errorf("%q is not a size such as 512MiB or 1GiB", v)
}

func getOrigins(c *Config) string {
	var pairs []string
	for k, v := range c.AppOrigins {
		pairs = append(pairs, k+"="+v)
	}
	sort.Strings(pairs)
	return strings.Join(pairs, ",")
}
