package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/latchkeyhq/latchkey/client"
)

func (c *cli) membersCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "members", Aliases: []string{"member"}, Short: "Invite people to the workspace, change their roles, remove them",
		Example: `  latchkey members list
  latchkey members invite max@acme.com --role admin`,
		Long: `Members of the workspace and their roles:

  owner   everything in the workspace
  admin   manages members (not owners), OAuth clients and custom apps
  member  their own and shared accounts and workflows
  viewer  lists shared accounts and workflows; cannot read credentials

Latchkey sends no mail: an invitation or reset link is printed once, for
you to pass on.`}

	list := &cobra.Command{
		Use: "list", Short: "List the workspace's members",
		Long: `List the workspace's members as a table: id, email, name, role and how
each signs in.`,
		Args:    cobra.NoArgs,
		Example: `  latchkey members list`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := c.client()
			if err != nil {
				return err
			}
			ms, err := cl.Members(cmd.Context())
			if err != nil {
				return err
			}
			return render(c, cmd.OutOrStdout(), ms, []string{"ID", "EMAIL", "NAME", "ROLE", "SIGNS IN"}, func(m client.Member) []string {
				return []string{m.ID, m.Email, m.Name, m.Role, fmt.Sprint(m.SignsIn)}
			})
		},
	}

	var role string
	invite := &cobra.Command{
		Use: "invite EMAIL --role ROLE", Short: "Invite a person; prints a single-use link that expires in 7 days",
		Long: `Invite EMAIL to the workspace with a role (--role; default member).
Prints the invitation's link once; send it to the person yourself.`,
		Args: cobra.ExactArgs(1),
		Example: `  latchkey members invite max@acme.com --role member
  latchkey members invite vi@acme.com --role viewer`,
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := c.client()
			if err != nil {
				return err
			}
			inv, err := cl.Invite(cmd.Context(), client.Invite{Email: args[0], Role: role})
			if err != nil {
				return err
			}
			return printLink(c, cmd, inv, "invited %s as %s; send them this link (shown once, until %s):\n")
		},
	}
	invite.Flags().StringVar(&role, "role", "member", "owner, admin, member or viewer")

	invitations := &cobra.Command{
		Use: "invitations", Short: "List open invitations",
		Long: `List the invitations nobody has accepted yet as a table: id, email,
role, when each expires and whether it has. The links are not shown
again; "members resend" makes a new one.`,
		Args:    cobra.NoArgs,
		Example: `  latchkey members invitations`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := c.client()
			if err != nil {
				return err
			}
			list, err := cl.Invitations(cmd.Context())
			if err != nil {
				return err
			}
			return render(c, cmd.OutOrStdout(), list, []string{"ID", "EMAIL", "ROLE", "EXPIRES", "EXPIRED"}, func(i client.Invitation) []string {
				return []string{i.ID, i.Email, i.Role, i.ExpiresAt, fmt.Sprint(i.Expired)}
			})
		},
	}

	resend := &cobra.Command{
		Use: "resend INVITATION_ID", Short: "Make a new link for an invitation; the old link stops working",
		Long: `Make a new link for an open invitation and print it once; the old link
stops working. Use it when a link was lost or expired.`,
		Args:    cobra.ExactArgs(1),
		Example: `  latchkey members resend inv_01j9...`,
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := c.client()
			if err != nil {
				return err
			}
			inv, err := cl.ResendInvitation(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return printLink(c, cmd, inv, "new link for %s (%s); the old one no longer works (shown once, until %s):\n")
		},
	}

	revoke := &cobra.Command{
		Use: "revoke INVITATION_ID", Short: "Revoke an invitation",
		Long:    `Revoke an open invitation; its link stops working. Prints "revoked ID".`,
		Args:    cobra.ExactArgs(1),
		Example: `  latchkey members revoke inv_01j9...`,
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := c.client()
			if err != nil {
				return err
			}
			if err := cl.RevokeInvitation(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "revoked %s\n", args[0])
			return nil
		},
	}

	setRole := &cobra.Command{
		Use: "role MEMBER_ID ROLE", Short: "Give a member another role; it takes effect at once",
		Long: `Give a member another role: owner, admin, member or viewer. Prints the
member's email and new role.`,
		Args:    cobra.ExactArgs(2),
		Example: `  latchkey members role usr_01j9... admin`,
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := c.client()
			if err != nil {
				return err
			}
			m, err := cl.ChangeRole(cmd.Context(), args[0], args[1])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s is now %s\n", m.Email, m.Role)
			return nil
		},
	}

	remove := &cobra.Command{
		Use: "remove MEMBER_ID", Short: "Remove a member; the accounts they owned pass to you",
		Long: `Remove a member from the workspace; the accounts they owned become
yours. Prints what it did.`,
		Args:    cobra.ExactArgs(1),
		Example: `  latchkey members remove usr_01j9...`,
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := c.client()
			if err != nil {
				return err
			}
			if err := cl.RemoveMember(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "removed %s; their accounts are yours now\n", args[0])
			return nil
		},
	}

	reset := &cobra.Command{
		Use: "reset-password MEMBER_ID", Short: "Make a single-use link (24 h) with which a member sets a new password",
		Long: `Make a link with which a member sets a new password, and print it once;
it works once, within 24 hours. Send it to the member yourself.`,
		Args:    cobra.ExactArgs(1),
		Example: `  latchkey members reset-password usr_01j9...`,
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := c.client()
			if err != nil {
				return err
			}
			p, err := cl.PasswordReset(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if c.jsonOut {
				return printJSON(cmd.OutOrStdout(), p)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "send this link to the member (shown once, until %s):\n%s\n", p.ExpiresAt, p.URL)
			return nil
		},
	}

	cmd.AddCommand(list, invite, invitations, resend, revoke, setRole, remove, reset)
	return cmd
}

func printLink(c *cli, cmd *cobra.Command, inv client.Invitation, format string) error {
	if c.jsonOut {
		return printJSON(cmd.OutOrStdout(), inv)
	}
	fmt.Fprintf(cmd.OutOrStdout(), format, inv.Email, inv.Role, inv.ExpiresAt)
	fmt.Fprintln(cmd.OutOrStdout(), inv.URL)
	return nil
}

func (c *cli) workspacesCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "workspaces", Aliases: []string{"workspace"}, Short: "Create and list workspaces (the server's admin only)",
		Example: `  latchkey workspaces list
  latchkey workspaces create "Sales" --owner sue@acme.com`,
		Long: `Create and list workspaces. Only the server's admin may: the admin token
in the data folder, which the CLI on the server's machine uses by itself.
Nothing crosses workspaces; a person may belong to several.`}
	list := &cobra.Command{
		Use: "list", Short: "List every workspace",
		Long: `List every workspace on the server as a table: id, name and when it was
made. The server's admin only.`,
		Args:    cobra.NoArgs,
		Example: `  latchkey workspaces list`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := c.client()
			if err != nil {
				return err
			}
			ws, err := cl.Workspaces(cmd.Context())
			if err != nil {
				return err
			}
			return render(c, cmd.OutOrStdout(), ws, []string{"ID", "NAME", "CREATED"}, func(w client.Workspace) []string {
				return []string{w.ID, w.Name, w.CreatedAt}
			})
		},
	}
	var owner string
	create := &cobra.Command{
		Use: "create NAME --owner EMAIL", Short: "Create a workspace owned by EMAIL (attached if they sign in here already, else invited)",
		Long: `Create a workspace named NAME with --owner EMAIL as its owner. If that
person signs in here already they own it at once; otherwise latchkey
prints an invitation link, once, to send them. Prints the new id.`,
		Args:    cobra.ExactArgs(1),
		Example: `  latchkey workspaces create "Sales" --owner sue@acme.com`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if owner == "" {
				return fmt.Errorf("say who owns it: --owner EMAIL")
			}
			cl, err := c.client()
			if err != nil {
				return err
			}
			w, err := cl.CreateWorkspace(cmd.Context(), client.CreateWorkspace{Name: args[0], OwnerEmail: owner})
			if err != nil {
				return err
			}
			if c.jsonOut {
				return printJSON(cmd.OutOrStdout(), w)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "created %s (%s)\n", w.ID, w.Name)
			if w.Owner != nil {
				fmt.Fprintf(cmd.OutOrStdout(), "%s signs in here already and owns it now\n", w.Owner.Email)
			}
			if w.Invitation != nil {
				fmt.Fprintf(cmd.OutOrStdout(), "send %s this link to become its owner (shown once, until %s):\n%s\n", w.Invitation.Email, w.Invitation.ExpiresAt, w.Invitation.URL)
			}
			return nil
		},
	}
	create.Flags().StringVar(&owner, "owner", "", "the email of the workspace's owner")
	cmd.AddCommand(list, create)
	return cmd
}
