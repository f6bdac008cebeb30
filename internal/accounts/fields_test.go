package accounts_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/latchkeyhq/latchkey/internal/accounts"
	"github.com/latchkeyhq/latchkey/internal/catalog"
)

func TestCheckFields(t *testing.T) {
	app := &catalog.App{Name: "Acme", Fields: []catalog.Field{
		{Name: "region", Label: "Region", Pattern: `^(us|eu)$`, Default: "us"},
		{Name: "api_key", Label: "API key", Secret: true, Pattern: `^ak_[a-z0-9]+$`},
		{Name: "note", Label: "Note", Optional: true},
	}}
	tests := []struct {
		name      string
		in        map[string]string
		want      map[string]string
		wantField string
	}{
		{"defaults fill and optional skips", map[string]string{"api_key": " ak_1 "}, map[string]string{"region": "us", "api_key": "ak_1"}, ""},
		{"all given", map[string]string{"api_key": "ak_1", "region": "eu", "note": "x"}, map[string]string{"region": "eu", "api_key": "ak_1", "note": "x"}, ""},
		{"required missing", map[string]string{}, nil, "fields.api_key"},
		{"pattern", map[string]string{"api_key": "AK-SECRET-VALUE"}, nil, "fields.api_key"},
		{"pattern on default-able", map[string]string{"api_key": "ak_1", "region": "mars"}, nil, "fields.region"},
		{"unknown", map[string]string{"api_key": "ak_1", "password": "p"}, nil, "fields.password"},
		{"too long", map[string]string{"api_key": "ak_" + strings.Repeat("a", 9000)}, nil, "fields.api_key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := accounts.CheckFields(app, tt.in)
			if tt.wantField == "" {
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != len(tt.want) {
					t.Fatalf("got %v, want %v", got, tt.want)
				}
				for k, v := range tt.want {
					if got[k] != v {
						t.Fatalf("got %v, want %v", got, tt.want)
					}
				}
				return
			}
			var ve *accounts.ValidationError
			if !errors.As(err, &ve) || ve.Field != tt.wantField {
				t.Fatalf("err = %v, want a validation error on %s", err, tt.wantField)
			}
			if strings.Contains(err.Error(), "AK-SECRET-VALUE") {
				t.Fatal("the error repeats the value")
			}
		})
	}
}
