package api

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/latchkeyhq/latchkey/internal/accounts"
	"github.com/latchkeyhq/latchkey/internal/catalog"
	"github.com/latchkeyhq/latchkey/internal/connecting"
	"github.com/latchkeyhq/latchkey/internal/outage"
)

// TestProblemsSayWhereTheFixIs: the services' errors that name their fix
// by its facts become problems that name the route, in the detail and in
// members a client reads.
func TestProblemsSayWhereTheFixIs(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		status int
		kind   string
		// detail must contain each of these.
		detail []string
		// members are the problem's fields a client reads.
		app, accountID, clientPath, credentialsPath, reconnectPath string
	}{
		{
			name: "no OAuth client", err: fmt.Errorf("start: %w", &connecting.NoClientError{App: "github", AppName: "GitHub"}),
			status: http.StatusUnprocessableEntity, kind: "validation",
			detail: []string{"GitHub: no OAuth client is set for this app", "PUT /v1/apps/github/oauth-client"},
			app:    "github", clientPath: "/v1/apps/github/oauth-client",
		},
		{
			name: "a key app asked to reconnect", err: &accounts.KeyAppError{AccountID: "acc_x", AppName: "SendGrid", Auth: catalog.AuthKeys},
			status: http.StatusUnprocessableEntity, kind: "validation",
			detail:    []string{"SendGrid connects with keys: give the account new credentials instead", "PUT /v1/accounts/acc_x/credentials"},
			accountID: "acc_x", credentialsPath: "/v1/accounts/acc_x/credentials",
		},
		{
			name: "needs reconnect", err: &accounts.NeedsReconnectError{AccountID: "acc_y", Reason: "invalid_grant"},
			status: http.StatusConflict, kind: "needs-reconnect",
			detail:    []string{"account acc_y needs to be reconnected"},
			accountID: "acc_y", reconnectPath: "/v1/accounts/acc_y/reconnect",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := toProblem(tt.err)
			if p.Status != tt.status || p.Type != ProblemTypePrefix+tt.kind || p.Title == "" {
				t.Fatalf("problem %+v, want %d %s", p, tt.status, tt.kind)
			}
			for _, d := range tt.detail {
				if !strings.Contains(p.Detail, d) {
					t.Errorf("detail %q lacks %q", p.Detail, d)
				}
			}
			if p.App != tt.app || p.AccountID != tt.accountID || p.OAuthClientPath != tt.clientPath || p.CredentialsPath != tt.credentialsPath || p.ReconnectPath != tt.reconnectPath {
				t.Errorf("members %+v", p)
			}
			if strings.Contains(p.Detail, "latchkey ") {
				t.Errorf("the API's detail names a CLI command: %q", p.Detail)
			}
		})
	}
}

// TestStoreOutagesAre503: a database that stays away past the store's
// retries is a 503 with Retry-After, not a 500, and a write whose fate is
// unknown says to read back before retrying. Neither shows the cause.
func TestStoreOutagesAre503(t *testing.T) {
	const cause = "dial tcp 10.9.8.7:5432: connection refused"
	for _, tt := range []struct {
		err  error
		kind string
	}{
		{fmt.Errorf("list accounts: %w: %s", outage.ErrUnavailable, cause), "database-unavailable"},
		{fmt.Errorf("rename: %w: %s", outage.ErrOutcomeUnknown, cause), "outcome-unknown"},
	} {
		rec := httptest.NewRecorder()
		writeProblem(rec, toProblem(tt.err))
		body := rec.Body.String()
		if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "5" || !strings.Contains(body, ProblemTypePrefix+tt.kind) {
			t.Errorf("%v: %d Retry-After %q %s", tt.err, rec.Code, rec.Header().Get("Retry-After"), body)
		}
		if strings.Contains(body, "10.9.8.7") {
			t.Errorf("the problem shows the cause: %s", body)
		}
	}
}
