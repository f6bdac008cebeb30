package catalog

import (
	"fmt"
	"regexp"
)

// A template name is an identifier or dot path in braces: {api_key},
// {user.email}, {data.0.id}. Other braces, such as a JSON body's, are text.
var nameRE = regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\}`)

// TemplateNames returns the names a template refers to in braces, in order.
func TemplateNames(tpl string) []string {
	var names []string
	for _, m := range nameRE.FindAllStringSubmatch(tpl, -1) {
		names = append(names, m[1])
	}
	return names
}

// Expand replaces every {name} in tpl by lookup(name). It fails, naming the
// missing name, when lookup has no value for one.
func Expand(tpl string, lookup func(name string) (string, bool)) (string, error) {
	var missing string
	out := nameRE.ReplaceAllStringFunc(tpl, func(m string) string {
		name := m[1 : len(m)-1]
		v, ok := lookup(name)
		if !ok && missing == "" {
			missing = name
		}
		return v
	})
	if missing != "" {
		return "", fmt.Errorf("no value for {%s}", missing)
	}
	return out, nil
}

// MapLookup adapts a map to Expand.
func MapLookup(m map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := m[name]
		return v, ok
	}
}
