package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/latchkeyhq/latchkey/internal/seal"
	"github.com/latchkeyhq/latchkey/internal/store"
)

// newClient returns an OAuth client of the workspace ("" for managed).
func newClient(workspaceID, id, app, clientID string, created time.Time) store.OAuthClient {
	return store.OAuthClient{
		ID:          id,
		WorkspaceID: workspaceID,
		App:         app,
		ClientID:    clientID,
		Secret:      []byte("sealed\x00" + clientID + "\xff"),
		CreatedAt:   created,
		UpdatedAt:   created,
	}
}

func mustClient(t *testing.T, s store.Store, c store.OAuthClient) store.OAuthClient {
	t.Helper()
	got, err := s.UpdateOAuthClient(t.Context(), c.WorkspaceID, c.App, func(old *store.OAuthClient) (store.OAuthClient, error) {
		if old != nil {
			t.Fatalf("UpdateOAuthClient %s: (%q, %s) has client %s already", c.ID, c.WorkspaceID, c.App, old.ID)
		}
		return c, nil
	})
	must(t, "UpdateOAuthClient "+c.ID, err)
	return got
}

func sameClient(t *testing.T, what string, got, want store.OAuthClient) {
	t.Helper()
	if got.ID != want.ID || got.WorkspaceID != want.WorkspaceID || got.App != want.App ||
		got.ClientID != want.ClientID || !bytes.Equal(got.Secret, want.Secret) || got.RedirectName != want.RedirectName {
		t.Errorf("%s = %+v, want %+v", what, got, want)
	}
	sameTime(t, what+" CreatedAt", got.CreatedAt, want.CreatedAt)
	sameTime(t, what+" UpdatedAt", got.UpdatedAt, want.UpdatedAt)
}

func clientIDs(cs []store.OAuthClient) []string {
	ids := []string{}
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	return ids
}

// replaceClient sets the client id and secret of (workspace, app) the way
// a caller that keeps an existing client's id does.
func replaceClient(ctx context.Context, s store.Store, c store.OAuthClient) (store.OAuthClient, error) {
	return s.UpdateOAuthClient(ctx, c.WorkspaceID, c.App, func(old *store.OAuthClient) (store.OAuthClient, error) {
		if old != nil {
			c.ID, c.CreatedAt = old.ID, old.CreatedAt
		}
		return c, nil
	})
}

func testOAuthClientUpdate(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	zone := time.FixedZone("UTC-5", -5*3600)

	orig := newClient("wsp_1", "oac_1", "slack", "w1-id", at(1).In(zone))
	got := mustClient(t, s, orig)
	sameClient(t, "UpdateOAuthClient new", got, orig)
	read, err := s.GetOAuthClient(ctx, "wsp_1", "oac_1")
	must(t, "GetOAuthClient", err)
	sameClient(t, "GetOAuthClient new", read, orig)

	// fn sees the client there and replaces its client id, secret and
	// redirect value (eBay's RuName); the id and the creation time stay.
	again := newClient("wsp_1", "oac_2", "slack", "w1-id-2", at(10))
	again.Secret = []byte{0x00, 0x01, 0xfe}
	again.RedirectName = "Acme_Inc-AcmeApp-PRD-1a2b3c"
	want := again
	want.ID, want.CreatedAt = orig.ID, orig.CreatedAt
	got, err = replaceClient(ctx, s, again)
	must(t, "UpdateOAuthClient again", err)
	sameClient(t, "UpdateOAuthClient again", got, want)
	read, err = s.GetOAuthClient(ctx, "wsp_1", "oac_1")
	must(t, "GetOAuthClient after replace", err)
	sameClient(t, "GetOAuthClient after replace", read, want)
	_, err = s.GetOAuthClient(ctx, "wsp_1", "oac_2")
	wantErr(t, "GetOAuthClient of the replacing id", err, store.ErrNotFound)
	list, err := s.ListOAuthClients(ctx, "wsp_1")
	must(t, "ListOAuthClients", err)
	if ids := clientIDs(list); !slices.Equal(ids, []string{"oac_1"}) {
		t.Errorf("ListOAuthClients after replace = %v, want [oac_1]", ids)
	}

	// fn may not move an existing client to another id (its secret is
	// bound to the id), and an error from fn writes nothing.
	boom := errors.New("boom")
	for name, fn := range map[string]func(*store.OAuthClient) (store.OAuthClient, error){
		"fn changing the id": func(old *store.OAuthClient) (store.OAuthClient, error) {
			c := *old
			c.ID, c.ClientID = "oac_other", "changed"
			return c, nil
		},
		"fn failing": func(old *store.OAuthClient) (store.OAuthClient, error) {
			c := *old
			c.ClientID = "changed"
			return c, boom
		},
	} {
		if _, err := s.UpdateOAuthClient(ctx, "wsp_1", "slack", fn); err == nil {
			t.Errorf("UpdateOAuthClient with %s succeeded", name)
		}
		read, err = s.GetOAuthClient(ctx, "wsp_1", "oac_1")
		must(t, "GetOAuthClient after "+name, err)
		sameClient(t, "client after "+name, read, want)
	}
	_, err = s.UpdateOAuthClient(ctx, "wsp_1", "slack", func(*store.OAuthClient) (store.OAuthClient, error) {
		return store.OAuthClient{}, boom
	})
	wantErr(t, "UpdateOAuthClient with fn failing", err, boom)
	_, err = s.UpdateOAuthClient(ctx, "wsp_1", "github", func(*store.OAuthClient) (store.OAuthClient, error) {
		return store.OAuthClient{}, boom
	})
	wantErr(t, "UpdateOAuthClient of a missing client with fn failing", err, boom)
	_, err = s.FindOAuthClient(ctx, "wsp_1", "github")
	wantErr(t, "FindOAuthClient after a failed create", err, store.ErrNotFound)

	// A managed client for the same app is another client, beside it.
	managed := newClient("", "oac_m", "slack", "managed-id", at(3))
	sameClient(t, "UpdateOAuthClient managed", mustClient(t, s, managed), managed)
	read, err = s.GetOAuthClient(ctx, "wsp_1", "oac_1")
	must(t, "GetOAuthClient after managed put", err)
	sameClient(t, "workspace client after managed put", read, want)
	read, err = s.GetOAuthClient(ctx, "", "oac_m")
	must(t, "GetOAuthClient managed", err)
	sameClient(t, "GetOAuthClient managed", read, managed)

	// Ids are unique across (workspace, app) pairs.
	_, err = replaceClient(ctx, s, newClient("wsp_1", "oac_m", "github", "x", at(4)))
	wantErr(t, "UpdateOAuthClient with another client's id", err, store.ErrConflict)
}

// testOAuthClientUpdateConcurrent: callers that each create or replace one
// app's client, sealing the secret with the id fn is given, as SetClient
// does, leave one client whose secret opens with its id, whichever of them
// wins and however they interleave.
func testOAuthClientUpdateConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	key, err := seal.GenerateKey()
	must(t, "GenerateKey", err)
	ring, err := seal.NewRing(key)
	must(t, "NewRing", err)

	const n = 50
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			got, err := s.UpdateOAuthClient(ctx, "wsp_1", "slack", func(old *store.OAuthClient) (store.OAuthClient, error) {
				c := newClient("wsp_1", fmt.Sprintf("oac_%02d", i), "slack", fmt.Sprintf("client-%02d", i), at(i))
				if old != nil {
					c.ID, c.CreatedAt = old.ID, old.CreatedAt
				}
				var err error
				c.Secret, err = ring.Seal([]byte("secret of "+c.ClientID), []byte(c.ID))
				return c, err
			})
			if err != nil {
				t.Errorf("UpdateOAuthClient %d: %v", i, err)
				return
			}
			// What each caller was told was stored opens too: a caller
			// that sealed with an id the row did not get would hand out
			// a client that cannot authenticate.
			if _, err := ring.Open(got.Secret, []byte(got.ID)); err != nil {
				t.Errorf("UpdateOAuthClient %d returned %s, whose secret does not open with its id: %v", i, got.ID, err)
			}
		})
	}
	close(start)
	wg.Wait()

	list, err := s.ListOAuthClients(ctx, "wsp_1")
	must(t, "ListOAuthClients", err)
	if len(list) != 1 {
		t.Fatalf("ListOAuthClients after %d concurrent updates = %v, want one client", n, clientIDs(list))
	}
	c := list[0]
	plain, err := ring.Open(c.Secret, []byte(c.ID))
	if err != nil {
		t.Fatalf("the secret of %s does not open with its id: %v", c.ID, err)
	}
	if want := "secret of " + c.ClientID; string(plain) != want {
		t.Errorf("the secret of %s (client id %s) = %q, want %q: client id and secret from different writers", c.ID, c.ClientID, plain, want)
	}
}

func testOAuthClientLookup(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, ws := range []string{"wsp_1", "wsp_2", "wsp_3"} {
		mustWorkspace(t, s, ws)
	}
	clients := map[string]store.OAuthClient{}
	// Put out of app order: lists go by app.
	for _, c := range []store.OAuthClient{
		newClient("", "oac_m_slack", "slack", "m-slack", at(1)),
		newClient("wsp_1", "oac_1_zoom", "zoom", "1-zoom", at(2)),
		newClient("wsp_1", "oac_1_slack", "slack", "1-slack", at(3)),
		newClient("", "oac_m_github", "github", "m-github", at(4)),
		newClient("wsp_2", "oac_2_github", "github", "2-github", at(5)),
		newClient("wsp_2", "oac_2_asana", "asana", "2-asana", at(6)),
	} {
		clients[c.ID] = mustClient(t, s, c)
	}

	t.Run("find", func(t *testing.T) {
		tests := []struct {
			ws, app string
			want    string // "" for ErrNotFound
		}{
			{"wsp_1", "slack", "oac_1_slack"},
			{"wsp_1", "github", "oac_m_github"},
			{"wsp_1", "zoom", "oac_1_zoom"},
			{"wsp_1", "asana", ""},
			{"wsp_1", "notion", ""},
			{"wsp_2", "github", "oac_2_github"},
			{"wsp_2", "slack", "oac_m_slack"},
			{"wsp_2", "zoom", ""},
			{"wsp_3", "github", "oac_m_github"},
			{"wsp_3", "asana", ""},
			{"", "slack", "oac_m_slack"},
			{"", "zoom", ""},
		}
		for _, tc := range tests {
			got, err := s.FindOAuthClient(ctx, tc.ws, tc.app)
			what := "FindOAuthClient(" + tc.ws + ", " + tc.app + ")"
			if tc.want == "" {
				wantErr(t, what, err, store.ErrNotFound)
				continue
			}
			must(t, what, err)
			sameClient(t, what, got, clients[tc.want])
		}
	})

	t.Run("get", func(t *testing.T) {
		tests := []struct {
			ws, id string
			found  bool
		}{
			{"wsp_1", "oac_1_slack", true},
			{"wsp_1", "oac_m_slack", true},
			{"wsp_2", "oac_m_github", true},
			{"", "oac_m_slack", true},
			{"", "oac_1_slack", false},
			{"wsp_2", "oac_1_slack", false},
			{"wsp_1", "oac_2_asana", false},
			{"wsp_3", "oac_2_github", false},
			{"wsp_1", "oac_missing", false},
		}
		for _, tc := range tests {
			got, err := s.GetOAuthClient(ctx, tc.ws, tc.id)
			what := "GetOAuthClient(" + tc.ws + ", " + tc.id + ")"
			if !tc.found {
				wantErr(t, what, err, store.ErrNotFound)
				continue
			}
			must(t, what, err)
			sameClient(t, what, got, clients[tc.id])
		}
	})

	t.Run("list", func(t *testing.T) {
		tests := []struct {
			ws   string
			apps []string
			ids  []string
		}{
			{"wsp_1", []string{"github", "slack", "slack", "zoom"},
				[]string{"oac_1_slack", "oac_1_zoom", "oac_m_github", "oac_m_slack"}},
			{"wsp_2", []string{"asana", "github", "github", "slack"},
				[]string{"oac_2_asana", "oac_2_github", "oac_m_github", "oac_m_slack"}},
			{"wsp_3", []string{"github", "slack"}, []string{"oac_m_github", "oac_m_slack"}},
			{"", []string{"github", "slack"}, []string{"oac_m_github", "oac_m_slack"}},
		}
		for _, tc := range tests {
			list, err := s.ListOAuthClients(ctx, tc.ws)
			must(t, "ListOAuthClients "+tc.ws, err)
			apps := []string{}
			for _, c := range list {
				apps = append(apps, c.App)
				sameClient(t, "listed "+c.ID, c, clients[c.ID])
			}
			ids := clientIDs(list)
			slices.Sort(ids)
			if !slices.Equal(apps, tc.apps) || !slices.Equal(ids, tc.ids) {
				t.Errorf("ListOAuthClients(%q) = %v with apps %v, want %v with apps %v", tc.ws, ids, apps, tc.ids, tc.apps)
			}
		}
	})

	t.Run("delete", func(t *testing.T) {
		// Nobody deletes another workspace's client, nor a workspace the
		// managed one.
		for _, tc := range []struct{ ws, id string }{
			{"wsp_2", "oac_1_slack"},
			{"", "oac_1_slack"},
			{"wsp_1", "oac_m_slack"},
			{"wsp_1", "oac_missing"},
		} {
			wantErr(t, "DeleteOAuthClient("+tc.ws+", "+tc.id+")", s.DeleteOAuthClient(ctx, tc.ws, tc.id), store.ErrNotFound)
		}
		for _, id := range []string{"oac_1_slack", "oac_m_slack"} {
			if _, err := s.GetOAuthClient(ctx, "wsp_1", id); err != nil {
				t.Errorf("%s gone after refused deletes: %v", id, err)
			}
		}

		// Without its own, the workspace falls back to the managed client.
		must(t, "DeleteOAuthClient", s.DeleteOAuthClient(ctx, "wsp_1", "oac_1_slack"))
		_, err := s.GetOAuthClient(ctx, "wsp_1", "oac_1_slack")
		wantErr(t, "GetOAuthClient after delete", err, store.ErrNotFound)
		wantErr(t, "DeleteOAuthClient twice", s.DeleteOAuthClient(ctx, "wsp_1", "oac_1_slack"), store.ErrNotFound)
		got, err := s.FindOAuthClient(ctx, "wsp_1", "slack")
		must(t, "FindOAuthClient after delete", err)
		sameClient(t, "FindOAuthClient after delete", got, clients["oac_m_slack"])

		must(t, "DeleteOAuthClient managed", s.DeleteOAuthClient(ctx, "", "oac_m_slack"))
		for _, ws := range []string{"wsp_1", "wsp_2"} {
			_, err = s.FindOAuthClient(ctx, ws, "slack")
			wantErr(t, "FindOAuthClient after deleting the managed client in "+ws, err, store.ErrNotFound)
		}
		list, err := s.ListOAuthClients(ctx, "wsp_1")
		must(t, "ListOAuthClients after deletes", err)
		if ids := clientIDs(list); !slices.Equal(ids, []string{"oac_m_github", "oac_1_zoom"}) {
			t.Errorf("ListOAuthClients after deletes = %v, want [oac_m_github oac_1_zoom]", ids)
		}
	})
}
