package storetest

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/latchkeyhq/latchkey/internal/store"
)

// scaleTests check the indexes, the text index and the counts kept by
// triggers against a plain scan: over a seeded set, every filter lists
// what a loop over the seeded accounts selects, page after page.
var scaleTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"CreateAccounts", testCreateAccounts},
	{"ListAccountsMatchScan", ListAccountsMatchScan},
}

func testCreateAccounts(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	mustUser(t, s, "wsp_1", "usr_bob", "bob@x.io", store.RoleMember, "h", 1)
	mustUser(t, s, "wsp_1", "usr_carol", "carol@x.io", store.RoleMember, "h", 2)
	full := fullAccount("wsp_1", "acc_2")
	full.Tags = map[string]string{"env": "prod", "team": "a"}
	full.SharedWith = []string{"usr_carol", "usr_bob"}
	full.ExternalUserID, full.Metadata = "user-9", []byte(`{"plan":"pro"}`)
	must(t, "CreateAccounts", s.CreateAccounts(ctx, []store.Account{newAccount("wsp_1", "acc_1", "usr_bob", "github"), full}))
	got, err := s.GetAccount(ctx, "wsp_1", "acc_2")
	must(t, "GetAccount", err)
	full.SharedWith = []string{"usr_bob", "usr_carol"}
	sameAccount(t, "bulk-created account", got, full)
	tagged, err := s.ListAccounts(ctx, store.AccountFilter{WorkspaceID: "wsp_1", Tags: []store.Tag{{Key: "team", Value: "a"}}})
	must(t, "ListAccounts by tag", err)
	if ids := accountIDs(tagged); !slices.Equal(ids, []string{"acc_2"}) {
		t.Errorf("tagged accounts = %v, want [acc_2]", ids)
	}

	// One taken id refuses the whole batch.
	err = s.CreateAccounts(ctx, []store.Account{newAccount("wsp_1", "acc_3", "usr_bob", "github"), newAccount("wsp_1", "acc_1", "usr_bob", "slack")})
	wantErr(t, "CreateAccounts with a taken id", err, store.ErrConflict)
	if _, err := s.GetAccount(ctx, "wsp_1", "acc_3"); err == nil {
		t.Error("CreateAccounts that failed stored acc_3 anyway")
	}
	counts, err := s.CountAccountsByStatus(ctx)
	must(t, "CountAccountsByStatus", err)
	if want := (map[store.AccountStatus]int{store.StatusHealthy: 1, store.StatusNeedsReconnect: 1}); !maps.Equal(counts, want) {
		t.Errorf("CountAccountsByStatus after a refused batch = %v, want %v", counts, want)
	}
	must(t, "CreateAccounts of none", s.CreateAccounts(ctx, nil))
}

// scaleSet is the seeded set: more accounts than the text index hands
// out as candidates (so that both ways of searching run), created out of
// id order, in two workspaces.
func scaleSet() []store.Account {
	r := rand.New(rand.NewPCG(16, 22))
	apps := []string{"slack", "github", "hubspot", "sendgrid", "google_sheets", "notion"}
	owners := []string{"usr_alice", "usr_bob", "usr_carol"}
	words := []string{"Sales", "Support", "Ops", "Örg", "100%", "under_score", "Quote\"d", "Rare-Kiwi"}
	var list []store.Account
	for i := range 2600 {
		ws := "wsp_1"
		if i%10 == 9 {
			ws = "wsp_2"
		}
		a := newAccount(ws, fmt.Sprintf("acc_%05d", i), owners[r.IntN(len(owners))], apps[r.IntN(len(apps))])
		// Every identity holds "acme": a text too common for the text
		// index. A few hold a rare word.
		word := words[r.IntN(len(words)-1)]
		if i%500 == 7 {
			word = words[len(words)-1]
		}
		a.Nickname = fmt.Sprintf("%s %d", word, i%37)
		a.IdentityLabel = fmt.Sprintf("user%d@acme.com", i)
		if r.IntN(20) == 0 {
			a.Status = store.StatusNeedsReconnect
		}
		a.Shared = r.IntN(4) == 0
		// Shares name users, who belong to wsp_1.
		if ws == "wsp_1" && r.IntN(8) == 0 {
			a.SharedWith = []string{owners[r.IntN(len(owners))]}
		}
		if r.IntN(2) == 0 {
			a.ExternalUserID = fmt.Sprintf("end-%d", r.IntN(40))
			a.Tags = map[string]string{"tier": []string{"free", "pro"}[r.IntN(2)], "region": []string{"eu", "us", "ap"}[r.IntN(3)]}
		}
		list = append(list, a)
	}
	r.Shuffle(len(list), func(i, j int) { list[i], list[j] = list[j], list[i] })
	return list
}

// selects is the plain scan: whether f selects a, page left out. Text
// folds ASCII case only, as both databases do for it.
func selects(f store.AccountFilter, a store.Account) bool {
	switch {
	case a.WorkspaceID != f.WorkspaceID,
		f.VisibleTo != "" && a.OwnerID != f.VisibleTo && !a.Shared && !slices.Contains(a.SharedWith, f.VisibleTo),
		f.App != "" && a.App != f.App,
		f.Status != "" && a.Status != f.Status,
		f.OwnerID != "" && a.OwnerID != f.OwnerID,
		f.ExternalUserID != "" && a.ExternalUserID != f.ExternalUserID,
		(len(f.WithinIDs) > 0 || len(f.WithinApps) > 0) && !slices.Contains(f.WithinIDs, a.ID) && !slices.Contains(f.WithinApps, a.App):
		return false
	}
	for _, tag := range f.Tags {
		if v, ok := a.Tags[tag.Key]; !ok || v != tag.Value {
			return false
		}
	}
	if f.Text != "" {
		q := asciiLower(f.Text)
		return strings.Contains(asciiLower(a.Nickname), q) || strings.Contains(asciiLower(a.IdentityLabel), q) || strings.Contains(asciiLower(a.App), q)
	}
	return true
}

func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}

// ListAccountsMatchScan seeds 2,600 accounts, changes and deletes some,
// and checks every filter, page after page, and the app filter and the
// counts by status, against a plain scan of what it seeded. A backend
// whose text index takes another way for texts that many rows hold runs
// it again with that threshold low.
func ListAccountsMatchScan(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	mustWorkspace(t, s, "wsp_2")
	for i, u := range []string{"usr_alice", "usr_bob", "usr_carol"} {
		mustUser(t, s, "wsp_1", u, u+"@x.io", store.RoleMember, "h", i)
	}
	seeded := scaleSet()
	for chunk := range slices.Chunk(seeded, 700) {
		must(t, "CreateAccounts", s.CreateAccounts(ctx, chunk))
	}
	// Then some change and go, so that the triggers' work is checked too.
	byID := map[string]store.Account{}
	for _, a := range seeded {
		byID[a.ID] = a
	}
	for i := 0; i < 2600; i += 97 {
		id := fmt.Sprintf("acc_%05d", i)
		a := byID[id]
		switch i % 3 {
		case 0:
			must(t, "DeleteAccount", s.DeleteAccount(ctx, a.WorkspaceID, id))
			delete(byID, id)
			continue
		case 1:
			a.Nickname, a.IdentityLabel = "Renamed Rare-Kiwi", "someone@else.org"
		case 2:
			a.Status = map[store.AccountStatus]store.AccountStatus{store.StatusHealthy: store.StatusNeedsReconnect, store.StatusNeedsReconnect: store.StatusHealthy}[a.Status]
		}
		_, err := s.UpdateAccount(ctx, a.WorkspaceID, id, func(old *store.Account) error {
			old.Nickname, old.IdentityLabel, old.Status = a.Nickname, a.IdentityLabel, a.Status
			return nil
		})
		must(t, "UpdateAccount", err)
		byID[id] = a
	}
	all := slices.SortedFunc(maps.Values(byID), func(a, b store.Account) int { return strings.Compare(a.ID, b.ID) })

	filters := []store.AccountFilter{
		{},
		{App: "hubspot"},
		{App: "none"},
		{Status: store.StatusNeedsReconnect},
		{OwnerID: "usr_bob"},
		{ExternalUserID: "end-7"},
		{Tags: []store.Tag{{Key: "tier", Value: "pro"}}},
		{Tags: []store.Tag{{Key: "tier", Value: "pro"}, {Key: "region", Value: "eu"}}},
		{Text: "acme"},         // in every identity: scanned
		{Text: "ACME.com"},     // any ASCII case
		{Text: "rare-kiwi"},    // rare: narrowed by the text index
		{Text: "renamed rare"}, // only renamed accounts hold it
		{Text: "user12@"},
		{Text: "Örg"},
		{Text: "%"}, {Text: "0%"}, {Text: "_sc"}, {Text: `e"d`},
		{Text: "ub"}, // short for a trigram
		{Text: "sheets"},
		{Text: "zzzz"},
		{VisibleTo: "usr_carol"},
		{VisibleTo: "usr_carol", Text: "rare-kiwi"},
		{App: "slack", Status: store.StatusHealthy, OwnerID: "usr_alice"},
		{App: "github", Text: "support", Tags: []store.Tag{{Key: "region", Value: "us"}}},
		{WithinApps: []string{"notion"}, WithinIDs: []string{"acc_00001", "acc_00002"}},
		{WorkspaceID: "wsp_2", Text: "rare-kiwi"},
		{WorkspaceID: "wsp_2", Status: store.StatusNeedsReconnect},
	}
	for _, f := range filters {
		if f.WorkspaceID == "" {
			f.WorkspaceID = "wsp_1"
		}
		t.Run(fmt.Sprintf("%+v", f), func(t *testing.T) {
			var want []string
			apps := map[string]bool{}
			for _, a := range all {
				if selects(f, a) {
					want = append(want, a.ID)
					apps[a.App] = true
				}
			}
			// Walk every page, as a client with a cursor does.
			var got []string
			page := f
			page.Limit = 97
			for {
				list, err := s.ListAccounts(ctx, page)
				must(t, "ListAccounts", err)
				got = append(got, accountIDs(list)...)
				if len(list) < page.Limit {
					break
				}
				page.After = list[len(list)-1].ID
			}
			if !slices.Equal(got, want) {
				t.Errorf("ListAccounts gave %d accounts, the scan %d; first differences: %v", len(got), len(want), firstDiff(got, want))
			}
			gotApps, err := s.AccountApps(ctx, f)
			must(t, "AccountApps", err)
			if wantApps := slices.Sorted(maps.Keys(apps)); !slices.Equal(gotApps, wantApps) && len(gotApps)+len(wantApps) > 0 {
				t.Errorf("AccountApps = %v, the scan %v", gotApps, wantApps)
			}
		})
	}

	wantCounts := map[store.AccountStatus]int{}
	for _, a := range all {
		wantCounts[a.Status]++
	}
	counts, err := s.CountAccountsByStatus(ctx)
	must(t, "CountAccountsByStatus", err)
	if !maps.Equal(counts, wantCounts) {
		t.Errorf("CountAccountsByStatus = %v, the scan %v", counts, wantCounts)
	}
}

// firstDiff names what one list has and the other lacks, a few of each.
func firstDiff(got, want []string) string {
	var extra, missing []string
	for _, id := range got {
		if !slices.Contains(want, id) && len(extra) < 5 {
			extra = append(extra, id)
		}
	}
	for _, id := range want {
		if !slices.Contains(got, id) && len(missing) < 5 {
			missing = append(missing, id)
		}
	}
	return fmt.Sprintf("extra %v, missing %v", extra, missing)
}
