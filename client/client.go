// Package client is the Go client for Latchkey's JSON API. The CLI and the
// end-to-end tests use it; so can any Go program.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Client talks to one Latchkey server with one API token.
type Client struct {
	base  string
	token string
	http  *http.Client
	// surface goes in SurfaceHeader, for the audit log.
	surface string
}

// SurfaceHeader says which of a client's commands is calling; the audit
// log records it. The server knows "exec".
const SurfaceHeader = "Latchkey-Surface"

// WithSurface returns a copy of the client whose requests say they come
// from the named command ("exec"), for the server's audit log.
func (c *Client) WithSurface(s string) *Client {
	cp := *c
	cp.surface = s
	return &cp
}

// New returns a client for the server at baseURL ("http://127.0.0.1:7355").
// A nil httpClient means http.DefaultClient.
func New(baseURL, token string, httpClient *http.Client) *Client {
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	return &Client{base: strings.TrimSuffix(baseURL, "/"), token: token, http: httpClient}
}

// IsProblem reports whether err is an API problem of the given kind, the
// part of its type after "urn:latchkey:problem:".
func IsProblem(err error, kind string) bool {
	var p *Problem
	return errors.As(err, &p) && p.Type == "urn:latchkey:problem:"+kind
}

func (c *Client) do(ctx context.Context, method, path string, query url.Values, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return c.send(req, out)
}

// send authenticates and sends req, and decodes the answer into out or
// returns the problem.
func (c *Client) send(req *http.Request, out any) error {
	method, path := req.Method, req.URL.Path
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if c.surface != "" {
		req.Header.Set(SurfaceHeader, c.surface)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 400 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		p := &Problem{}
		if json.Unmarshal(b, p) != nil || p.Status == 0 {
			p = &Problem{Status: resp.StatusCode, Title: http.StatusText(resp.StatusCode), Detail: strings.TrimSpace(string(b))}
		}
		return p
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if st, ok := out.(streamTo); ok {
		if _, err := io.Copy(st.w, resp.Body); err != nil {
			return fmt.Errorf("%s %s: %w", method, path, err)
		}
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
	}
	return nil
}

// ListOptions page and filter lists. Zero values are left out.
type ListOptions struct {
	Query    string
	Auth     string // apps: oauth2, oauth1, keys, basic, none
	Category string // apps
	App      string // accounts
	Status   string // accounts
	// ExternalUserID and Tags ("key=value" each, all must match) select
	// accounts of the product's end users.
	ExternalUserID string
	Tags           []string
	Owner          string // accounts: a member's user id
	Limit          int
	Cursor         string
}

func (o ListOptions) values() url.Values {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set("q", o.Query)
	set("auth", o.Auth)
	set("category", o.Category)
	set("app", o.App)
	set("status", o.Status)
	set("cursor", o.Cursor)
	set("external_user_id", o.ExternalUserID)
	set("owner", o.Owner)
	for _, t := range o.Tags {
		v.Add("tags", t)
	}
	if o.Limit > 0 {
		v.Set("limit", strconv.Itoa(o.Limit))
	}
	return v
}

// Me returns who the token belongs to.
func (c *Client) Me(ctx context.Context) (Me, error) {
	var m Me
	return m, c.do(ctx, http.MethodGet, "/v1/me", nil, nil, &m)
}

// ListApps returns a page of the catalog.
func (c *Client) ListApps(ctx context.Context, o ListOptions) (Page[App], error) {
	var p Page[App]
	return p, c.do(ctx, http.MethodGet, "/v1/apps", o.values(), nil, &p)
}

// GetApp returns an app's full catalog entry as JSON.
func (c *Client) GetApp(ctx context.Context, slug string) (json.RawMessage, error) {
	var raw json.RawMessage
	return raw, c.do(ctx, http.MethodGet, "/v1/apps/"+url.PathEscape(slug), nil, nil, &raw)
}

// Categories lists the catalog's categories with their app counts.
func (c *Client) Categories(ctx context.Context) ([]Category, error) {
	var out struct {
		Data []Category `json:"data"`
	}
	return out.Data, c.do(ctx, http.MethodGet, "/v1/categories", nil, nil, &out)
}

// ListAccounts returns a page of the accounts the caller may see.
func (c *Client) ListAccounts(ctx context.Context, o ListOptions) (Page[Account], error) {
	var p Page[Account]
	return p, c.do(ctx, http.MethodGet, "/v1/accounts", o.values(), nil, &p)
}

// CreateAccount connects a key-based account.
func (c *Client) CreateAccount(ctx context.Context, in CreateAccount) (Account, error) {
	var a Account
	return a, c.do(ctx, http.MethodPost, "/v1/accounts", nil, in, &a)
}

// GetAccount returns one account.
func (c *Client) GetAccount(ctx context.Context, id string) (Account, error) {
	var a Account
	return a, c.do(ctx, http.MethodGet, "/v1/accounts/"+url.PathEscape(id), nil, nil, &a)
}

// RenameAccount changes an account's nickname.
func (c *Client) RenameAccount(ctx context.Context, id, nickname string) (Account, error) {
	var a Account
	return a, c.do(ctx, http.MethodPatch, "/v1/accounts/"+url.PathEscape(id), nil, RenameAccount{Nickname: &nickname}, &a)
}

// UpdateAccount changes what the body gives of an account: nickname,
// tags, metadata.
func (c *Client) UpdateAccount(ctx context.Context, id string, in RenameAccount) (Account, error) {
	var a Account
	return a, c.do(ctx, http.MethodPatch, "/v1/accounts/"+url.PathEscape(id), nil, in, &a)
}

// CreateConnectToken mints a single-use connect token for an end user.
func (c *Client) CreateConnectToken(ctx context.Context, in CreateConnectToken) (ConnectToken, error) {
	var t ConnectToken
	return t, c.do(ctx, http.MethodPost, "/v1/connect-tokens", nil, in, &t)
}

// GetEndUser returns an end user with their accounts.
func (c *Client) GetEndUser(ctx context.Context, externalUserID string) (EndUser, error) {
	var u EndUser
	return u, c.do(ctx, http.MethodGet, "/v1/end-users/"+url.PathEscape(externalUserID), nil, nil, &u)
}

// DeleteEndUser deletes an end user's accounts, revoking them where the
// app supports it.
func (c *Client) DeleteEndUser(ctx context.Context, externalUserID string) (EndUserDeleted, error) {
	var d EndUserDeleted
	return d, c.do(ctx, http.MethodDelete, "/v1/end-users/"+url.PathEscape(externalUserID), nil, nil, &d)
}

// DeleteAccount deletes an account and its credentials.
func (c *Client) DeleteAccount(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/v1/accounts/"+url.PathEscape(id), nil, nil, nil)
}

// ShareAccount sets who the account is shared with. When that would take
// it away from other members' workflows that use it, the server answers
// 409 and changes nothing, unless force is set.
func (c *Client) ShareAccount(ctx context.Context, id string, in Sharing, force bool) (Account, error) {
	var a Account
	var q url.Values
	if force {
		q = url.Values{"force": {"true"}}
	}
	return a, c.do(ctx, http.MethodPut, "/v1/accounts/"+url.PathEscape(id)+"/sharing", q, in, &a)
}

// Credentials returns the account's auths.<app> object: its credentials
// by name, valid now. The read is audited.
func (c *Client) Credentials(ctx context.Context, id string) (map[string]string, error) {
	var m map[string]string
	return m, c.do(ctx, http.MethodGet, "/v1/accounts/"+url.PathEscape(id)+"/credentials", nil, nil, &m)
}

// Events returns a page of an account's audit log, newest first.
func (c *Client) Events(ctx context.Context, id string, o ListOptions) (Page[Event], error) {
	var p Page[Event]
	return p, c.do(ctx, http.MethodGet, "/v1/accounts/"+url.PathEscape(id)+"/events", o.values(), nil, &p)
}

// Connect starts an OAuth connection; send the user to AuthorizeURL, then
// follow the connection with GetConnection.
func (c *Client) Connect(ctx context.Context, in Connect) (Connection, error) {
	var out Connection
	return out, c.do(ctx, http.MethodPost, "/v1/connect", nil, in, &out)
}

// Reconnect starts a new grant for an account, keeping its id.
func (c *Client) Reconnect(ctx context.Context, id string) (Connection, error) {
	var out Connection
	return out, c.do(ctx, http.MethodPost, "/v1/accounts/"+url.PathEscape(id)+"/reconnect", nil, struct{}{}, &out)
}

// GetConnection returns a connection's status.
func (c *Client) GetConnection(ctx context.Context, id string) (Connection, error) {
	var out Connection
	return out, c.do(ctx, http.MethodGet, "/v1/connect/"+url.PathEscape(id), nil, nil, &out)
}

// DeleteAndRevoke revokes an OAuth account's tokens at the provider where
// the app supports it, then deletes the account.
func (c *Client) DeleteAndRevoke(ctx context.Context, id string) (Deleted, error) {
	var out Deleted
	return out, c.do(ctx, http.MethodDelete, "/v1/accounts/"+url.PathEscape(id), url.Values{"revoke": {"true"}}, nil, &out)
}

// ForceDeleteAndRevoke is DeleteAndRevoke even when workflows use the
// account.
func (c *Client) ForceDeleteAndRevoke(ctx context.Context, id string) (Deleted, error) {
	var out Deleted
	return out, c.do(ctx, http.MethodDelete, "/v1/accounts/"+url.PathEscape(id), url.Values{"revoke": {"true"}, "force": {"true"}}, nil, &out)
}

// ListOAuthClients lists the workspace's OAuth clients and the managed ones.
func (c *Client) ListOAuthClients(ctx context.Context) ([]OAuthClient, error) {
	var out struct {
		Data []OAuthClient `json:"data"`
	}
	return out.Data, c.do(ctx, http.MethodGet, "/v1/oauth-clients", nil, nil, &out)
}

// GetOAuthClient returns one OAuth client.
func (c *Client) GetOAuthClient(ctx context.Context, id string) (OAuthClient, error) {
	var out OAuthClient
	return out, c.do(ctx, http.MethodGet, "/v1/oauth-clients/"+url.PathEscape(id), nil, nil, &out)
}

// SetOAuthClient creates or replaces the OAuth client for an app.
func (c *Client) SetOAuthClient(ctx context.Context, app string, in SetOAuthClient) (OAuthClient, error) {
	var out OAuthClient
	return out, c.do(ctx, http.MethodPut, "/v1/apps/"+url.PathEscape(app)+"/oauth-client", nil, in, &out)
}

// DeleteOAuthClient deletes an OAuth client.
func (c *Client) DeleteOAuthClient(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/v1/oauth-clients/"+url.PathEscape(id), nil, nil, nil)
}

// SetCustomApp defines (or replaces) one of the workspace's own apps from
// a YAML or JSON definition in the catalog's schema.
func (c *Client) SetCustomApp(ctx context.Context, slug string, definition []byte) (json.RawMessage, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, c.base+"/v1/custom-apps/"+url.PathEscape(slug), bytes.NewReader(definition))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/yaml")
	var raw json.RawMessage
	return raw, c.send(req, &raw)
}

// ListCustomApps lists the workspace's own apps.
func (c *Client) ListCustomApps(ctx context.Context) ([]App, error) {
	var p Page[App]
	return p.Data, c.do(ctx, http.MethodGet, "/v1/custom-apps", nil, nil, &p)
}

// DeleteCustomApp deletes one of the workspace's own apps.
func (c *Client) DeleteCustomApp(ctx context.Context, slug string) error {
	return c.do(ctx, http.MethodDelete, "/v1/custom-apps/"+url.PathEscape(slug), nil, nil, nil)
}

// RequestApp asks for an app the catalog lacks.
func (c *Client) RequestApp(ctx context.Context, in AppRequest) (AppRequest, error) {
	var out AppRequest
	return out, c.do(ctx, http.MethodPost, "/v1/app-requests", nil, in, &out)
}

// AppRequests lists the workspace's app requests (owners only).
func (c *Client) AppRequests(ctx context.Context) ([]AppRequest, error) {
	var p Page[AppRequest]
	return p.Data, c.do(ctx, http.MethodGet, "/v1/app-requests", nil, nil, &p)
}

// CreateWorkflow creates a workflow.
func (c *Client) CreateWorkflow(ctx context.Context, in SaveWorkflow) (Workflow, error) {
	var out Workflow
	return out, c.do(ctx, http.MethodPost, "/v1/workflows", nil, in, &out)
}

// UpdateWorkflow replaces a workflow's name and steps.
func (c *Client) UpdateWorkflow(ctx context.Context, id string, in SaveWorkflow) (Workflow, error) {
	var out Workflow
	return out, c.do(ctx, http.MethodPut, "/v1/workflows/"+url.PathEscape(id), nil, in, &out)
}

// GetWorkflow returns a workflow.
func (c *Client) GetWorkflow(ctx context.Context, id string) (Workflow, error) {
	var out Workflow
	return out, c.do(ctx, http.MethodGet, "/v1/workflows/"+url.PathEscape(id), nil, nil, &out)
}

// ListWorkflows lists the workspace's workflows.
func (c *Client) ListWorkflows(ctx context.Context) ([]Workflow, error) {
	var p Page[Workflow]
	return p.Data, c.do(ctx, http.MethodGet, "/v1/workflows", nil, nil, &p)
}

// DeleteWorkflow deletes a workflow and its runs.
func (c *Client) DeleteWorkflow(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/v1/workflows/"+url.PathEscape(id), nil, nil, nil)
}

// LinkAccount links one app of one step to an account ("" unlinks).
func (c *Client) LinkAccount(ctx context.Context, workflowID, step, app, accountID string) (Workflow, error) {
	var out Workflow
	path := "/v1/workflows/" + url.PathEscape(workflowID) + "/steps/" + url.PathEscape(step) + "/accounts/" + url.PathEscape(app)
	return out, c.do(ctx, http.MethodPut, path, nil, map[string]string{"account_id": accountID}, &out)
}

// RunWorkflow runs a workflow now and returns the finished run.
func (c *Client) RunWorkflow(ctx context.Context, id string) (Run, error) {
	var out Run
	return out, c.do(ctx, http.MethodPost, "/v1/workflows/"+url.PathEscape(id)+"/runs", nil, struct{}{}, &out)
}

// ListRuns lists a workflow's recent runs, newest first.
func (c *Client) ListRuns(ctx context.Context, id string) ([]Run, error) {
	var p Page[Run]
	return p.Data, c.do(ctx, http.MethodGet, "/v1/workflows/"+url.PathEscape(id)+"/runs", nil, nil, &p)
}

// GetRun returns one run.
func (c *Client) GetRun(ctx context.Context, id string) (Run, error) {
	var out Run
	return out, c.do(ctx, http.MethodGet, "/v1/runs/"+url.PathEscape(id), nil, nil, &out)
}

// UsedBy lists the workflows that use an account.
func (c *Client) UsedBy(ctx context.Context, accountID string) ([]WorkflowRef, error) {
	var out struct {
		Data []WorkflowRef `json:"data"`
	}
	return out.Data, c.do(ctx, http.MethodGet, "/v1/accounts/"+url.PathEscape(accountID)+"/workflows", nil, nil, &out)
}

// ForceDeleteAccount deletes an account even when workflows use it.
func (c *Client) ForceDeleteAccount(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/v1/accounts/"+url.PathEscape(id), url.Values{"force": {"true"}}, nil, nil)
}

// ReplaceKeys gives a key-based account new credentials, keeping its id;
// the app's test request runs first unless in.Test is false.
func (c *Client) ReplaceKeys(ctx context.Context, id string, in ReplaceKeys) (Account, error) {
	var a Account
	return a, c.do(ctx, http.MethodPut, "/v1/accounts/"+url.PathEscape(id)+"/credentials", nil, in, &a)
}
