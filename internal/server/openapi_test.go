package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
)

// anyMethod is what the document lists for a route that takes any method.
var anyMethod = []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}

// fetchOpenAPI gets the document as a client would, from the server.
func fetchOpenAPI(t *testing.T, base string) []byte {
	t.Helper()
	resp, err := http.Get(base + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /openapi.json: %d %s %v", resp.StatusCode, resp.Header.Get("Content-Type"), err)
	}
	return raw
}

// The document and the API mux agree: every registered route is in the
// document with its method, and the document names no route the server
// does not serve.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	f := start(t, servertest.Backends[0])
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(fetchOpenAPI(t, f.URL), &doc); err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for path, item := range doc.Paths {
		for key := range item {
			if m := strings.ToUpper(key); slices.Contains(anyMethod, m) {
				documented[m+" "+path] = true
			}
		}
	}
	served := map[string]bool{}
	for _, pattern := range f.APIRoutes() {
		method, path, found := strings.Cut(pattern, " ")
		if !found {
			method, path = "", pattern
		}
		// OpenAPI has no "rest of the path" wildcard; the document says
		// in words that {path} takes slashes.
		path = strings.ReplaceAll(path, "...}", "}")
		methods := []string{method}
		if method == "" {
			methods = anyMethod
		}
		for _, m := range methods {
			served[m+" "+path] = true
			if !documented[m+" "+path] {
				t.Errorf("the route %s is not in the document as %s %s", pattern, m, path)
			}
		}
	}
	for op := range documented {
		if !served[op] {
			t.Errorf("the document has %s, which the server does not serve", op)
		}
	}
	if len(served) < 60 {
		t.Fatalf("only %d routes served: the route list is not what this test thinks", len(served))
	}
}

// Real answers of a running server match the schemas the document gives
// them, problems included, on each backend; and an answer that breaks its
// schema is caught.
func TestOpenAPIResponsesMatch(t *testing.T) {
	forEachBackend(t, responsesMatch)
}

func responsesMatch(t *testing.T, b servertest.Backend) {
	f := start(t, b)
	ctx := context.Background()
	doc, err := libopenapi.NewDocument(fetchOpenAPI(t, f.URL))
	if err != nil {
		t.Fatal(err)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	acc := sendgrid(t, f.api, "main")
	wf, err := f.api.CreateWorkflow(ctx, client.SaveWorkflow{Name: "send", Steps: []client.WorkflowStep{{Key: "send", Kind: "code", Apps: []string{"sendgrid"}, Code: "return 1"}}})
	if err != nil {
		t.Fatal(err)
	}

	rows := []struct {
		method, path, body string
		status             int
	}{
		{"GET", "/v1/me", "", 200},
		{"GET", "/v1/apps?limit=3", "", 200},
		{"GET", "/v1/apps/sendgrid", "", 200},
		{"GET", "/v1/apps?auth=smoke-signals", "", 422},
		{"GET", "/v1/categories", "", 200},
		{"GET", "/v1/accounts", "", 200},
		{"GET", "/v1/accounts/" + acc.ID, "", 200},
		{"GET", "/v1/accounts/" + noSuch, "", 404},
		{"GET", "/v1/accounts/" + acc.ID + "/events", "", 200},
		{"GET", "/v1/accounts/" + acc.ID + "/workflows", "", 200},
		{"PATCH", "/v1/accounts/" + acc.ID, `{"nickname":"renamed"}`, 200},
		{"POST", "/v1/accounts", `{"app":"sendgrid","fields":{}}`, 422},
		{"POST", "/v1/accounts", `{"app":`, 400},
		{"GET", "/v1/accounts/" + acc.ID + "/credentials", "", 200},
		{"PUT", "/v1/accounts/" + acc.ID + "/sharing", `{"workspace":true}`, 200},
		{"GET", "/v1/workflows", "", 200},
		{"GET", "/v1/workflows/" + wf.ID, "", 200},
		{"PUT", "/v1/workflows/" + wf.ID + "/steps/send/accounts/sendgrid", `{"account_id":"` + acc.ID + `"}`, 200},
		{"GET", "/v1/workflows/" + wf.ID + "/runs", "", 200},
		{"GET", "/v1/custom-apps", "", 200},
		{"GET", "/v1/app-requests", "", 200},
		{"GET", "/v1/workspaces", "", 200},
		{"POST", "/v1/workflows", `{"name":""}`, 422},
		{"GET", "/v1/tokens", "", 200},
		{"POST", "/v1/tokens", `{"name":"ci","scopes":["accounts:read"]}`, 201},
		{"GET", "/v1/members", "", 200},
		{"GET", "/v1/invitations", "", 200},
		{"GET", "/v1/audit", "", 200},
		{"GET", "/v1/oauth-clients", "", 200},
		{"GET", "/v1/webhooks", "", 200},
		{"GET", "/v1/actions?app=slack", "", 200},
		{"GET", "/v1/actions/slack.post_message", "", 200},
		{"POST", "/v1/connect-tokens", `{"external_user_id":"customer-42"}`, 201},
		{"GET", "/v1/end-users/customer-42", "", 404},
	}
	for _, row := range rows {
		req, resp, body := do(t, f.URL, f.Token, row.method, row.path, row.body)
		if resp.StatusCode != row.status {
			t.Errorf("%s %s: %d, want %d: %.200s", row.method, row.path, resp.StatusCode, row.status, body)
			continue
		}
		if ok, verrs := v.ValidateHttpResponse(req, resp); !ok {
			for _, e := range verrs {
				t.Errorf("%s %s: %s: %s", row.method, row.path, e.Message, e.Reason)
				for _, s := range e.SchemaValidationErrors {
					t.Errorf("  at %s: %s", s.FieldPath, s.Reason)
				}
			}
		}
	}

	// The same check refuses an account without its status, and a problem
	// whose type the document does not list.
	broken := []struct{ path, from, to string }{
		{"/v1/accounts", `"status":"healthy",`, ""},
		{"/v1/accounts/" + noSuch, `urn:latchkey:problem:not-found`, `urn:latchkey:problem:lost`},
	}
	for _, b := range broken {
		req, resp, body := do(t, f.URL, f.Token, "GET", b.path, "")
		if !strings.Contains(body, b.from) {
			t.Fatalf("GET %s: %q is not in %.200s", b.path, b.from, body)
		}
		resp.Body = io.NopCloser(strings.NewReader(strings.Replace(body, b.from, b.to, 1)))
		if ok, _ := v.ValidateHttpResponse(req, resp); ok {
			t.Errorf("GET %s with %q made %q: the validator let it pass", b.path, b.from, b.to)
		}
	}
}

// do sends one request and returns it with its answer, whose body is read
// and put back for the validator.
func do(t *testing.T, base, token, method, path, body string) (*http.Request, *http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(raw))
	return req, resp, string(raw)
}

// The document is cached as a logo is: a repeat with its ETag is a 304.
func TestOpenAPICaching(t *testing.T) {
	f := start(t, servertest.Backends[0])
	resp, err := http.Get(f.URL + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	etag := resp.Header.Get("ETag")
	if etag == "" || !strings.HasPrefix(resp.Header.Get("Cache-Control"), "public") {
		t.Fatalf("ETag %q, Cache-Control %q", etag, resp.Header.Get("Cache-Control"))
	}
	req, _ := http.NewRequest("GET", f.URL+"/openapi.json", nil)
	req.Header.Set("If-None-Match", etag)
	again, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	again.Body.Close()
	if again.StatusCode != http.StatusNotModified {
		t.Errorf("with If-None-Match: %d, want 304", again.StatusCode)
	}
}
