package connecting

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/latchkeyhq/latchkey/internal/catalog"
)

// returned is what the provider's callback brought: the code, and the
// other query parameters, of which the app may keep some.
type returned struct {
	Code  string            `json:"code"`
	Query map[string]string `json:"query,omitempty"`
}

// openReturned reads a held callback. A connection held before callbacks
// kept more than the code holds the bare code.
func openReturned(b []byte) returned {
	var r returned
	if len(b) > 0 && b[0] == '{' && json.Unmarshal(b, &r) == nil {
		return r
	}
	return returned{Code: string(b)}
}

// MissingFieldError: the callback lacked a parameter the app keeps, or
// brought one that could not be kept safely. Nothing is saved.
type MissingFieldError struct {
	Param string
	// Invalid: the parameter was there but not a plain value.
	Invalid bool
}

func (e *MissingFieldError) Error() string {
	if e.Invalid {
		return fmt.Sprintf("the provider's callback sent %s in a form Latchkey cannot use; nothing was saved", e.Param)
	}
	return fmt.Sprintf("the provider's callback did not include %s; nothing was saved; connect again", e.Param)
}

// callbackFields picks the app's callback_fields from the callback's query.
// Each value may go into a URL's host or path, so it must be a plain one.
func callbackFields(app *catalog.App, query map[string]string) (map[string]string, error) {
	if app.OAuth2 == nil || len(app.OAuth2.CallbackFields) == 0 {
		return nil, nil
	}
	names := make([]string, 0, len(app.OAuth2.CallbackFields))
	for name := range app.OAuth2.CallbackFields {
		names = append(names, name)
	}
	sort.Strings(names)
	kept := map[string]string{}
	for _, name := range names {
		param := app.OAuth2.CallbackFields[name]
		v, ok := query[param]
		if !ok || v == "" {
			return nil, &MissingFieldError{Param: param}
		}
		if !catalog.SafeValue.MatchString(v) {
			return nil, &MissingFieldError{Param: param, Invalid: true}
		}
		kept[name] = v
	}
	return kept, nil
}
