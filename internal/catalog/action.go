package catalog

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"
	"go.yaml.in/yaml/v3"
)

// Action is one prebuilt request to an app's API: what it is called, the
// input it takes (a JSON Schema), how the request is built from that input,
// and what of the answer it returns. It is data, like the rest of the entry;
// the same action serves the CLI, the API, workflow steps and MCP tools
// (named app_action, with the input schema as the tool's).
type Action struct {
	// Name is snake_case; with the app's slug it is "app.name".
	Name        string `yaml:"name" json:"name"`
	Description string `yaml:"description" json:"description"`
	// DocsURL is the provider's API reference page for this request.
	DocsURL string        `yaml:"docs_url" json:"docs_url"`
	Input   *InputSchema  `yaml:"input" json:"input"`
	Request ActionRequest `yaml:"request" json:"request"`
	// Output picks values out of a JSON answer, by name, each a JSON
	// Pointer (RFC 6901: "/ts", "/data/0/id"). Empty means the whole body.
	Output map[string]string `yaml:"output,omitempty" json:"output,omitempty"`
}

// ActionRequest is an action's HTTP request template.
//
// Templates name, in braces, a property of the input ({channel}) or a
// non-secret, patterned field of the account ({account_sid}); credentials
// are never named, they go where the app's request_auth puts them. A value
// is never spliced into text that is parsed again: in the path it is
// escaped as one segment, in the query and headers it is one value, and in
// the body a string that is exactly "{name}" becomes the input's JSON value
// (a number stays a number, a list a list) and is left out when the input
// has none.
type ActionRequest struct {
	Method string `yaml:"method" json:"method"`
	// Path is under the app's base URL: "/chat.postMessage".
	Path    string            `yaml:"path" json:"path"`
	Query   map[string]string `yaml:"query,omitempty" json:"query,omitempty"`
	Headers map[string]string `yaml:"headers,omitempty" json:"headers,omitempty"`
	// Body is a JSON (or, with body_format form, a flat) template.
	Body any `yaml:"body,omitempty" json:"body,omitempty"`
	// BodyFormat is "json" (default) or "form"
	// (application/x-www-form-urlencoded, as Twilio and Stripe take).
	BodyFormat string `yaml:"body_format,omitempty" json:"body_format,omitempty"`
}

// Body formats.
const (
	BodyJSON = "json"
	BodyForm = "form"
)

// Form reports whether the body is form-encoded.
func (r *ActionRequest) Form() bool { return r.BodyFormat == BodyForm }

// Ref is the action's full name, "app.action".
func Ref(app, action string) string { return app + "." + action }

// SplitRef splits "app.action" at its first dot.
func SplitRef(ref string) (app, action string, ok bool) {
	app, action, ok = strings.Cut(ref, ".")
	return app, action, ok && app != "" && action != ""
}

// Action returns the app's action of that name.
func (a *App) Action(name string) (*Action, bool) {
	for i := range a.Actions {
		if a.Actions[i].Name == name {
			return &a.Actions[i], true
		}
	}
	return nil, false
}

// InputSchema is an action's input: a JSON Schema (draft 2020-12 or 07)
// written in YAML, resolved once when the catalog loads.
type InputSchema struct {
	Schema   *jsonschema.Schema
	resolved *jsonschema.Resolved
	// props are the top-level properties resolved on their own, so that a
	// bad input is told every problem at once, not only the first.
	props map[string]*jsonschema.Resolved
	err   error
}

// UnmarshalYAML reads a schema written in YAML; it is checked by Validate.
func (s *InputSchema) UnmarshalYAML(n *yaml.Node) error {
	var doc any
	if err := n.Decode(&doc); err != nil {
		return err
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return fmt.Errorf("line %d: the input schema is not JSON: %w", n.Line, err)
	}
	return s.UnmarshalJSON(b)
}

// UnmarshalJSON reads a schema and resolves it.
func (s *InputSchema) UnmarshalJSON(b []byte) error {
	var sc jsonschema.Schema
	if err := json.Unmarshal(b, &sc); err != nil {
		return fmt.Errorf("the input schema does not parse: %w", err)
	}
	s.Schema = &sc
	s.resolved, s.err = sc.Resolve(nil)
	if s.err == nil {
		s.props = map[string]*jsonschema.Resolved{}
		for name, p := range sc.Properties {
			r, err := p.Resolve(nil)
			if err != nil {
				s.err = fmt.Errorf("properties.%s: %w", name, err)
				break
			}
			s.props[name] = r
		}
	}
	return nil
}

// MarshalJSON writes the schema as JSON: what an MCP tool's inputSchema
// and the API show.
func (s *InputSchema) MarshalJSON() ([]byte, error) {
	if s == nil || s.Schema == nil {
		return []byte("null"), nil
	}
	return json.Marshal(s.Schema)
}

// Required reports whether the property is required.
func (s *InputSchema) Required(name string) bool {
	for _, r := range s.Schema.Required {
		if r == name {
			return true
		}
	}
	return false
}

// Problem is one way an input breaks its schema.
type Problem struct {
	// Field is the input property ("" for the input as a whole).
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Check validates an input (decoded JSON) and lists every problem found:
// missing required properties, unknown ones where the schema allows none,
// and each property that breaks its own schema.
func (s *InputSchema) Check(input any) []Problem {
	if s.err != nil {
		return []Problem{{Message: "the action's input schema is not valid: " + s.err.Error()}}
	}
	err := s.resolved.Validate(input)
	if err == nil {
		return nil
	}
	obj, ok := input.(map[string]any)
	if !ok {
		return []Problem{{Message: "the input must be a JSON object"}}
	}
	var out []Problem
	for _, r := range s.Schema.Required {
		if _, ok := obj[r]; !ok {
			out = append(out, Problem{Field: r, Message: "is required"})
		}
	}
	for _, name := range sortedKeys(obj) {
		r, declared := s.props[name]
		if !declared {
			if ap := s.Schema.AdditionalProperties; ap != nil && ap.Not != nil {
				out = append(out, Problem{Field: name, Message: "is not an input of this action"})
			}
			continue
		}
		if perr := r.Validate(obj[name]); perr != nil {
			out = append(out, Problem{Field: name, Message: perr.Error()})
		}
	}
	if len(out) == 0 {
		// A rule over the whole input (minProperties, a oneOf): the
		// library's own words.
		out = append(out, Problem{Message: err.Error()})
	}
	return out
}
