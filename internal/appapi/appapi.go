// Package appapi makes requests to an app's API with an account's
// credentials, driven by the app's catalog entry: it puts the credentials
// where the app wants them, runs the keys test request and the identity
// request, and builds the account's label from the answer.
package appapi

import (
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

	"github.com/latchkeyhq/latchkey/internal/catalog"
	"github.com/latchkeyhq/latchkey/internal/oauth"
	"github.com/latchkeyhq/latchkey/internal/outbound"
	"github.com/latchkeyhq/latchkey/internal/secret"
)

// MaxBody caps what is read of a provider's answer.
const MaxBody = 1 << 20

// Values are an account's credentials and connection fields by name, as
// catalog templates refer to them.
type Values map[string]string

// ConsumerSecretKey holds an OAuth 1.0a app's consumer secret in the
// Values of a request Latchkey makes itself, which it signs with it. It
// is no field name, so no template can name it, and the values handed to
// code never hold it (see Public).
const ConsumerSecretKey = "\x00consumer_secret"

// Public is v without what only signs requests: the values code may see.
func (v Values) Public() Values {
	if _, ok := v[ConsumerSecretKey]; !ok {
		return v
	}
	out := make(Values, len(v))
	for k, x := range v {
		if k != ConsumerSecretKey {
			out[k] = x
		}
	}
	return out
}

// ResolveURL turns a probe URL (a path under the base URL, or an absolute
// template) into a request URL.
func ResolveURL(app *catalog.App, raw string, v Values) (string, error) {
	if strings.HasPrefix(raw, "/") {
		base, err := catalog.Expand(app.BaseURL, catalog.MapLookup(v))
		if err != nil {
			return "", fmt.Errorf("base_url: %w", err)
		}
		raw = strings.TrimSuffix(base, "/") + raw
	}
	// Values in a URL are pattern-checked fields or provider-given origins;
	// escape nothing so that {instance_url} keeps its slashes.
	u, err := catalog.Expand(raw, catalog.MapLookup(v))
	if err != nil {
		return "", err
	}
	if _, err := url.Parse(u); err != nil {
		return "", fmt.Errorf("request URL does not parse")
	}
	return u, nil
}

// Authorize puts the app's headers and the account's credentials on req.
// An OAuth 1.0a request is signed over its URL and form body, so Authorize
// comes after they are final.
func Authorize(req *http.Request, app *catalog.App, v Values) error {
	lookup := catalog.MapLookup(v)
	for k, tpl := range app.Headers {
		val, err := catalog.Expand(tpl, lookup)
		if err != nil {
			return fmt.Errorf("header %s: %w", k, err)
		}
		req.Header.Set(k, val)
	}
	if app.Auth == catalog.AuthOAuth1 {
		sec, ok := v[ConsumerSecretKey]
		if !ok {
			return errors.New("request_auth: an OAuth 1.0a request needs the consumer secret to be signed")
		}
		consumer := oauth.Client{ID: v[catalog.ConsumerKeyField], Secret: secret.New(sec)}
		if err := oauth.Sign1(req, consumer, v[catalog.OAuth1TokenField], v[catalog.OAuth1TokenSecretField]); err != nil {
			return fmt.Errorf("request_auth: %w", err)
		}
		return nil
	}
	ra := app.RequestAuth
	if ra == nil && app.HasAccessToken() {
		ra = &catalog.RequestAuth{Header: "Authorization", Value: "Bearer {" + catalog.AccessTokenField + "}"}
	}
	if ra == nil {
		return nil
	}
	switch {
	case ra.Header != "":
		val, err := catalog.Expand(ra.Value, lookup)
		if err != nil {
			return fmt.Errorf("request_auth: %w", err)
		}
		req.Header.Set(ra.Header, val)
	case ra.Basic != nil:
		user, err := catalog.Expand(ra.Basic.Username, lookup)
		if err != nil {
			return fmt.Errorf("request_auth: %w", err)
		}
		pass, err := catalog.Expand(ra.Basic.Password, lookup)
		if err != nil {
			return fmt.Errorf("request_auth: %w", err)
		}
		req.SetBasicAuth(user, pass)
	case len(ra.Query) > 0:
		q := req.URL.Query()
		for k, tpl := range ra.Query {
			val, err := catalog.Expand(tpl, lookup)
			if err != nil {
				return fmt.Errorf("request_auth: %w", err)
			}
			q.Set(k, val)
		}
		req.URL.RawQuery = q.Encode()
	}
	return nil
}

// StatusError is a provider's refusal: a status outside 2xx, or a 2xx
// answer whose body says it failed (the app's refusal rule).
type StatusError struct {
	Status int
	// Message is the provider's own error text where its JSON has one
	// (its error code, for a refusal in the body), with any credential
	// value blanked out, clipped.
	Message string
	// InBody: the status was 2xx and the body said no. AuthInBody: what
	// it said is that the credentials were refused.
	InBody, AuthInBody bool
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("the provider answered %d %s", e.Status, http.StatusText(e.Status))
	switch {
	case e.AuthInBody:
		msg += " but refused the credentials"
	case e.InBody:
		msg += " but said the request failed"
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// CredentialsRefused reports whether the provider refused the
// credentials: a 401 or 403, or a refusal of them in a 2xx body.
func (e *StatusError) CredentialsRefused() bool {
	return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden || e.AuthInBody
}

// ErrUnreachable wraps network failures and time-outs.
var ErrUnreachable = errors.New("the provider could not be reached")

// Probe runs a test or identity request and returns the body of a 2xx
// answer. A redirect is an *outbound.RedirectError (it is not followed);
// another non-2xx answer, or a 2xx one the app's refusal rule calls a
// refusal, is a *StatusError.
func Probe(ctx context.Context, client *http.Client, app *catalog.App, p *catalog.Probe, v Values) ([]byte, error) {
	u, err := ResolveURL(app, p.URL, v)
	if err != nil {
		return nil, err
	}
	method := p.Method
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if p.Body != "" {
		b, err := catalog.Expand(p.Body, catalog.MapLookup(v))
		if err != nil {
			return nil, fmt.Errorf("body: %w", err)
		}
		body = strings.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "Latchkey")
	if trimmed := strings.TrimSpace(p.Body); strings.HasPrefix(trimmed, "{") || strings.HasPrefix(trimmed, "[") {
		req.Header.Set("Content-Type", "application/json")
	}
	if err := Authorize(req, app, v); err != nil {
		return nil, err
	}
	for k, tpl := range p.Headers {
		val, err := catalog.Expand(tpl, catalog.MapLookup(v))
		if err != nil {
			return nil, fmt.Errorf("header %s: %w", k, err)
		}
		req.Header.Set(k, val)
	}
	resp, err := client.Do(req)
	if err != nil {
		// A refused address is said as such, and stays testable.
		var be *outbound.BlockedError
		if errors.As(err, &be) {
			return nil, fmt.Errorf("%w: %w", ErrUnreachable, be)
		}
		// The error text of net/http names the URL, which may hold a
		// secret (request_auth.query); keep only the kind of failure.
		// Clipped: a malformed answer is quoted in the error.
		return nil, fmt.Errorf("%w: %s", ErrUnreachable, outbound.Clip(failureKind(err)))
	}
	defer resp.Body.Close()
	if err := outbound.Redirect(resp); err != nil {
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody))
	if err != nil {
		return nil, fmt.Errorf("%w: reading the answer: %s", ErrUnreachable, outbound.Clip(failureKind(err)))
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		// Scrub before clipping, so that no part of a cut secret is left.
		return nil, &StatusError{Status: resp.StatusCode, Message: outbound.Clip(scrub(providerMessage(b), v))}
	}
	if r, ok := BodyRefusal(app, resp.StatusCode, b); ok {
		msg := r.Code
		if msg == "" {
			msg = providerMessage(b)
		}
		return nil, &StatusError{Status: resp.StatusCode, Message: outbound.Clip(scrub(msg, v)), InBody: true, AuthInBody: r.Auth}
	}
	return b, nil
}

func failureKind(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return "timed out"
		}
		err = ue.Err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timed out"
	}
	if errors.Is(err, context.Canceled) {
		return "canceled"
	}
	return err.Error()
}

// providerMessage pulls a short error text out of common JSON error shapes.
func providerMessage(b []byte) string {
	var doc any
	if json.Unmarshal(b, &doc) != nil {
		return ""
	}
	for _, path := range []string{"error.message", "error_description", "message", "errors.0.message", "error", "detail", "title"} {
		if s, ok := Lookup(doc, path); ok && s != "" {
			return s
		}
	}
	return ""
}

// Scrub blanks any credential value in s, for text a provider sent back
// that Latchkey passes on (the proxy's answer headers).
func Scrub(s string, v Values) string { return scrub(s, v) }

// scrub blanks any credential value that a provider echoed back.
func scrub(s string, v Values) string {
	for _, val := range v {
		if len(val) >= 6 {
			s = strings.ReplaceAll(s, val, "[redacted]")
		}
	}
	return s
}

// Lookup follows a dot path ("user.email", "data.0.id") into decoded JSON
// and returns the value as text. Objects and arrays are not text.
func Lookup(doc any, path string) (string, bool) {
	cur := doc
	for _, part := range strings.Split(path, ".") {
		switch node := cur.(type) {
		case map[string]any:
			v, ok := node[part]
			if !ok {
				return "", false
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(node) {
				return "", false
			}
			cur = node[i]
		default:
			return "", false
		}
	}
	switch v := cur.(type) {
	case string:
		return v, true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	case bool:
		return strconv.FormatBool(v), true
	default:
		return "", false
	}
}

// A label path may start with a digit, for answers that are JSON arrays.
var labelRE = regexp.MustCompile(`\{([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*)\}`)

// Label builds an account label from an identity answer. Paths the answer
// lacks read as empty; a label that comes out blank is "".
func Label(tpl string, body []byte) string {
	var doc any
	if json.Unmarshal(body, &doc) != nil {
		return ""
	}
	out := labelRE.ReplaceAllStringFunc(tpl, func(m string) string {
		v, _ := Lookup(doc, m[1:len(m)-1])
		return v
	})
	out = strings.Join(strings.Fields(out), " ")
	// A template such as "{user} on {team}" with nothing found leaves only
	// its glue words; count it as blank when no value was filled in.
	if !labelRE.MatchString(tpl) || out == strings.Join(strings.Fields(labelRE.ReplaceAllString(tpl, "")), " ") {
		return ""
	}
	return outbound.Clip(out)
}

// Identify runs the app's identity request, if it has one, and returns the
// label. No identity request gives "".
func Identify(ctx context.Context, client *http.Client, app *catalog.App, v Values) (string, error) {
	if app.Identity == nil {
		return "", nil
	}
	b, err := Probe(ctx, client, app, app.Identity, v)
	if err != nil {
		return "", err
	}
	return Label(app.Identity.Label, b), nil
}

// EnvName is the environment variable that carries one credential of an
// app to a command: LATCHKEY_<APP>_<FIELD>.
// A kept dot path (installation.id) reads as INSTALLATION_ID.
func EnvName(app, field string) string {
	return "LATCHKEY_" + strings.ToUpper(app) + "_" + strings.ToUpper(strings.ReplaceAll(field, ".", "_"))
}
