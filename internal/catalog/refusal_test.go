package catalog_test

import (
	"testing"

	"github.com/latchkeyhq/latchkey/internal/catalog"
)

// TestRefusalRules shows the refusal block's lint: a good block loads, and
// each mistake is refused with the field it is about.
func TestRefusalRules(t *testing.T) {
	tests := []struct {
		name, block, wantErr string
	}{
		{"slack's", "  field: /ok\n  equals: false\n  code: /error\n  auth_codes: [invalid_auth, not_authed]\n", ""},
		{"graphql's errors", "  field: /errors\n  present: true\n", ""},
		{"a string value", "  field: /status\n  equals: error\n", ""},
		{"a number value", "  field: /code\n  equals: 401\n", ""},
		{"an escaped pointer", "  field: /a~1b/~0c\n  equals: false\n", ""},
		{"no field", "  equals: false\n", "refusal.field: is required"},
		{"a dot path, not a pointer", "  field: ok\n  equals: false\n", "refusal.field: \"ok\" must be a JSON Pointer"},
		{"a bad escape", "  field: /a~2b\n  equals: false\n", "refusal.field: \"/a~2b\": a ~"},
		{"a trailing ~", "  field: /a~\n  equals: false\n", "refusal.field"},
		{"neither equals nor present", "  field: /ok\n", "refusal.equals: give equals"},
		{"both", "  field: /ok\n  equals: false\n  present: true\n", "refusal.present: give equals or present, not both"},
		{"a list to equal", "  field: /ok\n  equals: [1]\n", "refusal.equals: must be a boolean"},
		{"code without auth codes", "  field: /ok\n  equals: false\n  code: /error\n", "refusal.auth_codes: list the codes"},
		{"auth codes without code", "  field: /ok\n  equals: false\n  auth_codes: [invalid_auth]\n", "refusal.auth_codes: go with code"},
		{"a bad code pointer", "  field: /ok\n  equals: false\n  code: error\n  auth_codes: [invalid_auth]\n", "refusal.code"},
		{"an empty code", "  field: /ok\n  equals: false\n  code: /error\n  auth_codes: [invalid_auth, '']\n", "refusal.auth_codes[1]: is empty"},
		{"a code twice", "  field: /ok\n  equals: false\n  code: /error\n  auth_codes: [a, a]\n", "refusal.auth_codes[1]: \"a\" is listed twice"},
		{"an unknown key", "  field: /ok\n  equals: false\n  codes: /error\n", "codes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkParse(t, goodKeys+"refusal:\n"+tt.block, tt.wantErr) })
	}
}

// TestRefusalJudge shows what the rule calls a refusal, and a refusal of
// the credentials, in decoded answers.
func TestRefusalJudge(t *testing.T) {
	slack := &catalog.Refusal{Field: "/ok", Equals: false, Code: "/error", AuthCodes: []string{"invalid_auth", "token_revoked"}}
	graphql := &catalog.Refusal{Field: "/errors", Present: true}
	coded := &catalog.Refusal{Field: "/errors", Present: true, Code: "/errors/0/extensions/code", AuthCodes: []string{"access-denied"}}
	numbered := &catalog.Refusal{Field: "/status", Equals: 401}
	tests := []struct {
		name    string
		rule    *catalog.Refusal
		doc     any
		refused bool
		auth    bool
		code    string
	}{
		{"ok true", slack, map[string]any{"ok": true}, false, false, ""},
		{"no ok at all", slack, map[string]any{"channel": "C1"}, false, false, ""},
		{"ok is a string", slack, map[string]any{"ok": "false"}, false, false, ""},
		{"ok false, invalid_auth", slack, map[string]any{"ok": false, "error": "invalid_auth"}, true, true, "invalid_auth"},
		{"ok false, token_revoked", slack, map[string]any{"ok": false, "error": "token_revoked"}, true, true, "token_revoked"},
		{"ok false, missing_scope", slack, map[string]any{"ok": false, "error": "missing_scope"}, true, false, "missing_scope"},
		{"ok false, no code", slack, map[string]any{"ok": false}, true, false, ""},
		{"a JSON array", slack, []any{map[string]any{"ok": false}}, false, false, ""},
		{"graphql data", graphql, map[string]any{"data": map[string]any{"me": nil}}, false, false, ""},
		{"graphql errors", graphql, map[string]any{"errors": []any{map[string]any{"message": "Not Authorized"}}}, true, true, ""},
		{"graphql errors empty", graphql, map[string]any{"errors": []any{}}, false, false, ""},
		{"graphql errors null", graphql, map[string]any{"errors": nil}, false, false, ""},
		{"coded access-denied", coded, map[string]any{"errors": []any{map[string]any{"extensions": map[string]any{"code": "access-denied"}}}}, true, true, "access-denied"},
		{"coded validation-failed", coded, map[string]any{"errors": []any{map[string]any{"extensions": map[string]any{"code": "validation-failed"}}}}, true, false, "validation-failed"},
		{"a number equals", numbered, map[string]any{"status": float64(401)}, true, true, ""},
		{"another number", numbered, map[string]any{"status": float64(200)}, false, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, refused := tt.rule.Judge(tt.doc)
			if refused != tt.refused || got.Auth != tt.auth || got.Code != tt.code {
				t.Fatalf("Judge = %+v, %v; want refused %v, auth %v, code %q", got, refused, tt.refused, tt.auth, tt.code)
			}
		})
	}
}
