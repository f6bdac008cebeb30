package server_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
	"github.com/latchkeyhq/latchkey/internal/store"
)

// Who calls, in the role × route table: the workspace's owner (through
// the admin token), an admin, a member and a viewer (each through a token
// with every scope their role has), and a token of the owner's with only
// accounts:read. Add a column here and a letter to every row's want.
var callers = []string{"owner", "admin", "member", "viewer", "scoped"}

// routeRow is one API route: how to call it and, per caller, whether it
// is allowed ('y') or refused ('n'), in the order of callers. Refused is
// 401 or 403, or 404 where a caller is not to learn that the thing
// exists; allowed is anything else (a 404 for an id that does not exist,
// or a 422 for a body the route refuses, means the caller got past the
// gate).
type routeRow struct {
	pattern string
	// path fills the pattern's wildcards; body is sent as JSON.
	path func(r *routeFixture) string
	body string
	want string
}

// routeFixture holds what the rows' paths name.
type routeFixture struct {
	shared   string // an owner's account shared with the workspace
	private  string // an owner's private account, hidden from the member
	workflow string // the owner's workflow
	token    string // the caller's own token
}

func fixed(p string) func(*routeFixture) string { return func(*routeFixture) string { return p } }

const noSuch = "acc_01j0000000000000000000000"

var routeTable = []routeRow{
	{"GET /v1/me", fixed("/v1/me"), "", "yyyyy"},
	{"GET /v1/apps", fixed("/v1/apps"), "", "yyyyy"},
	{"GET /v1/apps/{slug}", fixed("/v1/apps/sendgrid"), "", "yyyyy"},
	{"GET /v1/categories", fixed("/v1/categories"), "", "yyyyy"},
	{"GET /v1/accounts", fixed("/v1/accounts"), "", "yyyyy"},
	{"POST /v1/accounts", fixed("/v1/accounts"), `{"app":"sendgrid","fields":{"api_key":"` + goodKey + `"},"test":false}`, "yyynn"},
	{"GET /v1/accounts/{id}", func(r *routeFixture) string { return "/v1/accounts/" + r.private }, "", "ynnny"},
	{"PATCH /v1/accounts/{id}", func(r *routeFixture) string { return "/v1/accounts/" + r.shared }, `{"nickname":"x"}`, "ynnnn"},
	{"DELETE /v1/accounts/{id}", func(r *routeFixture) string { return "/v1/accounts/" + noSuch }, "", "yyynn"},
	{"GET /v1/accounts/{id}/credentials", func(r *routeFixture) string { return "/v1/accounts/" + r.shared + "/credentials" }, "", "yyynn"},
	{"GET /v1/accounts/{id}/events", func(r *routeFixture) string { return "/v1/accounts/" + r.private + "/events" }, "", "ynnny"},
	{"POST /v1/accounts/{id}/reconnect", func(r *routeFixture) string { return "/v1/accounts/" + r.private + "/reconnect" }, "", "ynnnn"},
	{"PUT /v1/accounts/{id}/credentials", func(r *routeFixture) string { return "/v1/accounts/" + r.shared + "/credentials" }, `{"fields":{"api_key":"` + goodKey + `"},"test":false}`, "ynnnn"},
	// Only the account's owner (or a workspace owner) shares it; sharing
	// it with the workspace gives others sight of it, not its sharing.
	{"PUT /v1/accounts/{id}/sharing", func(r *routeFixture) string { return "/v1/accounts/" + r.shared + "/sharing" }, `{"workspace":true}`, "ynnnn"},
	{"GET /v1/accounts/{id}/workflows", func(r *routeFixture) string { return "/v1/accounts/" + r.private + "/workflows" }, "", "ynnny"},
	{"POST /v1/connect", fixed("/v1/connect"), `{"app":"no-such-app"}`, "yyynn"},
	{"GET /v1/connect/{id}", fixed("/v1/connect/con_01j0000000000000000000000"), "", "yyyyy"},
	{"GET /v1/oauth-clients", fixed("/v1/oauth-clients"), "", "yyyyy"},
	{"GET /v1/oauth-clients/{id}", fixed("/v1/oauth-clients/occ_01j0000000000000000000000"), "", "yyyyy"},
	// Admins manage the workspace's OAuth clients and custom apps.
	{"DELETE /v1/oauth-clients/{id}", fixed("/v1/oauth-clients/occ_01j0000000000000000000000"), "", "yynnn"},
	{"PUT /v1/apps/{slug}/oauth-client", fixed("/v1/apps/no-such-app/oauth-client"), `{"client_id":"x","client_secret":"y"}`, "yynnn"},
	{"GET /v1/workflows", fixed("/v1/workflows"), "", "yyyyy"},
	{"POST /v1/workflows", fixed("/v1/workflows"), `{"name":""}`, "yyynn"},
	{"GET /v1/workflows/{id}", func(r *routeFixture) string { return "/v1/workflows/" + r.workflow }, "", "ynnny"},
	{"PUT /v1/workflows/{id}", func(r *routeFixture) string { return "/v1/workflows/" + r.workflow }, `{"name":""}`, "ynnnn"},
	{"DELETE /v1/workflows/{id}", fixed("/v1/workflows/wfl_01j0000000000000000000000"), "", "yyynn"},
	{"PUT /v1/workflows/{id}/steps/{step}/accounts/{app}", func(r *routeFixture) string {
		return "/v1/workflows/" + r.workflow + "/steps/send/accounts/sendgrid"
	}, `{"account_id":"` + noSuch + `"}`, "ynnnn"},
	{"POST /v1/workflows/{id}/runs", func(r *routeFixture) string { return "/v1/workflows/" + r.workflow + "/runs" }, "", "ynnnn"},
	{"GET /v1/workflows/{id}/runs", func(r *routeFixture) string { return "/v1/workflows/" + r.workflow + "/runs" }, "", "ynnny"},
	{"GET /v1/runs/{id}", fixed("/v1/runs/run_01j0000000000000000000000"), "", "yyyyy"},
	{"GET /v1/custom-apps", fixed("/v1/custom-apps"), "", "yyyyy"},
	{"PUT /v1/custom-apps/{slug}", fixed("/v1/custom-apps/mine"), `{"definition":"slug: other"}`, "yynnn"},
	{"DELETE /v1/custom-apps/{slug}", fixed("/v1/custom-apps/mine"), "", "yynnn"},
	{"POST /v1/app-requests", fixed("/v1/app-requests"), `{"name":""}`, "yyyyy"},
	{"GET /v1/app-requests", fixed("/v1/app-requests"), "", "yynny"},
	{"POST /v1/tokens", fixed("/v1/tokens"), `{"name":"t","scopes":["members:write"]}`, "yynnn"},

	{"GET /v1/tokens", fixed("/v1/tokens"), "", "yyyyy"},
	{"DELETE /v1/tokens/{id}", fixed("/v1/tokens/tok_01j0000000000000000000000"), "", "yyyyy"},
	{"POST /v1/tokens/{id}/rotate", func(r *routeFixture) string { return "/v1/tokens/" + r.token + "/rotate" }, `{"overlap":"0s"}`, "yyyyy"},
	// Everyone lists and revokes their own MCP client grants, and only
	// theirs (TestMCPOAuth, TestMCPGrantsPage).
	{"GET /v1/mcp-grants", fixed("/v1/mcp-grants"), "", "yyyyy"},
	{"DELETE /v1/mcp-grants/{id}", fixed("/v1/mcp-grants/mcg_01j0000000000000000000000"), "", "yyyyy"},

	{"GET /v1/members", fixed("/v1/members"), "", "yyyyy"},
	{"PATCH /v1/members/{id}", fixed("/v1/members/usr_01j0000000000000000000000"), `{"role":"member"}`, "yynnn"},
	{"DELETE /v1/members/{id}", fixed("/v1/members/usr_01j0000000000000000000000"), "", "yynnn"},
	{"POST /v1/members/{id}/password-reset", fixed("/v1/members/usr_01j0000000000000000000000/password-reset"), "", "yynnn"},
	{"GET /v1/invitations", fixed("/v1/invitations"), "", "yynnn"},
	{"POST /v1/invitations", fixed("/v1/invitations"), `{"email":"not an email","role":"member"}`, "yynnn"},
	{"DELETE /v1/invitations/{id}", fixed("/v1/invitations/inv_01j0000000000000000000000"), "", "yynnn"},
	{"POST /v1/invitations/{id}/resend", fixed("/v1/invitations/inv_01j0000000000000000000000/resend"), "", "yynnn"},
	{"POST /v1/me/password", fixed("/v1/me/password"), `{"current_password":"x","new_password":"y"}`, "yyyyn"},
	{"GET /v1/workspaces", fixed("/v1/workspaces"), "", "ynnnn"},
	{"POST /v1/workspaces", fixed("/v1/workspaces"), `{"name":""}`, "ynnnn"},
	{"GET /v1/audit", fixed("/v1/audit"), "", "yynnn"},
	// Owners and admins manage webhooks; a scoped token lacks webhooks:write.
	{"POST /v1/webhooks", fixed("/v1/webhooks"), `{"url":"ftp://hooks.example"}`, "yynnn"},
	{"GET /v1/webhooks", fixed("/v1/webhooks"), "", "yynnn"},
	{"GET /v1/webhooks/{id}", fixed("/v1/webhooks/whk_01j0000000000000000000000"), "", "yynnn"},
	{"PATCH /v1/webhooks/{id}", fixed("/v1/webhooks/whk_01j0000000000000000000000"), `{"enabled":false}`, "yynnn"},
	{"DELETE /v1/webhooks/{id}", fixed("/v1/webhooks/whk_01j0000000000000000000000"), "", "yynnn"},
	{"POST /v1/webhooks/{id}/rotate-secret", fixed("/v1/webhooks/whk_01j0000000000000000000000/rotate-secret"), `{"overlap_seconds":60}`, "yynnn"},
	{"GET /v1/webhooks/{id}/deliveries", fixed("/v1/webhooks/whk_01j0000000000000000000000/deliveries"), "", "yynnn"},
	{"GET /v1/webhooks/{id}/deliveries/{delivery}", fixed("/v1/webhooks/whk_01j0000000000000000000000/deliveries/whd_01j0000000000000000000000"), "", "yynnn"},
	{"POST /v1/webhooks/{id}/deliveries/{delivery}/redeliver", fixed("/v1/webhooks/whk_01j0000000000000000000000/deliveries/whd_01j0000000000000000000000/redeliver"), "", "yynnn"},
	{"GET /v1/audit/export", fixed("/v1/audit/export"), "", "yynnn"},
	{"POST /v1/connect-tokens", fixed("/v1/connect-tokens"), `{"external_user_id":"customer-42"}`, "yynnn"},
	{"GET /v1/end-users/{id}", fixed("/v1/end-users/nobody"), "", "yyyyy"},
	{"DELETE /v1/end-users/{id}", fixed("/v1/end-users/nobody"), "", "yyynn"},
	{"GET /v1/actions", fixed("/v1/actions?app=slack"), "", "yyyyy"},
	{"GET /v1/actions/{ref}", fixed("/v1/actions/slack.post_message"), "", "yyyyy"},
	// Running takes actions:run, which viewers and the accounts:read
	// token lack; the others get past the gate to a 422 for the empty input.
	{"POST /v1/actions/{ref}/run", fixed("/v1/actions/sendgrid.send_email/run"), `{"account_id":"` + noSuch + `","input":{}}`, "yyynn"},
	// The proxy takes any method (the table sends GET); a viewer may not
	// use accounts, and the scoped token lacks the proxy scope.
	{"/v1/proxy/{account_id}/{path...}", func(r *routeFixture) string { return "/v1/proxy/" + r.shared + "/v3/scopes" }, "", "yyynn"},
}

// The role × route table: every registered API route, for each kind of
// caller, is allowed or refused as the table says; a route without a
// row fails the test.
func TestRoleRouteTable(t *testing.T) {
	f := start(t, servertest.Backends[0])
	ctx := context.Background()

	var rows []string
	for _, r := range routeTable {
		rows = append(rows, r.pattern)
		if len(r.want) != len(callers) {
			t.Fatalf("%s: want %q has %d letters, one per caller of %v", r.pattern, r.want, len(r.want), callers)
		}
	}
	for _, p := range f.APIRoutes() {
		if !slices.Contains(rows, p) {
			t.Errorf("the route %s has no row in the role × route table", p)
		}
	}
	for _, p := range rows {
		if !slices.Contains(f.APIRoutes(), p) {
			t.Errorf("the table's row %s names no registered route", p)
		}
	}

	shared, err := f.api.CreateAccount(ctx, client.CreateAccount{App: "sendgrid", Shared: true, Fields: map[string]string{"api_key": goodKey}})
	if err != nil {
		t.Fatal(err)
	}
	private := sendgrid(t, f.api, "private")
	wf, err := f.api.CreateWorkflow(ctx, client.SaveWorkflow{Name: "send", Steps: []client.WorkflowStep{{Key: "send", Kind: "code", Apps: []string{"sendgrid"}, Code: "return 1"}}})
	if err != nil {
		t.Fatal(err)
	}
	member := addUser(t, f.Instance, "mia@acme.test", store.RoleMember)
	admin := addUser(t, f.Instance, "ada@acme.test", store.RoleAdmin)
	viewer := addUser(t, f.Instance, "vic@acme.test", store.RoleViewer)
	scoped, err := f.api.CreateToken(ctx, client.CreateToken{Name: "reader", Scopes: []string{identity.ScopeAccountsRead}})
	if err != nil {
		t.Fatal(err)
	}
	memberSecret, _, err := f.Identity().IssueToken(ctx, member.WorkspaceID, member.ID, "member", []string{identity.ScopeAll})
	if err != nil {
		t.Fatal(err)
	}
	secrets := map[string]string{"owner": f.Token, "member": memberSecret.Reveal(), "scoped": scoped.Secret}
	for name, u := range map[string]webUser{"admin": admin, "viewer": viewer} {
		secret, _, err := f.Identity().IssueToken(ctx, u.WorkspaceID, u.ID, name, []string{identity.ScopeAll})
		if err != nil {
			t.Fatal(err)
		}
		secrets[name] = secret.Reveal()
	}

	for i, caller := range callers {
		for _, row := range routeTable {
			// Each caller rotates a token of its own.
			own, err := client.New(f.URL, secrets[caller], nil).CreateToken(ctx, client.CreateToken{Name: "own", Scopes: []string{identity.ScopeAccountsRead}})
			if err != nil {
				t.Fatal(err)
			}
			fx := &routeFixture{shared: shared.ID, private: private.ID, workflow: wf.ID, token: own.Token.ID}
			method, _, found := strings.Cut(row.pattern, " ")
			if !found {
				// A pattern for any method.
				method = http.MethodGet
			}
			status := call(t, f.URL, secrets[caller], method, row.path(fx), row.body)
			refused := status == http.StatusUnauthorized || status == http.StatusForbidden || status == http.StatusNotFound && row.want[i] == 'n'
			if got := map[bool]byte{true: 'n', false: 'y'}[refused]; got != row.want[i] {
				t.Errorf("%s as %s: %d, want %s", row.pattern, caller, status, map[byte]string{'y': "allowed", 'n': "refused"}[row.want[i]])
			}
		}
	}
}

func call(t *testing.T, base, token, method, path, body string) int {
	t.Helper()
	_, resp, _ := do(t, base, token, method, path, body)
	return resp.StatusCode
}

// publicRoutes are routes outside the API that any browser fetches with no
// credential at all, for any workspace: each caller of the role × route
// table, one of another workspace, and nobody, get the same answer.
// (TestAPIReferenceForEverySession signs browsers in for /docs/api, and
// TestMCPDocs for /docs/mcp, whose tools are the signed-in workspace's.)
var publicRoutes = []struct {
	pattern, path string
	status        int
}{
	{"GET /connect.js", "/connect.js", http.StatusOK},
	{"GET /openapi.json", "/openapi.json", http.StatusOK},
	{"GET /docs/api", "/docs/api", http.StatusOK},
	{"GET /docs/mcp", "/docs/mcp", http.StatusOK},
	{"GET /logos/{file}", "/logos/github.svg", http.StatusOK},
	{"GET /logos/{file}", "/logos/sendgrid.svg", http.StatusNotFound},
	// A posted callback (Copper's) with no state is no callback, for any
	// caller; with one it becomes the GET callback (TestSchemaGapsEndToEnd).
	{"POST /oauth/callback", "/oauth/callback", http.StatusBadRequest},
	// The MCP authorization server's metadata is public; registration
	// and the token and revocation endpoints take no credential but what
	// they are sent, and an empty request is refused alike for everyone
	// (TestMCPRegistration, TestMCPOAuthRefusals, TestMCPTokenRevocation).
	{"GET /.well-known/oauth-authorization-server", "/.well-known/oauth-authorization-server", http.StatusOK},
	{"GET /.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource", http.StatusOK},
	{"POST /oauth2/register", "/oauth2/register", http.StatusBadRequest},
	{"POST /oauth2/token", "/oauth2/token", http.StatusBadRequest},
	{"POST /oauth2/revoke", "/oauth2/revoke", http.StatusBadRequest},
	// Their CORS preflights, for any origin (TestMCPOAuthCORS).
	{"OPTIONS /.well-known/oauth-authorization-server", "/.well-known/oauth-authorization-server", http.StatusNoContent},
	{"OPTIONS /.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource", http.StatusNoContent},
	{"OPTIONS /.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource/mcp", http.StatusNoContent},
	{"OPTIONS /oauth2/register", "/oauth2/register", http.StatusNoContent},
	{"OPTIONS /oauth2/token", "/oauth2/token", http.StatusNoContent},
	{"OPTIONS /oauth2/revoke", "/oauth2/revoke", http.StatusNoContent},
}

func TestPublicRoutes(t *testing.T) {
	f := start(t, servertest.Backends[0])
	member := addUser(t, f.Instance, "mia@acme.test", store.RoleMember)
	memberSecret, _, err := f.Identity().IssueToken(context.Background(), member.WorkspaceID, member.ID, "member", []string{identity.ScopeAll})
	if err != nil {
		t.Fatal(err)
	}
	outsider := otherWorkspaceUser(t, f.Instance, "zed@other.test")
	outsiderSecret, _, err := f.Identity().IssueToken(context.Background(), outsider.WorkspaceID, outsider.ID, "outsider", []string{identity.ScopeAll})
	if err != nil {
		t.Fatal(err)
	}
	tokens := map[string]string{"nobody": "", "owner": f.Token, "member": memberSecret.Reveal(), "another workspace": outsiderSecret.Reveal(), "a bad token": "lk_not_a_token"}
	for _, row := range publicRoutes {
		method, _, _ := strings.Cut(row.pattern, " ")
		for caller, token := range tokens {
			if status := call(t, f.URL, token, method, row.path, ""); status != row.status {
				t.Errorf("%s as %s: %d, want %d", row.pattern, caller, status, row.status)
			}
		}
	}
}
