// Package config is Latchkey's one typed configuration: defaults, an
// optional YAML file, LATCHKEY_* environment variables and command-line
// flags, in rising order of precedence, checked by Validate.
//
// Every setting is declared once, in the settings table, which drives the
// file keys, the environment variables, the flags and the README's table.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/latchkeyhq/latchkey/internal/secret"
)

// DefaultPort clashes with none of PostgreSQL, MariaDB, Redis, RabbitMQ,
// Mosquitto and NATS.
const DefaultPort = 7355

// Config is the whole configuration.
type Config struct {
	// Listen is the host:port the server binds.
	Listen string
	// PublicURL is where users reach the server; OAuth redirect URIs are
	// built from it.
	PublicURL string
	// DataDir holds the SQLite database, the key file and the admin token.
	DataDir string
	// DatabaseURL selects the store: empty or sqlite:PATH for SQLite,
	// postgres://... for PostgreSQL.
	DatabaseURL string
	// MasterKey is one or more base64 keys, primary first. Taken from the
	// environment only, never from flags, so it stays out of process lists.
	MasterKey string
	// MasterKeyFile is used when MasterKey is empty; created on first start.
	MasterKeyFile string
	// CatalogDir holds operator apps that add to or override shipped ones.
	CatalogDir string
	// AppOrigins sends an app's requests to another origin (a gateway, or a
	// stand-in provider in tests): slug -> scheme://host[:port].
	AppOrigins map[string]string
	// ProviderTimeout bounds every request Latchkey makes to a provider.
	ProviderTimeout time.Duration
	// RefreshMargin: credentials expiring within it are refreshed on read.
	RefreshMargin time.Duration
	// RefreshInterval is how often the background refresher looks for
	// tokens due for renewal; zero turns it off.
	RefreshInterval time.Duration
	// DatabaseConnections caps the PostgreSQL connections of a replica.
	DatabaseConnections int
	// RefreshConcurrency caps the background refresher's provider calls
	// at a time, per replica.
	RefreshConcurrency int
	// UnhealthyAfter is how long refreshes may fail transiently before the
	// account needs reconnecting.
	UnhealthyAfter time.Duration
	// ConnectTokenTTL is how long a connect token lasts.
	ConnectTokenTTL time.Duration
	// ShutdownTimeout bounds a graceful shutdown.
	ShutdownTimeout time.Duration
	LogLevel        string
	LogFormat       string
	// OAuthClients are managed OAuth clients from the config file, set at
	// start: slug -> client id and the secret read from an environment
	// variable the file names.
	OAuthClients map[string]OAuthClient
	// StepNetworkAllow lists host:port pairs a sandboxed step may reach
	// although their addresses are private or loopback.
	StepNetworkAllow []string
	// WebhookOrigins are origins (scheme://host[:port]) webhook endpoints
	// may use over plain http or on private addresses.
	WebhookOrigins []string
	// WebhookInterval is how often the deliverer looks for due
	// deliveries; WebhookRetry is the wait after a first failed attempt,
	// doubling after each next one up to an hour.
	WebhookInterval time.Duration
	WebhookRetry    time.Duration
	// StepsUnsandboxed runs code and command steps as plain processes of
	// the server's user: for a single-user machine only.
	StepsUnsandboxed bool
	// StepMemory caps each of a step's processes' memory, in bytes;
	// StepProcesses caps how many processes a step may run.
	StepMemory    int64
	StepProcesses int
	// Demo serves the built-in demo provider and its app (internal/demo):
	// a way to try OAuth with no registration, refused with PostgreSQL so
	// that it never reaches a production database.
	Demo bool
	// PprofListen, when set, serves net/http/pprof on this loopback
	// host:port, apart from the API, for profiling; empty turns it off.
	PprofListen string
	// Server and Token are what the CLI uses to reach the API.
	Server string
	Token  string
}

// OAuthClient is a managed OAuth client given in the config file.
type OAuthClient struct {
	ClientID string `yaml:"client_id"`
	// SecretEnv names the environment variable that holds the secret, so
	// the file itself holds none.
	SecretEnv string `yaml:"client_secret_env"`
	// Secret is read from SecretEnv by Load.
	Secret secret.String `yaml:"-"`
	// RedirectName is the provider's name for the callback URL, for the
	// apps that send it as redirect_uri (eBay's RuName).
	RedirectName string `yaml:"redirect_name"`
}

// Default returns the configuration with every default applied.
func Default() Config {
	var c Config
	for _, s := range settings {
		if s.def != "" {
			if err := s.set(&c, s.def); err != nil {
				panic(err)
			}
		}
	}
	return c
}

// Load builds the configuration from defaults, the YAML file at path (if
// path is not empty) and the environment (getenv, usually os.Getenv).
// Flags are applied afterwards with Set. Errors name the setting.
func Load(path string, getenv func(string) string) (Config, error) {
	c := Default()
	if path != "" {
		if err := c.loadFile(path); err != nil {
			return c, err
		}
	}
	for _, s := range settings {
		if v := getenv(s.env); v != "" {
			if err := s.set(&c, v); err != nil {
				return c, fmt.Errorf("%s: %w", s.env, err)
			}
		}
	}
	for slug, oc := range c.OAuthClients {
		if oc.ClientID == "" || oc.SecretEnv == "" {
			return c, fmt.Errorf("config file: oauth_clients.%s: give client_id and client_secret_env", slug)
		}
		v := getenv(oc.SecretEnv)
		if v == "" {
			return c, fmt.Errorf("config file: oauth_clients.%s: the environment variable %s is not set", slug, oc.SecretEnv)
		}
		oc.Secret = secret.New(v)
		c.OAuthClients[slug] = oc
	}
	return c, nil
}

func (c *Config) loadFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	var raw map[string]yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&raw); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		n := raw[k]
		if k == "oauth_clients" {
			dec := map[string]OAuthClient{}
			if err := decodeStrict(&n, &dec); err != nil {
				return fmt.Errorf("config file %s: line %d: oauth_clients: %w", path, n.Line, err)
			}
			c.OAuthClients = dec
			continue
		}
		s, ok := lookup(k)
		if !ok {
			return fmt.Errorf("config file %s: line %d: unknown setting %q", path, n.Line, k)
		}
		if s.secret {
			return fmt.Errorf("config file %s: line %d: %s is a secret and is read from %s only", path, n.Line, k, s.env)
		}
		var v string
		if k == "app_origins" && n.Kind == yaml.MappingNode {
			var m map[string]string
			if err := n.Decode(&m); err != nil {
				return fmt.Errorf("config file %s: line %d: %s: %w", path, n.Line, k, err)
			}
			c.AppOrigins = m
			continue
		}
		if err := n.Decode(&v); err != nil {
			return fmt.Errorf("config file %s: line %d: %s: %w", path, n.Line, k, err)
		}
		if err := s.set(c, v); err != nil {
			return fmt.Errorf("config file %s: line %d: %s: %w", path, n.Line, k, err)
		}
	}
	return nil
}

// decodeStrict decodes a YAML node, refusing unknown fields.
func decodeStrict(n *yaml.Node, v any) error {
	b, err := yaml.Marshal(n)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	return dec.Decode(v)
}

func lookup(key string) (setting, bool) {
	for _, s := range settings {
		if s.key == key {
			return s, true
		}
	}
	return setting{}, false
}

// Set applies one setting by its file key (a flag's value).
func (c *Config) Set(key, value string) error {
	s, ok := lookup(key)
	if !ok {
		return fmt.Errorf("unknown setting %q", key)
	}
	if err := s.set(c, value); err != nil {
		return fmt.Errorf("--%s: %w", FlagName(key), err)
	}
	return nil
}

// FlagName is the command-line flag of a setting.
func FlagName(key string) string { return strings.ReplaceAll(key, "_", "-") }

// Setting describes one setting for flags and documentation.
type Setting struct {
	Key, Env, Flag, Default, Help string
	// Secret settings come from the environment only.
	Secret bool
	// Client settings apply to the CLI's client commands too.
	Client bool
}

// Settings lists every setting.
func Settings() []Setting {
	out := make([]Setting, 0, len(settings))
	for _, s := range settings {
		flag := "--" + FlagName(s.key)
		if s.secret {
			flag = ""
		}
		out = append(out, Setting{Key: s.key, Env: s.env, Flag: flag, Default: s.def, Help: s.help, Secret: s.secret, Client: s.clientOK})
	}
	return out
}

// Validate checks the whole configuration and fills derived defaults. Each
// error names the setting's environment variable.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("LATCHKEY_%s: %s", strings.ToUpper(key), fmt.Sprintf(format, args...)))
	}
	if _, port, err := net.SplitHostPort(c.Listen); err != nil {
		bad("listen", "%q is not host:port", c.Listen)
	} else if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		bad("listen", "%q has no valid port", c.Listen)
	}
	if c.PprofListen != "" {
		// The profiles show the server's memory and code paths: loopback
		// only, never the API's own listener.
		if host, _, err := net.SplitHostPort(c.PprofListen); err != nil {
			bad("pprof_listen", "%q is not host:port", c.PprofListen)
		} else if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			bad("pprof_listen", "%q must be on loopback (127.0.0.1 or ::1)", c.PprofListen)
		} else if c.PprofListen == c.Listen {
			bad("pprof_listen", "%q must differ from listen", c.PprofListen)
		}
	}
	if c.DataDir == "" {
		bad("data_dir", "must not be empty")
	}
	if c.PublicURL == "" {
		c.PublicURL = "http://" + c.ClientHost()
	}
	// Every URL Latchkey hands out is the public URL and a path: a
	// trailing slash would make "//" of them, and redirect URIs and the
	// MCP audience that no longer match.
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("public_url", "%q must be an absolute http(s) URL", c.PublicURL)
	}
	if c.MasterKeyFile == "" {
		c.MasterKeyFile = filepath.Join(c.DataDir, "master.key")
	}
	if kind, _, err := c.Database(); err != nil {
		bad("database_url", "%v", err)
	} else if c.Demo && kind == "postgres" {
		bad("demo", "the demo is for trying Latchkey on SQLite and is refused with a PostgreSQL database_url; unset one of them")
	}
	for slug, origin := range c.AppOrigins {
		u, err := url.Parse(origin)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			bad("app_origins", "%s=%q must be scheme://host[:port]", slug, origin)
		}
	}
	for _, origin := range c.WebhookOrigins {
		u, err := url.Parse(origin)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			bad("webhook_origins", "%q must be scheme://host[:port]", origin)
		}
	}
	for key, d := range map[string]time.Duration{"provider_timeout": c.ProviderTimeout, "shutdown_timeout": c.ShutdownTimeout} {
		if d <= 0 {
			bad(key, "must be positive")
		}
	}
	if c.RefreshMargin < 0 {
		bad("refresh_margin", "must not be negative")
	}
	if c.RefreshInterval < 0 {
		bad("refresh_interval", "must not be negative")
	}
	if c.DatabaseConnections < 1 || c.DatabaseConnections > 1000 {
		bad("database_connections", "must be from 1 to 1000")
	}
	if c.RefreshConcurrency < 1 || c.RefreshConcurrency > 256 {
		bad("refresh_concurrency", "must be from 1 to 256")
	}
	if c.ConnectTokenTTL <= 0 {
		bad("connect_token_ttl", "must be positive")
	}
	if c.UnhealthyAfter <= 0 {
		bad("unhealthy_after", "must be positive")
	}
	if c.WebhookInterval <= 0 {
		bad("webhook_interval", "must be positive")
	}
	if c.WebhookRetry <= 0 || c.WebhookRetry > time.Hour {
		bad("webhook_retry", "must be positive and at most 1h")
	}
	if c.StepMemory < 16<<20 {
		bad("step_memory", "must be at least 16MiB")
	}
	if c.StepProcesses < 4 {
		bad("step_processes", "must be at least 4")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("log_level", "%q must be debug, info, warn or error", c.LogLevel)
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		bad("log_format", "%q must be text or json", c.LogFormat)
	}
	return errors.Join(errs...)
}

// Database returns the store kind ("sqlite" or "postgres") and its
// location (a file path or a connection URL).
func (c *Config) Database() (kind, location string, err error) {
	switch {
	case c.DatabaseURL == "":
		return "sqlite", filepath.Join(c.DataDir, "latchkey.db"), nil
	case strings.HasPrefix(c.DatabaseURL, "sqlite:"):
		p := strings.TrimPrefix(strings.TrimPrefix(c.DatabaseURL, "sqlite:"), "//")
		if p == "" {
			return "", "", errors.New("sqlite: needs a path, as in sqlite:/var/lib/latchkey/latchkey.db")
		}
		return "sqlite", p, nil
	case strings.HasPrefix(c.DatabaseURL, "postgres://"), strings.HasPrefix(c.DatabaseURL, "postgresql://"):
		return "postgres", c.DatabaseURL, nil
	default:
		// Never echo the URL: it may hold a password.
		return "", "", errors.New("must start with sqlite: or postgres://")
	}
}

// ClientHost is the host:port a client on this machine reaches the server
// at: a wildcard listen address becomes loopback.
func (c *Config) ClientHost() string {
	host, port, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return c.Listen
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// ServerURL is the URL the CLI talks to.
func (c *Config) ServerURL() string {
	if c.Server != "" {
		return strings.TrimSuffix(c.Server, "/")
	}
	return "http://" + c.ClientHost()
}

// AdminTokenFile is where the server writes the admin API token on first
// start, and where the CLI looks for it.
func (c *Config) AdminTokenFile() string { return filepath.Join(c.DataDir, "admin.token") }
