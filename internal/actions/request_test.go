package actions_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/latchkeyhq/latchkey/internal/actions"
	"github.com/latchkeyhq/latchkey/internal/appapi"
	"github.com/latchkeyhq/latchkey/internal/catalog"
)

const injectable = `
slug: acme
name: Acme
categories: [crm]
docs_url: https://docs.acme.example/auth
auth: keys
base_url: https://api.acme.example/v1
fields:
  - name: api_key
    label: API key
    secret: true
request_auth:
  header: Authorization
  value: Bearer {api_key}
actions:
  - name: add_note
    description: Add a note.
    docs_url: https://docs.acme.example/notes
    input:
      type: object
      required: [list, text]
      properties:
        list: {type: string, description: The list.}
        text: {type: string, description: The note.}
        tags: {type: array, description: Tags., items: {type: string}}
        note_id: {type: string, description: A query value.}
    request:
      method: POST
      path: /lists/{list}/notes
      query:
        id: '{note_id}'
      body:
        text: '{text}'
        summary: 'note: {text}'
        tags: '{tags}'
`

// TestTemplateCannotInject: an input value stays one path segment, one
// query value and one JSON value, whatever it holds.
func TestTemplateCannotInject(t *testing.T) {
	app, err := catalog.Parse([]byte(injectable))
	if err != nil {
		t.Fatal(err)
	}
	act, _ := app.Action("add_note")
	values := appapi.Values{"api_key": "k-123456789"}
	build := func(in string) (string, string, string, error) {
		input, err := actions.CheckInput(act, json.RawMessage(in))
		if err != nil {
			return "", "", "", err
		}
		req, err := actions.Build(context.Background(), app, act, input, values)
		if err != nil {
			return "", "", "", err
		}
		b, _ := io.ReadAll(req.Body)
		return req.URL.EscapedPath(), req.URL.RawQuery, string(b), nil
	}
	path, query, body, err := build(`{"list":"a/../../admin?x=1#f","text":"\",\"admin\":true,\"x\":\"{api_key}","note_id":"1&admin=true"}`)
	if err != nil {
		t.Fatal(err)
	}
	if path != "/v1/lists/a%2F..%2F..%2Fadmin%3Fx=1%23f/notes" {
		t.Errorf("path %s: the value left its segment", path)
	}
	if query != "id=1%26admin%3Dtrue" {
		t.Errorf("query %s: the value made a parameter", query)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatalf("body %s is not JSON", body)
	}
	if len(doc) != 2 || doc["text"] != `","admin":true,"x":"{api_key}` || strings.Contains(body, "k-123456789") {
		t.Errorf("body %s: the value escaped its string, or a credential was filled in", body)
	}
	if doc["summary"] != `note: ","admin":true,"x":"{api_key}` {
		t.Errorf("summary %v: the value was not kept as text", doc["summary"])
	}
	for _, seg := range []string{`"."`, `".."`, `""`} {
		_, _, _, err := build(`{"list":` + seg + `,"text":"x"}`)
		var ie *actions.InputError
		if !errors.As(err, &ie) {
			t.Errorf("list %s: %v, want an input error", seg, err)
		}
	}
	// Absent optional inputs are left out; a list stays a list.
	_, query, body, err = build(`{"list":"l","text":"t","tags":["a","b"]}`)
	if err != nil || query != "" || body != `{"summary":"note: t","tags":["a","b"],"text":"t"}` {
		t.Errorf("query %q body %s err %v", query, body, err)
	}
}
