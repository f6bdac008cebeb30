package workflows_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jonboulle/clockwork"

	"github.com/latchkeyhq/latchkey/internal/accounts"
	"github.com/latchkeyhq/latchkey/internal/sandbox/sandboxtest"
	"github.com/latchkeyhq/latchkey/internal/workflows"
)

// TestRefusalCodeMaskedBeforeClipped: an app that answers 200 with a
// refusal whose error code echoes the token far into it: the step's
// error names the code cut short, and no part of the token is left in
// it, not even the part before the cut.
func TestRefusalCodeMaskedBeforeClipped(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const token = "xoxb-1234567890-abcdefghijkl"
	code := strings.Repeat("a", 290) + token
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"ok":false,"error":%q}`, code)
	}))
	defer srv.Close()
	// Slack's requests go to the stand-in on loopback.
	toStandIn := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, srv.Listener.Addr().String())
		},
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
	}}
	acc, err := f.accounts.Create(ctx, f.a, accounts.CreateInput{App: "slack_bot", Fields: map[string]string{"bot_token": token}, SkipTest: true})
	if err != nil {
		t.Fatal(err)
	}
	svc := workflows.New(workflows.Options{Store: f.st, Accounts: f.accounts, Apps: f.apps, Clock: clockwork.NewFakeClock(),
		Log: slog.New(slog.DiscardHandler), HTTP: toStandIn, Sandbox: sandboxtest.New(t)})
	wf, err := svc.Save(ctx, f.a, "", "post", []workflows.Step{{Key: "h", Kind: "http", Accounts: map[string]string{"slack_bot": acc.ID},
		HTTP: &workflows.HTTPStep{App: "slack_bot", Method: "POST", Path: "/chat.postMessage"}}})
	if err != nil {
		t.Fatal(err)
	}
	run, err := svc.Run(ctx, f.a, wf.ID)
	if err != nil {
		t.Fatal(err)
	}
	st := run.Steps[0]
	if st.Status != workflows.StatusFailed || !strings.Contains(st.Error, "said the request failed: aaaa") {
		t.Fatalf("the step: %s %q", st.Status, st.Error)
	}
	if strings.Contains(st.Error, "xoxb") {
		t.Errorf("the step's error keeps part of the token: %q", st.Error)
	}
}
