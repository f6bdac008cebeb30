package appapi_test

import (
	"net/http"
	"testing"

	"github.com/latchkeyhq/latchkey/internal/appapi"
	"github.com/latchkeyhq/latchkey/internal/catalog"
)

// TestShippedKeptValues shows shipped OAuth entries putting the values an
// account keeps where their providers document them: the client id in a
// header (Twitch, MYOB) and the kept ids in the base URL (Mailchimp's data
// centre, QuickBooks' realm, Jira's cloud id).
func TestShippedKeptValues(t *testing.T) {
	cat, err := catalog.Load(catalog.Embedded())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		app     string
		values  appapi.Values
		path    string
		url     string
		headers map[string]string
	}{
		{app: "twitch", values: appapi.Values{"oauth_access_token": "at", "oauth_client_id": "twitch-cid"},
			path: "/users", url: "https://api.twitch.tv/helix/users",
			headers: map[string]string{"Client-Id": "twitch-cid", "Authorization": "Bearer at"}},
		{app: "myob", values: appapi.Values{"oauth_access_token": "at", "oauth_client_id": "myob-key"},
			path: "/", url: "https://api.myob.com/accountright/",
			headers: map[string]string{"x-myobapi-key": "myob-key", "x-myobapi-version": "v2"}},
		{app: "mailchimp", values: appapi.Values{"oauth_access_token": "at", "dc": "us6"},
			path: "/lists", url: "https://us6.api.mailchimp.com/3.0/lists"},
		{app: "quickbooks", values: appapi.Values{"oauth_access_token": "at", "realm_id": "9130350"},
			path: "/companyinfo/9130350", url: "https://quickbooks.api.intuit.com/v3/company/9130350/companyinfo/9130350"},
		{app: "jira", values: appapi.Values{"oauth_access_token": "at", "cloud_id": "1324a887-45db-1bf4-1e99-ef0ff456d421"},
			path: "/rest/api/3/myself", url: "https://api.atlassian.com/ex/jira/1324a887-45db-1bf4-1e99-ef0ff456d421/rest/api/3/myself"},
	}
	for _, tt := range tests {
		t.Run(tt.app, func(t *testing.T) {
			app, ok := cat.Get(tt.app)
			if !ok {
				t.Fatalf("no app %s", tt.app)
			}
			u, err := appapi.ResolveURL(app, tt.path, tt.values)
			if err != nil || u != tt.url {
				t.Fatalf("URL %q, %v; want %q", u, err, tt.url)
			}
			req, _ := http.NewRequest(http.MethodGet, u, nil)
			if err := appapi.Authorize(req, app, tt.values); err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.headers {
				if got := req.Header.Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
		})
	}
}
