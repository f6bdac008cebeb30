package catalog

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Refusal says how an app answers 2xx to a request it refused: Slack's
// {"ok": false, "error": "invalid_auth"}, a GraphQL server's {"errors":
// [...]}. Latchkey reads such an answer as the failure it is, and a
// refusal of the credentials as it reads a 401.
type Refusal struct {
	// Field is a JSON Pointer (RFC 6901) into the answer: "/ok", "/errors".
	Field string `yaml:"field" json:"field"`
	// Equals: the answer is a refusal when the field holds this value (a
	// boolean, a string or a number). Give it or Present.
	Equals any `yaml:"equals,omitempty" json:"equals,omitempty"`
	// Present: the answer is a refusal when the field is there and is not
	// null, false, "" or empty (GraphQL's errors).
	Present bool `yaml:"present,omitempty" json:"present,omitempty"`
	// Code points at the provider's error code ("/error",
	// "/errors/0/extensions/code"). With it, only AuthCodes mean the
	// credentials were refused; other codes are plain failures. Without
	// it, every refusal is one of the credentials.
	Code      string   `yaml:"code,omitempty" json:"code,omitempty"`
	AuthCodes []string `yaml:"auth_codes,omitempty" json:"auth_codes,omitempty"`
}

// Refused is an answer the rule calls a refusal.
type Refused struct {
	// Code is the provider's error code, "" when the rule names none or
	// the answer has none.
	Code string
	// Auth: the credentials were refused, as with a 401.
	Auth bool
}

// Judge applies the rule to a decoded JSON answer.
func (r *Refusal) Judge(doc any) (Refused, bool) {
	v, ok := Pointer(doc, r.Field)
	if !ok {
		return Refused{}, false
	}
	hit := sameScalar(v, r.Equals)
	if r.Present {
		hit = filled(v)
	}
	if !hit {
		return Refused{}, false
	}
	if r.Code == "" {
		return Refused{Auth: true}, true
	}
	out := Refused{}
	if c, ok := Pointer(doc, r.Code); ok {
		out.Code, _ = scalarText(c)
	}
	out.Auth = out.Code != "" && slices.Contains(r.AuthCodes, out.Code)
	return out, true
}

// filled: a value that is there in earnest (GraphQL's errors, when
// present, is a non-empty list).
func filled(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != ""
	case []any:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	}
	return true
}

// sameScalar compares a JSON value with a value YAML decoded: JSON
// numbers are float64, YAML's int or float64.
func sameScalar(v, want any) bool {
	switch w := want.(type) {
	case bool:
		b, ok := v.(bool)
		return ok && b == w
	case string:
		s, ok := v.(string)
		return ok && s == w
	case int:
		f, ok := v.(float64)
		return ok && f == float64(w)
	case float64:
		f, ok := v.(float64)
		return ok && f == w
	}
	return false
}

// scalarText is a code as text: a string, or a number as JSON writes it.
func scalarText(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	}
	return "", false
}

func (r *Refusal) validate() []error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("refusal.%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if r.Field == "" {
		bad("field", "is required: a JSON Pointer to the answer's field that says it failed (/ok)")
	} else if err := CheckPointer(r.Field); err != nil {
		bad("field", "%v", err)
	}
	switch r.Equals.(type) {
	case nil:
		if !r.Present {
			bad("equals", "give equals (the value that means a refusal) or present: true")
		}
	case bool, string, int, float64:
		if r.Present {
			bad("present", "give equals or present, not both")
		}
	default:
		bad("equals", "must be a boolean, a string or a number")
	}
	if r.Code != "" {
		if err := CheckPointer(r.Code); err != nil {
			bad("code", "%v", err)
		}
		if len(r.AuthCodes) == 0 {
			bad("auth_codes", "list the codes that mean the credentials were refused; without code, every refusal is one")
		}
	} else if len(r.AuthCodes) > 0 {
		bad("auth_codes", "go with code, the pointer to the provider's error code")
	}
	seen := map[string]bool{}
	for i, c := range r.AuthCodes {
		if strings.TrimSpace(c) == "" {
			bad(fmt.Sprintf("auth_codes[%d]", i), "is empty")
		} else if seen[c] {
			bad(fmt.Sprintf("auth_codes[%d]", i), "%q is listed twice", c)
		}
		seen[c] = true
	}
	return errs
}

// CheckPointer requires a JSON Pointer to a part of a document: it starts
// with "/" and every "~" is "~0" or "~1".
func CheckPointer(ptr string) error {
	if !strings.HasPrefix(ptr, "/") {
		return fmt.Errorf("%q must be a JSON Pointer starting with /", ptr)
	}
	for i := 0; i < len(ptr); i++ {
		if ptr[i] == '~' && (i+1 == len(ptr) || (ptr[i+1] != '0' && ptr[i+1] != '1')) {
			return fmt.Errorf("%q: a ~ in a JSON Pointer must be ~0 or ~1", ptr)
		}
	}
	return nil
}

// Pointer follows an RFC 6901 JSON Pointer into decoded JSON; "" is the
// whole document.
func Pointer(doc any, ptr string) (any, bool) {
	if ptr == "" {
		return doc, true
	}
	if !strings.HasPrefix(ptr, "/") {
		return nil, false
	}
	cur := doc
	for _, tok := range strings.Split(ptr[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch node := cur.(type) {
		case map[string]any:
			v, ok := node[tok]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(node) || (len(tok) > 1 && tok[0] == '0') {
				return nil, false
			}
			cur = node[i]
		default:
			return nil, false
		}
	}
	return cur, true
}
