package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
)

// Action is a prebuilt request to an app's API, from the catalog.
type Action struct {
	// Ref is "app.action", the name to run it by.
	Ref         string `json:"ref"`
	App         string `json:"app"`
	AppName     string `json:"app_name"`
	Name        string `json:"name"`
	Description string `json:"description"`
	DocsURL     string `json:"docs_url"`
	// Input is the action's input JSON Schema.
	Input json.RawMessage `json:"input"`
	// Method and Path say what the action calls (Path under the app's
	// base URL, with {inputs} in braces).
	Method string `json:"method"`
	Path   string `json:"path"`
	// Output names what the result's output picks out of the answer
	// (JSON Pointers).
	Output map[string]string `json:"output,omitempty"`
}

// RunAction is a request to run an action.
type RunAction struct {
	AccountID string          `json:"account_id"`
	Input     json.RawMessage `json:"input,omitempty"`
}

// ActionResult is what running an action did: the provider's status and
// body, with every credential value masked.
type ActionResult struct {
	Action    string          `json:"action"`
	AccountID string          `json:"account_id"`
	Status    int             `json:"status"`
	Body      json.RawMessage `json:"body"`
	// Output is the action's selection from the body, when it has one.
	Output json.RawMessage `json:"output,omitempty"`
	// CredentialsRefused: the app answered 401 or 403, or refused the
	// credentials in a 2xx body (Slack's "ok": false, "error":
	// "invalid_auth"). Latchkey checked the account again; AccountStatus
	// is its status after that, and ReconnectPath says where to POST to
	// reconnect it.
	CredentialsRefused bool   `json:"credentials_refused,omitempty"`
	AccountStatus      string `json:"account_status,omitempty"`
	ReconnectPath      string `json:"reconnect_path,omitempty"`
	// Failed: the app answered 2xx, but its body says the request failed;
	// ProviderError is the app's error code, when it gives one.
	Failed        bool   `json:"failed,omitempty"`
	ProviderError string `json:"provider_error,omitempty"`
	DurationMS    int64  `json:"duration_ms"`
}

// ListActions lists the catalog's actions; app, when set, keeps one app's.
func (c *Client) ListActions(ctx context.Context, app string) ([]Action, error) {
	var q url.Values
	if app != "" {
		q = url.Values{"app": {app}}
	}
	var out struct {
		Data []Action `json:"data"`
	}
	return out.Data, c.do(ctx, http.MethodGet, "/v1/actions", q, nil, &out)
}

// GetAction returns one action by its "app.action" name.
func (c *Client) GetAction(ctx context.Context, ref string) (Action, error) {
	var a Action
	return a, c.do(ctx, http.MethodGet, "/v1/actions/"+url.PathEscape(ref), nil, nil, &a)
}

// RunAction runs an action with an account. A bad input is a *Problem
// whose Problems list what is wrong; nothing was sent.
func (c *Client) RunAction(ctx context.Context, ref string, in RunAction) (ActionResult, error) {
	var r ActionResult
	return r, c.do(ctx, http.MethodPost, "/v1/actions/"+url.PathEscape(ref)+"/run", nil, in, &r)
}
