package api

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
)

// The document builds, is OpenAPI 3.1, and passes the 3.1 schema with
// every reference resolved.
func TestOpenAPIDocumentValidates(t *testing.T) {
	raw, err := OpenAPIDocument()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := libopenapi.NewDocument(raw)
	if err != nil {
		t.Fatal(err)
	}
	model, err := doc.BuildV3Model()
	if err != nil {
		t.Fatalf("building the model: %v", err)
	}
	if v := model.Model.Version; v != "3.1.0" {
		t.Errorf("openapi: %q, want 3.1.0", v)
	}
	// An unquoted comma in a YAML flow map cuts a description short and
	// makes the rest a key, which the 3.1 schema lets pass.
	var tree any
	if err := json.Unmarshal(raw, &tree); err != nil {
		t.Fatal(err)
	}
	// And YAML reads an unquoted "413." as a number, which the 3.1 schema
	// lets pass as a description.
	eachKey(tree, func(k string, v any) {
		if strings.Contains(k, " ") {
			t.Errorf("the key %q has a space: quote the YAML text it was cut from", k)
		}
		switch v.(type) {
		case string, map[string]any, []any:
		default:
			if k == "description" || k == "summary" || k == "title" {
				t.Errorf("the %s %v is not text: quote it in the YAML", k, v)
			}
		}
	})
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatalf("validator: %v", errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		for _, e := range verrs {
			t.Errorf("%s: %s", e.Message, e.Reason)
			for _, s := range e.SchemaValidationErrors {
				t.Errorf("  at %s: %s", s.FieldPath, s.Reason)
			}
		}
	}
}

// problemKind finds the problem types this package's code raises, and
// those of the service errors errkind classifies for it.
var problemKind = regexp.MustCompile(`(?:problem\(http\.Status\w+, |ProblemTypePrefix \+ |class\(http\.Status\w+, )"([a-z-]+)"`)

// Every problem type the handlers raise is one the document lists, and the
// document lists none that nothing raises.
func TestOpenAPIListsEveryProblemType(t *testing.T) {
	raw, err := OpenAPIDocument()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Components struct {
			Schemas struct {
				ProblemType struct {
					OneOf []struct {
						Const string `json:"const"`
					} `json:"oneOf"`
				}
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, c := range doc.Components.Schemas.ProblemType.OneOf {
		listed = append(listed, strings.TrimPrefix(c.Const, ProblemTypePrefix))
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	shared, err := filepath.Glob("../errkind/*.go")
	if err != nil || len(shared) == 0 {
		t.Fatalf("errkind's source: %v %v", shared, err)
	}
	files = append(files, shared...)
	var raised []string
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range problemKind.FindAllStringSubmatch(string(src), -1) {
			if !slices.Contains(raised, m[1]) {
				raised = append(raised, m[1])
			}
		}
	}
	if len(raised) < 10 {
		t.Fatalf("found only %d problem types in the source (%v): the pattern no longer matches how problems are made", len(raised), raised)
	}
	for _, k := range raised {
		if !slices.Contains(listed, k) {
			t.Errorf("the handlers raise %s%s, which the document's ProblemType does not list", ProblemTypePrefix, k)
		}
	}
	for _, k := range listed {
		if !slices.Contains(raised, k) {
			t.Errorf("the document lists %s%s, which no handler raises", ProblemTypePrefix, k)
		}
	}
}

// eachKey calls fn with every key of every map in the tree, and its value.
func eachKey(n any, fn func(k string, v any)) {
	switch n := n.(type) {
	case map[string]any:
		for k, v := range n {
			fn(k, v)
			eachKey(v, fn)
		}
	case []any:
		for _, v := range n {
			eachKey(v, fn)
		}
	}
}
