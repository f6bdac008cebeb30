package workflows

import (
	"context"
	"fmt"
	"strings"

	"github.com/latchkeyhq/latchkey/internal/accounts"
	"github.com/latchkeyhq/latchkey/internal/actions"
	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/store"
)

func invalid(field, format string, args ...any) error {
	return &accounts.ValidationError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// check validates steps and the accounts they link, and returns the links.
// A step may link only accounts the workflow's owner may use, whoever
// edits it.
func (s *Service) check(ctx context.Context, actor, owner identity.Actor, name string, steps []Step) ([]store.Link, error) {
	if strings.TrimSpace(name) == "" || len(name) > 200 {
		return nil, invalid("name", "give a name of at most 200 characters")
	}
	if len(steps) == 0 || len(steps) > MaxSteps {
		return nil, invalid("steps", "give one to %d steps", MaxSteps)
	}
	seen := map[string]bool{}
	var links []store.Link
	for i := range steps {
		st := &steps[i]
		where := fmt.Sprintf("steps[%d]", i)
		if !keyRE.MatchString(st.Key) {
			return nil, invalid(where+".key", "%q must be lower case letters, digits and underscores", st.Key)
		}
		if seen[st.Key] {
			return nil, invalid(where+".key", "%q is used twice", st.Key)
		}
		seen[st.Key] = true
		switch st.Kind {
		case KindCode:
			if strings.TrimSpace(st.Code) == "" || len(st.Code) > MaxCode {
				return nil, invalid(where+".code", "a code step needs code, at most %d bytes", MaxCode)
			}
		case KindCommand:
			if len(st.Command) == 0 || st.Command[0] == "" {
				return nil, invalid(where+".command", "a command step needs an executable")
			}
		case KindHTTP:
			if st.HTTP == nil || st.HTTP.App == "" {
				return nil, invalid(where+".http", "an http step needs http.app")
			}
			if (st.HTTP.Path == "") == (st.HTTP.URL == "") {
				return nil, invalid(where+".http", "give http.path or http.url")
			}
			if st.HTTP.Path != "" && !strings.HasPrefix(st.HTTP.Path, "/") {
				return nil, invalid(where+".http.path", "must start with /")
			}
			switch strings.ToUpper(st.HTTP.Method) {
			case "", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD":
			default:
				return nil, invalid(where+".http.method", "%q is not an HTTP method", st.HTTP.Method)
			}
			if !contains(st.Apps, st.HTTP.App) {
				st.Apps = append(st.Apps, st.HTTP.App)
			}
		case KindAction:
			if s.actions == nil {
				return nil, invalid(where+".action", "action steps are not available on this server")
			}
			app, act, err := s.actions.Lookup(ctx, actor.WorkspaceID, st.Action)
			if err != nil {
				return nil, invalid(where+".action", "%v", err)
			}
			if _, err := actions.CheckInput(act, st.Input); err != nil {
				return nil, invalid(where+".input", "%v", err)
			}
			// The step uses exactly its action's app.
			st.Apps = []string{app.Slug}
		default:
			return nil, invalid(where+".kind", "%q must be code, command, http or action", st.Kind)
		}
		if st.TimeoutSeconds < 0 || st.TimeoutSeconds > MaxTimeout {
			return nil, invalid(where+".timeout_seconds", "must be from 1 to %d", MaxTimeout)
		}
		for k := range st.Env {
			if !envRE.MatchString(k) || strings.HasPrefix(strings.ToUpper(k), "LATCHKEY_") {
				return nil, invalid(where+".env", "%q is not an allowed variable name", k)
			}
		}
		for app := range st.Accounts {
			if !contains(st.Apps, app) {
				return nil, invalid(where+".accounts", "%q is linked but not among the step's apps", app)
			}
		}
		for _, app := range st.Apps {
			if _, err := s.apps.App(ctx, actor.WorkspaceID, app); err != nil {
				return nil, invalid(where+".apps", "%v", err)
			}
			id := st.Accounts[app]
			if id == "" {
				continue
			}
			acc, err := s.accounts.Get(ctx, owner, id)
			if err == nil {
				// The editor must be able to see it too.
				_, err = s.accounts.Get(ctx, actor, id)
			}
			if err != nil {
				return nil, invalid(where+".accounts."+app, "account %q: %v", id, err)
			}
			if acc.App != app {
				return nil, invalid(where+".accounts."+app, "account %s is a %s account", id, acc.App)
			}
			links = append(links, store.Link{Step: st.Key, App: app, AccountID: id})
		}
	}
	return links, nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
