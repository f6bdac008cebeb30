package catalog

import (
	"slices"
	"strings"
)

// Catalog is a loaded, validated set of apps. It is read-only and safe for
// concurrent use.
type Catalog struct {
	bySlug map[string]*App
	sorted []*App // by lower-case name, then slug
}

func newCatalog(apps map[string]*App) *Catalog {
	c := &Catalog{bySlug: apps}
	for _, a := range apps {
		c.sorted = append(c.sorted, a)
	}
	slices.SortFunc(c.sorted, func(x, y *App) int {
		if n := strings.Compare(strings.ToLower(x.Name), strings.ToLower(y.Name)); n != 0 {
			return n
		}
		return strings.Compare(x.Slug, y.Slug)
	})
	return c
}

// Get returns the app with the slug.
func (c *Catalog) Get(slug string) (*App, bool) {
	a, ok := c.bySlug[slug]
	return a, ok
}

// Len is the number of apps.
func (c *Catalog) Len() int { return len(c.sorted) }

// All returns every app, sorted by name.
func (c *Catalog) All() []*App { return slices.Clone(c.sorted) }

// Filter selects apps.
type Filter struct {
	// Query matches name, slug or category, case-insensitively.
	Query    string
	Auth     AuthType
	Category string
	// After is the slug the previous page ended with.
	After string
	// Limit is the page size; zero means all.
	Limit int
}

// List returns one page of the apps that match, sorted by name, and whether
// more follow.
func (c *Catalog) List(f Filter) (page []*App, more bool) {
	q := strings.ToLower(strings.TrimSpace(f.Query))
	started := f.After == ""
	for _, a := range c.sorted {
		if !started {
			started = a.Slug == f.After
			continue
		}
		if f.Auth != "" && a.Auth != f.Auth {
			continue
		}
		if f.Category != "" && !slices.Contains(a.Categories, f.Category) {
			continue
		}
		if q != "" && !a.matches(q) {
			continue
		}
		if f.Limit > 0 && len(page) == f.Limit {
			return page, true
		}
		page = append(page, a)
	}
	return page, false
}

func (a *App) matches(q string) bool {
	if strings.Contains(strings.ToLower(a.Name), q) || strings.Contains(a.Slug, q) {
		return true
	}
	for _, c := range a.Categories {
		if strings.Contains(c, q) {
			return true
		}
	}
	return false
}

// CategoryCount is a category and how many apps name it.
type CategoryCount struct {
	Category string `json:"category"`
	Apps     int    `json:"apps"`
}

// CategoryCounts lists the categories in use with their app counts, by name.
func (c *Catalog) CategoryCounts() []CategoryCount {
	counts := map[string]int{}
	for _, a := range c.sorted {
		for _, cat := range a.Categories {
			counts[cat]++
		}
	}
	var out []CategoryCount
	for _, cat := range Categories {
		if n := counts[cat]; n > 0 {
			out = append(out, CategoryCount{Category: cat, Apps: n})
		}
	}
	slices.SortFunc(out, func(x, y CategoryCount) int { return strings.Compare(x.Category, y.Category) })
	return out
}

// With returns a catalog of c's apps plus extra ones. An extra app whose
// slug c has already is left out: the caller decides who may shadow whom.
func (c *Catalog) With(extra ...*App) *Catalog {
	if len(extra) == 0 {
		return c
	}
	apps := make(map[string]*App, len(c.bySlug)+len(extra))
	for k, v := range c.bySlug {
		apps[k] = v
	}
	for _, a := range extra {
		if _, taken := apps[a.Slug]; !taken {
			apps[a.Slug] = a
		}
	}
	return newCatalog(apps)
}
