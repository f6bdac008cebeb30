package actions

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/latchkeyhq/latchkey/internal/appapi"
	"github.com/latchkeyhq/latchkey/internal/catalog"
	"github.com/latchkeyhq/latchkey/internal/outbound"
)

// MaxBody caps what is read of a provider's answer.
const MaxBody = appapi.MaxBody

// wholeRE is a body string that is one name and nothing else: it becomes
// the input's JSON value.
var wholeRE = regexp.MustCompile(`^\{([A-Za-z_][A-Za-z0-9_]*)\}$`)

// Build makes the action's request from an input that passed the schema
// (decoded JSON) and the account's values, with the credentials put where
// the app wants them. It sends nothing.
func Build(ctx context.Context, app *catalog.App, act *catalog.Action, input map[string]any, values appapi.Values) (*http.Request, error) {
	r := &act.Request
	// Names resolve to the input first; lint keeps inputs and account
	// fields apart, and only non-secret account fields may be named.
	lookup := func(name string) (any, bool) {
		if v, ok := input[name]; ok && v != nil {
			return v, true
		}
		if v, ok := values[name]; ok && allowedField(app, name) {
			return v, true
		}
		return nil, false
	}
	var bad error
	path, err := catalog.Expand(r.Path, func(name string) (string, bool) {
		v, ok := lookup(name)
		if !ok {
			return "", false
		}
		s, err := scalar(name, v)
		if err == nil && (s == "" || s == "." || s == "..") {
			err = fmt.Errorf("%s: %q cannot stand in a path", name, s)
		}
		if err != nil && bad == nil {
			bad = err
		}
		// One segment, whatever the value holds: a / or ? is escaped.
		return url.PathEscape(s), true
	})
	if bad != nil {
		return nil, &InputError{Problems: []catalog.Problem{{Field: fieldOf(bad), Message: bad.Error()}}}
	}
	if err != nil {
		return nil, fmt.Errorf("action %s: path: %w", act.Name, err)
	}
	base, err := appapi.ResolveURL(app, "/", values)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(strings.TrimSuffix(base, "/") + path)
	if err != nil {
		return nil, errors.New("the request URL does not parse")
	}
	q := u.Query()
	for k, tpl := range r.Query {
		s, ok, err := text(tpl, lookup)
		if err != nil {
			return nil, err
		}
		if ok {
			q.Set(k, s)
		}
	}
	u.RawQuery = q.Encode()

	var body io.Reader
	contentType := ""
	if r.Body != nil {
		if r.Form() {
			form := url.Values{}
			for k, tpl := range r.Body.(map[string]any) {
				s, ok, err := text(fmt.Sprint(tpl), lookup)
				if err != nil {
					return nil, err
				}
				if ok {
					form.Set(k, s)
				}
			}
			body, contentType = strings.NewReader(form.Encode()), "application/x-www-form-urlencoded"
		} else {
			v, _, err := fill(r.Body, lookup)
			if err != nil {
				return nil, err
			}
			b, err := json.Marshal(v)
			if err != nil {
				return nil, fmt.Errorf("action %s: body: %w", act.Name, err)
			}
			body, contentType = bytes.NewReader(b), "application/json"
		}
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, u.String(), body)
	if err != nil {
		return nil, errors.New("the request could not be built")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "Latchkey")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if err := appapi.Authorize(req, app, values); err != nil {
		return nil, err
	}
	for k, tpl := range r.Headers {
		s, ok, err := text(tpl, lookup)
		if err != nil {
			return nil, err
		}
		if strings.ContainsAny(s, "\r\n\x00") {
			return nil, &InputError{Problems: []catalog.Problem{{Message: "header " + k + ": a value has a line break"}}}
		}
		if ok {
			req.Header.Set(k, s)
		}
	}
	return req, nil
}

// allowedField is whether an account value may be named by a template:
// a non-secret field held to a pattern, or a kept OAuth field, never a
// credential.
func allowedField(app *catalog.App, name string) bool {
	if f, ok := app.Field(name); ok {
		return !f.Secret && f.Pattern != ""
	}
	if app.OAuth2 != nil {
		for _, k := range app.OAuth2.KeepFields {
			if k == name {
				return true
			}
		}
	}
	return false
}

// text expands a template as text; ok is false when a name it needs has
// no value, and then the parameter is left out.
func text(tpl string, lookup func(string) (any, bool)) (string, bool, error) {
	var bad error
	missing := false
	s, _ := catalog.Expand(tpl, func(name string) (string, bool) {
		v, ok := lookup(name)
		if !ok {
			missing = true
			return "", true
		}
		s, err := scalar(name, v)
		if err != nil && bad == nil {
			bad = err
		}
		return s, true
	})
	if bad != nil {
		return "", false, &InputError{Problems: []catalog.Problem{{Field: fieldOf(bad), Message: bad.Error()}}}
	}
	return s, !missing, nil
}

// fill builds the JSON body: a string that is exactly {name} becomes the
// input's value, other strings are expanded as text, and what has no value
// is left out (ok false).
func fill(tpl any, lookup func(string) (any, bool)) (any, bool, error) {
	switch t := tpl.(type) {
	case string:
		if m := wholeRE.FindStringSubmatch(t); m != nil {
			v, ok := lookup(m[1])
			return v, ok, nil
		}
		return text(t, lookup)
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			v, ok, err := fill(e, lookup)
			if err != nil {
				return nil, false, err
			}
			if ok {
				out[k] = v
			}
		}
		return out, true, nil
	case []any:
		out := make([]any, 0, len(t))
		for _, e := range t {
			v, ok, err := fill(e, lookup)
			if err != nil {
				return nil, false, err
			}
			if ok {
				out = append(out, v)
			}
		}
		return out, true, nil
	default:
		return t, true, nil
	}
}

type fieldErr struct {
	field string
	msg   string
}

func (e *fieldErr) Error() string { return e.msg }

func fieldOf(err error) string {
	var fe *fieldErr
	if errors.As(err, &fe) {
		return fe.field
	}
	return ""
}

// scalar writes a value into text: a string as it is, a number without
// an exponent, a boolean as true or false.
func scalar(name string, v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case int:
		return strconv.Itoa(x), nil
	case bool:
		return strconv.FormatBool(x), nil
	}
	return "", &fieldErr{field: name, msg: fmt.Sprintf("%s must be a string, number or boolean here", name)}
}

// Answer is what the provider said.
type Answer struct {
	Status int
	// Body is the answer's JSON, or its text as a JSON string; it is not
	// masked yet.
	Body json.RawMessage
}

// Send makes the request through client (the guarded outbound client)
// and reads the answer. A redirect is not followed: it is an error naming
// only the target's host.
func Send(client *http.Client, req *http.Request) (Answer, error) {
	resp, err := client.Do(req)
	if err != nil {
		var be *outbound.BlockedError
		if errors.As(err, &be) {
			return Answer{}, fmt.Errorf("%w: %w", appapi.ErrUnreachable, be)
		}
		// net/http's text names the URL, which may hold a credential
		// (request_auth.query): only the kind of failure is kept.
		var ue *url.Error
		if errors.As(err, &ue) {
			if ue.Timeout() {
				return Answer{}, fmt.Errorf("%w: timed out", appapi.ErrUnreachable)
			}
			err = ue.Err
		}
		return Answer{}, fmt.Errorf("%w: %s", appapi.ErrUnreachable, outbound.Clip(err.Error()))
	}
	defer resp.Body.Close()
	if err := outbound.Redirect(resp); err != nil {
		return Answer{Status: resp.StatusCode}, err
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody))
	if err != nil {
		return Answer{}, fmt.Errorf("%w: reading the answer failed", appapi.ErrUnreachable)
	}
	return Answer{Status: resp.StatusCode, Body: asJSON(b)}, nil
}

// asJSON keeps a JSON answer as JSON and anything else as a JSON string.
func asJSON(b []byte) json.RawMessage {
	t := bytes.TrimSpace(b)
	if len(t) == 0 {
		return nil
	}
	if json.Valid(t) {
		return json.RawMessage(t)
	}
	s, _ := json.Marshal(string(b))
	return s
}

// Select picks the action's output out of a JSON answer: an object of
// the named pointers' values (null where a pointer finds nothing), or nil
// when the action selects nothing.
func Select(act *catalog.Action, body json.RawMessage) json.RawMessage {
	if len(act.Output) == 0 || len(body) == 0 {
		return nil
	}
	var doc any
	if json.Unmarshal(body, &doc) != nil {
		return nil
	}
	out := map[string]any{}
	for name, ptr := range act.Output {
		out[name], _ = catalog.Pointer(doc, ptr)
	}
	b, _ := json.Marshal(out)
	return b
}
