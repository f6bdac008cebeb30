package web

import (
	"strings"
	"testing"

	"github.com/latchkeyhq/latchkey/internal/catalog"
)

func TestAuthorizeSources(t *testing.T) {
	oauth := func(u string) *catalog.App {
		return &catalog.App{Auth: catalog.AuthOAuth2, OAuth2: &catalog.OAuth2{AuthorizeURL: u}}
	}
	tests := []struct {
		name string
		app  *catalog.App
		want string
	}{
		{"fixed host", oauth("https://slack.com/oauth/v2/authorize"), "https://slack.com"},
		{"port kept", oauth("https://idp.test:8443/authorize?x=1"), "https://idp.test:8443"},
		{"loopback IdP", oauth("http://127.0.0.1:4242/authorize"), "http://127.0.0.1:4242"},
		{"leading placeholder", oauth("https://{shop}.myshopify.com/admin/oauth/authorize"), "https://*.myshopify.com"},
		{"two leading placeholders", oauth("https://{a}.{b}.example.com/x"), "https://*.example.com"},
		{"placeholder in the path only", oauth("https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize"), "https://login.microsoftonline.com"},
		{"placeholder not leading", oauth("https://accounts.{dc}/oauth/v2/auth"), "https:"},
		{"placeholder inside a label", oauth("https://x{n}.example.com/"), "https:"},
		{"placeholder is the whole host", oauth("https://{host}/authorize"), "https:"},
		{"keys app", &catalog.App{Auth: catalog.AuthKeys}, ""},
		{"not a URL", oauth("javascript:alert(1)"), ""},
		// A custom app's URL: its host may not add a directive, such as a
		// frame-ancestors ahead of the page's own.
		{"a ';' in the host", oauth("https://a.example;frame-ancestors/authorize"), ""},
		{"a ',' in the host", oauth("https://a.example,frame-ancestors/authorize"), ""},
		{"a quote in the host", oauth("https://a.example'unsafe-inline'/authorize"), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := strings.Join(authorizeSources(tc.app), " "); got != tc.want {
				t.Fatalf("authorizeSources = %q, want %q", got, tc.want)
			}
		})
	}
}
