package logos

import (
	"bytes"
	"net/http"
	"strings"
	"time"
)

// policy keeps an SVG opened on its own from running anything: it is an
// image, never a document with script.
const policy = "default-src 'none'; style-src 'unsafe-inline'; sandbox"

// maxAge lets browsers keep a logo a day; after that the ETag makes the
// check cheap.
const maxAge = "public, max-age=86400"

// Handler serves GET Prefix+"{slug}.svg". It needs a mux pattern with a
// {file} wildcard.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		slug, ok := strings.CutSuffix(r.PathValue("file"), ".svg")
		e, found := byApp[slug]
		if !ok || !found {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "image/svg+xml")
		h.Set("Content-Security-Policy", policy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", maxAge)
		h.Set("ETag", e.etag)
		// ServeContent answers If-None-Match with 304, and HEAD and ranges.
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(e.svg))
	})
}
