package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/latchkeyhq/latchkey/internal/accounts"
	"github.com/latchkeyhq/latchkey/internal/appapi"
	"github.com/latchkeyhq/latchkey/internal/catalog"
	"github.com/latchkeyhq/latchkey/internal/oauth"
)

// fieldError is an error as a key form shows it beside its fields: said
// once, in plain words, and naming the field to fix.
type fieldError struct {
	Message string
	// Field is the app field at fault ("api_key"), or "nickname"; the
	// form marks it and puts the cursor there. Empty: none in particular.
	Field string
}

// keyFormError says why a key-based app's form was refused. A refused
// test request ("the credentials test failed: the provider answered 401
// ...") becomes one sentence naming the app, and the fault is the first
// secret field, since a wrong secret is what a refusal almost always
// means.
func keyFormError(err error, e webError, app *catalog.App) fieldError {
	if ve, ok := errors.AsType[*accounts.ValidationError](err); ok {
		return fieldError{Message: ve.Message, Field: faultField(ve.Field)}
	}
	if e.ProviderStatus == 0 {
		return fieldError{Message: e.Message}
	}
	return fieldError{
		Message: app.Name + " refused these credentials (" + answerOf(e.ProviderStatus, err) + "). Nothing was saved; check them and try again.",
		Field:   secretField(app),
	}
}

// answerOf is a refused test request's answer in a few words:
// 401 Unauthorized, “authorization required”.
func answerOf(status int, err error) string {
	answer := strconv.Itoa(status) + " " + http.StatusText(status)
	if text := providerText(err); text != "" {
		answer += `, “` + text + `”`
	}
	return answer
}

// providerText is the provider's own words about a refusal, already
// clipped and scrubbed by the layer that read them.
func providerText(err error) string {
	if se, ok := errors.AsType[*appapi.StatusError](err); ok {
		return strings.TrimSpace(se.Message)
	}
	if oe, ok := errors.AsType[*oauth.Error](err); ok {
		return strings.TrimSpace(strings.Join(nonEmpty(oe.Code, oe.Description), ": "))
	}
	return ""
}

func nonEmpty(s ...string) []string {
	var out []string
	for _, v := range s {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

// faultField maps a validation error's field ("fields.api_key",
// "nickname") to the form's.
func faultField(field string) string {
	if name, ok := strings.CutPrefix(field, "fields."); ok {
		return name
	}
	if field == "nickname" {
		return field
	}
	return ""
}

// secretField is the app's first secret field, else its first field.
func secretField(app *catalog.App) string {
	for _, f := range app.Fields {
		if f.Secret {
			return f.Name
		}
	}
	if len(app.Fields) > 0 {
		return app.Fields[0].Name
	}
	return ""
}
