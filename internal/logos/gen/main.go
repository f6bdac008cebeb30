// Command gen vendors simple-icons logos for the catalog's apps. Given the
// unpacked simple-icons npm package, it pairs each shipped app with the
// icon whose title is the app's name (or the icon names.yaml names for
// it), writes that icon in its brand colour to svg/<app slug>.svg, and
// records the pairs in index.json. Its output depends only on its inputs,
// so a re-run after new apps land changes only what they add.
//
//	npm pack simple-icons && tar xzf simple-icons-*.tgz
//	SIMPLE_ICONS=$PWD/package go generate ./internal/logos
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/latchkeyhq/latchkey/internal/catalog"
)

func main() {
	icons := flag.String("icons", "", "the unpacked simple-icons npm package (the folder holding package.json)")
	out := flag.String("out", ".", "the logos package folder")
	flag.Parse()
	if *icons == "" {
		fmt.Fprintln(os.Stderr, "gen: -icons is required")
		os.Exit(2)
	}
	cat, err := catalog.Load(catalog.Embedded())
	if err == nil {
		err = run(cat, *icons, *out)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

// icon is one entry of simple-icons' data file.
type icon struct {
	Title string `json:"title"`
	Slug  string `json:"slug"`
	Hex   string `json:"hex"`
}

// index is index.json, which package logos reads.
type index struct {
	Version string          `json:"simple_icons_version"`
	Icons   map[string]pair `json:"icons"`
}

// pair is the icon of one app: simple-icons' slug, the title that matched
// the app's name, and the brand colour.
type pair struct {
	Icon  string `json:"icon"`
	Title string `json:"title"`
	Hex   string `json:"hex"`
}

// names are the decisions a title match cannot make.
type names struct {
	// Same pairs an app with an icon whose title differs from the app's
	// name but is the same brand (app slug: icon slug).
	Same map[string]string `yaml:"same"`
	// Not lists apps whose name is an icon's title but another brand's
	// (app slug: why).
	Not map[string]string `yaml:"not"`
}

func run(cat *catalog.Catalog, pkg, out string) error {
	version, all, err := readPackage(pkg)
	if err != nil {
		return err
	}
	var n names
	if b, err := os.ReadFile(filepath.Join(out, "names.yaml")); err != nil {
		return err
	} else if err := yaml.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("names.yaml: %w", err)
	}
	bySlug := map[string]icon{}
	byTitle := map[string][]icon{}
	for _, ic := range all {
		bySlug[ic.Slug] = ic
		byTitle[fold(ic.Title)] = append(byTitle[fold(ic.Title)], ic)
	}
	for app, slug := range n.Same {
		if _, ok := cat.Get(app); !ok {
			return fmt.Errorf("names.yaml: same: no app %q in the catalog", app)
		}
		if _, ok := bySlug[slug]; !ok {
			return fmt.Errorf("names.yaml: same: %s: simple-icons %s has no icon %q", app, version, slug)
		}
	}
	for app := range n.Not {
		if _, ok := cat.Get(app); !ok {
			return fmt.Errorf("names.yaml: not: no app %q in the catalog", app)
		}
	}

	idx := index{Version: version, Icons: map[string]pair{}}
	for _, app := range cat.All() {
		if _, skip := n.Not[app.Slug]; skip {
			continue
		}
		var ic icon
		if slug, ok := n.Same[app.Slug]; ok {
			ic = bySlug[slug]
		} else {
			found := byTitle[fold(brand(app.Name))]
			if len(found) == 0 {
				continue
			}
			if len(found) > 1 {
				return fmt.Errorf("%s: %d icons are titled %q; name one in names.yaml", app.Slug, len(found), app.Name)
			}
			ic = found[0]
		}
		if !hexRE.MatchString(ic.Hex) {
			return fmt.Errorf("%s: brand colour %q is not six hex digits", ic.Slug, ic.Hex)
		}
		idx.Icons[app.Slug] = pair{Icon: ic.Slug, Title: ic.Title, Hex: ic.Hex}
	}

	dir := filepath.Join(out, "svg")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// Icons of apps that no longer match are removed.
	old, err := filepath.Glob(filepath.Join(dir, "*.svg"))
	if err != nil {
		return err
	}
	for _, f := range old {
		if _, keep := idx.Icons[strings.TrimSuffix(filepath.Base(f), ".svg")]; !keep {
			if err := os.Remove(f); err != nil {
				return err
			}
		}
	}
	for _, app := range sortedKeys(idx.Icons) {
		ic := idx.Icons[app]
		b, err := os.ReadFile(filepath.Join(pkg, "icons", ic.Icon+".svg"))
		if err != nil {
			return err
		}
		b, err = colour(b, strings.ToUpper(ic.Hex))
		if err != nil {
			return fmt.Errorf("%s: %w", ic.Icon, err)
		}
		if err := os.WriteFile(filepath.Join(dir, app+".svg"), b, 0o644); err != nil {
			return err
		}
	}
	b, err := json.MarshalIndent(idx, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "index.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	for _, f := range []string{"LICENSE.md", "DISCLAIMER.md"} {
		b, err := os.ReadFile(filepath.Join(pkg, f))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(out, "simple-icons-"+f), b, 0o644); err != nil {
			return err
		}
	}
	fmt.Printf("simple-icons %s: %d of %d apps have a logo\n", version, len(idx.Icons), cat.Len())
	return nil
}

func readPackage(pkg string) (string, []icon, error) {
	var meta struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	}
	b, err := os.ReadFile(filepath.Join(pkg, "package.json"))
	if err != nil {
		return "", nil, err
	}
	if err := json.Unmarshal(b, &meta); err != nil {
		return "", nil, fmt.Errorf("package.json: %w", err)
	}
	if meta.Name != "simple-icons" || meta.Version == "" {
		return "", nil, fmt.Errorf("%s is not the simple-icons package", pkg)
	}
	b, err = os.ReadFile(filepath.Join(pkg, "data", "simple-icons.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil, fmt.Errorf("%s has no data/simple-icons.json", pkg)
	} else if err != nil {
		return "", nil, err
	}
	var all []icon
	if err := json.Unmarshal(b, &all); err != nil {
		return "", nil, fmt.Errorf("simple-icons.json: %w", err)
	}
	return meta.Version, all, nil
}

var nonAlnum = regexp.MustCompile(`[^a-z0-9]+`)

// fold is a title as it is compared: case, spaces and punctuation aside,
// so "monday.com" is "Monday.com" but "Zoho" is not "Zoho CRM".
func fold(s string) string { return nonAlnum.ReplaceAllString(strings.ToLower(s), "") }

var qualifier = regexp.MustCompile(`\s*\([^()]*\)$`)

// brand is an app's name without a closing qualifier: "Airtable (OAuth)"
// and "GitHub (personal access token)" are the brands Airtable and GitHub.
func brand(name string) string { return qualifier.ReplaceAllString(name, "") }

var hexRE = regexp.MustCompile(`^[0-9A-Fa-f]{6}$`)

// colour gives the icon its brand colour (six hex digits): simple-icons paths have no fill,
// which draws them black.
func colour(svg []byte, hex string) ([]byte, error) {
	const open = "<svg "
	if !bytes.HasPrefix(svg, []byte(open)) || bytes.Contains(svg, []byte("fill=")) || bytes.Contains(svg, []byte("<script")) {
		return nil, errors.New("not a plain simple-icons SVG")
	}
	return slices.Concat([]byte(open+`fill="#`+hex+`" `), svg[len(open):]), nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
