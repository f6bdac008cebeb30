package audit

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/store"
	"github.com/latchkeyhq/latchkey/internal/store/postgres/pgtest"
	"github.com/latchkeyhq/latchkey/internal/store/sqlite"
	"github.com/latchkeyhq/latchkey/internal/validation"
)

var backends = []struct {
	name string
	open func(t *testing.T) store.Store
}{
	{"sqlite", func(t *testing.T) store.Store {
		s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "latchkey.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}},
	{"postgres", func(t *testing.T) store.Store { return pgtest.Open(t) }},
}

type fixture struct {
	svc   *Service
	log   *Log
	clock *clockwork.FakeClock
}

func eachBackend(t *testing.T, fn func(t *testing.T, f fixture)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			st := b.open(t)
			clock := clockwork.NewFakeClockAt(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
			for _, ws := range []string{"wsp_a", "wsp_b"} {
				if err := st.CreateWorkspace(t.Context(), store.Workspace{ID: ws, Name: ws, CreatedAt: clock.Now()}); err != nil {
					t.Fatal(err)
				}
			}
			l := New(st, slog.New(slog.DiscardHandler))
			t.Cleanup(l.Close)
			fn(t, fixture{svc: NewService(st, l, clock), log: l, clock: clock})
		})
	}
}

var (
	owner  = identity.Actor{WorkspaceID: "wsp_a", UserID: "usr_owner", Role: identity.RoleOwner}
	admin  = identity.Actor{WorkspaceID: "wsp_a", UserID: "usr_admin", Role: identity.RoleAdmin}
	member = identity.Actor{WorkspaceID: "wsp_a", UserID: "usr_member", Role: identity.RoleMember}
	viewer = identity.Actor{WorkspaceID: "wsp_a", UserID: "usr_viewer", Role: identity.RoleViewer}
	other  = identity.Actor{WorkspaceID: "wsp_b", UserID: "usr_other", Role: identity.RoleOwner}
)

func withScopes(a identity.Actor, scopes ...string) identity.Actor {
	a.Scopes = scopes
	return a
}

// Who may read the log: owners and admins, and their tokens only with
// audit:read; members and viewers are refused with ErrForbidden (403).
func TestWhoMayRead(t *testing.T) {
	eachBackend(t, func(t *testing.T, f fixture) {
		tests := []struct {
			name  string
			actor identity.Actor
			ok    bool
		}{
			{"owner", owner, true},
			{"admin", admin, true},
			{"member", member, false},
			{"viewer", viewer, false},
			{"owner's token with audit:read", withScopes(owner, identity.ScopeAuditRead), true},
			{"owner's token with *", withScopes(owner, identity.ScopeAll), true},
			{"owner's token without audit:read", withScopes(owner, identity.ScopeAccountsRead, identity.ScopeCredentialsRead), false},
			{"member's token with audit:read", withScopes(member, identity.ScopeAuditRead), false},
		}
		for _, tc := range tests {
			_, err := f.svc.List(t.Context(), tc.actor, Query{})
			errExport := f.svc.Export(t.Context(), tc.actor, time.Time{}, time.Time{}, func(Event) error { return nil })
			for what, err := range map[string]error{"List": err, "Export": errExport} {
				if tc.ok && err != nil {
					t.Errorf("%s: %s: %v", tc.name, what, err)
				}
				if !tc.ok && !errors.Is(err, identity.ErrForbidden) {
					t.Errorf("%s: %s = %v, want ErrForbidden", tc.name, what, err)
				}
			}
		}
	})
}

// The actor's facts ride on the Actor into every recorded event's detail,
// and come back as the event's own fields; another workspace sees none.
func TestFactsAndWorkspaces(t *testing.T) {
	eachBackend(t, func(t *testing.T, f fixture) {
		a := owner
		a.TokenID, a.TokenName, a.Addr, a.Surface = "tok_1", "deploy-bot", "127.0.0.1", identity.SurfaceCLIExec
		detail := map[string]string{"app": "slack"}
		f.log.Record(a, "acc_1", "account.credentials_read", detail, f.clock.Now())
		f.log.Record(other, "acc_2", "account.credentials_read", nil, f.clock.Now())
		if len(detail) != 1 {
			t.Fatalf("Record changed the caller's detail map: %v", detail)
		}
		p, err := f.svc.List(t.Context(), owner, Query{})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Events) != 1 {
			t.Fatalf("owner of wsp_a sees %d events, want 1 (its own workspace's)", len(p.Events))
		}
		e := p.Events[0]
		if e.TokenID != "tok_1" || e.TokenName != "deploy-bot" || e.Addr != "127.0.0.1" || e.Surface != "cli-exec" || e.AccountID != "acc_1" {
			t.Errorf("event = %+v, want the token, address and surface", e)
		}
		if len(e.Detail) != 1 || e.Detail["app"] != "slack" {
			t.Errorf("detail = %v, want only app (the facts are fields)", e.Detail)
		}
		p, err = f.svc.List(t.Context(), other, Query{AccountID: "acc_1"})
		if err != nil || len(p.Events) != 0 {
			t.Errorf("another workspace asking for acc_1 got %v, %v; want nothing", p.Events, err)
		}
	})
}

// Export hands over every event of a seeded set once, oldest first,
// across several store pages; List pages newest first with a cursor; and
// the filters and bounds apply.
func TestExportAndPages(t *testing.T) {
	eachBackend(t, func(t *testing.T, f fixture) {
		const n = exportPage*2 + 37
		start := f.clock.Now()
		for i := range n {
			action := "account.credentials_read"
			if i%10 == 0 {
				action = "member.invited"
			}
			f.log.Record(owner, fmt.Sprintf("acc_%d", i%3), action, map[string]string{"i": fmt.Sprint(i)}, f.clock.Now())
			f.clock.Advance(time.Second)
			if i%100 == 0 {
				f.log.Record(other, "acc_x", "account.credentials_read", nil, f.clock.Now())
			}
		}
		var got []string
		err := f.svc.Export(t.Context(), owner, time.Time{}, time.Time{}, func(e Event) error {
			got = append(got, e.Detail["i"])
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != n {
			t.Fatalf("export gave %d events, want %d", len(got), n)
		}
		for i, v := range got {
			if v != fmt.Sprint(i) {
				t.Fatalf("export event %d is #%s: not oldest first, or not each once", i, v)
			}
		}

		// Since and until: events 100..199.
		got = got[:0]
		err = f.svc.Export(t.Context(), owner, start.Add(100*time.Second), start.Add(200*time.Second), func(e Event) error {
			got = append(got, e.Detail["i"])
			return nil
		})
		if err != nil || len(got) != 100 || got[0] != "100" || got[99] != "199" {
			t.Fatalf("bounded export: %d events from %v to %v, %v; want 100..199", len(got), first(got), last(got), err)
		}

		// Pages newest first, each event once.
		seen := map[string]bool{}
		q := Query{Action: "member.", Limit: 7}
		prev := ""
		for {
			p, err := f.svc.List(t.Context(), owner, q)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range p.Events {
				if e.Action != "member.invited" || seen[e.ID] || (prev != "" && e.ID >= prev) {
					t.Fatalf("page event %+v: wrong action, repeated or out of order", e)
				}
				seen[e.ID], prev = true, e.ID
			}
			if p.Next == "" {
				break
			}
			q.Cursor = p.Next
		}
		if want := (n + 9) / 10; len(seen) != want {
			t.Fatalf("paged through %d member events, want %d", len(seen), want)
		}
	})
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

func last(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[len(s)-1]
}

// Bad input is refused, naming the field.
func TestBadQueries(t *testing.T) {
	eachBackend(t, func(t *testing.T, f fixture) {
		day := f.clock.Now()
		tests := []struct {
			name  string
			q     Query
			field string
		}{
			{"action with a wildcard", Query{Action: "account.%"}, "action"},
			{"action with spaces", Query{Action: "account connected"}, "action"},
			{"cursor made up", Query{Cursor: "bm9wZQ"}, "cursor"},
			{"cursor not base64", Query{Cursor: "!!"}, "cursor"},
			{"until before since", Query{Since: day, Until: day.Add(-time.Hour)}, "until"},
		}
		for _, tc := range tests {
			_, err := f.svc.List(t.Context(), owner, tc.q)
			var ve *validation.Error
			if !errors.As(err, &ve) || ve.Field != tc.field {
				t.Errorf("%s: %v, want a validation error about %s", tc.name, err, tc.field)
			}
		}
	})
}

func TestParseBounds(t *testing.T) {
	tests := []struct {
		in          string
		since, till string
	}{
		{"2026-01-31", "2026-01-31T00:00:00Z", "2026-02-01T00:00:00Z"},
		{"2026-01-31T12:30:00+01:00", "2026-01-31T11:30:00Z", "2026-01-31T11:30:00Z"},
	}
	for _, tc := range tests {
		s, err1 := ParseSince(tc.in)
		u, err2 := ParseUntil(tc.in)
		if err1 != nil || err2 != nil || s.Format(time.RFC3339) != tc.since || u.Format(time.RFC3339) != tc.till {
			t.Errorf("%s: since %v %v, until %v %v", tc.in, s, err1, u, err2)
		}
	}
	for _, bad := range []string{"yesterday", "2026-13-01", "31/01/2026"} {
		if _, err := ParseSince(bad); err == nil {
			t.Errorf("ParseSince(%q) took it", bad)
		}
	}
}

// Time bounds are read along the ids (a millisecond wide): the events a
// query with since and until returns are exactly those a scan of every
// event by its time selects, at bounds inside a millisecond too.
func TestTimeBoundsMatchAScan(t *testing.T) {
	eachBackend(t, func(t *testing.T, f fixture) {
		var all []time.Time
		for range 40 {
			// 300 us apart: several events a millisecond, bounds between.
			f.clock.Advance(300 * time.Microsecond)
			all = append(all, f.clock.Now())
			f.log.Record(owner, "acc_1", "account.credentials_read", map[string]string{"at": f.clock.Now().Format(time.RFC3339Nano)}, f.clock.Now())
		}
		t0 := all[0]
		bounds := []struct{ since, until time.Time }{
			{t0, time.Time{}},
			{time.Time{}, t0.Add(5 * time.Millisecond)},
			{t0.Add(1100 * time.Microsecond), t0.Add(2900 * time.Microsecond)},
			{t0.Add(900 * time.Microsecond), t0.Add(901 * time.Microsecond)},
			{all[7], all[8]},
			{all[7].Add(time.Microsecond), all[12]},
			{time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC), t0.Add(3 * time.Millisecond)},
			{t0.Add(time.Hour), t0.Add(2 * time.Hour)},
		}
		for _, b := range bounds {
			var want []string
			for _, at := range all {
				if (b.since.IsZero() || !at.Before(b.since)) && (b.until.IsZero() || at.Before(b.until)) {
					want = append(want, at.Format(time.RFC3339Nano))
				}
			}
			var got []string
			p, err := f.svc.List(t.Context(), owner, Query{Since: b.since, Until: b.until, Limit: MaxPage})
			if err != nil {
				t.Fatal(err)
			}
			for i := len(p.Events) - 1; i >= 0; i-- {
				got = append(got, p.Events[i].Detail["at"])
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("since %v until %v: got %v, want %v", b.since, b.until, got, want)
			}
		}
	})
}
