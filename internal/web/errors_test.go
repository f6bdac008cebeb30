package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/jonboulle/clockwork"

	"github.com/latchkeyhq/latchkey/internal/accounts"
	"github.com/latchkeyhq/latchkey/internal/actions"
	"github.com/latchkeyhq/latchkey/internal/appapi"
	"github.com/latchkeyhq/latchkey/internal/catalog"
	"github.com/latchkeyhq/latchkey/internal/connecting"
	"github.com/latchkeyhq/latchkey/internal/endusers"
	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/mcpauth"
	"github.com/latchkeyhq/latchkey/internal/oauth"
	"github.com/latchkeyhq/latchkey/internal/outage"
	"github.com/latchkeyhq/latchkey/internal/webhooks"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var refOnPage = regexp.MustCompile(`Reference: <code>([A-Z0-9]{10})</code>`)

// TestErrorAdapter: a page's error, whatever the service said, becomes
// the page its meaning calls for. Errors the user can fix say what is
// wrong; every 5xx is the same friendly page, its detail only in the log.
func TestErrorAdapter(t *testing.T) {
	logs := &lockedBuffer{}
	h := New(Options{Clock: clockwork.NewRealClock(), Log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	s := &session{user: identity.User{ID: "usr_1", Email: "owner@acme.test", Role: identity.RoleOwner}, actor: identity.Actor{UserID: "usr_1", Role: identity.RoleOwner}}
	var current error
	mux := http.NewServeMux()
	page := h.adapt(func(w http.ResponseWriter, r *http.Request, s *session) error { return current })
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { page(w, r, s) })
	srv := httptest.NewServer(mux)
	defer srv.Close()

	const detail = "secret-detail-10.1.2.3"
	tests := []struct {
		name   string
		err    error
		status int
		// shown is what the page says, for an error the user can fix.
		title, shown string
	}{
		{"validation", &accounts.ValidationError{Field: "nickname", Message: "give a nickname of at most 100 characters"}, 422, "The input is not valid", "nickname: give a nickname of at most 100 characters"},
		{"not found", fmt.Errorf("account acc_x: %w", accounts.ErrNotFound), 404, "Not found", "no such account, or you may not see it"},
		{"forbidden", fmt.Errorf("%w: only workspace owners manage OAuth clients", identity.ErrForbidden), 403, "Not allowed", "only workspace owners manage OAuth clients"},
		{"credentials test unreachable", &accounts.TestFailedError{Err: fmt.Errorf("%w: %s", appapi.ErrUnreachable, detail)}, 502, "", ""},
		{"token exchange failed", fmt.Errorf("exchange: %w", &oauth.Error{Code: "server_error", Status: 500, Description: detail}), 502, "", ""},
		{"refresh unavailable", fmt.Errorf("%w: %s", accounts.ErrRefreshUnavailable, detail), 503, "", ""},
		{"database unavailable", fmt.Errorf("list accounts: %w: dial tcp %s: connection refused", outage.ErrUnavailable, detail), 503, "", ""},
		{"outcome unknown", fmt.Errorf("rename: %w: commit %s", outage.ErrOutcomeUnknown, detail), 503, "", ""},
		{"internal", fmt.Errorf("list accounts: %s", detail), 500, "", ""},
		// Once a 500: a mistyped action in /actions/new is not the server's.
		{"unknown action", fmt.Errorf("%w %q: name an action as app.action", actions.ErrUnknownAction, "nope"), 404, "Not found", "name an action as app.action"},
		{"delivery in flight", webhooks.ErrInFlight, 409, "The delivery is being sent", "the delivery is being sent right now"},
		{"connect link used", fmt.Errorf("open: %w", endusers.ErrInvalidToken), 410, "This connect link does not work", "It was used already or it expired."},
		{"invitation link used", identity.ErrLinkInvalid, 404, "This link does not work", "Ask whoever sent it for a new one."},
	}
	var friendlyPage string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			current = tt.err
			resp, err := http.Get(srv.URL + "/")
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			body := string(b)
			if resp.StatusCode != tt.status || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, resp.Header.Get("Content-Type"), tt.status)
			}
			if !strings.Contains(body, `href="/">Back to accounts</a>`) || !strings.Contains(body, "owner@acme.test") {
				t.Error("the page has no way back, or lost the signed-in layout")
			}
			if tt.status < 500 {
				if !strings.Contains(body, "<h1>"+tt.title+"</h1>") || !strings.Contains(body, tt.shown) {
					t.Fatalf("the page does not say %q / %q:\n%s", tt.title, tt.shown, body)
				}
				return
			}
			if strings.Contains(body, detail) || strings.Contains(body, "server_error") {
				t.Fatalf("the page shows the internal detail:\n%s", body)
			}
			m := refOnPage.FindStringSubmatch(body)
			if m == nil || !strings.Contains(body, "<h1>Something went wrong</h1>") || !strings.Contains(body, template.HTMLEscapeString(friendly(classify(tt.err)))) {
				t.Fatalf("not the friendly page:\n%s", body)
			}
			// The same page for every 5xx, apart from its message and
			// reference.
			page := strings.Replace(strings.Replace(body, m[1], "REF", 1), template.HTMLEscapeString(friendly(classify(tt.err))), "MESSAGE", 1)
			if friendlyPage == "" {
				friendlyPage = page
			} else if page != friendlyPage {
				t.Errorf("the %d page differs from the others:\n%s", tt.status, body)
			}
			var logged string
			for line := range strings.Lines(logs.String()) {
				if strings.Contains(line, "ref="+m[1]) {
					logged = line
				}
			}
			if !strings.Contains(logged, detail) || !strings.Contains(logged, "level=ERROR") || !strings.Contains(logged, fmt.Sprintf("status=%d", tt.status)) {
				t.Fatalf("the log has no error line with the detail under ref %s:\n%s", m[1], logs.String())
			}
		})
	}

	// A script asking for JSON gets the same decision as JSON.
	current = fmt.Errorf("list accounts: %s", detail)
	req, _ := http.NewRequest("GET", srv.URL+"/", nil)
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got map[string]string
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode != 500 || got["error"] != friendly(webError{Status: 500}) {
		t.Fatalf("JSON answer %d %v (%v)", resp.StatusCode, got, err)
	}
}

// TestClassifyUnwrapsNothingInternal: an error marked internal stays a
// 500 whatever it wraps.
func TestClassifyUnwrapsNothingInternal(t *testing.T) {
	if got := classify(internalError{accounts.ErrNotFound}).Status; got != 500 {
		t.Fatalf("internalError{ErrNotFound} is %d, want 500", got)
	}
	if got := classify(errors.Join(errors.New("x"), accounts.ErrNotFound)).Status; got != 404 {
		t.Fatalf("a wrapped ErrNotFound is %d, want 404", got)
	}
}

// TestClassifyInTheWebsWords: errkind decides the status and kind; the web
// says them in its own words, and classifies the errors only a browser's
// flows meet.
func TestClassifyInTheWebsWords(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		status int
		kind   string
		// says is the message, exactly.
		says string
	}{
		{"a refused test quotes the app", &accounts.TestFailedError{Err: &appapi.StatusError{Status: 401, Message: "bad key"}}, 422, "credentials-test-failed", "The app answered 401 Unauthorized, “bad key”."},
		{"a refused first mint quotes the app", &accounts.TestFailedError{Err: &oauth.Error{Kind: oauth.Permanent, Code: "invalid_client", Status: 401}}, 422, "credentials-test-failed", "The app answered 401 Unauthorized, “invalid_client”."},
		{"a test that failed otherwise", &accounts.TestFailedError{Err: errors.New("the answer has no id")}, 422, "credentials-test-failed", "the credentials test failed: the answer has no id"},
		{"an outage", fmt.Errorf("list: %w: 10.1.2.3", outage.ErrUnavailable), 503, "database-unavailable", "Nothing was changed. Try again in a few seconds."},
		{"an unknown outcome", fmt.Errorf("rename: %w: 10.1.2.3", outage.ErrOutcomeUnknown), 503, "outcome-unknown", "Reload the page to see whether it was, before trying again."},
		// The callback's JSON names the link, not the token.
		{"a used connect link", fmt.Errorf("callback: %w", endusers.ErrInvalidToken), 410, "connect-link-invalid", "It was used already or it expired. Go back to the app that sent you here and start again."},
		{"no such MCP client", mcpauth.ErrNoGrant, 404, "not-found", "no such MCP client among yours"},
		{"a 5xx says nothing of itself", &oauth.Error{Code: "server_error", Status: 500, Description: "10.1.2.3"}, 502, "token-exchange-failed", ""},
		{"a callback field missing", &connecting.MissingFieldError{Param: "shop"}, 400, "callback-field-missing", (&connecting.MissingFieldError{Param: "shop"}).Error()},
		{"metadata unreadable", fmt.Errorf("%w: the answer is not JSON", accounts.ErrMetadata), 502, "provider-metadata", ""},
		{"an app the link does not offer", endusers.ErrAppNotOffered, 404, "app-not-offered", "This connect link does not offer that app."},
		{"an invitation link used", fmt.Errorf("accept: %w", identity.ErrLinkInvalid), 404, "link-invalid", "It was used, revoked or replaced by a newer one, or it expired. Ask whoever sent it for a new one."},
		{"signed out", identity.ErrNoSession, 401, "sign-in-required", ""},
		{"an MCP client's bad sign-in request", &mcpauth.BadRequestError{Description: "no redirect_uri"}, 400, "invalid-request", (&mcpauth.BadRequestError{Description: "no redirect_uri"}).Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := classify(tt.err)
			if e.Status != tt.status || e.Kind != tt.kind || e.Message != tt.says || e.Title == "" {
				t.Fatalf("classify(%v) = %d %q %q %q, want %d %q %q", tt.err, e.Status, e.Kind, e.Title, e.Message, tt.status, tt.kind, tt.says)
			}
		})
	}
}

// TestErrorLinks: an error whose fix is a page links to it; a page only
// owners may open is linked for owners alone.
func TestErrorLinks(t *testing.T) {
	h := New(Options{Clock: clockwork.NewRealClock(), Log: slog.New(slog.DiscardHandler)})
	owner := &session{user: identity.User{ID: "usr_1", Email: "owner@acme.test", Role: identity.RoleOwner}, actor: identity.Actor{UserID: "usr_1", Role: identity.RoleOwner}}
	member := &session{user: identity.User{ID: "usr_2", Email: "member@acme.test", Role: identity.RoleMember}, actor: identity.Actor{UserID: "usr_2", Role: identity.RoleMember}}
	noClient := fmt.Errorf("start: %w", &connecting.NoClientError{App: "git&hub", AppName: "GitHub"})
	keyApp := &accounts.KeyAppError{AccountID: "acc_x", AppName: "SendGrid", Auth: catalog.AuthKeys}
	tests := []struct {
		name string
		s    *session
		err  error
		says string
		// link is the anchor the page shows; "" means none.
		link string
	}{
		{"no client, an owner", owner, noClient, "GitHub: no OAuth client is set for this app; a workspace owner sets one on the OAuth clients page.", `<a class="btn" href="/oauth-clients?app=git%26hub">Set an OAuth client for GitHub</a>`},
		{"no client, a member", member, noClient, "GitHub: no OAuth client is set for this app; a workspace owner sets one on the OAuth clients page.", ""},
		{"a key app, a member", member, keyApp, "SendGrid connects with keys: give the account new credentials instead.", `<a class="btn" href="/accounts/acc_x#credentials">Replace its keys</a>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page := h.adapt(func(w http.ResponseWriter, r *http.Request, s *session) error { return tt.err })
			rec := httptest.NewRecorder()
			page(rec, httptest.NewRequest("GET", "/", nil), tt.s)
			body := rec.Body.String()
			if rec.Code != 422 || !strings.Contains(body, template.HTMLEscapeString(tt.says)) {
				t.Fatalf("%d, want 422 saying %q:\n%s", rec.Code, tt.says, body)
			}
			if tt.link != "" && !strings.Contains(body, tt.link) {
				t.Fatalf("no link %s:\n%s", tt.link, body)
			}
			if tt.link == "" && strings.Contains(body, `<a class="btn" href="/oauth-clients`) {
				t.Fatalf("a link to a page the user may not open:\n%s", body)
			}
		})
	}
}
