package main

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/config"
)

// cli holds what every command shares.
type cli struct {
	getenv     func(string) string
	configPath string
	cfg        config.Config
	jsonOut    bool
}

func newRoot(getenv func(string) string) *cobra.Command {
	c := &cli{getenv: getenv}
	root := &cobra.Command{
		Use:   "latchkey",
		Short: "Latchkey keeps connected accounts' credentials encrypted and fresh, and hands them to code",
		Long: `Latchkey keeps connected accounts' credentials encrypted and fresh, and hands them to code.

Run "latchkey serve" to start the server. The other commands talk to it:
on the same machine they find it and its admin token by themselves;
elsewhere set LATCHKEY_SERVER and LATCHKEY_TOKEN. "latchkey help COMMAND"
or "latchkey COMMAND --help" explains a command, with examples.`,
		Example: `  latchkey serve
  latchkey apps list --query mail
  latchkey accounts create sendgrid --field api_key=SG.xxxx
  latchkey help accounts create`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&c.configPath, "config", getenv("LATCHKEY_CONFIG"), "YAML config file (env LATCHKEY_CONFIG)")
	for _, s := range config.Settings() {
		if s.Client && s.Flag != "" {
			root.PersistentFlags().String(strings.TrimPrefix(s.Flag, "--"), "", s.Help+" (env "+s.Env+")")
		}
	}
	root.PersistentFlags().BoolVar(&c.jsonOut, "json", false, "print JSON instead of tables")
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		if needsNoConfig(cmd) {
			return nil
		}
		return c.load(cmd)
	}

	root.AddCommand(c.serveCmd(), c.migrateCmd(), c.appsCmd(), c.accountsCmd(), c.credentialsCmd(), c.execCmd(), c.keysCmd(),
		c.oauthClientsCmd(), c.connectCmd(), c.tokenCmd(), c.tokensCmd(), c.workflowsCmd(), c.actionsCmd(), c.membersCmd(), c.workspacesCmd(), c.auditCmd(), c.webhooksCmd())
	manual(root, map[string]string{
		"serve": "server", "migrate": "server", "keys": "server",
		"accounts": "accounts", "connect": "accounts", "credentials": "accounts", "token": "accounts", "exec": "accounts",
		"apps": "catalog", "actions": "catalog", "workflows": "catalog", "oauth-clients": "catalog", "webhooks": "catalog",
		"tokens": "access", "members": "access", "workspaces": "access", "audit": "access",
	})
	return root
}

// load builds the configuration: defaults, file, environment, then the
// flags the user set.
func (c *cli) load(cmd *cobra.Command) error {
	cfg, err := config.Load(c.configPath, c.getenv)
	if err != nil {
		return err
	}
	var ferr error
	cmd.Flags().Visit(func(f *pflag.Flag) {
		key := strings.ReplaceAll(f.Name, "-", "_")
		if _, ok := settingByKey(key); ok && ferr == nil {
			ferr = cfg.Set(key, f.Value.String())
		}
	})
	if ferr != nil {
		return ferr
	}
	c.cfg = cfg
	return nil
}

func settingByKey(key string) (config.Setting, bool) {
	for _, s := range config.Settings() {
		if s.Key == key {
			return s, true
		}
	}
	return config.Setting{}, false
}

// client returns an API client: the configured token, else the admin
// token the local server wrote on its first start.
func (c *cli) client() (*client.Client, error) {
	token := c.cfg.Token
	if token == "" {
		b, err := os.ReadFile(c.cfg.AdminTokenFile())
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("no API token: set LATCHKEY_TOKEN, or start the server on this machine once (latchkey serve) so that it writes %s", c.cfg.AdminTokenFile())
		}
		if err != nil {
			return nil, fmt.Errorf("reading the admin token: %w", err)
		}
		token = strings.TrimSpace(string(b))
	}
	return client.New(c.cfg.ServerURL(), token, nil), nil
}

func (c *cli) logger() *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if c.cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}
