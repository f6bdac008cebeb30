package web

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"net/http"
	"time"
)

// ConnectScriptPath is where the drop-in script for a product's pages is
// served: LatchkeyConnect.open, which opens the hosted connect page.
const ConnectScriptPath = "/connect.js"

//go:embed connect.js
var connectScript []byte

// connectScriptTag is the script's ETag: its content's hash, so that a new
// release is fetched as soon as the cache says to look again.
var connectScriptTag = func() string {
	sum := sha256.Sum256(connectScript)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`
}()

// connectJS serves the script to any page of any origin. It holds no
// secret; an hour's caching, then a revalidation by ETag, lets an upgrade
// reach every product within the hour. CORS lets a host page check it
// with Subresource Integrity (crossorigin="anonymous"), and CORP lets a
// cross-origin-isolated page load it.
func connectJS(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("Cache-Control", "public, max-age=3600")
	h.Set("ETag", connectScriptTag)
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	http.ServeContent(w, r, "connect.js", time.Time{}, bytes.NewReader(connectScript))
}
