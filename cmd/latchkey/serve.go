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
		Use:   "serve",
		Short: "Run the server (SQLite in ./latchkey-data unless configured otherwise)",
		Args:  cobra.NoArgs,
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
		Use:   "migrate",
		Short: "Bring the database schema up to date and print its version",
		Args:  cobra.NoArgs,
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
	keys := &cobra.Command{Use: "keys", Short: "Master key tools"}
	keys.AddCommand(&cobra.Command{
		Use:   "generate",
		Short: "Print a new random master key, for LATCHKEY_MASTER_KEY",
		Args:  cobra.NoArgs,
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
		Use:   "rotate [--new-key]",
		Short: "Seal every credential again under the primary master key",
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
