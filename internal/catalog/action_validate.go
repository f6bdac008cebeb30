package catalog

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"
)

var actionNameRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)

// Methods an action may use.
var actionMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// validateActions checks every action: its name, docs page, input schema,
// and that its request template is relative, names only inputs and
// non-secret account fields, and uses every input it declares.
func (a *App) validateActions(names map[string]bool) []error {
	var errs []error
	seen := map[string]bool{}
	account := a.patternedOr(names)
	for i := range a.Actions {
		act := &a.Actions[i]
		where := fmt.Sprintf("actions[%d]", i)
		if act.Name != "" {
			where = "actions." + act.Name
		}
		bad := func(field, format string, args ...any) {
			errs = append(errs, fmt.Errorf("%s.%s: %s", where, field, fmt.Sprintf(format, args...)))
		}
		if !actionNameRE.MatchString(act.Name) {
			bad("name", "%q must be snake_case: lower case letters, digits and underscores, starting with a letter", act.Name)
		}
		if seen[act.Name] {
			bad("name", "%q is declared twice", act.Name)
		}
		seen[act.Name] = true
		if strings.TrimSpace(act.Description) == "" {
			bad("description", "is required: agents choose actions by it")
		}
		if act.DocsURL == "" {
			bad("docs_url", "is required: the provider's API reference page for this request")
		} else if err := checkURL(act.DocsURL, nil); err != nil {
			bad("docs_url", "%v", err)
		}
		if a.BaseURL == "" {
			bad("request.path", "the app has no base_url to put the path under")
		}
		props := map[string]bool{}
		if act.Input == nil || act.Input.Schema == nil {
			bad("input", "is required: a JSON Schema of type object (properties: {} for none)")
		} else {
			for _, e := range act.Input.validate() {
				bad("input", "%v", e)
			}
			for p := range act.Input.Schema.Properties {
				props[p] = true
				if account[p] {
					bad("input.properties."+p, "has the name of the account's field {%s}; give the input another name", p)
				}
			}
		}
		allowed := map[string]bool{}
		for k := range props {
			allowed[k] = true
		}
		for k := range account {
			allowed[k] = true
		}
		used := map[string]bool{}
		use := func(field, tpl string) {
			for _, n := range TemplateNames(tpl) {
				if !allowed[n] {
					bad(field, "names {%s}, which is neither an input property nor a non-secret account field (allowed: %s)", n, allowedList(allowed))
				}
				used[n] = true
			}
		}

		r := &act.Request
		if !slices.Contains(actionMethods, r.Method) {
			bad("request.method", "%q must be one of %s", r.Method, strings.Join(actionMethods, ", "))
		}
		switch {
		case !strings.HasPrefix(r.Path, "/") || strings.HasPrefix(r.Path, "//"):
			bad("request.path", "%q must be a path under the base URL, starting with one /", r.Path)
		case strings.Contains(r.Path, "://") || strings.ContainsAny(r.Path, "?#\\ ") || slices.Contains(strings.Split(r.Path, "/"), ".."):
			bad("request.path", "%q must be a plain relative path: no scheme, query, fragment, spaces or ..; put parameters in query", r.Path)
		}
		use("request.path", r.Path)
		for _, n := range TemplateNames(r.Path) {
			if props[n] && act.Input != nil && !act.Input.Required(n) {
				bad("request.path", "names {%s}, which the input does not require; a path segment cannot be left out", n)
			}
		}
		for k, v := range r.Query {
			if k == "" {
				bad("request.query", "a parameter has no name")
			}
			use("request.query."+k, v)
		}
		ra := a.RequestAuth
		for k, v := range r.Headers {
			if err := checkHeader(k, v, allowed); err != nil {
				bad("request.headers."+k, "%v", err)
			}
			if strings.EqualFold(k, "Authorization") || (ra != nil && strings.EqualFold(k, ra.Header)) {
				bad("request.headers."+k, "credentials are put on the request by the app's request_auth, never by an action")
			}
			use("request.headers."+k, v)
		}
		switch r.BodyFormat {
		case "", BodyJSON, BodyForm:
		default:
			bad("request.body_format", "%q must be json or form", r.BodyFormat)
		}
		if r.Body != nil {
			if r.Method == http.MethodGet {
				bad("request.body", "a GET request has no body; use query")
			}
			if r.Form() {
				m, ok := r.Body.(map[string]any)
				if !ok {
					bad("request.body", "a form body is a map of names to values")
				}
				for k, v := range m {
					switch v.(type) {
					case string, int, float64, bool:
					default:
						bad("request.body."+k, "a form value is a string, number or boolean")
					}
				}
			}
			walkStrings(r.Body, func(s string) { use("request.body", s) })
		}
		for p := range props {
			if !used[p] {
				bad("input.properties."+p, "is used nowhere in the request")
			}
		}
		for k, ptr := range act.Output {
			if k == "" || (ptr != "" && !strings.HasPrefix(ptr, "/")) {
				bad("output."+k, "%q must be a JSON Pointer: empty for the whole answer, or starting with /", ptr)
			}
		}
	}
	return errs
}

// validate checks the schema itself: it resolves, it is an object, every
// required name is a property, and it is self-contained ($ref is not
// allowed, so that each property can be checked on its own and any MCP
// client can read it).
func (s *InputSchema) validate() []error {
	var errs []error
	if s.err != nil {
		return []error{s.err}
	}
	if s.Schema.Type != "object" {
		errs = append(errs, fmt.Errorf("type must be object, not %q", s.Schema.Type))
	}
	for _, r := range s.Schema.Required {
		if _, ok := s.Schema.Properties[r]; !ok {
			errs = append(errs, fmt.Errorf("required names %q, which is not among the properties", r))
		}
	}
	errs = append(errs, checkTypes(s.Schema, "")...)
	b, _ := json.Marshal(s.Schema)
	var doc any
	_ = json.Unmarshal(b, &doc)
	found := false
	walkKeys(doc, func(k string) {
		if k == "$ref" || k == "$dynamicRef" {
			found = true
		}
	})
	if found {
		errs = append(errs, fmt.Errorf("$ref is not allowed: write the schema out in full"))
	}
	for name, p := range s.Schema.Properties {
		if strings.TrimSpace(p.Description) == "" {
			errs = append(errs, fmt.Errorf("properties.%s.description is required: forms and agents show it", name))
		}
	}
	return errs
}

var jsonTypes = []string{"object", "array", "string", "number", "integer", "boolean", "null"}

// checkTypes requires every type named in the schema, however deep, to
// be one of JSON Schema's seven.
func checkTypes(s *jsonschema.Schema, at string) []error {
	if s == nil {
		return nil
	}
	var errs []error
	for _, t := range append([]string{s.Type}, s.Types...) {
		if t != "" && !slices.Contains(jsonTypes, t) {
			errs = append(errs, fmt.Errorf("%stype %q is not one of %s", at, t, strings.Join(jsonTypes, ", ")))
		}
	}
	for _, name := range sortedKeys(s.Properties) {
		errs = append(errs, checkTypes(s.Properties[name], at+"properties."+name+".")...)
	}
	errs = append(errs, checkTypes(s.Items, at+"items.")...)
	errs = append(errs, checkTypes(s.AdditionalProperties, at+"additionalProperties.")...)
	for i, sub := range slices.Concat(s.PrefixItems, s.AnyOf, s.OneOf, s.AllOf) {
		errs = append(errs, checkTypes(sub, fmt.Sprintf("%s[%d].", at, i))...)
	}
	return errs
}

func walkStrings(v any, fn func(string)) {
	switch x := v.(type) {
	case string:
		fn(x)
	case map[string]any:
		for _, e := range x {
			walkStrings(e, fn)
		}
	case []any:
		for _, e := range x {
			walkStrings(e, fn)
		}
	}
}

func walkKeys(v any, fn func(string)) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			fn(k)
			walkKeys(e, fn)
		}
	case []any:
		for _, e := range x {
			walkKeys(e, fn)
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
