package server_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/ids"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
	"github.com/latchkeyhq/latchkey/internal/store"
)

// webUser is a person who signs in on the web and holds an API token.
type webUser struct {
	store.User
	password string
	api      *client.Client
}

// addUser creates a user with a password and an API token in the
// instance's first workspace.
func addUser(t *testing.T, inst *servertest.Instance, email string, role store.Role) webUser {
	t.Helper()
	ctx := context.Background()
	st := inst.Store()
	ws, err := st.FirstWorkspace(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pw := "correct horse " + email
	hash, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	u := store.User{ID: ids.New(ids.User, now), WorkspaceID: ws.ID, Email: email, Name: strings.Split(email, "@")[0], Role: role, PasswordHash: string(hash), CreatedAt: now}
	if err := st.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	tok, _, err := inst.Identity().IssueToken(ctx, ws.ID, u.ID, "test", []string{"*"})
	if err != nil {
		t.Fatal(err)
	}
	return webUser{User: u, password: pw, api: client.New(inst.URL, tok.Reveal(), nil)}
}

// browser is a cookie-keeping HTTP client, as a browser is.
func browser(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 20 * time.Second}
}

// signIn signs the browser in as u, going on to next afterwards, and
// returns the page it lands on.
func signIn(t *testing.T, b *http.Client, inst *servertest.Instance, u webUser, next string) (int, string) {
	t.Helper()
	resp, err := b.PostForm(inst.URL+"/login", url.Values{"email": {u.Email}, "password": {u.password}, "next": {next}})
	return page(t, resp, err)
}

func page(t *testing.T, resp *http.Response, err error) (int, string) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func get(t *testing.T, b *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := b.Get(u)
	return page(t, resp, err)
}

func post(t *testing.T, b *http.Client, u string, form url.Values) (int, string) {
	t.Helper()
	resp, err := b.PostForm(u, form)
	return page(t, resp, err)
}
