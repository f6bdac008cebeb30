package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// oaSchema is the part of a JSON Schema (as OpenAPI 3.1 uses it) that the
// reference page shows. The API's document uses no more than this; the
// page's tests compare what it shows with the document read by libopenapi.
type oaSchema struct {
	Ref                  string               `json:"$ref"`
	Type                 typeList             `json:"type"`
	Format               string               `json:"format"`
	Description          string               `json:"description"`
	Properties           map[string]*oaSchema `json:"properties"`
	Required             []string             `json:"required"`
	Items                *oaSchema            `json:"items"`
	AdditionalProperties json.RawMessage      `json:"additionalProperties"`
	OneOf                []*oaSchema          `json:"oneOf"`
	AnyOf                []*oaSchema          `json:"anyOf"`
	AllOf                []*oaSchema          `json:"allOf"`
	Enum                 []json.RawMessage    `json:"enum"`
	Const                json.RawMessage      `json:"const"`
	Default              json.RawMessage      `json:"default"`
	Minimum              *float64             `json:"minimum"`
	Maximum              *float64             `json:"maximum"`
	Pattern              string               `json:"pattern"`
	ReadOnly             bool                 `json:"readOnly"`
	WriteOnly            bool                 `json:"writeOnly"`
	Deprecated           bool                 `json:"deprecated"`
}

// typeList is a schema's type: one name, or (3.1) a list of them.
type typeList []string

func (t *typeList) UnmarshalJSON(b []byte) error {
	if bytes.HasPrefix(bytes.TrimSpace(b), []byte("[")) {
		return json.Unmarshal(b, (*[]string)(t))
	}
	var one string
	if err := json.Unmarshal(b, &one); err != nil {
		return err
	}
	*t = typeList{one}
	return nil
}

// refField is a schema as the page shows it: a property (Name set) or a
// whole body, with its type, what it says, and what it holds.
type refField struct {
	Name     string
	Required bool
	Type     []typePart
	Notes    []string
	Text     []paragraph
	Choices  []refChoice
	Fields   []refField
}

// typePart is a piece of a type's name; one with Href links to a schema.
type typePart struct{ Text, Href string }

// refChoice is one value an enum or a oneOf of constants allows.
type refChoice struct {
	Value string
	Text  []paragraph
}

// paragraph is a run of text in which backquoted spans are code.
type paragraph []textPart

type textPart struct {
	Text string
	Code bool
}

// prose splits a description into paragraphs at blank lines, and each into
// text and `code`: the one piece of Markdown the document uses.
func prose(s string) []paragraph {
	var out []paragraph
	for _, block := range strings.Split(strings.TrimSpace(s), "\n\n") {
		block = strings.Join(strings.Fields(block), " ")
		if block == "" {
			continue
		}
		var p paragraph
		for i, piece := range strings.Split(block, "`") {
			if piece != "" {
				p = append(p, textPart{Text: piece, Code: i%2 == 1})
			}
		}
		out = append(out, p)
	}
	return out
}

// schemaAnchor is the id of a component schema's section.
func schemaAnchor(name string) string { return "schema-" + name }

// maxDepth bounds how deep inline schemas nest on the page; references are
// links, so only a document written to be deep gets near it.
const maxDepth = 12

// describeSchema turns a schema into what the page shows. A reference to a
// component schema is a link to its section, never expanded, so a schema
// that refers to itself cannot loop.
func describeSchema(s *oaSchema, depth int) (refField, error) {
	var f refField
	if s == nil {
		return refField{Type: []typePart{{Text: "any"}}}, nil
	}
	if depth > maxDepth {
		return f, fmt.Errorf("a schema nests deeper than %d levels", maxDepth)
	}
	f.Text = prose(s.Description)
	if s.Ref != "" {
		name, ok := strings.CutPrefix(s.Ref, "#/components/schemas/")
		if !ok {
			return f, fmt.Errorf("the reference %q is not to a component schema", s.Ref)
		}
		f.Type = []typePart{{Text: name, Href: "#" + schemaAnchor(name)}}
		return f, nil
	}
	f.Notes = notes(s)
	for _, raw := range s.Enum {
		f.Choices = append(f.Choices, refChoice{Value: literal(raw)})
	}
	if len(s.Const) > 0 {
		f.Type = []typePart{{Text: literal(s.Const)}}
		return f, nil
	}
	switch {
	case len(s.AllOf) > 0:
		if err := f.compose(s.AllOf, "all of ", " and ", depth); err != nil {
			return f, err
		}
	case len(s.OneOf) > 0 || len(s.AnyOf) > 0:
		of := append(append([]*oaSchema{}, s.OneOf...), s.AnyOf...)
		if choices, ok := constChoices(of); ok {
			f.Type, f.Choices = []typePart{{Text: "one of these values"}}, choices
			break
		}
		if err := f.compose(of, "one of ", " or ", depth); err != nil {
			return f, err
		}
	default:
		if err := f.typed(s, depth); err != nil {
			return f, err
		}
	}
	return f, nil
}

// typed describes a schema by its type names.
func (f *refField) typed(s *oaSchema, depth int) error {
	types := s.Type
	if len(types) == 0 && len(s.Properties) > 0 {
		types = typeList{"object"}
	}
	nullable := false
	for _, t := range types {
		if t == "null" {
			nullable = true
			continue
		}
		if len(f.Type) > 0 {
			f.Type = append(f.Type, typePart{Text: " or "})
		}
		switch t {
		case "array":
			item, err := describeSchema(s.Items, depth+1)
			if err != nil {
				return err
			}
			f.Type = append(append(f.Type, typePart{Text: "array of "}), item.Type...)
			f.Fields, f.Choices = append(f.Fields, item.Fields...), append(f.Choices, item.Choices...)
		case "object":
			fields, err := properties(s, depth)
			if err != nil {
				return err
			}
			f.Fields = append(f.Fields, fields...)
			more, err := additional(s.AdditionalProperties, depth)
			if err != nil {
				return err
			}
			if more == nil || len(fields) > 0 {
				f.Type = append(f.Type, typePart{Text: "object"})
				break
			}
			f.Type = append(append(f.Type, typePart{Text: "map of string to "}), more.Type...)
			f.Fields = append(f.Fields, more.Fields...)
		default:
			name := t
			if s.Format != "" {
				name += " (" + s.Format + ")"
			}
			f.Type = append(f.Type, typePart{Text: name})
		}
	}
	switch {
	case len(f.Type) == 0 && nullable:
		f.Type = []typePart{{Text: "null"}}
	case len(f.Type) == 0:
		f.Type = []typePart{{Text: "any"}}
	case nullable && len(types) == 2 && (types[0] == "array" || types[1] == "array"):
		// "array of string or null" would leave unsaid which may be null.
		f.Type = append(f.Type, typePart{Text: ", or null"})
	case nullable:
		f.Type = append(f.Type, typePart{Text: " or null"})
	}
	return nil
}

// compose describes allOf, oneOf or anyOf: each member's type, and the
// fields of the members written inline.
func (f *refField) compose(members []*oaSchema, lead, sep string, depth int) error {
	f.Type = []typePart{{Text: lead}}
	for i, m := range members {
		d, err := describeSchema(m, depth+1)
		if err != nil {
			return err
		}
		if i > 0 {
			f.Type = append(f.Type, typePart{Text: sep})
		}
		f.Type = append(f.Type, d.Type...)
		f.Fields = append(f.Fields, d.Fields...)
	}
	return nil
}

// properties are an object's fields, by name.
func properties(s *oaSchema, depth int) ([]refField, error) {
	names := make([]string, 0, len(s.Properties))
	for n := range s.Properties {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []refField
	for _, n := range names {
		d, err := describeSchema(s.Properties[n], depth+1)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", n, err)
		}
		d.Name = n
		for _, r := range s.Required {
			d.Required = d.Required || r == n
		}
		out = append(out, d)
	}
	return out, nil
}

// additional describes additionalProperties when it is a schema; true,
// false or absent is nil.
func additional(raw json.RawMessage, depth int) (*refField, error) {
	if !bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) {
		return nil, nil
	}
	var s oaSchema
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("additionalProperties: %w", err)
	}
	d, err := describeSchema(&s, depth+1)
	return &d, err
}

// constChoices reads a oneOf whose every member is a constant (the
// problem types) as a list of values.
func constChoices(of []*oaSchema) ([]refChoice, bool) {
	var out []refChoice
	for _, m := range of {
		if m == nil || len(m.Const) == 0 {
			return nil, false
		}
		out = append(out, refChoice{Value: literal(m.Const), Text: prose(m.Description)})
	}
	return out, true
}

// notes are a schema's constraints and defaults, briefly.
func notes(s *oaSchema) []string {
	var out []string
	if len(s.Default) > 0 {
		out = append(out, "default "+literal(s.Default))
	}
	if s.Minimum != nil {
		out = append(out, fmt.Sprintf("minimum %g", *s.Minimum))
	}
	if s.Maximum != nil {
		out = append(out, fmt.Sprintf("maximum %g", *s.Maximum))
	}
	if s.Pattern != "" {
		out = append(out, "pattern "+s.Pattern)
	}
	if s.WriteOnly {
		out = append(out, "write-only")
	}
	if s.ReadOnly {
		out = append(out, "read-only")
	}
	if s.Deprecated {
		out = append(out, "deprecated")
	}
	return out
}

// literal shows a JSON value: a string as itself, anything else as JSON.
func literal(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		return string(raw)
	}
	return buf.String()
}
