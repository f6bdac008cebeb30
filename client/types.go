package client

import (
	"encoding/json"
	"fmt"
)

// These are the API's wire types; the server encodes the same structs.

// Problem is an RFC 9457 problem detail, the body of every API error.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	// Field names the input at fault, for validation problems.
	Field string `json:"field,omitempty"`
	// ProviderStatus is the status a provider answered a test request with.
	ProviderStatus int `json:"provider_status,omitempty"`
	// AccountID names the account the problem is about. ReconnectPath
	// tells how to fix one that needs reconnecting: POST to it.
	// CredentialsPath, on a key-based account that was asked to
	// reconnect, is where to PUT its new keys instead.
	AccountID       string `json:"account_id,omitempty"`
	ReconnectPath   string `json:"reconnect_path,omitempty"`
	CredentialsPath string `json:"credentials_path,omitempty"`
	// App and OAuthClientPath, on an app with no OAuth client set, name
	// the app and where an owner PUTs its client.
	App             string `json:"app,omitempty"`
	OAuthClientPath string `json:"oauth_client_path,omitempty"`
	// UsedBy and HiddenWorkflows, on an account-in-use problem, are the
	// workflows that would break: those the caller may see, and how many
	// others. AccountID names the account.
	UsedBy          []WorkflowRef `json:"used_by,omitempty"`
	HiddenWorkflows int           `json:"hidden_workflows,omitempty"`
	// RetryAfter is the seconds to wait before trying again, as the
	// Retry-After header says; only on rate-limited problems.
	RetryAfter int `json:"retry_after,omitempty"`
	// Problems, on an action's bad input, lists every way it breaks the
	// action's input schema.
	Problems []InputProblem `json:"problems,omitempty"`
}

// InputProblem is one way an input breaks an action's input schema.
type InputProblem struct {
	// Field is the input property ("" for the input as a whole).
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (p *Problem) Error() string {
	if p.Detail == "" {
		return fmt.Sprintf("%s (%d)", p.Title, p.Status)
	}
	return fmt.Sprintf("%s (%d): %s", p.Title, p.Status, p.Detail)
}

// Page is one page of a list.
type Page[T any] struct {
	Data []T `json:"data"`
	// NextCursor fetches the next page; nil on the last.
	NextCursor *string `json:"next_cursor"`
}

// Field is one value a user enters to connect an app.
type Field struct {
	Name     string `json:"name"`
	Label    string `json:"label"`
	Help     string `json:"help,omitempty"`
	Secret   bool   `json:"secret,omitempty"`
	Optional bool   `json:"optional,omitempty"`
	Pattern  string `json:"pattern,omitempty"`
	Default  string `json:"default,omitempty"`
	// Multiline values (a key file) want a text area.
	Multiline bool `json:"multiline,omitempty"`
}

// App is a catalog entry as lists show it.
type App struct {
	Slug        string   `json:"slug"`
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Categories  []string `json:"categories"`
	Auth        string   `json:"auth"`
	DocsURL     string   `json:"docs_url"`
	// LogoURL is the app's logo (SVG), relative to the server's root;
	// absent for an app without one.
	LogoURL       string   `json:"logo_url,omitempty"`
	Fields        []Field  `json:"fields,omitempty"`
	DefaultScopes []string `json:"default_scopes,omitempty"`
}

// Category is a catalog category and how many apps name it.
type Category struct {
	Category string `json:"category"`
	Apps     int    `json:"apps"`
}

// Account is a connected account; the API never shows its credentials.
type Account struct {
	ID      string `json:"id"`
	App     string `json:"app"`
	AppName string `json:"app_name"`
	// AppLogoURL is the app's logo, relative to the server's root.
	AppLogoURL    string `json:"app_logo_url,omitempty"`
	Nickname      string `json:"nickname"`
	IdentityLabel string `json:"identity_label"`
	OwnerID       string `json:"owner_id"`
	Shared        bool   `json:"shared"`
	// SharedWith are the members (user ids) the account is shared with
	// besides its owner and, when Shared, the workspace.
	SharedWith      []string `json:"shared_with"`
	Status          string   `json:"status"`
	StatusError     string   `json:"status_error,omitempty"`
	Untested        bool     `json:"untested"`
	Scopes          []string `json:"scopes"`
	ExpiresAt       *string  `json:"expires_at"`
	LastRefreshedAt *string  `json:"last_refreshed_at"`
	NextRefreshAt   *string  `json:"next_refresh_at"`
	CreatedAt       string   `json:"created_at"`
	UpdatedAt       string   `json:"updated_at"`
	// ExternalUserID is the product's end user the account belongs to;
	// Tags and Metadata are what the product keeps with it.
	ExternalUserID string            `json:"external_user_id,omitempty"`
	Tags           map[string]string `json:"tags"`
	Metadata       json.RawMessage   `json:"metadata,omitempty"`
}

// Sharing is the body of PUT /v1/accounts/{id}/sharing: who the account
// is shared with besides its owner. It replaces the sharing as a whole:
// {"workspace": true} shares it with the workspace, {"members": [...]}
// with chosen members, and {} (or both false and empty) makes it private.
type Sharing struct {
	Workspace bool     `json:"workspace"`
	Members   []string `json:"members"`
}

// CreateAccount is the body of POST /v1/accounts: a key-based account.
type CreateAccount struct {
	App string `json:"app"`
	// Nickname defaults to the app's name.
	Nickname *string           `json:"nickname,omitempty"`
	Fields   map[string]string `json:"fields"`
	// Test runs the app's test request before saving; default true.
	Test *bool `json:"test,omitempty"`
	// Identify runs the app's identity request to label the account;
	// default true. Skipping the test does not skip it.
	Identify *bool `json:"identify,omitempty"`
	Shared   bool  `json:"shared,omitempty"`
	// ExternalUserID gives the account to one of the product's users.
	ExternalUserID string            `json:"external_user_id,omitempty"`
	Tags           map[string]string `json:"tags,omitempty"`
	// Metadata is free JSON, at most 16 KiB.
	Metadata json.RawMessage `json:"metadata,omitempty"`
}

// RenameAccount is the body of PATCH /v1/accounts/{id}: each field given
// is changed, the others are left.
type RenameAccount struct {
	Nickname *string `json:"nickname,omitempty"`
	// Tags replace the account's tags; {} removes them.
	Tags *map[string]string `json:"tags,omitempty"`
	// Metadata replaces the account's metadata; null removes it.
	Metadata json.RawMessage `json:"metadata,omitempty"`
}

// CreateConnectToken is the body of POST /v1/connect-tokens.
type CreateConnectToken struct {
	// AccountID mints a reconnect token for that end user's account;
	// ExternalUserID may then be left out.
	AccountID          string            `json:"account_id,omitempty"`
	ExternalUserID     string            `json:"external_user_id,omitempty"`
	Apps               []string          `json:"allowed_apps,omitempty"`
	Tags               map[string]string `json:"tags,omitempty"`
	SuccessRedirectURI string            `json:"success_redirect_uri,omitempty"`
	ErrorRedirectURI   string            `json:"error_redirect_uri,omitempty"`
	AllowedOrigins     []string          `json:"allowed_origins,omitempty"`
	WebhookURL         string            `json:"webhook_url,omitempty"`
}

// ConnectToken is a minted connect token. Token and ConnectLinkURL are
// shown once: only a hash is kept.
type ConnectToken struct {
	ID                 string            `json:"id"`
	Token              string            `json:"token"`
	ConnectLinkURL     string            `json:"connect_link_url"`
	ExternalUserID     string            `json:"external_user_id"`
	Apps               []string          `json:"allowed_apps"`
	Tags               map[string]string `json:"tags"`
	SuccessRedirectURI string            `json:"success_redirect_uri,omitempty"`
	ErrorRedirectURI   string            `json:"error_redirect_uri,omitempty"`
	AllowedOrigins     []string          `json:"allowed_origins"`
	WebhookURL         string            `json:"webhook_url,omitempty"`
	// WebhookEndpointID and WebhookSecret are the endpoint made for
	// WebhookURL and its signing secret (whsec_...), shown once.
	WebhookEndpointID string `json:"webhook_endpoint_id,omitempty"`
	WebhookSecret     string `json:"webhook_secret,omitempty"`
	AccountID         string `json:"account_id,omitempty"`
	ExpiresAt         string `json:"expires_at"`
	CreatedAt         string `json:"created_at"`
}

// EndUser is one of the product's users and their accounts.
type EndUser struct {
	ExternalUserID string    `json:"external_user_id"`
	Accounts       []Account `json:"accounts"`
}

// EndUserDeleted says what deleting an end user removed.
type EndUserDeleted struct {
	ExternalUserID string    `json:"external_user_id"`
	Deleted        []Deleted `json:"deleted"`
}

// Event is an audit log entry.
type Event struct {
	ID        string            `json:"id"`
	Action    string            `json:"action"`
	ActorID   string            `json:"actor_id"`
	AccountID string            `json:"account_id,omitempty"`
	Detail    map[string]string `json:"detail,omitempty"`
	CreatedAt string            `json:"created_at"`
}

// AuditEvent is an entry of the workspace audit log: who (the user, and
// the API token if one was used), from which address, through which
// surface (api, web, workflow, cli-exec), did what.
type AuditEvent struct {
	ID        string            `json:"id"`
	Action    string            `json:"action"`
	ActorID   string            `json:"actor_id"`
	AccountID string            `json:"account_id,omitempty"`
	TokenID   string            `json:"token_id,omitempty"`
	TokenName string            `json:"token_name,omitempty"`
	Addr      string            `json:"addr,omitempty"`
	Surface   string            `json:"surface,omitempty"`
	Detail    map[string]string `json:"detail,omitempty"`
	CreatedAt string            `json:"created_at"`
}

// Me is the caller as the server knows it.
type Me struct {
	UserID      string   `json:"user_id"`
	Email       string   `json:"email"`
	Role        string   `json:"role"`
	WorkspaceID string   `json:"workspace_id"`
	Scopes      []string `json:"scopes"`
}

// Connect is the body of POST /v1/connect: start an OAuth connection.
type Connect struct {
	App      string  `json:"app"`
	Nickname *string `json:"nickname,omitempty"`
	// Scopes asked for beyond the app's defaults.
	Scopes []string `json:"scopes,omitempty"`
	// AccountID reconnects that account, keeping its id.
	AccountID string `json:"account_id,omitempty"`
	// Fields are the app's connection fields, such as a subdomain.
	Fields map[string]string `json:"fields,omitempty"`
	Shared bool              `json:"shared,omitempty"`
}

// Connection is an OAuth connection in progress, or its outcome.
type Connection struct {
	ID  string `json:"id"`
	App string `json:"app"`
	// Status is pending, claimed, waiting (for a sign-in or the one-time
	// code), completed or failed.
	Status string `json:"status"`
	// AuthorizeURL is where the user approves; only in the answer that
	// starts the connection.
	AuthorizeURL string `json:"authorize_url,omitempty"`
	// OneTimeCode, only in the answer that starts the connection and only
	// when the caller cannot sign in on the web (the admin token, a
	// service's token), is what the browser asks for before it finishes
	// the connection.
	OneTimeCode string `json:"one_time_code,omitempty"`
	// AccountID is the account reconnected or made.
	AccountID string `json:"account_id,omitempty"`
	Error     string `json:"error,omitempty"`
	ExpiresAt string `json:"expires_at"`
}

// OAuthClient is an OAuth client as the API shows it: never its secret.
type OAuthClient struct {
	ID       string `json:"id"`
	App      string `json:"app"`
	ClientID string `json:"client_id"`
	// Managed clients are the operator's and serve every workspace that
	// has none of its own.
	Managed     bool   `json:"managed"`
	RedirectURI string `json:"redirect_uri"`
	// RedirectName is the provider's name for RedirectURI, for the apps
	// that send it in its place (eBay's RuName).
	RedirectName string `json:"redirect_name,omitempty"`
	CreatedAt    string `json:"created_at"`
	UpdatedAt    string `json:"updated_at"`
}

// SetOAuthClient is the body of PUT /v1/oauth-clients/{app}.
type SetOAuthClient struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	Managed      bool   `json:"managed,omitempty"`
	// RedirectName is required by the apps that send the provider's name
	// for the callback URL as redirect_uri (eBay's RuName), and refused
	// by the others.
	RedirectName string `json:"redirect_name,omitempty"`
}

// Deleted is the answer to DELETE /v1/accounts/{id}?revoke=true.
type Deleted struct {
	ID string `json:"id"`
	// Revocation is revoked, unsupported or failed.
	Revocation       string `json:"revocation"`
	RevocationDetail string `json:"revocation_detail,omitempty"`
}

// AppRequest asks for an app the catalog lacks.
type AppRequest struct {
	ID        string `json:"id,omitempty"`
	Name      string `json:"name"`
	Reason    string `json:"reason"`
	URL       string `json:"url,omitempty"`
	UserID    string `json:"user_id,omitempty"`
	CreatedAt string `json:"created_at,omitempty"`
}

// WorkflowStep is one step of a workflow.
type WorkflowStep struct {
	// Key names the step: steps.<key> in later steps.
	Key  string `json:"key"`
	Name string `json:"name,omitempty"`
	Kind string `json:"kind"`
	// Apps are the apps whose accounts the step gets as auths.<app>.
	Apps []string `json:"apps,omitempty"`
	// Accounts links each app to an account.
	Accounts map[string]string `json:"accounts,omitempty"`
	// Code is the body of an async function of (auths, steps, $).
	Code string `json:"code,omitempty"`
	// Command is an executable and its arguments.
	Command []string  `json:"command,omitempty"`
	HTTP    *HTTPStep `json:"http,omitempty"`
	// Action, in an action step, names the catalog action ("app.action")
	// and Input is its input, checked against the action's schema.
	Action string          `json:"action,omitempty"`
	Input  json.RawMessage `json:"input,omitempty"`
	// Env are extra, non-secret environment variables for code and
	// command steps.
	Env            map[string]string `json:"env,omitempty"`
	TimeoutSeconds int               `json:"timeout_seconds,omitempty"`
}

// HTTPStep is a request to an app's API with the linked account's
// credentials put where the app wants them.
type HTTPStep struct {
	App    string `json:"app"`
	Method string `json:"method,omitempty"`
	// Path is under the app's base URL; URL is a full URL on the app's
	// host. Give one.
	Path    string            `json:"path,omitempty"`
	URL     string            `json:"url,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    json.RawMessage   `json:"body,omitempty"`
}

// StepResult is what one step did.
type StepResult struct {
	Key    string          `json:"key"`
	Name   string          `json:"name,omitempty"`
	Kind   string          `json:"kind"`
	Status string          `json:"status"`
	Result json.RawMessage `json:"result,omitempty"`
	// Exports are the values the step gave $.export.
	Exports   map[string]json.RawMessage `json:"exports,omitempty"`
	Logs      string                     `json:"logs,omitempty"`
	Error     string                     `json:"error,omitempty"`
	ErrorKind string                     `json:"error_kind,omitempty"`
	// AccountID and ReconnectPath point at the account to fix after a
	// credentials error.
	AccountID     string `json:"account_id,omitempty"`
	ReconnectPath string `json:"reconnect_path,omitempty"`
	// AccountStatus is the account's status after Latchkey re-checked it.
	AccountStatus string `json:"account_status,omitempty"`
	DurationMS    int64  `json:"duration_ms"`
}

// Workflow is a workflow with its steps.
type Workflow struct {
	ID        string         `json:"id"`
	Name      string         `json:"name"`
	OwnerID   string         `json:"owner_id"`
	Steps     []WorkflowStep `json:"steps"`
	CreatedAt string         `json:"created_at"`
	UpdatedAt string         `json:"updated_at"`
}

// SaveWorkflow is the body that creates or replaces a workflow.
type SaveWorkflow struct {
	Name  string         `json:"name"`
	Steps []WorkflowStep `json:"steps"`
}

// Run is one execution of a workflow.
type Run struct {
	ID         string       `json:"id"`
	WorkflowID string       `json:"workflow_id"`
	Status     string       `json:"status"`
	Steps      []StepResult `json:"steps"`
	StartedAt  string       `json:"started_at"`
	FinishedAt *string      `json:"finished_at"`
}

// WorkflowRef names a workflow, as "used by" lists show it.
type WorkflowRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// ReplaceKeys is the body of PUT /v1/accounts/{id}/credentials: new keys
// for a key-based account, which keeps its id.
type ReplaceKeys struct {
	Fields map[string]string `json:"fields"`
	// Test runs the app's test request first; default true.
	Test *bool `json:"test,omitempty"`
}
