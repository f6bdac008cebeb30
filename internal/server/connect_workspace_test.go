package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/ids"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
	"github.com/latchkeyhq/latchkey/internal/store"
)

// TestAPIConnectionRefusedToAnotherWorkspace: a browser signed in to
// another workspace cannot finish a connection started in this one, at
// the callback or at its resume page, and nothing is stored.
func TestAPIConnectionRefusedToAnotherWorkspace(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b servertest.Backend) {
		f := startOAuth(t, b)
		ctx := context.Background()
		alice := addUser(t, f.inst, "alice@example.com", store.RoleMember)

		// A user of a second workspace with a live session.
		st, now := f.inst.Store(), time.Now().UTC()
		other := store.Workspace{ID: ids.New("wsp", now), Name: "other", CreatedAt: now}
		if err := st.CreateWorkspace(ctx, other); err != nil {
			t.Fatal(err)
		}
		outsider := store.User{ID: ids.New(ids.User, now), WorkspaceID: other.ID, Email: "alice@example.com", Role: store.RoleOwner, PasswordHash: "x", CreatedAt: now}
		if err := st.CreateUser(ctx, outsider); err != nil {
			t.Fatal(err)
		}
		cookie := "outsider-session-value-0123456789"
		if err := st.CreateSession(ctx, store.Session{Hash: identity.SessionKey(cookie), WorkspaceID: other.ID, UserID: outsider.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		br := browser(t)
		base, _ := url.Parse(f.inst.URL)
		br.Jar.SetCookies(base, []*http.Cookie{{Name: "latchkey_session", Value: cookie, Path: "/"}})

		started, err := alice.api.Connect(ctx, client.Connect{App: "testidp"})
		if err != nil {
			t.Fatal(err)
		}
		status, body := get(t, br, started.AuthorizeURL)
		if status != http.StatusForbidden || !strings.Contains(body, "started by another user") {
			t.Fatalf("a browser of another workspace finished the connection: %d\n%s", status, body)
		}
		if status, _ := get(t, br, f.inst.URL+"/oauth/callback/resume/"+started.ID); status == http.StatusOK {
			t.Fatal("the resume page served a browser of another workspace")
		}
		for _, u := range []struct {
			name string
			api  *client.Client
		}{{"alice", alice.api}} {
			if list, err := u.api.ListAccounts(ctx, client.ListOptions{}); err != nil || len(list.Data) != 0 {
				t.Fatalf("%s has accounts after the other workspace's browser came back: %+v %v", u.name, list.Data, err)
			}
		}
		if n := f.idp.CodeExchanges(); n != 0 {
			t.Fatalf("%d code exchanges, want none", n)
		}
	})
}
