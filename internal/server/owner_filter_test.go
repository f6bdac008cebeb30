package server_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
	"github.com/latchkeyhq/latchkey/internal/store"
)

// TestListByOwner: ?owner= lists one member's accounts, among those the
// caller may see, and never another workspace's.
func TestListByOwner(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b servertest.Backend) {
		f := start(t, b)
		ctx := context.Background()
		mia := addUser(t, f.Instance, "mia@acme.test", store.RoleMember)
		bea := addUser(t, f.Instance, "bea@acme.test", store.RoleMember)
		m1, m2 := sendgrid(t, mia.api, "mia one"), sendgrid(t, mia.api, "mia two")
		b1, b2 := sendgrid(t, bea.api, "bea shared"), sendgrid(t, bea.api, "bea private")
		if _, err := bea.api.ShareAccount(ctx, b1.ID, client.Sharing{Workspace: true}, false); err != nil {
			t.Fatal(err)
		}
		sendgrid(t, f.api, "the admin's")
		nw, err := f.api.CreateWorkspace(ctx, client.CreateWorkspace{Name: "Other", OwnerEmail: "zed@acme.test"})
		if err != nil {
			t.Fatal(err)
		}
		zed := join(t, f.Instance, nw.Invitation.URL, "zed's password!")

		list := func(api *client.Client, owner string) ([]string, error) {
			p, err := api.ListAccounts(ctx, client.ListOptions{Owner: owner})
			var ids []string
			for _, a := range p.Data {
				ids = append(ids, a.ID)
			}
			return ids, err
		}
		for _, tc := range []struct {
			name  string
			api   *client.Client
			owner string
			want  []string
		}{
			{"the admin lists mia's", f.api, mia.ID, []string{m1.ID, m2.ID}},
			{"the admin lists bea's", f.api, bea.ID, []string{b1.ID, b2.ID}},
			{"mia lists her own", mia.api, mia.ID, []string{m1.ID, m2.ID}},
			{"mia lists bea's: the shared one only", mia.api, bea.ID, []string{b1.ID}},
			{"another workspace's owner lists mia's: none", zed.api, mia.ID, nil},
		} {
			got, err := list(tc.api, tc.owner)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			// Lists go by id.
			slices.Sort(tc.want)
			if !slices.Equal(got, tc.want) {
				t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
			}
		}
		_, err = list(f.api, "mia@acme.test")
		var p *client.Problem
		if !errors.As(err, &p) || p.Status != 422 || p.Field != "owner" {
			t.Errorf("owner=an email: %v, want a 422 about owner", err)
		}
	})
}
