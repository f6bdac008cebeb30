package server_test

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
	"github.com/latchkeyhq/latchkey/internal/store"
)

// sharingActions are the actions of the sharing table, in the order they
// run on one set of accounts (delete last).
var sharingActions = []string{"list", "get", "credentials", "rename", "share", "link", "reconnect", "replace keys", "delete"}

// TestSharingTable: role × action on a private account, one shared with
// the workspace and one shared with a chosen member, all three owned by a
// member (mia). A letter per action, in sharingActions' order: y allowed,
// n refused (401, 403 or 404, or absent from the list).
func TestSharingTable(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b servertest.Backend) {
		f := start(t, b)
		ctx := context.Background()
		mia := addUser(t, f.Instance, "mia@acme.test", store.RoleMember)
		bea := addUser(t, f.Instance, "bea@acme.test", store.RoleMember)
		ada := addUser(t, f.Instance, "ada@acme.test", store.RoleAdmin)
		max := addUser(t, f.Instance, "max@acme.test", store.RoleMember)
		vic := addUser(t, f.Instance, "vic@acme.test", store.RoleViewer)
		nw, err := f.api.CreateWorkspace(ctx, client.CreateWorkspace{Name: "Other", OwnerEmail: "zed@acme.test"})
		if err != nil {
			t.Fatal(err)
		}
		zed := join(t, f.Instance, nw.Invitation.URL, "zed's password!")

		callers := []struct {
			name string
			api  *client.Client
			// want per account: private, workspace-shared, member-shared.
			private, workspace, member string
		}{
			{"workspace owner", f.api, "yyyyyyyyy", "yyyyyyyyy", "yyyyyyyyy"},
			{"account owner", mia.api, "yyyyyyyyy", "yyyyyyyyy", "yyyyyyyyy"},
			{"admin", ada.api, "nnnnnnnnn", "yyynnynnn", "nnnnnnnnn"},
			{"member", max.api, "nnnnnnnnn", "yyynnynnn", "nnnnnnnnn"},
			{"viewer", vic.api, "nnnnnnnnn", "yynnnnnnn", "nnnnnnnnn"},
			{"member with the share", bea.api, "nnnnnnnnn", "yyynnynnn", "yyynnynnn"},
			{"another workspace", zed.api, "nnnnnnnnn", "nnnnnnnnn", "nnnnnnnnn"},
		}
		for _, c := range callers {
			t.Run(c.name, func(t *testing.T) {
				for _, kind := range []struct {
					name    string
					sharing client.Sharing
					want    string
				}{
					{"private", client.Sharing{}, c.private},
					{"workspace-shared", client.Sharing{Workspace: true}, c.workspace},
					{"member-shared", client.Sharing{Members: []string{bea.ID}}, c.member},
				} {
					acc := sendgrid(t, mia.api, kind.name)
					if _, err := mia.api.ShareAccount(ctx, acc.ID, kind.sharing, false); err != nil {
						t.Fatalf("mia shares %s: %v", kind.name, err)
					}
					got := ""
					for _, action := range sharingActions {
						got += map[bool]string{true: "y", false: "n"}[sharingAllowed(t, c.api, action, acc.ID, kind.sharing)]
					}
					if got != kind.want {
						t.Errorf("%s account: %s, want %s (actions %v)", kind.name, got, kind.want, sharingActions)
					}
				}
			})
		}
	})
}

// sharingAllowed does one action of the sharing table and reports whether
// it got past the rules.
func sharingAllowed(t *testing.T, api *client.Client, action, id string, sharing client.Sharing) bool {
	t.Helper()
	ctx := context.Background()
	refused := func(err error) bool {
		var p *client.Problem
		if errors.As(err, &p) {
			return p.Status == 401 || p.Status == 403 || p.Status == 404
		}
		if err != nil {
			t.Fatalf("%s: %v", action, err)
		}
		return false
	}
	var err error
	switch action {
	case "list":
		page, err := api.ListAccounts(ctx, client.ListOptions{Limit: 200})
		if err != nil {
			t.Fatalf("list: %v", err)
		}
		return slices.ContainsFunc(page.Data, func(a client.Account) bool { return a.ID == id })
	case "get":
		_, err = api.GetAccount(ctx, id)
	case "credentials":
		_, err = api.Credentials(ctx, id)
	case "rename":
		_, err = api.RenameAccount(ctx, id, "renamed")
	case "share":
		// The sharing it has: allowed or not, nothing changes for the
		// actions after.
		_, err = api.ShareAccount(ctx, id, sharing, false)
	case "link":
		wf, werr := api.CreateWorkflow(ctx, client.SaveWorkflow{Name: "send", Steps: []client.WorkflowStep{{Key: "send", Kind: "code", Apps: []string{"sendgrid"}, Code: "return 1"}}})
		if werr != nil {
			return !refused(werr)
		}
		_, err = api.LinkAccount(ctx, wf.ID, "send", "sendgrid", id)
		var p *client.Problem
		if errors.As(err, &p) && p.Status == 422 && strings.Contains(p.Detail, "not found") {
			return false // the account is not there for the workflow's owner
		}
	case "reconnect":
		// A key-based account is not reconnected: 422 says to give it new
		// keys, past the rules.
		_, err = api.Reconnect(ctx, id)
		var p *client.Problem
		if errors.As(err, &p) && p.Status == 422 {
			return true
		}
	case "replace keys":
		_, err = api.ReplaceKeys(ctx, id, client.ReplaceKeys{Fields: map[string]string{"api_key": goodKey}, Test: ptr(false)})
	case "delete":
		err = api.ForceDeleteAccount(ctx, id)
	}
	return !refused(err)
}

// TestSharing: sharing through the API: what the view shows, bad input
// refused with nothing changed, the audit trail, and unsharing an account
// another member's workflow uses (409 until forced, then that workflow's
// step fails when run).
func TestSharing(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b servertest.Backend) {
		f := start(t, b)
		ctx := context.Background()
		mia := addUser(t, f.Instance, "mia@acme.test", store.RoleMember)
		bea := addUser(t, f.Instance, "bea@acme.test", store.RoleMember)
		vic := addUser(t, f.Instance, "vic@acme.test", store.RoleViewer)
		nw, err := f.api.CreateWorkspace(ctx, client.CreateWorkspace{Name: "Other", OwnerEmail: "zed@acme.test"})
		if err != nil {
			t.Fatal(err)
		}
		zed := join(t, f.Instance, nw.Invitation.URL, "zed's password!")

		acc := sendgrid(t, mia.api, "mail")
		if acc.Shared || len(acc.SharedWith) != 0 {
			t.Fatalf("a new account is shared: %+v", acc)
		}
		got, err := mia.api.ShareAccount(ctx, acc.ID, client.Sharing{Members: []string{vic.ID, bea.ID, bea.ID}}, false)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{bea.ID, vic.ID}
		slices.Sort(want)
		if got.Shared || !slices.Equal(got.SharedWith, want) {
			t.Fatalf("shared with bea and vic: shared %v, shared_with %v, want %v", got.Shared, got.SharedWith, want)
		}
		// A viewer it is shared with sees it and may not read it.
		if _, err := vic.api.GetAccount(ctx, acc.ID); err != nil {
			t.Fatalf("vic gets it: %v", err)
		}
		if _, err := vic.api.Credentials(ctx, acc.ID); status(err) != 403 {
			t.Fatalf("vic reads its credentials: %v, want 403", err)
		}

		for _, bad := range []struct {
			name    string
			members []string
		}{
			{"not an id", []string{"bea@acme.test"}},
			{"no such member", []string{"usr_01j0000000000000000000000"}},
			{"a member of another workspace", []string{zed.id}},
			{"the owner", []string{mia.ID}},
		} {
			_, err := mia.api.ShareAccount(ctx, acc.ID, client.Sharing{Workspace: true, Members: bad.members}, false)
			var p *client.Problem
			if !errors.As(err, &p) || p.Status != 422 || p.Field != "members" {
				t.Errorf("%s: %v, want a 422 about members", bad.name, err)
			}
		}
		if now, err := mia.api.GetAccount(ctx, acc.ID); err != nil || now.Shared || !slices.Equal(now.SharedWith, want) {
			t.Fatalf("refused sharing changed it: %+v %v", now, err)
		}
		// Strict body: an unknown field is refused.
		if code := call(t, f.URL, f.Token, "PUT", "/v1/accounts/"+acc.ID+"/sharing", `{"everyone":true}`); code != 400 && code != 422 {
			t.Errorf("an unknown field: %d", code)
		}

		// bea links it into her workflow; unsharing it from her is refused
		// until forced, without naming her workflow to mia.
		wf, err := bea.api.CreateWorkflow(ctx, client.SaveWorkflow{Name: "bea's digest", Steps: []client.WorkflowStep{{Key: "send", Kind: "code", Apps: []string{"sendgrid"}, Code: "return 1"}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := bea.api.LinkAccount(ctx, wf.ID, "send", "sendgrid", acc.ID); err != nil {
			t.Fatalf("bea links an account shared with her: %v", err)
		}
		// Sharing it with the workspace instead keeps it hers to use.
		if _, err := mia.api.ShareAccount(ctx, acc.ID, client.Sharing{Workspace: true}, false); err != nil {
			t.Fatalf("widening to the workspace: %v", err)
		}
		_, err = mia.api.ShareAccount(ctx, acc.ID, client.Sharing{}, false)
		var p *client.Problem
		if !errors.As(err, &p) || p.Status != 409 || p.AccountID != acc.ID || !strings.Contains(p.Detail, "1 workflow you cannot see") || strings.Contains(p.Detail, "digest") {
			t.Fatalf("unsharing an account in use: %v, want 409 naming no workflow of bea's", err)
		}
		// The workspace owner sees the workflow by name.
		_, err = f.api.ShareAccount(ctx, acc.ID, client.Sharing{}, false)
		if !errors.As(err, &p) || p.Status != 409 || !strings.Contains(p.Detail, "bea's digest") {
			t.Fatalf("the owner unsharing: %v, want 409 naming bea's workflow", err)
		}
		if now, _ := mia.api.GetAccount(ctx, acc.ID); !now.Shared {
			t.Fatalf("the refused unsharing changed it: %+v", now)
		}
		if got, err := mia.api.ShareAccount(ctx, acc.ID, client.Sharing{}, true); err != nil || got.Shared || len(got.SharedWith) != 0 {
			t.Fatalf("forced unsharing: %+v %v", got, err)
		}
		if _, err := bea.api.GetAccount(ctx, acc.ID); status(err) != 404 {
			t.Fatalf("bea after unsharing: %v, want 404", err)
		}
		run, err := bea.api.RunWorkflow(ctx, wf.ID)
		if err != nil {
			t.Fatal(err)
		}
		if run.Status != "failed" || len(run.Steps) != 1 || !strings.Contains(run.Steps[0].Error, "owner may not use the sendgrid account "+acc.ID) {
			t.Fatalf("bea's run after unsharing: %+v", run)
		}

		// Each change is in the account's audit log, with who it went to.
		page, err := mia.api.Events(ctx, acc.ID, client.ListOptions{Limit: 200})
		if err != nil {
			t.Fatal(err)
		}
		var trail []string
		for _, e := range page.Data {
			switch e.Action {
			case "account.shared":
				trail = append(trail, "shared workspace="+e.Detail["workspace"]+" members="+e.Detail["members"])
			case "account.unshared":
				trail = append(trail, "unshared by "+e.ActorID)
			}
		}
		slices.Reverse(trail) // oldest first
		wantTrail := []string{
			"shared workspace=false members=" + strings.Join(want, " "),
			"shared workspace=true members=",
			"unshared by " + mia.ID,
		}
		if !slices.Equal(trail, wantTrail) {
			t.Errorf("audit trail:\n%s\nwant:\n%s", strings.Join(trail, "\n"), strings.Join(wantTrail, "\n"))
		}
	})
}

// TestSharingPage: the account page's sharing form, for the owner of the
// account; a member it is shared with sees it, and neither the form nor
// the controls only the owner may use. Unsharing from a member whose
// workflow uses it asks again.
func TestSharingPage(t *testing.T) {
	f := start(t, servertest.Backends[0])
	ctx := context.Background()
	mia := addUser(t, f.Instance, "mia@acme.test", store.RoleMember)
	bea := addUser(t, f.Instance, "bea@acme.test", store.RoleMember)
	acc := sendgrid(t, mia.api, "mail")

	mb := browser(t)
	if code, _ := signIn(t, mb, f.Instance, mia, "/"); code != 200 {
		t.Fatalf("mia signs in: %d", code)
	}
	_, body := get(t, mb, f.URL+"/accounts/"+acc.ID)
	if !strings.Contains(body, `id="sharing"`) || !strings.Contains(body, `value="`+bea.ID+`"`) || strings.Contains(body, `value="`+mia.ID+`"`) || !strings.Contains(body, "Private to its owner") {
		t.Fatalf("mia's account page lacks the sharing form with bea (and not herself) in it:\n%s", body)
	}
	// The web's connect form makes a private account, whatever it is sent.
	post(t, mb, f.URL+"/connect/sendgrid", url.Values{"nickname": {"from the web"}, "field_api_key": {goodKey}, "shared": {"on"}})
	list, err := mia.api.ListAccounts(ctx, client.ListOptions{Query: "from the web"})
	if err != nil || len(list.Data) != 1 || list.Data[0].Shared || len(list.Data[0].SharedWith) != 0 {
		t.Fatalf("an account connected on the web: %+v %v, want one, private", list.Data, err)
	}
	code, body := post(t, mb, f.URL+"/accounts/"+acc.ID+"/sharing", url.Values{"member": {bea.ID}})
	if code != 200 || !strings.Contains(body, "Sharing saved") || !strings.Contains(body, "With bea (bea@acme.test)") {
		t.Fatalf("share with bea: %d\n%s", code, body)
	}

	bb := browser(t)
	signIn(t, bb, f.Instance, bea, "/")
	if _, body := get(t, bb, f.URL+"/"); !strings.Contains(body, acc.ID) {
		t.Fatalf("bea's accounts page does not list the account shared with her")
	}
	_, body = get(t, bb, f.URL+"/accounts/"+acc.ID)
	if strings.Contains(body, `id="sharing"`) || strings.Contains(body, `id="delete"`) || strings.Contains(body, `id="rename"`) || !strings.Contains(body, "shared with you") {
		t.Fatalf("bea's view of mia's account shows controls only the owner may use:\n%s", body)
	}
	if code, _ := post(t, bb, f.URL+"/accounts/"+acc.ID+"/sharing", url.Values{"workspace": {"on"}}); code != 403 {
		t.Fatalf("bea shares mia's account: %d, want 403", code)
	}

	wf, err := bea.api.CreateWorkflow(ctx, client.SaveWorkflow{Name: "bea's digest", Steps: []client.WorkflowStep{{Key: "s", Kind: "code", Apps: []string{"sendgrid"}, Code: "return 1", Accounts: map[string]string{"sendgrid": acc.ID}}}})
	if err != nil {
		t.Fatal(err)
	}
	code, body = post(t, mb, f.URL+"/accounts/"+acc.ID+"/sharing", url.Values{})
	if code != 409 || !strings.Contains(body, "1 workflow you cannot see") || strings.Contains(body, wf.Name) || !strings.Contains(body, `name="confirm_in_use"`) {
		t.Fatalf("unsharing an account in use: %d\n%s", code, body)
	}
	if a, _ := mia.api.GetAccount(ctx, acc.ID); len(a.SharedWith) != 1 {
		t.Fatalf("asking again changed the sharing: %+v", a)
	}
	code, body = post(t, mb, f.URL+"/accounts/"+acc.ID+"/sharing", url.Values{"confirm_in_use": {"yes"}})
	if code != 200 || !strings.Contains(body, "Private to its owner") {
		t.Fatalf("unshare anyway: %d\n%s", code, body)
	}
}
