package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/latchkeyhq/latchkey/internal/config"
	"github.com/latchkeyhq/latchkey/internal/seal"
	"github.com/latchkeyhq/latchkey/internal/server"
)

func (c *cli) serveCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:         "serve",
		Short:       "Run the server (SQLite in ./latchkey-data unless configured otherwise)",
		Annotations: offline,
		Long: `Run the Latchkey server: the API, the web UI and the background token
refresh, until interrupted. Every setting has a flag, an environment
variable (shown with each flag) and a key in the --config file. On its
first start the server makes the data folder with a master key file and
the admin token the other commands use. LATCHKEY_MASTER_KEY gives the
master key instead of the key file; --database-url (LATCHKEY_DATABASE_URL)
postgres://... uses PostgreSQL instead of SQLite.`,
		Example: `  latchkey serve
  latchkey serve --listen 127.0.0.1:8080 --data-dir /var/lib/latchkey
  latchkey serve --demo`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return server.Run(cmd.Context(), c.cfg, c.logger())
		},
	}
	addServerFlags(cmd)
	return cmd
}

// addServerFlags gives a command a flag for every server setting (secrets
// excepted: they come from the environment only).
func addServerFlags(cmd *cobra.Command) {
	for _, s := range config.Settings() {
		if s.Client || s.Flag == "" {
			continue
		}
		help := s.Help + " (env " + s.Env + ")"
		if s.Default != "" {
			help += " (default " + s.Default + ")"
		}
		cmd.Flags().String(strings.TrimPrefix(s.Flag, "--"), "", help)
		if s.Key == "demo" {
			// "serve --demo" alone turns it on; --demo=false still works.
			cmd.Flags().Lookup("demo").NoOptDefVal = "true"
		}
	}
}

func (c *cli) migrateCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:         "migrate",
		Short:       "Bring the database schema up to date and print its version",
		Annotations: offline,
		Long: `Apply the database migrations, as serve does on start, then print the
backend and the schema's version: a step of its own when several
replicas share one database. It takes the same settings as serve
(--database-url, --data-dir).`,
		Example: `  latchkey migrate
  latchkey migrate --database-url postgres://latchkey@db.internal/latchkey`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := c.cfg.Validate(); err != nil {
				return err
			}
			kind, v, err := server.Migrate(cmd.Context(), c.cfg)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s schema is at version %d\n", kind, v)
			return nil
		},
	}
	addServerFlags(cmd)
	return cmd
}

func (c *cli) keysCmd() *cobra.Command {
	keys := &cobra.Command{Use: "keys", Short: "Master key tools",
		Long: `Tools for the master key that seals every credential: make a new one,
and seal everything again under the primary key.`,
		Example: `  latchkey keys generate
  latchkey keys rotate --new-key`,
	}
	keys.AddCommand(&cobra.Command{
		Use:         "generate",
		Short:       "Print a new random master key, for LATCHKEY_MASTER_KEY",
		Annotations: offline,
		Long: `Print a new random 256-bit master key, encoded for LATCHKEY_MASTER_KEY
(or the master key file). It changes nothing; keep the key somewhere
safe, since credentials sealed with it cannot be read without it.`,
		Example: `  latchkey keys generate
  export LATCHKEY_MASTER_KEY="$(latchkey keys generate)"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			k, err := seal.GenerateKey()
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), seal.EncodeKey(k))
			return nil
		},
	})
	var newKey bool
	rotate := &cobra.Command{
		Use:         "rotate [--new-key]",
		Short:       "Seal every credential again under the primary master key",
		Annotations: offline,
		Example: `  latchkey keys rotate --new-key
  latchkey keys rotate --data-dir /var/lib/latchkey`,
		Long: `Seal every account's credentials and every OAuth client's secret again
under the primary key, so that older keys can then be retired.

With the key file: run "latchkey keys rotate --new-key" while the server is
stopped; it adds a new primary key to the file (keeping the old ones) and
re-seals. Then start the server.

With LATCHKEY_MASTER_KEY and running replicas, no downtime: set it to
"NEW,OLD" on every replica and restart them one by one; then run
"latchkey keys rotate" with the same setting; then OLD may be dropped.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := server.RotateKeys(cmd.Context(), c.cfg, c.logger(), newKey)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "sealed again: %d accounts, %d OAuth clients\n", st.Accounts, st.Clients)
			return nil
		},
	}
	rotate.Flags().BoolVar(&newKey, "new-key", false, "first add a new random primary key to the key file")
	addServerFlags(rotate)
	keys.AddCommand(rotate)
	return keys
}
