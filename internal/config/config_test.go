package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/latchkeyhq/latchkey/internal/config"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestPrecedence(t *testing.T) {
	file := filepath.Join(t.TempDir(), "latchkey.yaml")
	os.WriteFile(file, []byte("listen: 127.0.0.1:9001\ndata_dir: /from-file\nrefresh_margin: 2m\napp_origins:\n  slack: http://127.0.0.1:1\n"), 0o600)

	c, err := config.Load(file, env(map[string]string{"LATCHKEY_DATA_DIR": "/from-env"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Set("listen", "127.0.0.1:9002"); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	checks := map[string][2]string{
		"flag over file":     {c.Listen, "127.0.0.1:9002"},
		"env over file":      {c.DataDir, "/from-env"},
		"file over default":  {c.RefreshMargin.String(), (2 * time.Minute).String()},
		"default":            {c.ProviderTimeout.String(), "10s"},
		"derived public url": {c.PublicURL, "http://127.0.0.1:9002"},
		"derived key file":   {c.MasterKeyFile, "/from-env/master.key"},
		"origins from file":  {c.AppOrigins["slack"], "http://127.0.0.1:1"},
	}
	for name, got := range checks {
		if got[0] != got[1] {
			t.Errorf("%s: got %q, want %q", name, got[0], got[1])
		}
	}
}

func TestDefaultIsValid(t *testing.T) {
	c, err := config.Load("", env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	kind, loc, _ := c.Database()
	if kind != "sqlite" || loc != filepath.Join("latchkey-data", "latchkey.db") {
		t.Fatalf("default database = %s %s", kind, loc)
	}
	if c.Listen != "127.0.0.1:7355" {
		t.Fatalf("default listen = %s", c.Listen)
	}
}

// TestPublicURLTrailingSlash: a public URL given with a trailing slash
// is the same URL, so the redirect URIs and the MCP audience built from
// it match those built without one.
func TestPublicURLTrailingSlash(t *testing.T) {
	for in, want := range map[string]string{
		"https://lk.example.com/":       "https://lk.example.com",
		"https://lk.example.com//":      "https://lk.example.com",
		"https://example.com/latchkey/": "https://example.com/latchkey",
		"https://lk.example.com":        "https://lk.example.com",
		"http://127.0.0.1:7355/":        "http://127.0.0.1:7355",
	} {
		c, err := config.Load("", env(map[string]string{"LATCHKEY_PUBLIC_URL": in}))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if c.PublicURL != want {
			t.Errorf("public_url %q became %q, want %q", in, c.PublicURL, want)
		}
	}
}

func TestBadSettingsAreNamed(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		file    string
		wantErr string
	}{
		{"bad duration", map[string]string{"LATCHKEY_REFRESH_MARGIN": "soon"}, "", "LATCHKEY_REFRESH_MARGIN"},
		{"bad listen", map[string]string{"LATCHKEY_LISTEN": "nowhere"}, "", "LATCHKEY_LISTEN"},
		{"bad database", map[string]string{"LATCHKEY_DATABASE_URL": "mysql://root:hunter2@x/db"}, "", "LATCHKEY_DATABASE_URL"},
		{"no refresh workers", map[string]string{"LATCHKEY_REFRESH_CONCURRENCY": "0"}, "", "LATCHKEY_REFRESH_CONCURRENCY: must be from 1 to 256"},
		{"refresh workers not a number", map[string]string{"LATCHKEY_REFRESH_CONCURRENCY": "many"}, "", "LATCHKEY_REFRESH_CONCURRENCY"},
		{"bad log level", map[string]string{"LATCHKEY_LOG_LEVEL": "loud"}, "", "LATCHKEY_LOG_LEVEL"},
		{"bad origin", map[string]string{"LATCHKEY_APP_ORIGINS": "slack=ftp://x"}, "", "LATCHKEY_APP_ORIGINS"},
		{"pprof off loopback", map[string]string{"LATCHKEY_PPROF_LISTEN": "0.0.0.0:6060"}, "", "LATCHKEY_PPROF_LISTEN"},
		{"pprof on a public name", map[string]string{"LATCHKEY_PPROF_LISTEN": "example.com:6060"}, "", "LATCHKEY_PPROF_LISTEN"},
		{"pprof on the API's port", map[string]string{"LATCHKEY_PPROF_LISTEN": "127.0.0.1:7355"}, "", "LATCHKEY_PPROF_LISTEN"},
		{"pprof not host:port", map[string]string{"LATCHKEY_PPROF_LISTEN": "6060"}, "", "LATCHKEY_PPROF_LISTEN"},
		{"demo with postgres", map[string]string{"LATCHKEY_DEMO": "true", "LATCHKEY_DATABASE_URL": "postgres://app:hunter2@127.0.0.1/prod"}, "", "LATCHKEY_DEMO: the demo is for trying Latchkey on SQLite and is refused with a PostgreSQL database_url"},
		{"demo not a bool", map[string]string{"LATCHKEY_DEMO": "maybe"}, "", "LATCHKEY_DEMO"},
		{"unknown file key", nil, "colour: red\n", `unknown setting "colour"`},
		{"secret in file", nil, "master_key: abc\n", "master_key is a secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := ""
			if tt.file != "" {
				path = filepath.Join(t.TempDir(), "c.yaml")
				os.WriteFile(path, []byte(tt.file), 0o600)
			}
			c, err := config.Load(path, env(tt.env))
			if err == nil {
				err = c.Validate()
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want it to name %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("error leaks a password: %v", err)
			}
		})
	}
}

// TestREADMEDocumentsEverySetting keeps the README's table honest: each
// setting's file key and environment variable must appear in it.
func TestREADMEDocumentsEverySetting(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	for _, s := range config.Settings() {
		row := "| `" + s.Key + "` | `" + s.Env + "` |"
		if !strings.Contains(readme, row) {
			t.Errorf("README has no table row for %s (%s)", s.Key, s.Env)
		}
		if s.Flag != "" && !strings.Contains(readme, "`"+s.Flag+"`") {
			t.Errorf("README does not name the flag %s", s.Flag)
		}
	}
}

func TestOAuthClientsFromFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(file, []byte("oauth_clients:\n  slack:\n    client_id: cid\n    client_secret_env: SLACK_SECRET\n"), 0o600)
	c, err := config.Load(file, env(map[string]string{"SLACK_SECRET": "shh"}))
	if err != nil {
		t.Fatal(err)
	}
	if oc := c.OAuthClients["slack"]; oc.ClientID != "cid" || oc.Secret.Reveal() != "shh" {
		t.Fatalf("slack client: %+v", oc)
	}
	if _, err := config.Load(file, env(nil)); err == nil || !strings.Contains(err.Error(), "SLACK_SECRET is not set") {
		t.Fatalf("unset secret: %v", err)
	}
	os.WriteFile(file, []byte("oauth_clients:\n  slack:\n    client_id: cid\n    client_secret: inline\n"), 0o600)
	if _, err := config.Load(file, env(nil)); err == nil || !strings.Contains(err.Error(), "client_secret") {
		t.Fatalf("inline secret: %v", err)
	}
}
