package web

import (
	"strings"
	"testing"
)

// typeText is a field's type as the page reads it.
func typeText(f refField) string {
	var b strings.Builder
	for _, p := range f.Type {
		b.WriteString(p.Text)
		if p.Href != "" {
			b.WriteString("→" + p.Href)
		}
	}
	return b.String()
}

// Schemas read as a person would say them; references are links.
func TestAPIReferenceTypes(t *testing.T) {
	for _, tc := range []struct {
		schema, want string
	}{
		{`{"type": "string"}`, "string"},
		{`{"type": ["string", "null"], "format": "date-time"}`, "string (date-time) or null"},
		{`{"type": ["array", "null"], "items": {"type": "string"}}`, "array of string, or null"},
		{`{"type": "array", "items": {"$ref": "#/components/schemas/Account"}}`, "array of Account→#schema-Account"},
		{`{"type": "object", "additionalProperties": {"type": "string"}}`, "map of string to string"},
		{`{"type": "object", "properties": {"a": {"type": "integer"}}}`, "object"},
		{`{"allOf": [{"$ref": "#/components/schemas/W"}, {"type": "object"}]}`, "all of W→#schema-W and object"},
		{`{"oneOf": [{"const": "a"}, {"const": "b"}]}`, "one of these values"},
		{`{}`, "any"},
	} {
		ref, err := NewAPIReference([]byte(`{"components": {"schemas": {"X": `+tc.schema+`}}}`), "/openapi.json")
		if err != nil {
			t.Errorf("%s: %v", tc.schema, err)
			continue
		}
		if got := typeText(ref.Schemas[0].Schema); got != tc.want {
			t.Errorf("%s reads %q, want %q", tc.schema, got, tc.want)
		}
	}
}

// An operation has its path item's parameters, with its own in place of
// one of the same name; it sits under its first tag, declared tags first.
func TestAPIReferenceOperations(t *testing.T) {
	ref, err := NewAPIReference([]byte(`{
		"tags": [{"name": "b"}, {"name": "a"}],
		"paths": {
			"/v1/x/{id}": {
				"parameters": [{"$ref": "#/components/parameters/id"}, {"name": "q", "in": "query"}],
				"get": {"tags": ["a", "b"], "parameters": [{"name": "q", "in": "query", "required": true}],
					"responses": {"default": {"$ref": "#/components/responses/P"}, "200": {"description": "ok"}}},
				"delete": {"tags": ["c"], "security": [], "responses": {"204": {"description": "gone"}}}
			},
			"/v1/y": {"post": {"tags": ["b"], "responses": {"201": {"description": "made"}}}}
		},
		"components": {
			"parameters": {"id": {"name": "id", "in": "path", "schema": {"type": "string"}}},
			"responses": {"P": {"description": "a problem", "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}},
			"schemas": {"Problem": {"type": "object", "properties": {"type": {"$ref": "#/components/schemas/Kind"}}}, "Kind": {"oneOf": [{"const": "k"}]}}
		}}`), "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tag := range ref.Tags {
		for _, op := range tag.Ops {
			got = append(got, tag.Name+":"+op.Method+" "+op.Path+"#"+op.Anchor)
		}
	}
	want := []string{"b:POST /v1/y#op-post-v1-y", "a:GET /v1/x/{id}#op-get-v1-x-id", "c:DELETE /v1/x/{id}#op-delete-v1-x-id"}
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("operations %q, want %q", got, want)
	}
	get := ref.Tags[1].Ops[0]
	if len(get.Params) != 2 || get.Params[0].Field.Name != "id" || !get.Params[0].Field.Required || get.Params[1].Field.Name != "q" || !get.Params[1].Field.Required {
		t.Errorf("parameters %+v: want id (a path parameter, required) and the operation's own q (required)", get.Params)
	}
	if len(get.Responses) != 2 || get.Responses[0].Status != "200" || get.Responses[1].Status != "default" {
		t.Errorf("responses %+v: want 200, then default", get.Responses)
	}
	if m := get.Responses[1].Media; len(m) != 1 || m[0].ProblemTypes != "schema-Kind" {
		t.Errorf("the problem answer %+v does not point to the problem types", m)
	}
	if del := ref.Tags[2].Ops[0]; !del.NoToken || get.NoToken {
		t.Error("security: [] should say no token is needed, and only there")
	}
}

// A document the page cannot read whole is an error, not a page with a
// hole in it.
func TestAPIReferenceRefusesWhatItCannotShow(t *testing.T) {
	for name, doc := range map[string]string{
		"a missing parameter":  `{"paths": {"/a": {"get": {"parameters": [{"$ref": "#/components/parameters/nope"}]}}}}`,
		"a missing body":       `{"paths": {"/a": {"post": {"requestBody": {"$ref": "#/components/requestBodies/nope"}}}}}`,
		"a missing response":   `{"paths": {"/a": {"get": {"responses": {"200": {"$ref": "#/components/responses/nope"}}}}}}`,
		"a foreign reference":  `{"components": {"schemas": {"X": {"$ref": "other.json#/X"}}}}`,
		"a number for text":    `{"components": {"schemas": {"X": {"description": 413}}}}`,
		"two paths one anchor": `{"paths": {"/a-b": {"get": {}}, "/a_b": {"get": {}}}}`,
	} {
		if _, err := NewAPIReference([]byte(doc), "/openapi.json"); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
