package catalog

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// providerValues are the names kept from the callback and the metadata
// answer, sorted.
func (o *OAuth2) providerValues() []string {
	var ks []string
	for k := range o.CallbackFields {
		ks = append(ks, k)
	}
	if o.Metadata != nil {
		for k := range o.Metadata.Keep {
			ks = append(ks, k)
		}
	}
	sort.Strings(ks)
	return ks
}

func with(names map[string]bool, extra ...string) map[string]bool {
	m := make(map[string]bool, len(names)+len(extra))
	for k, v := range names {
		m[k] = v
	}
	for _, k := range extra {
		m[k] = true
	}
	return m
}

// fieldNames are the patterned connection fields: the only values a flow
// has before the account exists.
func (o *OAuth2) validateQuirks(names, urlNames, fieldNames map[string]bool, hasBase bool) []error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("oauth2.%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if o.ClientIDParam != "" && !paramRE.MatchString(o.ClientIDParam) {
		bad("client_id_param", "%q is not a parameter name", o.ClientIDParam)
	}
	if o.RefreshURL != "" {
		if err := checkURL(o.RefreshURL, fieldNames); err != nil {
			bad("refresh_url", "%v", err)
		}
	}
	for k, param := range o.CallbackFields {
		if !fieldRE.MatchString(k) {
			bad("callback_fields."+k, "%q must be lower case letters, digits and underscores", k)
		}
		if !paramRE.MatchString(param) || slices.Contains([]string{"code", "state", "error", "error_description"}, param) {
			bad("callback_fields."+k, "%q is not a query parameter the callback may keep", param)
		}
	}
	if m := o.Metadata; m != nil {
		if len(m.Keep) == 0 {
			bad("metadata.keep", "name at least one value to keep")
		}
		for k, path := range m.Keep {
			if !fieldRE.MatchString(k) {
				bad("metadata.keep."+k, "%q must be lower case letters, digits and underscores", k)
			}
			if !labelPathRE.MatchString(path) {
				bad("metadata.keep."+k, "%q is not a dot path (data.0.id)", path)
			}
		}
		// The metadata request runs before its own values exist.
		before := map[string]bool{}
		for n := range names {
			if _, own := m.Keep[n]; !own {
				before[n] = true
			}
		}
		errs = append(errs, m.Probe().validate("oauth2.metadata", hasBase, onlyFields(urlNames, before), before)...)
	}
	if r := o.Revoke; r != nil {
		if o.RevokeURL != "" {
			bad("revoke", "give revoke_url (RFC 7009) or revoke, not both")
		}
		errs = append(errs, r.validate(names, urlNames)...)
	}
	if o.Provider != "" && !fieldRE.MatchString(o.Provider) {
		bad("provider", "%q must be lower case letters, digits and underscores", o.Provider)
	}
	return errs
}

var (
	paramRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)
	// A path into an answer may start with an index, for JSON arrays.
	labelPathRE = regexp.MustCompile(`^[A-Za-z0-9_]{1,62}(\.[A-Za-z0-9_]{1,62}){0,5}$`)
)

// onlyFields keeps the names of allowed that are also in names.
func onlyFields(allowed, names map[string]bool) map[string]bool {
	m := map[string]bool{}
	for k := range allowed {
		if names[k] {
			m[k] = true
		}
	}
	return m
}

func (r *Revocation) validate(names, urlNames map[string]bool) []error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("oauth2.revoke.%s: %s", field, fmt.Sprintf(format, args...)))
	}
	switch r.Method {
	case "", http.MethodPost, http.MethodDelete:
	default:
		bad("method", "%q must be POST or DELETE", r.Method)
	}
	switch r.Auth {
	case "", "none", "basic", "bearer":
	default:
		bad("auth", "%q must be basic, bearer or none", r.Auth)
	}
	for _, t := range r.Tokens {
		if t != "refresh_token" && t != "access_token" {
			bad("tokens", "%q must be refresh_token or access_token", t)
		}
	}
	// The token and the client id may be in the URL's path, where they are
	// escaped, but not in its host; the secret never goes in a URL.
	inPath := with(urlNames, RevokeTokenName, RevokeHintName, OAuthClientIDField)
	if err := checkURL(r.URL, inPath); err != nil {
		bad("url", "%v", err)
	} else if i := strings.Index(r.URL, "://"); i >= 0 {
		host := r.URL[i+3:]
		if j := strings.IndexByte(host, '/'); j >= 0 {
			host = host[:j]
		}
		if err := checkTemplate(host, urlNames); err != nil {
			bad("url", "the host may not name the token or the client: %v", err)
		}
	}
	all := with(names, RevokeTokenName, RevokeHintName, OAuthClientIDField, OAuthClientSecret)
	for k, v := range r.Headers {
		if err := checkHeader(k, v, all); err != nil {
			bad("headers."+k, "%v", err)
		}
	}
	if err := checkTemplate(r.Body, all); err != nil {
		bad("body", "%v", err)
	}
	return errs
}
