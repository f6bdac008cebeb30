package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/latchkeyhq/latchkey/internal/catalog"
)

func app(slug, name string) *fstest.MapFile {
	return &fstest.MapFile{Data: fmt.Appendf(nil, `slug: %s
name: %s
categories: [email]
docs_url: https://example.com/docs
auth: keys
base_url: https://api.example.com
fields:
  - {name: api_key, label: API key, secret: true}
request_auth: {header: Authorization, value: "Bearer {api_key}"}
test: {url: /me}
`, slug, name)}
}

// fakePackage writes a simple-icons package of the given icons.
func fakePackage(t *testing.T, icons ...icon) string {
	t.Helper()
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("package.json", `{"name":"simple-icons","version":"1.2.3"}`)
	write("LICENSE.md", "CC0")
	write("DISCLAIMER.md", "trademarks")
	data, _ := json.Marshal(icons)
	write("data/simple-icons.json", string(data))
	for _, ic := range icons {
		write("icons/"+ic.Slug+".svg", `<svg role="img" viewBox="0 0 24 24" xmlns="http://www.w3.org/2000/svg"><title>`+ic.Title+`</title><path d="M0 0h24v24H0z"/></svg>`)
	}
	return dir
}

func TestRun(t *testing.T) {
	cat, err := catalog.Load(fstest.MapFS{
		"acme.yaml":       app("acme", "Acme"),
		"acme_pat.yaml":   app("acme_pat", "ACME (personal access token)"),
		"mon_day.yaml":    app("mon_day", "Mon.day"),
		"kit_mail.yaml":   app("kit_mail", "Kit"),
		"globex.yaml":     app("globex", "Globex Cloud"),
		"initech.yaml":    app("initech", "Initech"),
		"acme_crm.yaml":   app("acme_crm", "Acme CRM"),
		"unrelated.yaml":  app("unrelated", "Unrelated"),
		"wonka_api.yaml":  app("wonka_api", "Wonka API"),
		"wonka_shop.yaml": app("wonka_shop", "Wonka Shop"),
	})
	if err != nil {
		t.Fatal(err)
	}
	pkg := fakePackage(t,
		icon{Title: "Acme", Slug: "acme", Hex: "ff0000"},
		icon{Title: "mon-day", Slug: "mondash", Hex: "0000FF"},
		icon{Title: "Kit", Slug: "kit", Hex: "000000"},
		icon{Title: "Globex", Slug: "globex", Hex: "123456"},
	)
	out := t.TempDir()
	if err := os.MkdirAll(filepath.Join(out, "svg"), 0o755); err != nil {
		t.Fatal(err)
	}
	// A logo left from an earlier run, of an app that no longer matches.
	if err := os.WriteFile(filepath.Join(out, "svg", "initech.svg"), []byte("<svg/>"), 0o644); err != nil {
		t.Fatal(err)
	}
	names := "same:\n  globex: globex\nnot:\n  kit_mail: another Kit\n"
	if err := os.WriteFile(filepath.Join(out, "names.yaml"), []byte(names), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run(cat, pkg, out); err != nil {
		t.Fatal(err)
	}
	var idx index
	b, err := os.ReadFile(filepath.Join(out, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &idx); err != nil {
		t.Fatal(err)
	}
	if idx.Version != "1.2.3" {
		t.Errorf("version %q, want 1.2.3", idx.Version)
	}
	want := map[string]string{"acme": "acme", "acme_pat": "acme", "mon_day": "mondash", "globex": "globex"}
	got := map[string]string{}
	for app, p := range idx.Icons {
		got[app] = p.Icon
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("pairs %v, want %v", got, want)
	}
	svg, err := os.ReadFile(filepath.Join(out, "svg", "acme.svg"))
	if err != nil || !strings.HasPrefix(string(svg), `<svg fill="#FF0000" role="img"`) {
		t.Errorf("acme.svg is not drawn in its brand colour: %v %.60s", err, svg)
	}
	if _, err := os.Stat(filepath.Join(out, "svg", "initech.svg")); !os.IsNotExist(err) {
		t.Errorf("the stale initech.svg is still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(out, "simple-icons-LICENSE.md")); err != nil {
		t.Errorf("the licence was not copied: %v", err)
	}

	// The same inputs give the same bytes.
	if err := run(cat, pkg, out); err != nil {
		t.Fatal(err)
	}
	again, _ := os.ReadFile(filepath.Join(out, "index.json"))
	if string(again) != string(b) {
		t.Error("a second run wrote a different index.json")
	}
}

func TestRunRefuses(t *testing.T) {
	cat, err := catalog.Load(fstest.MapFS{"acme.yaml": app("acme", "Acme")})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, names string
		icons       []icon
		want        string
	}{
		{"two icons share the title", "same: {}\n", []icon{{Title: "Acme", Slug: "acme", Hex: "FF0000"}, {Title: "ACME", Slug: "acme2", Hex: "FF0000"}}, "2 icons are titled"},
		{"a pair names no icon", "same: {acme: nosuch}\n", []icon{{Title: "Acme", Slug: "acme", Hex: "FF0000"}}, `no icon "nosuch"`},
		{"a pair names no app", "same: {gone: acme}\n", []icon{{Title: "Acme", Slug: "acme", Hex: "FF0000"}}, `no app "gone"`},
		{"a refusal names no app", "not: {gone: why}\n", []icon{{Title: "Acme", Slug: "acme", Hex: "FF0000"}}, `no app "gone"`},
		{"a colour is not hex", "", []icon{{Title: "Acme", Slug: "acme", Hex: "red"}}, "not six hex digits"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			if err := os.WriteFile(filepath.Join(out, "names.yaml"), []byte(tc.names), 0o644); err != nil {
				t.Fatal(err)
			}
			err := run(cat, fakePackage(t, tc.icons...), out)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("run: %v, want an error saying %q", err, tc.want)
			}
			if _, err := os.Stat(filepath.Join(out, "index.json")); !os.IsNotExist(err) {
				t.Errorf("a refused run wrote index.json: %v", err)
			}
		})
	}
}
