package catalog_test

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/latchkeyhq/latchkey/internal/catalog"
)

func rankFixture(t *testing.T) *catalog.Catalog {
	t.Helper()
	fsys := fstest.MapFS{}
	for _, a := range []struct{ slug, name, category string }{
		{"sendgrid", "SendGrid", "email"}, // ranked in popular.txt
		{"gmail", "Gmail", "email"},       // ranked, above SendGrid
		{"send_owl", "SendOwl", "e-commerce"},
		{"mailersend", "MailerSend", "email"},
		{"quick_send", "Quick Send", "sms"},
		{"acme", "Acme", "crm"},
	} {
		yaml := strings.NewReplacer("slug: acme", "slug: "+a.slug, "name: Acme", "name: "+a.name, "[email]", "["+a.category+"]").Replace(goodKeys)
		fsys[a.slug+".yaml"] = &fstest.MapFile{Data: []byte(yaml)}
	}
	c, err := catalog.Load(fsys)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestListRanking(t *testing.T) {
	c := rankFixture(t)
	for _, tc := range []struct {
		name string
		f    catalog.Filter
		want string
	}{
		{"prefix matches above a word's, a word's above a substring", catalog.Filter{Query: "send"},
			"sendgrid send_owl quick_send mailersend"},
		{"case and spaces aside", catalog.Filter{Query: " SEND "},
			"sendgrid send_owl quick_send mailersend"},
		{"the name itself first", catalog.Filter{Query: "sendgrid"}, "sendgrid"},
		{"a slug's prefix counts as the name's", catalog.Filter{Query: "quick_"}, "quick_send"},
		{"category matches last, by popularity then name", catalog.Filter{Query: "email"},
			"gmail sendgrid mailersend"},
		{"a used app first among equal matches only", catalog.Filter{Query: "send", Used: map[string]int{"mailersend": 3, "send_owl": 1}},
			"send_owl sendgrid quick_send mailersend"},
		{"no query: by name", catalog.Filter{}, "acme gmail mailersend quick_send sendgrid send_owl"},
		{"no query, by use: used, then ranked, then by name", catalog.Filter{Order: catalog.ByUse, Used: map[string]int{"mailersend": 2, "acme": 1}},
			"mailersend acme gmail sendgrid quick_send send_owl"},
		{"a category filter with the order", catalog.Filter{Order: catalog.ByUse, Category: "email"}, "gmail sendgrid mailersend"},
		{"a page of a ranked search", catalog.Filter{Query: "send", Limit: 2}, "sendgrid send_owl +more"},
		{"the next page", catalog.Filter{Query: "send", Limit: 2, After: "send_owl"}, "quick_send mailersend"},
		{"after a slug the results lack", catalog.Filter{Query: "send", After: "gmail"}, ""},
		{"no match", catalog.Filter{Query: "zzz"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			page, more := c.List(tc.f)
			var got []string
			for _, a := range page {
				got = append(got, a.Slug)
			}
			if more {
				got = append(got, "+more")
			}
			if s := strings.Join(got, " "); s != tc.want {
				t.Errorf("got %q, want %q", s, tc.want)
			}
		})
	}
}

// TestOf ranks a chosen few as the whole catalog would.
func TestOf(t *testing.T) {
	c := rankFixture(t)
	var some []*catalog.App
	for _, slug := range []string{"mailersend", "send_owl", "sendgrid", "sendgrid"} {
		a, _ := c.Get(slug)
		some = append(some, a)
	}
	few := catalog.Of(some...)
	if few.Len() != 3 {
		t.Fatalf("%d apps, want 3", few.Len())
	}
	if got, _ := few.List(catalog.Filter{Query: "send"}); slugs(got) != "[sendgrid send_owl mailersend]" {
		t.Errorf("send: %s", slugs(got))
	}
	if got, _ := catalog.Of().List(catalog.Filter{Order: catalog.ByUse}); len(got) != 0 {
		t.Errorf("an empty catalog lists %s", slugs(got))
	}
}

// TestSendGridFirst is the shipped catalog as the issue found it: "send"
// listed SendGrid last.
func TestSendGridFirst(t *testing.T) {
	c, err := catalog.Load(catalog.Embedded())
	if err != nil {
		t.Fatal(err)
	}
	found, _ := c.List(catalog.Filter{Query: "send"})
	if len(found) < 3 || found[0].Slug != "sendgrid" {
		t.Fatalf("send: %v", slugs(found))
	}
	// Every name that starts with "send" comes before every one that
	// only holds it.
	seenOther := false
	for _, a := range found {
		prefix := strings.HasPrefix(strings.ToLower(a.Name), "send")
		if prefix && seenOther {
			t.Errorf("send: %s comes after a substring match: %v", a.Slug, slugs(found))
		}
		seenOther = seenOther || !prefix
	}
}

// TestPopular: every ranked slug is a shipped app, once.
func TestPopular(t *testing.T) {
	c, err := catalog.Load(catalog.Embedded())
	if err != nil {
		t.Fatal(err)
	}
	ranked := catalog.PopularSlugs()
	if len(ranked) < 50 {
		t.Fatalf("%d ranked apps", len(ranked))
	}
	for i, slug := range ranked {
		if _, ok := c.Get(slug); !ok {
			t.Errorf("popular.txt: %s is not a shipped app", slug)
		}
		if catalog.Popularity(slug) != i+1 {
			t.Errorf("%s: popularity %d, want %d", slug, catalog.Popularity(slug), i+1)
		}
	}
	if catalog.Popularity("nosuch") != 0 {
		t.Error("an unranked app has a rank")
	}
}

func slugs(apps []*catalog.App) string {
	var out []string
	for _, a := range apps {
		out = append(out, a.Slug)
	}
	return fmt.Sprint(out)
}
