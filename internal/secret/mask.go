package secret

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
)

// minMasked is the shortest value masked, and the shortest encoded form:
// short values (a region, a subdomain) are not secrets worth masking and
// would garble the text.
const minMasked = 8

// Masker replaces every credential value in text that may carry one (what
// a workflow step left behind, a provider's answer): the value itself and its
// common encodings (JSON-escaped, base64 and base64url with and without
// padding, hex, URL-escaped). It is a safety net against accidents, not a
// defence against hostile code, which can always encode a value some
// other way; the sandbox and the access rules are that defence.
type Masker struct{ forms []string }

// NewMasker returns a Masker that masks nothing yet.
func NewMasker() *Masker { return &Masker{} }

// Add remembers the values of one account.
func (m *Masker) Add(v map[string]string) {
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

// Text returns s with every remembered value, in each of its forms,
// replaced by Redacted.
func (m *Masker) Text(s string) string {
	for _, f := range m.forms {
		s = strings.ReplaceAll(s, f, Redacted)
	}
	return s
}

// Empty reports whether there is nothing to mask.
func (m *Masker) Empty() bool { return len(m.forms) == 0 }
