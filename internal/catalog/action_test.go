package catalog_test

import (
	"strings"
	"testing"

	"github.com/latchkeyhq/latchkey/internal/catalog"
)

// withAction is goodKeys with one action; each lint case breaks one rule.
const withAction = goodKeys + `actions:
  - name: send_note
    description: Send a note.
    docs_url: https://docs.acme.example/notes
    input:
      type: object
      required: [list, text]
      properties:
        list:
          type: string
          description: The list.
        text:
          type: string
          description: The note.
        urgent:
          type: boolean
          description: Flag it.
    request:
      method: POST
      path: /lists/{list}/notes
      query:
        region: '{region}'
      body:
        text: '{text}'
        urgent: '{urgent}'
    output:
      id: /id
`

func TestActionLint(t *testing.T) {
	tests := []struct {
		name, from, to, want string
	}{
		{"valid", "", "", ""},
		{"name not snake_case", "name: send_note", "name: SendNote", `actions.SendNote.name: "SendNote" must be snake_case`},
		{"no description", "    description: Send a note.\n", "", "actions.send_note.description: is required"},
		{"no docs_url", "    docs_url: https://docs.acme.example/notes\n", "", "actions.send_note.docs_url: is required"},
		{"docs_url not https", "https://docs.acme.example/notes", "http://docs.acme.example/notes", "actions.send_note.docs_url"},
		{"bad method", "method: POST", "method: FETCH", `request.method: "FETCH" must be one of`},
		{"absolute path", "path: /lists/{list}/notes", "path: https://evil.example/x", "request.path"},
		{"path climbs", "path: /lists/{list}/notes", "path: /lists/../admin", "request.path"},
		{"query in path", "path: /lists/{list}/notes", "path: /lists/{list}/notes?x=1", "request.path"},
		{"template field not in schema", "text: '{text}'", "text: '{body}'", "request.body: names {body}, which is neither an input property"},
		{"secret named", "text: '{text}'", "text: '{api_key}'", "request.body: names {api_key}"},
		{"optional input in path", "path: /lists/{list}/notes", "path: /lists/{list}/notes/{urgent}", "names {urgent}, which the input does not require"},
		{"required not a property", "required: [list, text]", "required: [list, text, colour]", `required names "colour"`},
		{"input unused", "        urgent: '{urgent}'\n", "", "input.properties.urgent: is used nowhere"},
		{"not an object", "      type: object\n      required", "      type: array\n      required", "type must be object"},
		{"schema broken", "          type: boolean", "          type: flag", "input"},
		{"ref not allowed", "          type: boolean", "          $ref: '#/$defs/x'", "input"},
		{"property without description", "          description: Flag it.\n", "", "properties.urgent.description is required"},
		{"credentials header", "    output:", "      headers:\n        Authorization: x\n    output:", "credentials are put on the request by the app's request_auth"},
		{"body on GET", "method: POST", "method: GET", "request.body: a GET request has no body"},
		{"bad pointer", "id: /id", "id: id", "output.id"},
		{"input named like a field", "        list:\n", "        region:\n", "has the name of the account's field {region}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := strings.Replace(withAction, tt.from, tt.to, 1)
			if tt.from != "" && src == withAction {
				t.Fatalf("the edit %q changed nothing", tt.from)
			}
			_, err := catalog.Parse([]byte(src))
			if tt.want == "" {
				if err != nil {
					t.Fatalf("a valid action was refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestInputCheckListsEveryProblem(t *testing.T) {
	app, err := catalog.Parse([]byte(strings.Replace(withAction, "      required: [list, text]\n", "      required: [list, text]\n      additionalProperties: false\n", 1)))
	if err != nil {
		t.Fatal(err)
	}
	act, _ := app.Action("send_note")
	problems := act.Input.Check(map[string]any{"text": 42.0, "colour": "red"})
	got := map[string]string{}
	for _, p := range problems {
		got[p.Field] = p.Message
	}
	for _, field := range []string{"list", "text", "colour"} {
		if got[field] == "" {
			t.Errorf("no problem named %s; got %v", field, problems)
		}
	}
	if p := act.Input.Check(map[string]any{"list": "a", "text": "b"}); len(p) != 0 {
		t.Errorf("a good input has problems: %v", p)
	}
}
