package oauth

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"slices"
	"strings"

	"github.com/latchkeyhq/latchkey/internal/secret"
)

// minRedact is the shortest secret redacted: replacing every "ab" in a
// message would garble it and protect nothing.
const minRedact = 4

// redactor replaces, in a provider's error text, every secret sent in the
// request that text answers: raw, URL-escaped (query and path), and
// JSON-escaped, since providers echo parameters in all those forms.
type redactor []string

// newRedactor returns a redactor for the secrets given; empty and very
// short ones are left out.
func newRedactor(secrets ...string) redactor {
	var forms []string
	for _, s := range secrets {
		if len(s) < minRedact {
			continue
		}
		forms = append(forms, s, url.QueryEscape(s), url.PathEscape(s))
		if b, err := json.Marshal(s); err == nil {
			forms = append(forms, string(b[1:len(b)-1]))
		}
	}
	// Longest first, so a form that contains another is replaced whole.
	slices.SortFunc(forms, func(a, b string) int { return len(b) - len(a) })
	return slices.Compact(forms)
}

func (r redactor) text(s string) string {
	for _, f := range r {
		s = strings.ReplaceAll(s, f, secret.Redacted)
	}
	return s
}

// redactor returns the redactor for a token request of f that sends the
// secrets given, adding the client secret and, for basic client
// authentication, the Authorization header's credentials.
func (f *Flow) redactor(secrets ...string) redactor {
	cs := f.Client.Secret.Reveal()
	secrets = append(secrets, cs)
	if cs != "" {
		// Basic authentication sends the secret query-escaped (RFC 6749
		// section 2.3.1), which a provider may echo escaped once more.
		basic := url.QueryEscape(f.Client.ID) + ":" + url.QueryEscape(cs)
		secrets = append(secrets, url.QueryEscape(cs), base64.StdEncoding.EncodeToString([]byte(basic)))
	}
	return newRedactor(secrets...)
}
