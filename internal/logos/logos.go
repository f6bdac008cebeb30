// Package logos holds the apps' logos: brand icons from simple-icons (CC0),
// vendored for the catalog's apps only, in each brand's colour, and served
// from the binary at a stable, cacheable URL. An app without one is drawn
// as a lettered badge by the pages.
//
// gen (go generate, with SIMPLE_ICONS naming the unpacked npm package)
// pairs apps with icons by title and rewrites svg/ and index.json.
package logos

//go:generate go run ./gen -icons ${SIMPLE_ICONS}

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

//go:embed index.json svg/*.svg
var files embed.FS

// Index records which simple-icons icon each app shows.
type Index struct {
	// Version is the simple-icons release the icons come from.
	Version string `json:"simple_icons_version"`
	// Icons are by app slug.
	Icons map[string]Icon `json:"icons"`
}

// Icon is the simple-icons icon of one app.
type Icon struct {
	// Icon is simple-icons' slug; Title its brand name, which matched the
	// app's; Hex the brand colour the SVG is drawn in.
	Icon  string `json:"icon"`
	Title string `json:"title"`
	Hex   string `json:"hex"`
}

// Logo is an app's logo as a page or the API shows it.
type Logo struct {
	// URL is root-relative: the logo is served by whichever host serves
	// the page or the API that names it.
	URL string
	// Light is a brand colour too pale to see on white (Snapchat's
	// yellow); pages put such a logo on a dark tile.
	Light bool
}

// Prefix is the path the logos are served under.
const Prefix = "/logos/"

type entry struct {
	logo Logo
	svg  []byte
	etag string
}

var (
	version string
	byApp   = map[string]entry{}
)

func init() {
	b, err := files.ReadFile("index.json")
	if err != nil {
		panic(err)
	}
	var idx Index
	if err := json.Unmarshal(b, &idx); err != nil {
		panic(fmt.Sprintf("logos: index.json: %v", err))
	}
	version = idx.Version
	for app, ic := range idx.Icons {
		svg, err := files.ReadFile("svg/" + app + ".svg")
		if err != nil {
			panic(fmt.Sprintf("logos: %s is in index.json but has no SVG: %v", app, err))
		}
		sum := sha256.Sum256(svg)
		byApp[app] = entry{
			logo: Logo{URL: Prefix + app + ".svg", Light: light(ic.Hex)},
			svg:  svg,
			etag: `"` + hex.EncodeToString(sum[:12]) + `"`,
		}
	}
}

// Version is the simple-icons release the logos come from.
func Version() string { return version }

// For returns the app's logo, if it has one.
func For(slug string) (Logo, bool) {
	e, ok := byApp[slug]
	return e.logo, ok
}

// URL is the app's logo URL, or "" for an app without a logo.
func URL(slug string) string {
	e, ok := byApp[slug]
	if !ok {
		return ""
	}
	return e.logo.URL
}

// Len is how many apps have a logo.
func Len() int { return len(byApp) }

// light reports whether a colour's relative luminance (WCAG) is so high
// that it shows poorly on white: a contrast with white under about 1.6.
func light(hex string) bool {
	v, err := strconv.ParseUint(hex, 16, 32)
	if err != nil || len(hex) != 6 {
		return false
	}
	lin := func(c uint64) float64 {
		s := float64(c) / 255
		if s <= 0.04045 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	l := 0.2126*lin(v>>16&0xff) + 0.7152*lin(v>>8&0xff) + 0.0722*lin(v&0xff)
	return l > 0.6
}
