package connecting

import (
	"errors"
	"testing"

	"github.com/latchkeyhq/latchkey/internal/catalog"
)

// TestOpenReturned reads held callbacks: the code with the query kept, and
// the bare code a connection held before callbacks kept more.
func TestOpenReturned(t *testing.T) {
	tests := []struct {
		held string
		want returned
	}{
		{`{"code":"abc","query":{"realmId":"42"}}`, returned{Code: "abc", Query: map[string]string{"realmId": "42"}}},
		{`abc`, returned{Code: "abc"}},
		{`{not json`, returned{Code: "{not json"}},
	}
	for _, tt := range tests {
		got := openReturned([]byte(tt.held))
		if got.Code != tt.want.Code || got.Query["realmId"] != tt.want.Query["realmId"] {
			t.Errorf("openReturned(%s) = %+v, want %+v", tt.held, got, tt.want)
		}
	}
}

// TestCallbackFields keeps the app's declared callback parameters, and
// refuses a missing one or one that could redirect a URL.
func TestCallbackFields(t *testing.T) {
	app := &catalog.App{OAuth2: &catalog.OAuth2{Quirks: catalog.Quirks{CallbackFields: map[string]string{"realm_id": "realmId"}}}}
	tests := []struct {
		name    string
		query   map[string]string
		want    string
		invalid bool
		missing bool
	}{
		{name: "kept", query: map[string]string{"realmId": "9130350", "other": "x"}, want: "9130350"},
		{name: "missing", query: map[string]string{"other": "x"}, missing: true},
		{name: "empty", query: map[string]string{"realmId": ""}, missing: true},
		{name: "a host", query: map[string]string{"realmId": "evil.example/x"}, invalid: true},
		{name: "userinfo", query: map[string]string{"realmId": "a@evil.example"}, invalid: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kept, err := callbackFields(app, tt.query)
			var mf *MissingFieldError
			switch {
			case tt.missing || tt.invalid:
				if !errors.As(err, &mf) || mf.Invalid != tt.invalid || mf.Param != "realmId" || kept != nil {
					t.Fatalf("kept %v, err %v", kept, err)
				}
			case err != nil || kept["realm_id"] != tt.want || len(kept) != 1:
				t.Fatalf("kept %v, err %v", kept, err)
			}
		})
	}
	if kept, err := callbackFields(&catalog.App{OAuth2: &catalog.OAuth2{}}, map[string]string{"realmId": "1"}); kept != nil || err != nil {
		t.Fatalf("an app without callback fields kept %v, %v", kept, err)
	}
}
