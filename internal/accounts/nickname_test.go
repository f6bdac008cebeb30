package accounts

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckNickname(t *testing.T) {
	tests := []struct {
		name, in string
		want     string // "" means refused
		bad      string // the code point the error names
	}{
		{"letters", "Acme workspace", "Acme workspace", ""},
		{"trimmed", "  Acme  ", "Acme", ""},
		{"accents and scripts", "Élodie — 東京 — Ελλάδα — עברית — العربية", "Élodie — 東京 — Ελλάδα — עברית — العربية", ""},
		{"emoji", "Sales 🚀✨", "Sales 🚀✨", ""},
		{"emoji with skin tone", "👍🏽 team", "👍🏽 team", ""},
		{"flag", "Ops 🇫🇷", "Ops 🇫🇷", ""},
		{"keycap", "Line 1️⃣", "Line 1️⃣", ""},
		{"joined emoji", "👩‍💻 dev", "👩‍💻 dev", ""},
		{"joined emoji with selector", "🏳️‍🌈 pride", "🏳️‍🌈 pride", ""},
		{"joined emoji with skin tone", "👩🏽‍💻 dev", "👩🏽‍💻 dev", ""},

		{"empty", "   ", "", ""},
		{"NUL", "a\x00b", "", "U+0000"},
		{"tab", "a\tb", "", "U+0009"},
		{"DEL", "a\x7fb", "", "U+007F"},
		{"next line", "a\u0085b", "", "U+0085"},
		{"C1 control", "a\u009bb", "", "U+009B"},
		{"right-to-left override", "invoice\u202Efdp.exe", "", "U+202E"},
		{"left-to-right embedding", "a\u202Ab", "", "U+202A"},
		{"right-to-left isolate", "a\u2067b", "", "U+2067"},
		{"right-to-left mark", "a\u200Fb", "", "U+200F"},
		{"zero-width space", "pay\u200Bpal", "", "U+200B"},
		{"zero-width non-joiner", "a\u200Cb", "", "U+200C"},
		{"zero-width joiner between letters", "a\u200Db", "", "U+200D"},
		{"joiner at the end", "👩\u200D", "", "U+200D"},
		{"word joiner", "a\u2060b", "", "U+2060"},
		{"byte order mark", "\uFEFFacme", "", "U+FEFF"},
		{"soft hyphen", "ac\u00ADme", "", "U+00AD"},
		{"line separator", "a\u2028b", "", "U+2028"},
		{"paragraph separator", "a\u2029b", "", "U+2029"},
		{"tag character", "a\U000E0041b", "", "U+E0041"},
		{"invalid UTF-8", "a\xffb", "", ""},
		{"too long", strings.Repeat("a", maxNickname+1), "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := checkNickname(tc.in)
			if tc.want != "" {
				if err != nil || got != tc.want {
					t.Fatalf("checkNickname(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Field != "nickname" {
				t.Fatalf("checkNickname(%q) = %q, %v; want a nickname ValidationError", tc.in, got, err)
			}
			if tc.bad != "" && !strings.Contains(ve.Message, tc.bad) {
				t.Fatalf("checkNickname(%q): %q does not name %s", tc.in, ve.Message, tc.bad)
			}
		})
	}
}
