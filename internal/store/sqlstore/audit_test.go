package sqlstore

import (
	"encoding/json"
	"testing"
)

// detailJSON writes what encoding/json writes, byte for byte, whatever
// the detail holds.
func TestDetailJSON(t *testing.T) {
	tests := []struct {
		name string
		m    map[string]string
	}{
		{"nil", nil},
		{"empty", map[string]string{}},
		{"actor's facts", map[string]string{"token_id": "tok_01kbd3n1wdm6h3g4qa0w4v2x9q", "token_name": "admin", "addr": "127.0.0.1:5000", "surface": "api"}},
		{"empty value", map[string]string{"a": "", "": "b"}},
		{"quote", map[string]string{"nickname": `say "hi"`}},
		{"backslash", map[string]string{`k\`: "v"}},
		{"control", map[string]string{"error": "line\nbreak\x00"}},
		{"html", map[string]string{"name": "<b>&</b>"}},
		{"unicode", map[string]string{"name": "Zoë ✓"}},
		{"invalid utf-8", map[string]string{"name": "\xff\xfe"}},
		{"delete", map[string]string{"x": "\x7f"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want, err := json.Marshal(tc.m)
			if err != nil {
				t.Fatal(err)
			}
			got, err := detailJSON(tc.m)
			if err != nil || got != string(want) {
				t.Errorf("detailJSON(%q) = %s, %v; want %s", tc.m, got, err, want)
			}
		})
	}
}
