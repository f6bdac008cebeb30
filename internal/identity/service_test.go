package identity

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"golang.org/x/crypto/bcrypt"

	"github.com/latchkeyhq/latchkey/internal/ids"
	"github.com/latchkeyhq/latchkey/internal/store"
	"github.com/latchkeyhq/latchkey/internal/store/postgres/pgtest"
	"github.com/latchkeyhq/latchkey/internal/store/sqlite"
)

// backends are the stores the service runs on: SQLite always, PostgreSQL
// when one is configured.
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

// fixture is a service on a fresh store after its first start.
type fixture struct {
	svc       *Service
	st        store.Store
	clock     *clockwork.FakeClock
	ws        string
	tokenFile string
}

func start(t *testing.T, open func(*testing.T) store.Store) fixture {
	t.Helper()
	st := open(t)
	clock := clockwork.NewFakeClockAt(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
	svc := New(Options{Store: st, Clock: clock, PasswordCost: bcrypt.MinCost})
	tokenFile := filepath.Join(t.TempDir(), "admin", "token")
	ws, err := svc.FirstStart(t.Context(), tokenFile)
	if err != nil {
		t.Fatalf("FirstStart: %v", err)
	}
	return fixture{svc: svc, st: st, clock: clock, ws: ws, tokenFile: tokenFile}
}

// eachBackend runs fn on a fresh fixture per backend.
func eachBackend(t *testing.T, fn func(t *testing.T, f fixture)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { fn(t, start(t, b.open)) })
	}
}

const pw = "correct horse battery"

// Production hashes at cost 12; only an explicit option lowers it.
func TestPasswordCost(t *testing.T) {
	if DefaultPasswordCost != 12 {
		t.Fatalf("DefaultPasswordCost = %d, want 12", DefaultPasswordCost)
	}
	if s := New(Options{}); s.cost != DefaultPasswordCost {
		t.Fatalf("New without a cost hashes at %d, want %d", s.cost, DefaultPasswordCost)
	}
	if s := New(Options{PasswordCost: bcrypt.MinCost}); s.cost != bcrypt.MinCost {
		t.Fatalf("New with cost %d hashes at %d", bcrypt.MinCost, s.cost)
	}
}

func TestFirstStart(t *testing.T) {
	eachBackend(t, func(t *testing.T, f fixture) {
		ctx := t.Context()
		info, err := os.Stat(f.tokenFile)
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != 0o600 {
			t.Fatalf("the admin token file has mode %v, want 0600", info.Mode().Perm())
		}
		first, _ := os.ReadFile(f.tokenFile)
		tok := strings.TrimSpace(string(first))
		a, err := f.svc.VerifyToken(ctx, tok)
		if err != nil {
			t.Fatalf("the admin token does not verify: %v", err)
		}
		if a.WorkspaceID != f.ws || !a.IsOwner() || !a.Allows(ScopeClientsWrite) {
			t.Fatalf("admin actor %+v", a)
		}
		if op, err := f.svc.IsOperator(ctx, a); err != nil || !op {
			t.Fatalf("the admin token's principal is not the operator: %v %v", op, err)
		}
		if n, err := f.svc.CountPasswordUsers(ctx, f.ws); err != nil || n != 0 {
			t.Fatalf("the admin principal signs in with a password: %d %v", n, err)
		}

		// A second start with the file in place changes nothing.
		ws, err := f.svc.FirstStart(ctx, f.tokenFile)
		if err != nil || ws != f.ws {
			t.Fatalf("second start: %s %v, want %s", ws, err, f.ws)
		}
		if again, _ := os.ReadFile(f.tokenFile); string(again) != string(first) {
			t.Fatal("a second start rewrote the admin token file")
		}
		// Without the file, a new admin token is issued; the old one stays.
		if err := os.Remove(f.tokenFile); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.FirstStart(ctx, f.tokenFile); err != nil {
			t.Fatal(err)
		}
		renewed, _ := os.ReadFile(f.tokenFile)
		if string(renewed) == string(first) || len(renewed) == 0 {
			t.Fatal("no new admin token after the file was removed")
		}
		if b, err := f.svc.VerifyToken(ctx, strings.TrimSpace(string(renewed))); err != nil || b.UserID != a.UserID {
			t.Fatalf("the new admin token: %+v %v", b, err)
		}
	})
}

func TestOperator(t *testing.T) {
	eachBackend(t, func(t *testing.T, f fixture) {
		ctx := t.Context()
		owner, err := f.svc.CreateUser(ctx, NewUser{WorkspaceID: f.ws, Email: "owner@acme.test", Role: RoleOwner})
		if err != nil {
			t.Fatal(err)
		}
		for name, tc := range map[string]struct {
			a    Actor
			want bool
		}{
			"config file":       {ConfigOperator(f.ws), true},
			"a workspace owner": {Actor{WorkspaceID: f.ws, UserID: owner.ID, Role: RoleOwner}, false},
			"nobody":            {Actor{WorkspaceID: f.ws}, false},
		} {
			if got, err := f.svc.IsOperator(ctx, tc.a); err != nil || got != tc.want {
				t.Errorf("%s: IsOperator = %v, %v; want %v", name, got, err, tc.want)
			}
		}
	})
}

func TestUsers(t *testing.T) {
	eachBackend(t, func(t *testing.T, f fixture) {
		ctx := t.Context()
		u, err := f.svc.CreateUser(ctx, NewUser{WorkspaceID: f.ws, Email: " Ann@Acme.Test ", Name: "Ann", Role: RoleMember, Password: pw})
		if err != nil {
			t.Fatal(err)
		}
		if u.Email != "ann@acme.test" || u.Role != RoleMember || !u.SignsIn || u.WorkspaceID != f.ws {
			t.Fatalf("created %+v", u)
		}
		if got, err := f.svc.User(ctx, f.ws, u.ID); err != nil || got != u {
			t.Fatalf("User = %+v, %v; want %+v", got, err, u)
		}
		if got, err := f.svc.UserByEmail(ctx, f.ws, "ANN@acme.test"); err != nil || got.ID != u.ID {
			t.Fatalf("UserByEmail = %+v, %v", got, err)
		}
		if _, err := f.svc.User(ctx, f.ws, "usr_nobody"); !errors.Is(err, ErrNoUser) || !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a missing user: %v", err)
		}
		if n, err := f.svc.CountPasswordUsers(ctx, f.ws); err != nil || n != 1 {
			t.Fatalf("CountPasswordUsers = %d, %v; want 1", n, err)
		}
		// Bad input is refused and stores nothing.
		for name, in := range map[string]NewUser{
			"no role":        {WorkspaceID: f.ws, Email: "b@acme.test", Role: "superuser"},
			"short password": {WorkspaceID: f.ws, Email: "b@acme.test", Role: RoleMember, Password: "short"},
			"long password":  {WorkspaceID: f.ws, Email: "b@acme.test", Role: RoleMember, Password: strings.Repeat("p", MaxPassword+1)},
		} {
			if _, err := f.svc.CreateUser(ctx, in); !errors.As(err, new(*InputError)) {
				t.Errorf("%s: %v, want an InputError", name, err)
			}
		}
		if _, err := f.svc.UserByEmail(ctx, f.ws, "b@acme.test"); !errors.Is(err, ErrNoUser) {
			t.Fatalf("refused input stored a user: %v", err)
		}
	})
}

func TestSetUp(t *testing.T) {
	eachBackend(t, func(t *testing.T, f fixture) {
		ctx := t.Context()
		if need, err := f.svc.NeedsSetup(ctx); err != nil || !need {
			t.Fatalf("a fresh install: NeedsSetup = %v, %v", need, err)
		}
		for _, tc := range []struct {
			in   FirstOwner
			want string
		}{
			{FirstOwner{Email: "nope", Password: pw}, "Enter a valid email address."},
			{FirstOwner{Email: "a@b.test", Name: strings.Repeat("n", 101), Password: pw}, "The name is too long."},
			{FirstOwner{Email: "a@b.test", Password: "short"}, "Choose a password of 10 to 72 bytes (a letter with an accent takes two)."},
			{FirstOwner{Email: "a@b.test", Password: strings.Repeat("p", 71) + "é"}, "Choose a password of 10 to 72 bytes"},
			// The first thing wrong is what is said.
			{FirstOwner{Email: "nope", Password: "short"}, "Enter a valid email address."},
		} {
			_, err := f.svc.SetUp(ctx, tc.in)
			ie, ok := errors.AsType[*InputError](err)
			if !ok || !strings.HasPrefix(ie.Message, tc.want) {
				t.Errorf("SetUp(%+v) = %v, want %q", tc.in, err, tc.want)
			}
		}
		if need, _ := f.svc.NeedsSetup(ctx); !need {
			t.Fatal("refused set-up changed something")
		}

		// Many browsers race; one wins.
		const racers = 8
		var wg sync.WaitGroup
		results := make([]error, racers)
		signed := make([]SignedIn, racers)
		for i := range racers {
			wg.Go(func() {
				signed[i], results[i] = f.svc.SetUp(ctx, FirstOwner{Email: "Owner@Acme.test", Password: pw})
			})
		}
		wg.Wait()
		won := -1
		for i, err := range results {
			switch {
			case err == nil && won == -1:
				won = i
			case err == nil:
				t.Fatalf("two set-ups won")
			case !errors.Is(err, ErrSetUpDone):
				t.Fatalf("a losing set-up: %v", err)
			}
		}
		if won == -1 {
			t.Fatal("no set-up won")
		}
		se, err := f.svc.Session(ctx, signed[won].Value.Reveal())
		if err != nil {
			t.Fatal(err)
		}
		if se.User.Email != "owner@acme.test" || se.User.Name != "owner@acme.test" || !se.Actor.IsOwner() || se.Actor.Scopes != nil || se.Actor.WorkspaceID != f.ws {
			t.Fatalf("the first owner's session: %+v", se)
		}
		if need, err := f.svc.NeedsSetup(ctx); err != nil || need {
			t.Fatalf("after set-up NeedsSetup = %v, %v", need, err)
		}
		if _, err := f.svc.SetUp(ctx, FirstOwner{Email: "late@acme.test", Password: pw}); !errors.Is(err, ErrSetUpDone) {
			t.Fatalf("set-up after set-up: %v", err)
		}
	})
}

func TestSignInAndOut(t *testing.T) {
	eachBackend(t, func(t *testing.T, f fixture) {
		ctx := t.Context()
		long := strings.Repeat("p", MaxPassword)
		if _, err := f.svc.CreateUser(ctx, NewUser{WorkspaceID: f.ws, Email: "ann@acme.test", Role: RoleMember, Password: long}); err != nil {
			t.Fatal(err)
		}
		for name, tc := range map[string]struct {
			in   SignInInput
			want error
		}{
			"wrong password": {SignInInput{Addr: "127.0.0.1", Email: "ann@acme.test", Password: "wrong-password"}, ErrWrongCredentials},
			"unknown email":  {SignInInput{Addr: "127.0.0.2", Email: "bob@acme.test", Password: long}, ErrWrongCredentials},
			// bcrypt reads 72 bytes: the password plus more used to pass.
			"password plus more": {SignInInput{Addr: "127.0.0.3", Email: "ann@acme.test", Password: long + "x"}, ErrPasswordTooLong},
			// The admin principal has no password at all.
			"no password": {SignInInput{Addr: "127.0.0.4", Email: "admin@localhost", Password: ""}, ErrWrongCredentials},
		} {
			if _, err := f.svc.SignIn(ctx, tc.in); !errors.Is(err, tc.want) {
				t.Errorf("%s: %v, want %v", name, err, tc.want)
			}
		}
		in, err := f.svc.SignIn(ctx, SignInInput{Addr: "127.0.0.1", Email: " ANN@acme.test", Password: long})
		if err != nil {
			t.Fatal(err)
		}
		if !in.ExpiresAt.Equal(f.clock.Now().Add(SessionTTL)) {
			t.Fatalf("the session expires at %v, want %v", in.ExpiresAt, f.clock.Now().Add(SessionTTL))
		}
		value := in.Value.Reveal()
		se, err := f.svc.Session(ctx, value)
		if err != nil || se.User.Email != "ann@acme.test" || se.Actor.Role != RoleMember || string(se.Key) != string(SessionKey(value)) {
			t.Fatalf("Session = %+v, %v", se, err)
		}
		for name, v := range map[string]string{"empty": "", "unknown": "not-a-session", "too long": strings.Repeat("v", 101)} {
			if _, err := f.svc.Session(ctx, v); !errors.Is(err, ErrNoSession) {
				t.Errorf("%s cookie: %v, want ErrNoSession", name, err)
			}
		}
		if err := f.svc.SignOut(ctx, value); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Session(ctx, value); !errors.Is(err, ErrNoSession) {
			t.Fatalf("after sign-out: %v", err)
		}
		if err := f.svc.SignOut(ctx, value); err != nil {
			t.Fatalf("signing out twice: %v", err)
		}

		// A session lasts SessionTTL.
		in, err = f.svc.SignIn(ctx, SignInInput{Addr: "127.0.0.1", Email: "ann@acme.test", Password: long})
		if err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(SessionTTL - time.Second)
		if _, err := f.svc.Session(ctx, in.Value.Reveal()); err != nil {
			t.Fatalf("a session before its end: %v", err)
		}
		f.clock.Advance(time.Second)
		if _, err := f.svc.Session(ctx, in.Value.Reveal()); !errors.Is(err, ErrNoSession) {
			t.Fatalf("a session past its end: %v", err)
		}
	})
}

// Five attempts a minute per address and email; the sixth waits, even
// with the right password, while another address or email does not.
func TestSignInIsLimited(t *testing.T) {
	eachBackend(t, func(t *testing.T, f fixture) {
		ctx := t.Context()
		if _, err := f.svc.CreateUser(ctx, NewUser{WorkspaceID: f.ws, Email: "ann@acme.test", Role: RoleMember, Password: pw}); err != nil {
			t.Fatal(err)
		}
		try := func(addr, email, password string) error {
			_, err := f.svc.SignIn(ctx, SignInInput{Addr: addr, Email: email, Password: password})
			return err
		}
		for i := range 5 {
			if err := try("127.0.0.1", "ann@acme.test", "wrong-password"); !errors.Is(err, ErrWrongCredentials) {
				t.Fatalf("attempt %d: %v", i+1, err)
			}
		}
		if err := try("127.0.0.1", "ANN@acme.test", pw); !errors.Is(err, ErrTooManyAttempts) {
			t.Fatalf("the sixth attempt, with the right password: %v", err)
		}
		if err := try("127.0.0.2", "ann@acme.test", pw); err != nil {
			t.Fatalf("another address: %v", err)
		}
		if err := try("127.0.0.1", "bob@acme.test", pw); !errors.Is(err, ErrWrongCredentials) {
			t.Fatalf("another email from the limited address: %v", err)
		}
		f.clock.Advance(12 * time.Second)
		if err := try("127.0.0.1", "ann@acme.test", pw); err != nil {
			t.Fatalf("after 12 s one attempt is back: %v", err)
		}
		if err := try("127.0.0.1", "ann@acme.test", pw); !errors.Is(err, ErrTooManyAttempts) {
			t.Fatalf("and only one: %v", err)
		}
	})
}

func TestTokens(t *testing.T) {
	eachBackend(t, func(t *testing.T, f fixture) {
		ctx := t.Context()
		u, err := f.svc.CreateUser(ctx, NewUser{WorkspaceID: f.ws, Email: "ann@acme.test", Role: RoleMember})
		if err != nil {
			t.Fatal(err)
		}
		tok, meta, err := f.svc.IssueToken(ctx, f.ws, u.ID, "ci", []string{ScopeAccountsRead})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(tok.Reveal(), TokenPrefix) || strings.Contains(tok.String(), tok.Reveal()) || meta.Name != "ci" {
			t.Fatalf("issued %q (%s), %+v", tok.Reveal(), tok, meta)
		}
		a, err := f.svc.VerifyToken(ctx, tok.Reveal())
		if err != nil {
			t.Fatal(err)
		}
		if a.WorkspaceID != f.ws || a.UserID != u.ID || a.Role != RoleMember || !a.Allows(ScopeAccountsRead) || a.Allows(ScopeAccountsWrite) {
			t.Fatalf("actor %+v", a)
		}
		for name, v := range map[string]string{
			"unknown":   TokenPrefix + "unknown",
			"no prefix": strings.TrimPrefix(tok.Reveal(), TokenPrefix),
			"too long":  TokenPrefix + strings.Repeat("x", 200),
		} {
			if _, err := f.svc.VerifyToken(ctx, v); !errors.Is(err, ErrInvalidToken) {
				t.Errorf("%s: %v, want ErrInvalidToken", name, err)
			}
		}
		if _, _, err := f.svc.IssueToken(ctx, f.ws, "usr_nobody", "x", nil); !errors.Is(err, ErrNoUser) {
			t.Fatalf("a token for nobody: %v", err)
		}

		// Expired tokens are refused; a token without scopes still has
		// an empty list, so it is never taken for a session.
		plain := TokenPrefix + "expiring-0123456789"
		exp := f.clock.Now().Add(time.Minute)
		if err := f.st.CreateAPIToken(ctx, store.APIToken{ID: ids.New(ids.APIToken, f.clock.Now()), WorkspaceID: f.ws, UserID: u.ID,
			Name: "x", Hash: tokenHash(plain), CreatedAt: f.clock.Now(), ExpiresAt: &exp}); err != nil {
			t.Fatal(err)
		}
		if a, err := f.svc.VerifyToken(ctx, plain); err != nil || a.Scopes == nil || a.Allows(ScopeAccountsRead) {
			t.Fatalf("a token without scopes: %+v, %v", a, err)
		}
		f.clock.Advance(time.Minute)
		if _, err := f.svc.VerifyToken(ctx, plain); !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("an expired token: %v", err)
		}

		// A stored token whose user is gone.
		ghost := TokenPrefix + "ghost-0123456789"
		if err := f.st.CreateAPIToken(ctx, store.APIToken{ID: ids.New(ids.APIToken, f.clock.Now()), WorkspaceID: f.ws, UserID: "usr_gone",
			Name: "x", Hash: tokenHash(ghost), Scopes: []string{ScopeAll}, CreatedAt: f.clock.Now()}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.VerifyToken(ctx, ghost); !errors.Is(err, ErrTokenUserGone) || !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("a token of a user who is gone: %v", err)
		}
	})
}

// A verified token is trusted for tokenCacheTTL without the database: a
// deleted one keeps working that long, and no longer.
func TestTokenCacheBound(t *testing.T) {
	eachBackend(t, func(t *testing.T, f fixture) {
		ctx := t.Context()
		u, err := f.svc.CreateUser(ctx, NewUser{WorkspaceID: f.ws, Email: "ann@acme.test", Role: RoleMember})
		if err != nil {
			t.Fatal(err)
		}
		tok, meta, err := f.svc.IssueToken(ctx, f.ws, u.ID, "ci", []string{ScopeAll})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.VerifyToken(ctx, tok.Reveal()); err != nil {
			t.Fatal(err)
		}
		if err := f.st.DeleteAPIToken(ctx, f.ws, meta.ID); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(tokenCacheTTL - time.Millisecond)
		if _, err := f.svc.VerifyToken(ctx, tok.Reveal()); err != nil {
			t.Fatalf("within the cache's %v: %v", tokenCacheTTL, err)
		}
		f.clock.Advance(time.Millisecond)
		if _, err := f.svc.VerifyToken(ctx, tok.Reveal()); !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("a deleted token %v later: %v, want ErrInvalidToken", tokenCacheTTL, err)
		}
		if tokenCacheTTL != 5*time.Second {
			t.Fatalf("tokenCacheTTL = %v; the API documents 5 s", tokenCacheTTL)
		}
	})
}

// Nothing crosses workspaces: a session or a token of another workspace's
// user never yields an actor in this one, even when its row names this
// workspace.
func TestOtherWorkspaceNeverLends(t *testing.T) {
	eachBackend(t, func(t *testing.T, f fixture) {
		ctx := t.Context()
		now := f.clock.Now()
		other := store.Workspace{ID: ids.New(ids.Workspace, now), Name: "Other", CreatedAt: now}
		if err := f.st.CreateWorkspace(ctx, other); err != nil {
			t.Fatal(err)
		}
		// Bob is an owner in the other workspace, with the same email as
		// an owner here would have.
		bob, err := f.svc.CreateUser(ctx, NewUser{WorkspaceID: other.ID, Email: "bob@acme.test", Role: RoleOwner, Password: pw})
		if err != nil {
			t.Fatal(err)
		}
		tok, _, err := f.svc.IssueToken(ctx, other.ID, bob.ID, "bob", []string{ScopeAll})
		if err != nil {
			t.Fatal(err)
		}
		if a, err := f.svc.VerifyToken(ctx, tok.Reveal()); err != nil || a.WorkspaceID != other.ID {
			t.Fatalf("bob's own token: %+v, %v; want an actor of %s", a, err, other.ID)
		}
		if _, _, err := f.svc.IssueToken(ctx, f.ws, bob.ID, "cross", []string{ScopeAll}); !errors.Is(err, ErrNoUser) {
			t.Fatalf("a token here for bob: %v", err)
		}
		// Rows that name this workspace and bob.
		forged := TokenPrefix + "forged-0123456789"
		if err := f.st.CreateAPIToken(ctx, store.APIToken{ID: ids.New(ids.APIToken, now), WorkspaceID: f.ws, UserID: bob.ID,
			Name: "x", Hash: tokenHash(forged), Scopes: []string{ScopeAll}, CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
		if a, err := f.svc.VerifyToken(ctx, forged); err == nil {
			t.Fatalf("a token row naming this workspace and bob yields %+v", a)
		}
		cookie := "forged-session-value"
		if err := f.st.CreateSession(ctx, store.Session{Hash: SessionKey(cookie), WorkspaceID: f.ws, UserID: bob.ID,
			CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if se, err := f.svc.Session(ctx, cookie); !errors.Is(err, ErrNoSession) {
			t.Fatalf("a session row naming this workspace and bob yields %+v, %v", se, err)
		}
		// Bob's own session is of his workspace.
		own := "bobs-own-session"
		if err := f.st.CreateSession(ctx, store.Session{Hash: SessionKey(own), WorkspaceID: other.ID, UserID: bob.ID,
			CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if se, err := f.svc.Session(ctx, own); err != nil || se.Actor.WorkspaceID != other.ID || se.User.WorkspaceID != other.ID {
			t.Fatalf("bob's own session: %+v, %v", se, err)
		}
		// Signing in finds bob's own workspace, never this one, where he
		// is nobody.
		if in, err := f.svc.SignIn(ctx, SignInInput{Addr: "127.0.0.1", Email: "bob@acme.test", Password: pw}); err != nil ||
			in.Session.Actor.WorkspaceID != other.ID {
			t.Fatalf("bob signing in: %+v, %v; want a session in %s", in.Session.Actor, err, other.ID)
		}
	})
}

// Several replicas starting at once on one store make one workspace and
// one operator between them.
func TestFirstStartRace(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			st := b.open(t)
			dir := t.TempDir()
			const replicas = 4
			got := make([]string, replicas)
			errs := make([]error, replicas)
			var wg sync.WaitGroup
			for i := range replicas {
				wg.Go(func() {
					svc := New(Options{Store: st, PasswordCost: bcrypt.MinCost})
					got[i], errs[i] = svc.FirstStart(context.Background(), filepath.Join(dir, "token"+string(rune('a'+i))))
				})
			}
			wg.Wait()
			for i := range replicas {
				if errs[i] != nil {
					t.Fatalf("replica %d: %v", i, errs[i])
				}
				if got[i] != got[0] {
					t.Fatalf("replicas disagree on the workspace: %v", got)
				}
			}
			list, err := st.ListWorkspaces(t.Context())
			if err != nil || len(list) != 1 {
				t.Fatalf("%d workspaces (%v), want 1", len(list), err)
			}
		})
	}
}
