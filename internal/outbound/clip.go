package outbound

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// ClipBytes is the most of a provider's text that reaches an error, a log,
// an audit event or a label: enough for a message, too little for a page
// of someone else's data.
const ClipBytes = 300

const ellipsis = "…"

// Clip makes provider text safe to show: control characters and
// direction overrides go, runs of white space become one space, invalid
// UTF-8 becomes U+FFFD, and the result is cut to at most ClipBytes bytes on
// a rune boundary, marked with "…" when cut.
func Clip(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		switch {
		case unicode.IsSpace(r) || r == '\u2028' || r == '\u2029':
			space = b.Len() > 0
			continue
		case unicode.IsControl(r) || isBidi(r):
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		// A rune that would not fit, with the mark, ends the text.
		if b.Len()+utf8.RuneLen(r) > ClipBytes {
			return cut(b.String())
		}
		b.WriteRune(r)
	}
	return b.String()
}

// cut ends text that did not fit with the mark, dropping runes until both
// fit.
func cut(s string) string {
	for len(s)+len(ellipsis) > ClipBytes {
		_, n := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-n]
	}
	return strings.TrimRight(s, " ") + ellipsis
}

// isBidi reports the invisible marks that reorder text, which could make a
// label or message read other than it is.
func isBidi(r rune) bool {
	switch {
	case r == '\u061c', r == '\u200e', r == '\u200f':
		return true
	case r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069':
		return true
	}
	return false
}
