package api

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"slices"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"
)

// OpenAPIPath is where the API's OpenAPI document is served.
const OpenAPIPath = "/openapi.json"

// The document is kept by hand, one YAML file per group of resources, so
// that a change to a route and to its description sit side by side in a
// review; base.yaml is the frame, and each other file adds paths and
// components. The tests hold it to the routes the mux registers and to
// the answers the handlers give.
//
//go:embed openapi/*.yaml
var openapiFiles embed.FS

// componentKinds are the component maps a resource file may add to.
var componentKinds = []string{"schemas", "parameters", "requestBodies", "responses"}

// OpenAPIDocument is the OpenAPI 3.1 document of the /v1 API, as JSON.
var OpenAPIDocument = sync.OnceValues(buildOpenAPI)

func buildOpenAPI() ([]byte, error) {
	var doc map[string]any
	if err := readYAML("openapi/base.yaml", &doc); err != nil {
		return nil, err
	}
	components, _ := doc["components"].(map[string]any)
	paths := map[string]any{}
	doc["paths"] = paths
	names, err := fs.Glob(openapiFiles, "openapi/*.yaml")
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		if name == "openapi/base.yaml" {
			continue
		}
		var part map[string]any
		if err := readYAML(name, &part); err != nil {
			return nil, err
		}
		for key, v := range part {
			into := paths
			if key != "paths" {
				if !slices.Contains(componentKinds, key) {
					return nil, fmt.Errorf("openapi: %s: %q is neither paths nor one of the components %v", name, key, componentKinds)
				}
				if components[key] == nil {
					components[key] = map[string]any{}
				}
				into = components[key].(map[string]any)
			}
			entries, ok := v.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("openapi: %s: %s is not a map", name, key)
			}
			for k, e := range entries {
				if _, dup := into[k]; dup {
					return nil, fmt.Errorf("openapi: %s: %s %q is defined twice", name, key, k)
				}
				into[k] = e
			}
		}
	}
	return json.Marshal(doc)
}

// openapiETag names the document's bytes.
var openapiETag = sync.OnceValue(func() string {
	doc, _ := OpenAPIDocument()
	sum := sha256.Sum256(doc)
	return `"` + hex.EncodeToString(sum[:16]) + `"`
})

func readYAML(name string, into any) error {
	raw, err := openapiFiles.ReadFile(name)
	if err != nil {
		return err
	}
	if err := yaml.Unmarshal(raw, into); err != nil {
		return fmt.Errorf("openapi: %s: %w", name, err)
	}
	return nil
}

// OpenAPIHandler serves the document to anyone: it says nothing that the
// source does not. Browsers keep it a few minutes, then ask again with its
// ETag, which a new release changes.
func OpenAPIHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		doc, err := OpenAPIDocument()
		if err != nil {
			http.Error(w, "the OpenAPI document cannot be built", http.StatusInternalServerError)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "public, max-age=300")
		h.Set("ETag", openapiETag())
		h.Set("Access-Control-Allow-Origin", "*")
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(doc))
	})
}
