package server_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"modernc.org/sqlite"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/server"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
	"github.com/latchkeyhq/latchkey/internal/store"
	lksqlite "github.com/latchkeyhq/latchkey/internal/store/sqlite"
	"github.com/latchkeyhq/latchkey/internal/store/sqlstore"
)

// statements counts the SQL statements run on behalf of HTTP requests:
// those whose context the HTTP server made (it carries the local
// address), so that background work (the refresher, the purger, the audit
// writer) does not blur the count.
type statements struct{ n atomic.Int64 }

func (c *statements) count(ctx context.Context) {
	if ctx.Value(http.LocalAddrContextKey) != nil {
		c.n.Add(1)
	}
}

// countingConnector opens SQLite connections whose statements it counts.
type countingConnector struct {
	dsn string
	d   *sqlite.Driver
	c   *statements
}

func (k countingConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := k.d.Open(k.dsn)
	if err != nil {
		return nil, err
	}
	return countingConn{conn.(sqliteConn), k.c}, nil
}

func (k countingConnector) Driver() driver.Driver { return k.d }

// sqliteConn is what database/sql uses of the driver's connection.
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.SessionResetter
	driver.Validator
	driver.Pinger
}

type countingConn struct {
	sqliteConn
	c *statements
}

func (c countingConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	c.c.count(ctx)
	return c.sqliteConn.ExecContext(ctx, q, args)
}

func (c countingConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	c.c.count(ctx)
	return c.sqliteConn.QueryContext(ctx, q, args)
}

func (c countingConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	st, err := c.sqliteConn.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	return countingStmt{st.(sqliteStmt), c.c}, nil
}

type sqliteStmt interface {
	driver.Stmt
	driver.StmtExecContext
	driver.StmtQueryContext
}

// countingStmt counts a prepared statement each time it runs.
type countingStmt struct {
	sqliteStmt
	c *statements
}

func (s countingStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	s.c.count(ctx)
	return s.sqliteStmt.ExecContext(ctx, args)
}

func (s countingStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	s.c.count(ctx)
	return s.sqliteStmt.QueryContext(ctx, args)
}

// countingStore is a migrated SQLite store whose request statements c
// counts.
func countingStore(t *testing.T) (store.Store, *statements) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "latchkey.db")
	dsn, err := lksqlite.DSN(path)
	if err != nil {
		t.Fatal(err)
	}
	c := &statements{}
	db, err := lksqlite.Configure(ctx, sql.OpenDB(countingConnector{dsn: dsn, d: &sqlite.Driver{}, c: c}), path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lksqlite.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	st := sqlstore.New(db, lksqlite.Dialect)
	t.Cleanup(func() { st.Close() })
	return st, c
}

// A workspace's own key-based app with neither a test nor an identity
// request, so that saving an account calls nobody.
const quietApp = `slug: %s
name: %s
categories: [crm]
docs_url: https://acme.example/docs
auth: keys
base_url: https://api.acme.example
fields:
  - name: api_key
    label: API key
    secret: true
request_auth:
  header: Authorization
  value: Bearer {api_key}
`

// TestAccountsPageQueries: the accounts page (and its rows, for the live
// search) costs the same number of SQL statements with 3 rows as with 40,
// custom-app accounts, workflow links and workflows the viewer may not
// see included; "used by" names only the viewer's workflows; and the app
// filter offers an app whose accounts all lie beyond the first page.
func TestAccountsPageQueries(t *testing.T) {
	st, stmts := countingStore(t)
	cfg := servertest.Config(t, "")
	// Belt and braces: none of these apps is called, and if one were, it
	// would reach a loopback listener that answers nothing.
	quiet := newSilent(t)
	cfg.AppOrigins = map[string]string{"exa": "http://" + quiet.host(), "acme_crm": "http://" + quiet.host(), "acme_late": "http://" + quiet.host()}
	inst := servertest.Start(t, cfg, server.Options{Store: st})
	ctx := context.Background()
	admin := inst.Client()
	for slug, name := range map[string]string{"acme_crm": "Acme CRM", "acme_late": "Acme Late"} {
		if _, err := admin.SetCustomApp(ctx, slug, fmt.Appendf(nil, quietApp, slug, name)); err != nil {
			t.Fatal(err)
		}
	}
	mia := addUser(t, inst, "mia@acme.test", store.RoleMember)
	b := browser(t)
	if code, body := signIn(t, b, inst, mia, "/"); code != 200 {
		t.Fatalf("sign in: %d\n%s", code, body)
	}

	made := 0
	// add gives Mia accounts up to n in all: every third of the
	// workspace's own app, every fourth used by a workflow of hers, every
	// fifth by one of the admin's, which she may not see.
	add := func(n int) {
		t.Helper()
		for ; made < n; made++ {
			app := "exa"
			if made%3 == 0 {
				app = "acme_crm"
			}
			acc, err := mia.api.CreateAccount(ctx, client.CreateAccount{App: app, Nickname: ptr(fmt.Sprintf("key %02d", made)), Fields: map[string]string{"api_key": "k"}, Test: ptr(false)})
			if err != nil {
				t.Fatal(err)
			}
			use := func(who *client.Client, name string) {
				t.Helper()
				step := client.WorkflowStep{Key: "s", Kind: "command", Command: []string{"true"}, Apps: []string{app}, Accounts: map[string]string{app: acc.ID}}
				if _, err := who.CreateWorkflow(ctx, client.SaveWorkflow{Name: name, Steps: []client.WorkflowStep{step}}); err != nil {
					t.Fatal(err)
				}
			}
			if made%4 == 0 {
				use(mia.api, fmt.Sprintf("Mia's flow %02d", made))
			}
			if made%5 == 0 {
				use(admin, fmt.Sprintf("Admin's flow %02d", made))
			}
		}
	}
	// measure loads a page twice (the first warms the caches: the
	// session, the prepared statements) and counts the second.
	measure := func(path string) (int64, string) {
		t.Helper()
		get(t, b, inst.URL+path)
		before := stmts.n.Load()
		code, body := get(t, b, inst.URL+path)
		if code != 200 {
			t.Fatalf("%s: %d\n%s", path, code, body)
		}
		return stmts.n.Load() - before, body
	}
	rows := regexp.MustCompile(`<tr data-id="acc_`)

	add(3)
	page3, body3 := measure("/")
	frag3, _ := measure("/ui/accounts/rows")
	if n := len(rows.FindAllString(body3, -1)); n != 3 {
		t.Fatalf("the page shows %d rows, want 3", n)
	}
	add(40)
	page40, body40 := measure("/")
	frag40, _ := measure("/ui/accounts/rows")
	if n := len(rows.FindAllString(body40, -1)); n != 40 {
		t.Fatalf("the page shows %d rows, want 40", n)
	}
	t.Logf("statements: page %d (3 rows), %d (40 rows); rows %d, %d", page3, page40, frag3, frag40)
	if page3 != page40 || frag3 != frag40 {
		t.Errorf("statements grow with the rows: the page took %d with 3 rows and %d with 40; its rows %d and %d", page3, page40, frag3, frag40)
	}

	// "Used by" names Mia's workflows and none of the admin's.
	for _, want := range []string{"Mia&#39;s flow 00", "Mia&#39;s flow 36", "Acme CRM", "Exa"} {
		if !strings.Contains(body40, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(body40, "Admin&#39;s flow") || strings.Contains(body40, "Admin's flow") {
		t.Error("the page names a workflow Mia may not see")
	}

	// An app whose only account lies past the first page (200 rows) is in
	// the filter all the same.
	add(200)
	if _, err := mia.api.CreateAccount(ctx, client.CreateAccount{App: "acme_late", Fields: map[string]string{"api_key": "k"}, Test: ptr(false)}); err != nil {
		t.Fatal(err)
	}
	pageFull, body := measure("/")
	if pageFull != page3 {
		t.Errorf("a full first page (200 rows, more after) took %d statements, 3 rows %d", pageFull, page3)
	}
	if n := len(rows.FindAllString(body, -1)); n != 200 || strings.Contains(body, "Acme Late</span>") {
		t.Fatalf("the first page shows %d rows (want 200), the late account among them: %v", n, strings.Contains(body, "Acme Late</span>"))
	}
	if !strings.Contains(body, `<option value="acme_late" >Acme Late</option>`) {
		t.Errorf("the app filter lacks Acme Late, whose account is beyond the first page:\n%s", regexp.MustCompile(`(?s)<select id="app-filter".*?</select>`).FindString(body))
	}
	quiet.assertUntouched(t)
}
