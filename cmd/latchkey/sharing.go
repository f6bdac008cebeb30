package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/latchkeyhq/latchkey/client"
)

// sharingText says who an account is shared with, for show.
func sharingText(a client.Account) string {
	var with []string
	if a.Shared {
		with = append(with, "the workspace")
	}
	with = append(with, a.SharedWith...)
	if len(with) == 0 {
		return "no one (private)"
	}
	return strings.Join(with, ", ")
}

func (c *cli) accountsShareCmd() *cobra.Command {
	var workspace, force bool
	var emails []string
	cmd := &cobra.Command{
		Use:   "share ID [--workspace | --member EMAIL ...]",
		Short: "Share an account with the workspace or with chosen members (it replaces the account's sharing)",
		Long: `Let others use an account you own: everyone in the workspace with
--workspace, or the members you name by email with --member (once for
each). The sharing you give replaces the account's sharing. When the
change would take the account from other members' workflows Latchkey
refuses and names them; --force shares anyway. Prints the account, with
whom it is shared.`,
		Example: `  latchkey accounts share acc_01... --workspace
  latchkey accounts share acc_01... --member bea@acme.com --member max@acme.com`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if workspace == (len(emails) > 0) {
				return errors.New("give --workspace, or --member EMAIL once for each member (to make the account private, run latchkey accounts unshare " + args[0] + ")")
			}
			cl, err := c.client()
			if err != nil {
				return err
			}
			in := client.Sharing{Workspace: workspace}
			if len(emails) > 0 {
				members, err := cl.Members(cmd.Context())
				if err != nil {
					return err
				}
				for _, e := range emails {
					id := ""
					for _, m := range members {
						if strings.EqualFold(m.Email, strings.TrimSpace(e)) {
							id = m.ID
						}
					}
					if id == "" {
						return fmt.Errorf("%s is not a member of this workspace (latchkey members list shows who is)", e)
					}
					in.Members = append(in.Members, id)
				}
			}
			return c.share(cmd, args[0], in, force, "share")
		},
	}
	cmd.Flags().BoolVar(&workspace, "workspace", false, "share with everyone in the workspace")
	cmd.Flags().StringArrayVar(&emails, "member", nil, "share with this member, by email (repeat for each)")
	cmd.Flags().BoolVar(&force, "force", false, "share even when other members' workflows that use the account lose it (they will break)")
	return cmd
}

func (c *cli) accountsUnshareCmd() *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "unshare ID",
		Short: "Make an account private to its owner again",
		Long: `Make an account private to its owner: nobody else sees or uses it.
When other members' workflows use it Latchkey refuses and names them;
--force unshares anyway, and those workflows break. Prints the account.`,
		Example: `  latchkey accounts unshare acc_01j9...
  latchkey accounts unshare acc_01j9... --force`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.share(cmd, args[0], client.Sharing{}, force, "unshare")
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "unshare even when other members' workflows use the account (they will break)")
	return cmd
}

func (c *cli) share(cmd *cobra.Command, id string, in client.Sharing, force bool, verb string) error {
	cl, err := c.client()
	if err != nil {
		return err
	}
	a, err := cl.ShareAccount(cmd.Context(), id, in, force)
	if p, ok := errors.AsType[*client.Problem](err); ok && client.IsProblem(p, "account-in-use") {
		command := "latchkey accounts " + verb + " " + id
		for _, f := range []string{"workspace", "member"} {
			if fl := cmd.Flags().Lookup(f); fl != nil && fl.Changed {
				command += " " + strings.Join(flagArgs(fl.Name, fl.Value.String()), " ")
			}
		}
		msg := fmt.Sprintf("account %s is used by %s of members who would lose it; they will break", id, strings.Join(usedByNames(p), ", "))
		return &hinted{msg: msg, fix: "to " + verb + " it anyway, run", command: command + " --force", err: p}
	}
	if err != nil {
		return err
	}
	return c.printAccount(cmd, a)
}

// flagArgs spells a flag as it was given, for a hint to repeat.
func flagArgs(name, value string) []string {
	if name == "workspace" {
		return []string{"--workspace"}
	}
	var out []string
	for _, v := range strings.Split(strings.Trim(value, "[]"), ",") {
		out = append(out, "--"+name+" "+v)
	}
	return out
}
