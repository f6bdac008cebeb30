package audit

import "strings"

// words are the actions in words, for people reading the log.
var words = map[string]string{
	"credentials.read":             "Credentials read",
	"account.connected":            "Account connected",
	"account.reconnected":          "Account reconnected",
	"account.renamed":              "Account renamed",
	"account.deleted":              "Account deleted",
	"account.credentials_replaced": "Credentials replaced",
	"account.refresh_failed":       "Token refresh failed",
	"account.needs_reconnect":      "Account needs reconnecting",
	"account.recovered":            "Token refresh works again",
	"account.owner_changed":        "Account owner changed",
	"member.invited":               "Member invited",
	"member.joined":                "Member joined",
	"member.removed":               "Member removed",
	"member.role_changed":          "Member's role changed",
	"invitation.resent":            "Invitation resent",
	"invitation.revoked":           "Invitation revoked",
	"password.changed":             "Password changed",
	"password.reset":               "Password reset",
	"password.reset_link":          "Password reset link made",
	"oauth_client.set":             "OAuth client set",
	"oauth_client.deleted":         "OAuth client deleted",
	"custom_app.set":               "Custom app saved",
	"custom_app.deleted":           "Custom app deleted",
	"workspace.created":            "Workspace created",
	"session.signed_in":            "Signed in",
	"token.created":                "API token created",
	"token.revoked":                "API token revoked",
	"token.rotated":                "API token rotated",
	"workflow.created":             "Workflow created",
	"workflow.updated":             "Workflow changed",
	"workflow.deleted":             "Workflow deleted",
	"workflow.linked":              "Workflow step linked",
}

// Words says an action in words: "Credentials read" for
// credentials.read. An action it does not know is said as written, with
// its dots and underscores as spaces.
func Words(action string) string {
	if w, ok := words[action]; ok {
		return w
	}
	s := strings.NewReplacer(".", " ", "_", " ").Replace(action)
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// SurfaceWords says how the actor came, for people.
func SurfaceWords(surface string) string {
	switch surface {
	case "api":
		return "the API"
	case "web":
		return "the web"
	case "workflow":
		return "a workflow run"
	case "cli-exec":
		return "latchkey exec"
	case "mcp":
		return "the MCP server"
	}
	return surface
}
