package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
)

// auditTeam is a workspace with an owner, an admin and a member who sign
// in, and the owner of another workspace.
type auditTeam struct {
	f                            fixture
	owner, admin, member, other  joined
	ownerPW, memberPW, otherMail string
}

func startAuditTeam(t *testing.T, b servertest.Backend) auditTeam {
	t.Helper()
	f := start(t, b)
	ctx := context.Background()
	invite := func(as *client.Client, email, role string) string {
		t.Helper()
		inv, err := as.Invite(ctx, client.Invite{Email: email, Role: role})
		if err != nil {
			t.Fatalf("invite %s: %v", email, err)
		}
		return inv.URL
	}
	tm := auditTeam{f: f, ownerPW: "olive's password", memberPW: "max's password!", otherMail: "zed@acme.test"}
	tm.owner = join(t, f.Instance, invite(f.api, "olive@acme.test", "owner"), tm.ownerPW)
	tm.admin = join(t, f.Instance, invite(tm.owner.api, "ada@acme.test", "admin"), "ada's password!")
	tm.member = join(t, f.Instance, invite(tm.owner.api, "max@acme.test", "member"), tm.memberPW)
	nw, err := f.api.CreateWorkspace(ctx, client.CreateWorkspace{Name: "Other", OwnerEmail: tm.otherMail})
	if err != nil {
		t.Fatal(err)
	}
	tm.other = join(t, f.Instance, nw.Invitation.URL, "zed's password!")
	return tm
}

// namedToken issues a token of the user's with a name and scopes.
func namedToken(t *testing.T, f fixture, userID, name string, scopes ...string) *client.Client {
	t.Helper()
	me, err := f.api.Me(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := f.Identity().IssueToken(context.Background(), me.WorkspaceID, userID, name, scopes)
	if err != nil {
		t.Fatal(err)
	}
	return client.New(f.URL, tok.Reveal(), nil)
}

// allEvents pages through the log with q, newest first.
func allEvents(t *testing.T, c *client.Client, q client.AuditQuery) []client.AuditEvent {
	t.Helper()
	var out []client.AuditEvent
	for {
		p, err := c.Audit(context.Background(), q)
		if err != nil {
			t.Fatalf("audit %+v: %v", q, err)
		}
		out = append(out, p.Data...)
		if p.NextCursor == nil {
			return out
		}
		q.Cursor = *p.NextCursor
	}
}

// A credential read records who (the token's name), from where and
// through what: the API, latchkey exec, and a workflow run. Filters
// select them; deleting the account keeps them; there is no route that
// changes or deletes an event.
func TestAuditCredentialReads(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b servertest.Backend) {
		tm := startAuditTeam(t, b)
		f := tm.f
		ctx := context.Background()
		bot := namedToken(t, f, tm.owner.id, "deploy-bot", "*")
		acc, err := bot.CreateAccount(ctx, client.CreateAccount{App: "sendgrid", Nickname: ptr("mail"), Fields: map[string]string{"api_key": goodKey}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := bot.Credentials(ctx, acc.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := bot.WithSurface("exec").Credentials(ctx, acc.ID); err != nil {
			t.Fatal(err)
		}
		wf, err := bot.CreateWorkflow(ctx, client.SaveWorkflow{Name: "Profile", Steps: []client.WorkflowStep{
			{Key: "profile", Kind: "http", Accounts: map[string]string{"sendgrid": acc.ID}, HTTP: &client.HTTPStep{App: "sendgrid", Path: "/v3/user/profile"}},
		}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := bot.RunWorkflow(ctx, wf.ID); err != nil {
			t.Fatal(err)
		}

		// A surface the server does not know is refused, and reads nothing.
		req, _ := http.NewRequest(http.MethodGet, f.URL+"/v1/accounts/"+acc.ID+"/credentials", nil)
		req.Header.Set("Authorization", "Bearer "+f.Token)
		req.Header.Set(client.SurfaceHeader, "workflow")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("credentials with %s: workflow: %d, want 400", client.SurfaceHeader, resp.StatusCode)
		}

		reads := allEvents(t, tm.owner.api, client.AuditQuery{Account: acc.ID, Action: "credentials.read"})
		var surfaces []string
		for _, e := range reads {
			surfaces = append(surfaces, e.Surface)
			if e.ActorID != tm.owner.id || e.TokenName != "deploy-bot" || e.TokenID == "" || e.Addr != "127.0.0.1" {
				t.Errorf("read %+v: want olive's deploy-bot from 127.0.0.1", e)
			}
		}
		if got := strings.Join(surfaces, ","); got != "workflow,cli-exec,api" {
			t.Fatalf("credential reads' surfaces, newest first: %s; want workflow,cli-exec,api", got)
		}

		// A prefix selects the account's own events; an actor selects hers.
		for _, e := range allEvents(t, tm.admin.api, client.AuditQuery{Action: "account."}) {
			if !strings.HasPrefix(e.Action, "account.") {
				t.Errorf("action=account. gave %s", e.Action)
			}
		}
		maxs := allEvents(t, tm.owner.api, client.AuditQuery{Actor: tm.member.id})
		for _, e := range maxs {
			if e.ActorID != tm.member.id || e.Action != "member.joined" {
				t.Errorf("max only joined, but the log says %+v", e)
			}
		}
		if len(maxs) != 1 {
			t.Errorf("actor=max: %d events, want his joining", len(maxs))
		}
		if len(allEvents(t, tm.owner.api, client.AuditQuery{Since: "2999-01-01"})) != 0 {
			t.Error("events since the year 2999")
		}
		if _, err := tm.owner.api.Audit(ctx, client.AuditQuery{Since: "yesterday"}); !client.IsProblem(err, "validation") {
			t.Errorf("since=yesterday: %v, want a validation problem", err)
		}

		// Deleting the account keeps what happened to it.
		before := len(allEvents(t, tm.owner.api, client.AuditQuery{Account: acc.ID}))
		if err := bot.DeleteWorkflow(ctx, wf.ID); err != nil {
			t.Fatal(err)
		}
		if err := bot.DeleteAccount(ctx, acc.ID); err != nil {
			t.Fatal(err)
		}
		var wfEvents []string
		for _, e := range allEvents(t, tm.owner.api, client.AuditQuery{Action: "workflow."}) {
			if e.Detail["workflow"] == wf.ID && e.TokenName == "deploy-bot" && e.Surface == "api" {
				wfEvents = append(wfEvents, e.Action)
			}
		}
		if got := strings.Join(wfEvents, ","); got != "workflow.deleted,workflow.created" {
			t.Errorf("the workflow's events, newest first: %s; want workflow.deleted,workflow.created", got)
		}
		after := allEvents(t, tm.owner.api, client.AuditQuery{Account: acc.ID})
		if len(after) != before+1 || after[0].Action != "account.deleted" {
			t.Fatalf("after deleting the account: %d events (first %s), want the %d before and account.deleted", len(after), after[0].Action, before)
		}

		// No route changes or deletes an event, for the owner either.
		for _, m := range []string{http.MethodDelete, http.MethodPatch, http.MethodPut, http.MethodPost} {
			for _, path := range []string{"/v1/audit", "/v1/audit/" + after[0].ID, "/v1/audit/export"} {
				req, _ := http.NewRequest(m, f.URL+path, strings.NewReader(`{}`))
				req.Header.Set("Authorization", "Bearer "+f.Token)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusMethodNotAllowed {
					t.Errorf("%s %s: %d, want 404 or 405", m, path, resp.StatusCode)
				}
			}
		}
		if again := allEvents(t, tm.owner.api, client.AuditQuery{Account: acc.ID}); len(again) != len(after) {
			t.Errorf("the account's events went from %d to %d", len(after), len(again))
		}
	})
}

// Who may read the log (owners and admins, a token only with audit:read),
// and what another workspace sees of it (nothing). Export streams each
// event once, oldest first, the same set the pages hold.
func TestAuditRoutesByCaller(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b servertest.Backend) {
		tm := startAuditTeam(t, b)
		f := tm.f
		ctx := context.Background()
		acc, err := tm.owner.api.CreateAccount(ctx, client.CreateAccount{App: "sendgrid", Fields: map[string]string{"api_key": goodKey}})
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if _, err := tm.owner.api.Credentials(ctx, acc.ID); err != nil {
				t.Fatal(err)
			}
		}
		narrow := namedToken(t, f, tm.owner.id, "reader", "accounts:read", "credentials:read")
		auditor := namedToken(t, f, tm.owner.id, "siem", "audit:read")
		export := func(c *client.Client) ([]client.AuditEvent, error) {
			var buf bytes.Buffer
			if err := c.ExportAudit(ctx, "", "", &buf); err != nil {
				return nil, err
			}
			var out []client.AuditEvent
			sc := bufio.NewScanner(&buf)
			for sc.Scan() {
				var e client.AuditEvent
				if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
					t.Fatalf("export line %q: %v", sc.Text(), err)
				}
				out = append(out, e)
			}
			return out, nil
		}
		for _, c := range []struct {
			name string
			api  *client.Client
			want int
		}{
			{"admin token", f.api, 200}, {"owner", tm.owner.api, 200}, {"admin", tm.admin.api, 200},
			{"owner's token with audit:read only", auditor, 200},
			{"member", tm.member.api, 403}, {"owner's token without audit:read", narrow, 403},
			{"other workspace", tm.other.api, 200},
		} {
			_, err := c.api.Audit(ctx, client.AuditQuery{})
			if got := status(err); got != c.want {
				t.Errorf("GET /v1/audit as %s: %d, want %d", c.name, got, c.want)
			}
			_, err = export(c.api)
			if got := status(err); got != c.want {
				t.Errorf("GET /v1/audit/export as %s: %d, want %d", c.name, got, c.want)
			}
		}

		// The other workspace's owner sees none of this workspace's events,
		// even asking for its account or its people by id.
		for _, q := range []client.AuditQuery{{}, {Account: acc.ID}, {Actor: tm.owner.id}} {
			for _, e := range allEvents(t, tm.other.api, q) {
				if e.AccountID == acc.ID || e.ActorID == tm.owner.id || e.ActorID == tm.member.id {
					t.Errorf("the other workspace sees %+v", e)
				}
			}
		}
		ours, err := export(tm.other.api)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ours {
			if e.AccountID == acc.ID || e.ActorID == tm.owner.id {
				t.Errorf("the other workspace's export holds %+v", e)
			}
		}

		// Export: the pages' events, each once, oldest first.
		paged := allEvents(t, tm.owner.api, client.AuditQuery{Limit: 2})
		exported, err := export(auditor)
		if err != nil {
			t.Fatal(err)
		}
		if len(exported) != len(paged) || len(paged) < 6 {
			t.Fatalf("export gave %d events, the pages %d (want the same, at least 6)", len(exported), len(paged))
		}
		for i, e := range exported {
			if p := paged[len(paged)-1-i]; e.ID != p.ID {
				t.Fatalf("export event %d is %s, the pages' oldest-but-%d is %s", i, e.ID, i, p.ID)
			}
		}
		reads := 0
		for _, e := range exported {
			if e.Action == "credentials.read" && e.AccountID == acc.ID {
				reads++
			}
		}
		if reads != 3 {
			t.Errorf("export holds %d reads of the account, want 3", reads)
		}
	})
}

// The Activity page: an owner sees events in words, with who and through
// what; a member is refused; another workspace's owner sees nothing of
// this one's.
func TestActivityPage(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b servertest.Backend) {
		tm := startAuditTeam(t, b)
		f := tm.f
		ctx := context.Background()
		bot := namedToken(t, f, tm.owner.id, "deploy-bot", "*")
		acc, err := bot.CreateAccount(ctx, client.CreateAccount{App: "sendgrid", Nickname: ptr("mail"), Fields: map[string]string{"api_key": goodKey}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := bot.WithSurface("exec").Credentials(ctx, acc.ID); err != nil {
			t.Fatal(err)
		}
		signInAs := func(email, pw string) *http.Client {
			b := browser(t)
			if code, _ := post(t, b, f.URL+"/login", url.Values{"email": {email}, "password": {pw}, "next": {"/"}}); code != 200 {
				t.Fatalf("sign in %s: %d", email, code)
			}
			return b
		}
		olive := signInAs("olive@acme.test", tm.ownerPW)
		signIns := allEvents(t, tm.owner.api, client.AuditQuery{Actor: tm.owner.id, Action: "session.signed_in"})
		if len(signIns) != 1 || signIns[0].Surface != "web" || signIns[0].Addr != "127.0.0.1" {
			t.Errorf("olive's sign-ins: %+v; want one, on the web from 127.0.0.1", signIns)
		}
		code, body := get(t, olive, f.URL+"/activity?action=credentials.read")
		if code != 200 {
			t.Fatalf("owner's activity page: %d", code)
		}
		for _, want := range []string{"Credentials read", "olive@acme.test with the token deploy-bot", "latchkey exec", "127.0.0.1", acc.ID} {
			if !strings.Contains(body, want) {
				t.Errorf("activity page lacks %q", want)
			}
		}
		if strings.Contains(body, "Account connected") {
			t.Error("the action filter let Account connected through")
		}
		// Olive's own page view is on the web; her filters work on dates.
		if code, body := get(t, olive, f.URL+"/activity?since=2999-01-01"); code != 200 || !strings.Contains(body, "No activity matches") {
			t.Errorf("activity since 2999: %d", code)
		}
		if code, _ := get(t, olive, f.URL+"/activity?since=yesterday"); code != http.StatusUnprocessableEntity {
			t.Errorf("activity since=yesterday: %d, want 422", code)
		}
		if code, _ := get(t, signInAs("max@acme.test", tm.memberPW), f.URL+"/activity"); code != http.StatusForbidden {
			t.Errorf("member's activity page: %d, want 403", code)
		}
		code, body = get(t, signInAs(tm.otherMail, "zed's password!"), f.URL+"/activity?account="+acc.ID)
		if code != 200 || strings.Contains(body, acc.ID+"</a>") || !strings.Contains(body, "No activity matches") {
			t.Errorf("other workspace's activity page for our account: %d, shows it: %v", code, strings.Contains(body, acc.ID+"</a>"))
		}
	})
}
