package workflows

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"slices"
	"strings"

	"github.com/latchkeyhq/latchkey/internal/appapi"
	"github.com/latchkeyhq/latchkey/internal/secret"
)

// minMasked is the shortest value masked, and the shortest encoded form:
// short values (a region, a subdomain) are not secrets worth masking and
// would garble the text.
const minMasked = 8

// masker replaces every secret value handed to a step in what the step
// left behind, whatever the code printed: the value itself and its
// common encodings (JSON-escaped, base64 and base64url with and without
// padding, hex, URL-escaped). It is a safety net against accidents, not a
// defence against hostile code, which can always encode a value some
// other way; the sandbox and the access rules are that defence.
type masker struct{ forms []string }

func newMasker() *masker { return &masker{} }

// add remembers the values of one account.
func (m *masker) add(v appapi.Values) {
	for _, x := range v {
		if len(x) >= minMasked {
			m.forms = append(m.forms, encodings(x)...)
		}
	}
	// Longer first, so a form that contains another is masked whole.
	slices.SortFunc(m.forms, func(a, b string) int { return len(b) - len(a) })
	m.forms = slices.Compact(m.forms)
}

var base64s = []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding}

// encodings returns v and the forms code most often turns it into.
func encodings(v string) []string {
	out := []string{v, url.QueryEscape(v), url.PathEscape(v), hex.EncodeToString([]byte(v)), strings.ToUpper(hex.EncodeToString([]byte(v)))}
	if esc, _ := json.Marshal(v); len(esc) > 2 {
		out = append(out, string(esc[1:len(esc)-1]))
	}
	for _, enc := range base64s {
		out = append(out, enc.EncodeToString([]byte(v)))
	}
	// Inside a longer encoded text ("user:key" for basic auth, "Bearer
	// key"), v's base64 depends on where v starts in a 3-byte group: for
	// each of the three starts, its whole groups encode the same way
	// whatever surrounds them. At most two bytes at each end stay.
	for off := range 3 {
		if n := (len(v) - off) / 3 * 3; n > 0 {
			core := []byte(v[off : off+n])
			out = append(out, base64.RawStdEncoding.EncodeToString(core), base64.RawURLEncoding.EncodeToString(core))
		}
	}
	return slices.DeleteFunc(out, func(s string) bool { return len(s) < minMasked })
}

func (m *masker) text(s string) string {
	for _, f := range m.forms {
		s = strings.ReplaceAll(s, f, secret.Redacted)
	}
	return s
}

func (m *masker) apply(r *StepResult) {
	if len(m.forms) == 0 {
		return
	}
	r.Logs, r.Error = m.text(r.Logs), m.text(r.Error)
	if len(r.Result) > 0 {
		r.Result = json.RawMessage(m.text(string(r.Result)))
	}
	for k, v := range r.Exports {
		r.Exports[k] = json.RawMessage(m.text(string(v)))
	}
}
