package web

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strings"
)

// APIReferencePath is where the API reference page is served.
const APIReferencePath = "/docs/api"

// APIReference is the API's OpenAPI document read for people: operations
// grouped by tag, and the schemas they refer to. It is made from the very
// document the API serves, so the page cannot say other than the document.
type APIReference struct {
	Title, Version, Summary string
	Text                    []paragraph
	Tags                    []refTag
	Schemas                 []refSchema
	// ProblemTypes is the anchor of the schema that lists every problem
	// type, for the problem answers to link to; empty if there is none.
	ProblemTypes string
	// Source is the path the document itself is served at.
	Source string
}

type refTag struct {
	Name, Anchor string
	Text         []paragraph
	Ops          []refOp
}

type refOp struct {
	Method, Path, Anchor, Summary string
	Text                          []paragraph
	// NoToken says the operation overrides the document's security with
	// none at all.
	NoToken    bool
	Deprecated bool
	Params     []refParam
	Body       *refBody
	Responses  []refResponse
}

type refParam struct {
	Field refField
	In    string
}

type refBody struct {
	Required bool
	Text     []paragraph
	Media    []refMedia
}

type refMedia struct {
	Type   string
	Schema refField
	// ProblemTypes is the anchor of the problem types, on a problem answer.
	ProblemTypes string
}

type refResponse struct {
	Status  string
	Text    []paragraph
	Headers []refField
	Media   []refMedia
}

type refSchema struct {
	Name, Anchor string
	Schema       refField
}

// The document as JSON, as far as the page reads it.
type oaDocument struct {
	Info struct {
		Title, Version, Summary, Description string
	} `json:"info"`
	Tags []struct {
		Name, Description string
	} `json:"tags"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas       map[string]*oaSchema   `json:"schemas"`
		Parameters    map[string]*oaParam    `json:"parameters"`
		RequestBodies map[string]*oaBody     `json:"requestBodies"`
		Responses     map[string]*oaResponse `json:"responses"`
	} `json:"components"`
}

type oaOperation struct {
	Tags                 []string
	Summary, Description string
	Deprecated           bool
	Parameters           []*oaParam
	RequestBody          *oaBody
	Responses            map[string]*oaResponse
	Security             *[]json.RawMessage
}

type oaParam struct {
	Ref                   string `json:"$ref"`
	Name, In, Description string
	Required              bool
	Schema                *oaSchema
}

type oaBody struct {
	Ref         string `json:"$ref"`
	Description string
	Required    bool
	Content     map[string]oaMedia
}

type oaMedia struct{ Schema *oaSchema }

type oaResponse struct {
	Ref         string `json:"$ref"`
	Description string
	Headers     map[string]struct {
		Description string
		Schema      *oaSchema
	}
	Content map[string]oaMedia
}

// methods are the operation keys of a path item, in the order the page
// lists them.
var methods = []string{"get", "post", "put", "patch", "delete", "head", "options", "trace"}

// NewAPIReference reads an OpenAPI 3.1 document, served at source, for the
// reference page. A reference it cannot follow is an error: the page would
// be missing a part.
func NewAPIReference(document []byte, source string) (*APIReference, error) {
	var doc oaDocument
	if err := json.Unmarshal(document, &doc); err != nil {
		return nil, fmt.Errorf("api reference: %w", err)
	}
	ref := &APIReference{Title: doc.Info.Title, Version: doc.Info.Version, Summary: doc.Info.Summary, Text: prose(doc.Info.Description), Source: source}
	tags := map[string]*refTag{}
	tag := func(name string) *refTag {
		if tags[name] == nil {
			tags[name] = &refTag{Name: name, Anchor: "tag-" + slug(name)}
		}
		return tags[name]
	}
	var order []string
	for _, t := range doc.Tags {
		tag(t.Name).Text = prose(t.Description)
		order = append(order, t.Name)
	}
	anchors := map[string]string{}
	for _, path := range slices.Sorted(maps.Keys(doc.Paths)) {
		item := doc.Paths[path]
		var shared []*oaParam
		if raw, ok := item["parameters"]; ok {
			if err := json.Unmarshal(raw, &shared); err != nil {
				return nil, fmt.Errorf("api reference: %s: parameters: %w", path, err)
			}
		}
		for _, m := range methods {
			raw, ok := item[m]
			if !ok {
				continue
			}
			op, opTags, err := doc.operation(m, path, raw, shared)
			if err != nil {
				return nil, fmt.Errorf("api reference: %s %s: %w", strings.ToUpper(m), path, err)
			}
			if other, dup := anchors[op.Anchor]; dup {
				return nil, fmt.Errorf("api reference: %s %s and %s have the same anchor %q", op.Method, path, other, op.Anchor)
			}
			anchors[op.Anchor] = op.Method + " " + path
			// An operation sits under its first tag, as most tools show it.
			name := "other"
			if len(opTags) > 0 {
				name = opTags[0]
			}
			t := tag(name)
			t.Ops = append(t.Ops, op)
		}
	}
	// Tags the document uses without declaring them come last, by name.
	var undeclared []string
	for name := range tags {
		if !slices.Contains(order, name) {
			undeclared = append(undeclared, name)
		}
	}
	sort.Strings(undeclared)
	for _, name := range append(order, undeclared...) {
		if t := tags[name]; len(t.Ops) > 0 {
			ref.Tags = append(ref.Tags, *t)
		}
	}
	if err := ref.addSchemas(doc.Components.Schemas); err != nil {
		return nil, err
	}
	ref.linkProblems()
	return ref, nil
}

// linkProblems points each problem answer at the list of problem types.
func (ref *APIReference) linkProblems() {
	if ref.ProblemTypes == "" {
		return
	}
	for _, t := range ref.Tags {
		for _, op := range t.Ops {
			for _, r := range op.Responses {
				for i := range r.Media {
					if r.Media[i].Type == "application/problem+json" {
						r.Media[i].ProblemTypes = ref.ProblemTypes
					}
				}
			}
		}
	}
}

// addSchemas lists the component schemas, and finds the one that names
// the problem types: the type of the Problem schema.
func (ref *APIReference) addSchemas(schemas map[string]*oaSchema) error {
	for _, n := range slices.Sorted(maps.Keys(schemas)) {
		d, err := describeSchema(schemas[n], 0)
		if err != nil {
			return fmt.Errorf("api reference: schema %s: %w", n, err)
		}
		ref.Schemas = append(ref.Schemas, refSchema{Name: n, Anchor: schemaAnchor(n), Schema: d})
	}
	if p := schemas["Problem"]; p != nil && p.Properties["type"] != nil {
		if name, ok := strings.CutPrefix(p.Properties["type"].Ref, "#/components/schemas/"); ok && schemas[name] != nil {
			ref.ProblemTypes = schemaAnchor(name)
		}
	}
	return nil
}

// operation reads one operation, and returns its tags.
func (doc *oaDocument) operation(method, path string, raw json.RawMessage, shared []*oaParam) (refOp, []string, error) {
	var in oaOperation
	if err := json.Unmarshal(raw, &in); err != nil {
		return refOp{}, nil, err
	}
	op := refOp{
		Method: strings.ToUpper(method), Path: path, Anchor: "op-" + method + "-" + slug(path),
		Summary: in.Summary, Text: prose(in.Description), Deprecated: in.Deprecated,
		NoToken: in.Security != nil && len(*in.Security) == 0,
	}
	params, err := doc.params(shared, in.Parameters)
	if err != nil {
		return op, nil, err
	}
	op.Params = params
	if in.RequestBody != nil {
		b := in.RequestBody
		if b.Ref != "" {
			if b = doc.Components.RequestBodies[strings.TrimPrefix(b.Ref, "#/components/requestBodies/")]; b == nil {
				return op, nil, fmt.Errorf("no request body %s", in.RequestBody.Ref)
			}
		}
		media, err := mediaOf(b.Content)
		if err != nil {
			return op, nil, fmt.Errorf("request body: %w", err)
		}
		op.Body = &refBody{Required: b.Required, Text: prose(b.Description), Media: media}
	}
	// Status codes in order, "default" (any other answer) last.
	codes := slices.SortedFunc(maps.Keys(in.Responses), func(a, b string) int {
		return strings.Compare(strings.Replace(a, "default", "~", 1), strings.Replace(b, "default", "~", 1))
	})
	for _, c := range codes {
		r := in.Responses[c]
		if r != nil && r.Ref != "" {
			if r = doc.Components.Responses[strings.TrimPrefix(r.Ref, "#/components/responses/")]; r == nil {
				return op, nil, fmt.Errorf("no response %s", in.Responses[c].Ref)
			}
		}
		if r == nil {
			return op, nil, fmt.Errorf("response %s is empty", c)
		}
		media, err := mediaOf(r.Content)
		if err != nil {
			return op, nil, fmt.Errorf("response %s: %w", c, err)
		}
		resp := refResponse{Status: c, Text: prose(r.Description), Media: media}
		for _, name := range slices.Sorted(maps.Keys(r.Headers)) {
			h, err := describeSchema(r.Headers[name].Schema, 0)
			if err != nil {
				return op, nil, fmt.Errorf("response %s: header %s: %w", c, name, err)
			}
			h.Name = name
			if text := prose(r.Headers[name].Description); len(text) > 0 {
				h.Text = text
			}
			resp.Headers = append(resp.Headers, h)
		}
		op.Responses = append(op.Responses, resp)
	}
	return op, in.Tags, nil
}

// params are an operation's parameters: the path item's, with the
// operation's own in place of any of the same name and place.
func (doc *oaDocument) params(shared, own []*oaParam) ([]refParam, error) {
	var out []refParam
	seen := map[string]int{}
	for _, p := range append(append([]*oaParam{}, shared...), own...) {
		if p != nil && p.Ref != "" {
			to := p.Ref
			if p = doc.Components.Parameters[strings.TrimPrefix(to, "#/components/parameters/")]; p == nil {
				return nil, fmt.Errorf("no parameter %s", to)
			}
		}
		if p == nil {
			return nil, fmt.Errorf("an empty parameter")
		}
		d, err := describeSchema(p.Schema, 0)
		if err != nil {
			return nil, fmt.Errorf("parameter %s: %w", p.Name, err)
		}
		d.Name, d.Required = p.Name, p.Required || p.In == "path"
		if len(d.Text) == 0 || p.Description != "" {
			d.Text = prose(p.Description)
		}
		key := p.In + " " + p.Name
		if i, ok := seen[key]; ok {
			out[i] = refParam{Field: d, In: p.In}
			continue
		}
		seen[key] = len(out)
		out = append(out, refParam{Field: d, In: p.In})
	}
	return out, nil
}

func mediaOf(content map[string]oaMedia) ([]refMedia, error) {
	var out []refMedia
	for _, t := range slices.Sorted(maps.Keys(content)) {
		d, err := describeSchema(content[t].Schema, 0)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", t, err)
		}
		out = append(out, refMedia{Type: t, Schema: d})
	}
	return out, nil
}

// slug makes an anchor of a path or a name: lower case, each run of other
// characters one hyphen. /v1/accounts/{id} is v1-accounts-id.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
			continue
		}
		dash = true
	}
	return b.String()
}

// apiReference serves the reference page to anyone, as /openapi.json is
// served: it says what the document says. A signed-in browser gets its
// usual header, to find its way back.
func (h *Handler) apiReference(w http.ResponseWriter, r *http.Request) error {
	v := view{Title: "API reference", Content: h.reference}
	if s := h.current(r); s != nil {
		v = h.view(s, "API reference", "", h.reference)
	}
	h.render(w, r, http.StatusOK, "apiref.html", v)
	return nil
}
