package web

import (
	"net/http"
	"sort"
	"strings"

	"github.com/latchkeyhq/latchkey/internal/catalog"
)

// policy is the Content-Security-Policy of a page whose forms may send the
// browser to the given origins. A form that starts an OAuth connection is
// answered with a redirect to the provider, and form-action governs such
// redirects too. Under https, form-action names only the page's own
// providers: listing every app's would make a header of kilobytes, more
// than some proxies pass. Under http (development), any https origin.
func (h *Handler) policy(formOrigins []string) string {
	formAction := []string{"'self'"}
	if h.secure {
		seen := map[string]bool{}
		for _, o := range formOrigins {
			if !seen[o] {
				seen[o] = true
				formAction = append(formAction, o)
			}
		}
		sort.Strings(formAction[1:])
	} else {
		formAction = append(formAction, "https:")
	}
	formAction = append(formAction, h.httpOrigins...)
	return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
		"form-action " + strings.Join(formAction, " ") + "; frame-ancestors 'none'; base-uri 'none'"
}

// allowFormsTo widens the page's form-action to the OAuth providers of
// apps, for its Connect and Reconnect forms.
func (h *Handler) allowFormsTo(w http.ResponseWriter, apps ...*catalog.App) {
	var origins []string
	for _, a := range apps {
		origins = append(origins, authorizeSources(a)...)
	}
	if len(origins) > 0 {
		w.Header().Set("Content-Security-Policy", h.policy(origins))
	}
}

// authorizeSources are the CSP sources that cover an OAuth app's authorize
// URL. A host whose leading labels are placeholders ({shop}.myshopify.com)
// becomes a wildcard (*.myshopify.com); one with a placeholder elsewhere
// (accounts.{dc}) cannot be narrowed, and is any https origin.
func authorizeSources(app *catalog.App) []string {
	if app == nil {
		return nil
	}
	var authorizeURL string
	switch {
	case app.Auth == catalog.AuthOAuth2 && app.OAuth2 != nil:
		authorizeURL = app.OAuth2.AuthorizeURL
	case app.Auth == catalog.AuthOAuth1 && app.OAuth1 != nil:
		authorizeURL = app.OAuth1.AuthorizeURL
	default:
		return nil
	}
	scheme, rest, ok := strings.Cut(authorizeURL, "://")
	if !ok || (scheme != "https" && scheme != "http") {
		return nil
	}
	host, _, _ := strings.Cut(rest, "/")
	host, _, _ = strings.Cut(host, "?")
	if !sourceHost(host) {
		// A ";" or "," (which URL parsing allows in a host) would start
		// a directive, or a policy, of the app's in the page's CSP.
		return nil
	}
	if !strings.ContainsAny(host, "{}") {
		return []string{scheme + "://" + host}
	}
	labels := strings.Split(host, ".")
	i := 0
	for i < len(labels) && strings.HasPrefix(labels[i], "{") && strings.HasSuffix(labels[i], "}") && strings.Count(labels[i], "{") == 1 {
		i++
	}
	fixed := strings.Join(labels[i:], ".")
	if i == 0 || strings.ContainsAny(fixed, "{}") || !strings.Contains(fixed, ".") {
		return []string{scheme + ":"}
	}
	return []string{scheme + "://*." + fixed}
}

// sourceHost reports whether an authorize URL's host (with its port) is
// made of the characters of host names, IP addresses, ports and
// placeholders alone.
func sourceHost(host string) bool {
	return host != "" && !strings.ContainsFunc(host, func(r rune) bool {
		return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune(".-_:[]{}", r))
	})
}
