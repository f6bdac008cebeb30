package workflows

import (
	"context"
	"encoding/json"

	"github.com/latchkeyhq/latchkey/internal/identity"
)

// LinkChoice points one app of one step at an account; an empty
// AccountID unlinks it.
type LinkChoice struct {
	Step, App, AccountID string
}

// Link points one app of one step at an account.
func (s *Service) Link(ctx context.Context, actor identity.Actor, id, step, app, accountID string) (Workflow, error) {
	return s.LinkSteps(ctx, actor, id, []LinkChoice{{Step: step, App: app, AccountID: accountID}})
}

// LinkSteps makes several link choices in one change of the workflow,
// applied to its latest version: links made meanwhile, to other steps or
// by other callers, stay.
func (s *Service) LinkSteps(ctx context.Context, actor identity.Actor, id string, choices []LinkChoice) (Workflow, error) {
	return s.EditSteps(ctx, actor, id, choices, nil)
}

// EditSteps links steps' apps to accounts and sets action steps' inputs
// (by step key) in one change: either all of it is saved or, when an
// input breaks its action's schema, none.
func (s *Service) EditSteps(ctx context.Context, actor identity.Actor, id string, choices []LinkChoice, inputs map[string]json.RawMessage) (Workflow, error) {
	if err := actor.Require(identity.ScopeAccountsRead); err != nil {
		return Workflow{}, err
	}
	if err := mayChange(actor); err != nil {
		return Workflow{}, err
	}
	w, err := s.edit(ctx, actor, id, true, func(w Workflow) (string, []Step, error) {
		for _, c := range choices {
			if err := link(w.Steps, c); err != nil {
				return "", nil, err
			}
		}
		for key, in := range inputs {
			found := false
			for i := range w.Steps {
				if w.Steps[i].Key == key && w.Steps[i].Kind == KindAction {
					w.Steps[i].Input, found = in, true
				}
			}
			if !found {
				return "", nil, invalid("input", "step %s is not an action step of this workflow", key)
			}
		}
		return w.Name, w.Steps, nil
	})
	if err == nil {
		s.record(actor, "workflow.linked", w.ID, w.Name)
	}
	return w, err
}

// record writes a change to a workflow in the audit log.
func (s *Service) record(actor identity.Actor, action, id, name string) {
	if s.audit != nil {
		s.audit.Record(actor, "", action, map[string]string{"workflow": id, "name": name}, s.clock.Now())
	}
}

// link makes one choice in steps.
func link(steps []Step, c LinkChoice) error {
	for i := range steps {
		st := &steps[i]
		if st.Key != c.Step {
			continue
		}
		if !contains(st.Apps, c.App) {
			return invalid("app", "step %s does not use %s", c.Step, c.App)
		}
		if c.AccountID == "" {
			delete(st.Accounts, c.App)
			return nil
		}
		if st.Accounts == nil {
			st.Accounts = map[string]string{}
		}
		st.Accounts[c.App] = c.AccountID
		return nil
	}
	return invalid("step", "the workflow has no step %q", c.Step)
}
