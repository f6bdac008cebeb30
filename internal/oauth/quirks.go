package oauth

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/latchkeyhq/latchkey/internal/catalog"
)

// maxTokenBody caps what is read of a token response, as x/oauth2 does.
const maxTokenBody = 1 << 20

// quirks adapts token requests and responses to what x/oauth2 speaks, as
// the app's catalog entry says: extra headers and refresh parameters, a
// JSON request body, a token nested in the response, and errors reported
// with a 200 status (Slack's {"ok": false}).
type quirks struct {
	next          http.RoundTripper
	app           *catalog.OAuth2
	refreshParams map[string]string
}

func (q *quirks) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	for k, v := range q.app.TokenHeaders {
		req.Header.Set(k, v)
	}
	if req.Body != nil && (len(q.refreshParams) > 0 || q.app.TokenBody == "json" || q.app.ClientIDParam != "") {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		form, err := url.ParseQuery(string(b))
		if err != nil {
			return nil, err
		}
		if form.Get("grant_type") == "refresh_token" {
			for k, v := range q.refreshParams {
				form.Set(k, v)
			}
		}
		if p := q.app.ClientIDParam; p != "" && form.Has("client_id") {
			form[p] = form["client_id"]
			form.Del("client_id")
		}
		body := []byte(form.Encode())
		if q.app.TokenBody == "json" {
			obj := map[string]string{}
			for k := range form {
				obj[k] = form.Get(k)
			}
			body, _ = json.Marshal(obj)
			req.Header.Set("Content-Type", "application/json")
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.ContentLength = int64(len(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	resp, err := q.next.RoundTrip(req)
	if err != nil || !isJSON(resp) {
		return resp, err
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenBody))
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	b, status := q.reshape(b, resp.StatusCode)
	resp.StatusCode = status
	resp.Status = strconv.Itoa(status) + " " + http.StatusText(status)
	resp.Body = io.NopCloser(bytes.NewReader(b))
	resp.ContentLength = int64(len(b))
	resp.Header.Del("Content-Length")
	return resp, nil
}

func isJSON(resp *http.Response) bool {
	return strings.Contains(resp.Header.Get("Content-Type"), "json")
}

// reshape lifts a nested token to the top and turns a 200 that reports an
// error into a 400, so that x/oauth2 reads both as the standard shapes.
func (q *quirks) reshape(b []byte, status int) ([]byte, int) {
	var doc map[string]any
	if json.Unmarshal(b, &doc) != nil {
		return b, status
	}
	if ok, present := doc["ok"].(bool); present && !ok && status < 300 {
		if _, has := doc["error"]; has {
			return b, http.StatusBadRequest
		}
	}
	if q.app.TokenPath == "" || status >= 300 {
		return b, status
	}
	nested, ok := lookupObject(doc, q.app.TokenPath)
	if !ok {
		return b, status
	}
	for k, v := range nested {
		doc[k] = v
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return b, status
	}
	return out, status
}

// lookupObject follows a dot path ("authed_user", "data.0") to an object.
func lookupObject(doc any, path string) (map[string]any, bool) {
	v, _ := lookupValue(doc, path)
	m, ok := v.(map[string]any)
	return m, ok
}

// lookupValue follows a dot path through objects and arrays.
func lookupValue(doc any, path string) (any, bool) {
	cur := doc
	for _, part := range strings.Split(path, ".") {
		switch node := cur.(type) {
		case map[string]any:
			v, ok := node[part]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(node) {
				return nil, false
			}
			cur = node[i]
		default:
			return nil, false
		}
	}
	return cur, true
}
