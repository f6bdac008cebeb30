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

// Of returns a catalog of the given apps, to list and rank a chosen few;
// of two with one slug, the first is kept.
func Of(apps ...*App) *Catalog { return (&Catalog{}).With(apps...) }

// Get returns the app with the slug.
func (c *Catalog) Get(slug string) (*App, bool) {
	a, ok := c.bySlug[slug]
	return a, ok
}

// Len is the number of apps.
func (c *Catalog) Len() int { return len(c.sorted) }

// All returns every app, sorted by name.
func (c *Catalog) All() []*App { return slices.Clone(c.sorted) }

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
