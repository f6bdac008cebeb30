package catalog

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// clientSetup is what two entries share when they talk to one
// authorization server the same way: where they send the user and the
// code, how the client authenticates, and the parameters they add.
// Scopes are left out: apps of one provider differ in those.
func (o *OAuth2) clientSetup() string {
	params := func(m map[string]string) string {
		var b strings.Builder
		for _, k := range slices.Sorted(maps.Keys(m)) {
			fmt.Fprintf(&b, "%s=%s&", k, m[k])
		}
		return b.String()
	}
	auth := o.ClientAuth
	if auth == "" {
		auth = "body"
	}
	return strings.Join([]string{o.AuthorizeURL, o.TokenURL, o.RefreshURL, auth, o.TokenBody, o.ClientIDParam,
		params(o.AuthorizeParams), params(o.TokenParams), params(o.RefreshParams)}, "\n")
}

// copies reports OAuth 2 entries that share a client setup without saying
// so: a copy-paste, most likely, that points one app at another's
// authorization server. Entries that share on purpose all name one
// oauth2.provider (google, atlassian).
func copies(apps []*App, origin map[string]string) []error {
	groups := map[string][]*App{}
	for _, a := range apps {
		if a.OAuth2 != nil {
			k := a.OAuth2.clientSetup()
			groups[k] = append(groups[k], a)
		}
	}
	var errs []error
	for _, a := range apps {
		if a.OAuth2 == nil {
			continue
		}
		group := groups[a.OAuth2.clientSetup()]
		var others []string
		for _, b := range group {
			if b != a && (a.OAuth2.Provider == "" || b.OAuth2.Provider != a.OAuth2.Provider) {
				others = append(others, b.Slug)
			}
		}
		if len(others) > 0 {
			errs = append(errs, fmt.Errorf("%s: oauth2: the same authorize URL, token URL, client auth and parameters as %s; "+
				"if they share one authorization server on purpose, give each the same oauth2.provider", origin[a.Slug], strings.Join(others, ", ")))
		}
	}
	return errs
}
