package catalog

import (
	_ "embed"
	"slices"
	"strings"
	"unicode"
)

// popular.txt ranks the apps people reach for most, best first: a curated
// list, since a fresh install has no usage of its own to go by.
//
//go:embed popular.txt
var popularList string

// popular is each listed slug's place, from 1.
var popular = func() map[string]int {
	out := map[string]int{}
	for _, line := range strings.Split(popularList, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if _, dup := out[line]; !dup {
			out[line] = len(out) + 1
		}
	}
	return out
}()

// Popularity is the app's place in the curated ranking, from 1; zero for
// an app outside it.
func Popularity(slug string) int { return popular[slug] }

// PopularSlugs lists the ranked slugs, best first.
func PopularSlugs() []string {
	out := make([]string, len(popular))
	for s, i := range popular {
		out[i-1] = s
	}
	return out
}

// Order is how List sorts when there is no query.
type Order int

const (
	// ByName sorts by name: stable pages for the API and the CLI.
	ByName Order = iota
	// ByUse puts first the apps the caller has most accounts of (Used),
	// then the curated ranking, then the rest by name: the picker's order.
	ByUse
)

// Filter selects apps.
type Filter struct {
	// Query matches name, slug or category, case-insensitively. Results
	// come best match first: the name or slug itself, then names that
	// start with it, then names with a word that does, then the name or
	// slug holding it anywhere, then a category; within each, as ByUse.
	Query    string
	Auth     AuthType
	Category string
	Order    Order
	// Used counts the caller's accounts by app slug, for ByUse and for
	// ties among matches.
	Used map[string]int
	// After is the slug the previous page ended with.
	After string
	// Limit is the page size; zero means all.
	Limit int
}

// List returns one page of the apps that match, in the filter's order,
// and whether more follow.
func (c *Catalog) List(f Filter) (page []*App, more bool) {
	q := strings.ToLower(strings.TrimSpace(f.Query))
	type hit struct {
		app  *App
		tier int
	}
	var hits []hit
	for _, a := range c.sorted {
		if f.Auth != "" && a.Auth != f.Auth {
			continue
		}
		if f.Category != "" && !slices.Contains(a.Categories, f.Category) {
			continue
		}
		tier := 0
		if q != "" {
			if tier = a.match(q); tier == noMatch {
				continue
			}
		}
		hits = append(hits, hit{a, tier})
	}
	if q != "" || f.Order == ByUse {
		// Stable: c.sorted is by name, the last tie-break.
		slices.SortStableFunc(hits, func(x, y hit) int {
			if x.tier != y.tier {
				return x.tier - y.tier
			}
			if ux, uy := f.Used[x.app.Slug], f.Used[y.app.Slug]; ux != uy {
				return uy - ux
			}
			return rankOrder(Popularity(x.app.Slug)) - rankOrder(Popularity(y.app.Slug))
		})
	}
	start := 0
	if f.After != "" {
		start = len(hits)
		for i, h := range hits {
			if h.app.Slug == f.After {
				start = i + 1
				break
			}
		}
	}
	for _, h := range hits[start:] {
		if f.Limit > 0 && len(page) == f.Limit {
			return page, true
		}
		page = append(page, h.app)
	}
	return page, false
}

// rankOrder sorts unranked apps (0) after every ranked one.
func rankOrder(p int) int {
	if p == 0 {
		return 1 << 30
	}
	return p
}

// Match tiers, best first.
const (
	exactMatch = iota
	prefixMatch
	wordMatch
	substringMatch
	categoryMatch
	noMatch
)

// match says how well the app matches q (lower case).
func (a *App) match(q string) int {
	name := strings.ToLower(a.Name)
	switch {
	case name == q || a.Slug == q:
		return exactMatch
	case strings.HasPrefix(name, q) || strings.HasPrefix(a.Slug, q):
		return prefixMatch
	}
	for _, w := range strings.FieldsFunc(name, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if strings.HasPrefix(w, q) {
			return wordMatch
		}
	}
	if strings.Contains(name, q) || strings.Contains(a.Slug, q) {
		return substringMatch
	}
	for _, c := range a.Categories {
		if strings.Contains(c, q) {
			return categoryMatch
		}
	}
	return noMatch
}
