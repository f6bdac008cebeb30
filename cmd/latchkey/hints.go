package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/latchkeyhq/latchkey/client"
)

// explain is what the CLI prints for an error: an API problem in its own
// words and, where the user can fix it, the command that does.
func explain(err error) string {
	if h, ok := errors.AsType[*hinted](err); ok {
		return h.Error()
	}
	p, ok := errors.AsType[*client.Problem](err)
	if !ok {
		return err.Error()
	}
	if h := problemHint(p); h != nil {
		return h.Error()
	}
	return p.Error()
}

// problemHint says an API problem the user can fix in the CLI's words,
// with the command that fixes it; nil when there is none. The API's
// detail names routes, so the message is the CLI's own.
func problemHint(p *client.Problem) *hinted {
	switch {
	case client.IsProblem(p, "needs-reconnect") && p.AccountID != "":
		return &hinted{msg: p.Error(), fix: "run", command: "latchkey accounts reconnect " + p.AccountID, err: p}
	case client.IsProblem(p, "validation") && p.OAuthClientPath != "" && p.App != "":
		return &hinted{msg: "no OAuth client is set for " + p.App, fix: "an owner sets one with",
			command: "latchkey oauth-clients set " + p.App + " --client-id ID --client-secret -", err: p}
	case client.IsProblem(p, "validation") && p.CredentialsPath != "" && p.AccountID != "":
		return &hinted{msg: "account " + p.AccountID + " connects with keys, not OAuth: give it new keys instead of reconnecting it", fix: "run",
			command: "latchkey accounts reconnect " + p.AccountID + " --field NAME=VALUE", err: p}
	}
	return nil
}

// hinted is an error with the command that fixes it.
type hinted struct {
	msg string
	// fix says what the command does ("run", "to delete it anyway, run").
	fix, command string
	err          error
}

func (h *hinted) Error() string { return h.msg + "\n" + h.fix + ": " + h.command }
func (h *hinted) Unwrap() error { return h.err }

// inUseHint says which workflows use the account the user tried to delete,
// and how to delete it all the same: the API's problem names a query
// parameter; the CLI's word is a flag.
func inUseHint(p *client.Problem, id string, revoke bool) error {
	names := usedByNames(p)
	msg := p.Title
	if len(names) > 0 {
		msg = fmt.Sprintf("account %s is used by %s; they will break if it is deleted", id, strings.Join(names, ", "))
	}
	command := "latchkey accounts delete " + id
	if revoke {
		command += " --revoke"
	}
	return &hinted{msg: msg, fix: "to delete it anyway, run", command: command + " --force", err: p}
}

// usedByNames names the workflows an account-in-use problem lists, and
// counts those the caller may not see.
func usedByNames(p *client.Problem) []string {
	var names []string
	for _, w := range p.UsedBy {
		names = append(names, fmt.Sprintf("%q (%s)", w.Name, w.ID))
	}
	switch {
	case p.HiddenWorkflows == 1:
		names = append(names, "1 workflow you cannot see")
	case p.HiddenWorkflows > 1:
		names = append(names, fmt.Sprintf("%d workflows you cannot see", p.HiddenWorkflows))
	}
	return names
}
