package secret

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

func TestMaskerEncodings(t *testing.T) {
	// The token has characters that URL escaping and base64url change.
	const token = "xoxb-CANARY/+=?&-0123456789"
	const key = "sk_live_CANARY_abcdefghijklmnop"
	b64 := func(enc *base64.Encoding, s string) string { return enc.EncodeToString([]byte(s)) }
	tests := []struct {
		name, out string
	}{
		{"raw", token},
		{"JSON-escaped", func() string { b, _ := json.Marshal(key + "<&>"); return string(b[1 : len(b)-1]) }()},
		{"base64", b64(base64.StdEncoding, token)},
		{"base64 unpadded", b64(base64.RawStdEncoding, token)},
		{"base64url", b64(base64.URLEncoding, token)},
		{"base64url unpadded", b64(base64.RawURLEncoding, token)},
		{"base64 of a key", b64(base64.StdEncoding, key)},
		{"hex", hex.EncodeToString([]byte(token))},
		{"hex upper case", strings.ToUpper(hex.EncodeToString([]byte(token)))},
		{"query-escaped", url.QueryEscape(token)},
		{"path-escaped", url.PathEscape(token)},
		{"base64 of basic auth credentials", b64(base64.StdEncoding, "user:"+key)},
		{"base64 of a bearer header", b64(base64.StdEncoding, "Bearer "+token)},
		{"base64url of a JSON document", b64(base64.RawURLEncoding, `{"k":"`+key+`"}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewMasker()
			m.Add(map[string]string{"oauth_access_token": token, "region": "eu", "api_key": key})
			texts := map[string]string{
				"logs":   m.Text("got " + tt.out + " from the app"),
				"json":   m.Text(`{"v":"` + tt.out + `"}`),
				"quoted": m.Text(`"` + tt.out + `"`),
			}
			for where, text := range texts {
				if strings.Contains(text, tt.out) {
					t.Errorf("%s keeps the %s form: %s", where, tt.name, text)
				}
				if !strings.Contains(text, "[redacted]") {
					t.Errorf("%s has no [redacted]: %s", where, text)
				}
			}
			if logs := texts["logs"]; !strings.HasPrefix(logs, "got ") || !strings.HasSuffix(logs, " from the app") {
				t.Errorf("the text around the secret changed: %q", logs)
			}
			if !json.Valid([]byte(texts["json"])) {
				t.Errorf("the result is no longer JSON: %s", texts["json"])
			}
		})
	}

	// Short values and unrelated text are left alone.
	m := NewMasker()
	m.Add(map[string]string{"region": "eu-west", "api_key": key})
	want := "region eu-west, " + hex.EncodeToString([]byte("eu-west")) + ", plain words"
	if got := m.Text(want); got != want {
		t.Errorf("masked what is no secret: %q, want %q", got, want)
	}
}
