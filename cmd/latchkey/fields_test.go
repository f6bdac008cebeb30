package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFieldValues: --field-file reads a key file whole, line breaks and
// all, and bad flags say how to write them.
func TestFieldValues(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "key.pem")
	const pemText = "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n"
	if err := os.WriteFile(key, []byte(pemText), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := fieldValues([]string{"integration_key=ik-1"}, []string{"private_key=" + key})
	if err != nil || got["private_key"] != pemText || got["integration_key"] != "ik-1" {
		t.Fatalf("fieldValues = %v, %v", got, err)
	}
	for _, tt := range []struct {
		fields, files []string
		want          string
	}{
		{[]string{"novalue"}, nil, "write it as NAME=VALUE"},
		{nil, []string{"private_key"}, "write it as NAME=PATH"},
		{nil, []string{"private_key=" + filepath.Join(dir, "missing.pem")}, "no such file"},
		{[]string{"private_key=x"}, []string{"private_key=" + key}, "given twice"},
	} {
		if _, err := fieldValues(tt.fields, tt.files); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("fieldValues(%v, %v) = %v, want %q", tt.fields, tt.files, err, tt.want)
		}
	}
}
