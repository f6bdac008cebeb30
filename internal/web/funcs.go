package web

import (
	"bytes"
	"encoding/json"
	"hash/fnv"
	"html/template"
	"io/fs"
	"strings"
	"time"
	"unicode"

	"github.com/latchkeyhq/latchkey/internal/logos"
)

var funcs = template.FuncMap{
	"monogram": monogram,
	// logo is an app's logo, or nil for its lettered badge.
	"logo": func(slug string) *logos.Logo {
		if l, ok := logos.For(slug); ok {
			return &l
		}
		return nil
	},
	"hue":      hue,
	"date":     func(t time.Time) string { return t.UTC().Format("2 Jan 2006") },
	"datetime": func(t time.Time) string { return t.UTC().Format("2 Jan 2006 15:04 UTC") },
	"when": func(t *time.Time) string {
		if t == nil {
			return "—"
		}
		return t.UTC().Format("2 Jan 2006 15:04 UTC")
	},
	"join":  strings.Join,
	"minus": func(a, b int) int { return a - b },
	// short keeps a table cell to a line or two; the title has it all.
	"short": func(s string) string {
		if r := []rune(s); len(r) > 90 {
			return string(r[:90]) + "…"
		}
		return s
	},
	"pretty": func(b []byte) string {
		var out bytes.Buffer
		if json.Indent(&out, b, "", "  ") != nil {
			return string(b)
		}
		return out.String()
	},
	"appref": func(slug, name string) appRef { return appRef{Slug: slug, Name: name} },
}

// appRef names an app for its monogram.
type appRef struct{ Slug, Name string }

// parsePages parses each page with the shared layout, once.
func parsePages() map[string]*template.Template {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	out := map[string]*template.Template{}
	for _, n := range names {
		base := strings.TrimPrefix(n, "templates/")
		if base == "layout.html" || base == "partials.html" {
			continue
		}
		out[base] = template.Must(template.New(base).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html", n))
	}
	return out
}

// monogram is the one or two letters that stand for an app without a
// logo.
func monogram(name string) string {
	var letters []rune
	for _, w := range strings.FieldsFunc(name, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		letters = append(letters, unicode.ToUpper([]rune(w)[0]))
		if len(letters) == 2 {
			break
		}
	}
	if len(letters) == 0 {
		return "?"
	}
	return string(letters)
}

// hue picks one of twelve colour classes for an app, the same every time.
func hue(slug string) string {
	f := fnv.New32a()
	f.Write([]byte(slug))
	return "h" + string(rune('a'+f.Sum32()%12))
}
