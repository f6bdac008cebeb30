package workflows

import (
	"encoding/json"
	"fmt"
)

// The database keeps steps and step results in this package's own JSON,
// not the public client's, so that either can change without the other
// (and without a migration). The names are those the rows written before
// this split carry: the client's JSON of the time. Change them only with
// a migration of the rows.

// storedStep is a step as the database keeps it.
type storedStep struct {
	Key            string            `json:"key"`
	Name           string            `json:"name,omitempty"`
	Kind           string            `json:"kind"`
	Apps           []string          `json:"apps,omitempty"`
	Accounts       map[string]string `json:"accounts,omitempty"`
	Code           string            `json:"code,omitempty"`
	Command        []string          `json:"command,omitempty"`
	HTTP           *storedHTTP       `json:"http,omitempty"`
	Action         string            `json:"action,omitempty"`
	Input          json.RawMessage   `json:"input,omitempty"`
	Env            map[string]string `json:"env,omitempty"`
	TimeoutSeconds int               `json:"timeout_seconds,omitempty"`
}

type storedHTTP struct {
	App     string            `json:"app"`
	Method  string            `json:"method,omitempty"`
	Path    string            `json:"path,omitempty"`
	URL     string            `json:"url,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    json.RawMessage   `json:"body,omitempty"`
}

// storedResult is a step result as the database keeps it. Older rows also
// carry "reconnect_path", a route the surfaces now derive from the account
// id; it is ignored.
type storedResult struct {
	Key           string                     `json:"key"`
	Name          string                     `json:"name,omitempty"`
	Kind          string                     `json:"kind"`
	Status        string                     `json:"status"`
	Result        json.RawMessage            `json:"result,omitempty"`
	Exports       map[string]json.RawMessage `json:"exports,omitempty"`
	Logs          string                     `json:"logs,omitempty"`
	Error         string                     `json:"error,omitempty"`
	ErrorKind     string                     `json:"error_kind,omitempty"`
	AccountID     string                     `json:"account_id,omitempty"`
	AccountStatus string                     `json:"account_status,omitempty"`
	DurationMS    int64                      `json:"duration_ms"`
}

func encodeSteps(steps []Step) ([]byte, error) {
	out := make([]storedStep, len(steps))
	for i, st := range steps {
		out[i] = storedStep{Key: st.Key, Name: st.Name, Kind: st.Kind, Apps: st.Apps, Accounts: st.Accounts,
			Code: st.Code, Command: st.Command, Action: st.Action, Input: st.Input, Env: st.Env, TimeoutSeconds: st.TimeoutSeconds}
		if h := st.HTTP; h != nil {
			out[i].HTTP = &storedHTTP{App: h.App, Method: h.Method, Path: h.Path, URL: h.URL, Headers: h.Headers, Body: h.Body}
		}
	}
	return json.Marshal(out)
}

// decodeSteps returns fresh steps: nothing in them is shared with another
// caller's, so a caller may change them.
func decodeSteps(b []byte) ([]Step, error) {
	var in []storedStep
	if err := json.Unmarshal(b, &in); err != nil {
		return nil, fmt.Errorf("steps: %w", err)
	}
	out := make([]Step, len(in))
	for i, st := range in {
		out[i] = Step{Key: st.Key, Name: st.Name, Kind: st.Kind, Apps: st.Apps, Accounts: st.Accounts,
			Code: st.Code, Command: st.Command, Action: st.Action, Input: st.Input, Env: st.Env, TimeoutSeconds: st.TimeoutSeconds}
		if h := st.HTTP; h != nil {
			out[i].HTTP = &HTTPStep{App: h.App, Method: h.Method, Path: h.Path, URL: h.URL, Headers: h.Headers, Body: h.Body}
		}
	}
	return out, nil
}

func encodeResults(results []StepResult) ([]byte, error) {
	out := make([]storedResult, len(results))
	for i, r := range results {
		out[i] = storedResult{Key: r.Key, Name: r.Name, Kind: r.Kind, Status: r.Status, Result: r.Result,
			Exports: r.Exports, Logs: r.Logs, Error: r.Error, ErrorKind: r.ErrorKind,
			AccountID: r.AccountID, AccountStatus: r.AccountStatus, DurationMS: r.DurationMS}
	}
	return json.Marshal(out)
}

func decodeResults(b []byte) ([]StepResult, error) {
	var in []storedResult
	if err := json.Unmarshal(b, &in); err != nil {
		return nil, fmt.Errorf("step results: %w", err)
	}
	out := make([]StepResult, len(in))
	for i, r := range in {
		out[i] = StepResult{Key: r.Key, Name: r.Name, Kind: r.Kind, Status: r.Status, Result: r.Result,
			Exports: r.Exports, Logs: r.Logs, Error: r.Error, ErrorKind: r.ErrorKind,
			AccountID: r.AccountID, AccountStatus: r.AccountStatus, DurationMS: r.DurationMS}
	}
	return out, nil
}
