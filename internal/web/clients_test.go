package web_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/server"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
)

// TestClientsTableNamesApps: the OAuth clients table names each client's
// app as the catalog does (GitHub, Google Calendar), not by its slug.
func TestClientsTableNamesApps(t *testing.T) {
	inst := servertest.Start(t, servertest.Config(t, ""), server.Options{})
	b := newBrowser(t, inst.URL)
	setup(t, b)
	for _, app := range []string{"github", "google_calendar"} {
		if _, err := inst.Client().SetOAuthClient(context.Background(), app, client.SetOAuthClient{ClientID: app + "-id", ClientSecret: app + "-secret", Managed: true}); err != nil {
			t.Fatal(err)
		}
	}
	resp, body := b.get(t, "/oauth-clients")
	if resp.StatusCode != 200 {
		t.Fatalf("clients page: %d", resp.StatusCode)
	}
	cells := regexp.MustCompile(`(?s)<td data-label="App">.*?<span>([^<]*)</span></span></td>`).FindAllStringSubmatch(body, -1)
	var names []string
	for _, c := range cells {
		names = append(names, c[1])
	}
	if strings.Join(names, ",") != "GitHub,Google Calendar" {
		t.Errorf("the table's apps are %q, want GitHub and Google Calendar by name\n%s", names, body)
	}
}
