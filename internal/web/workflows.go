package web

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/latchkeyhq/latchkey/internal/accounts"
	"github.com/latchkeyhq/latchkey/internal/catalog"
	"github.com/latchkeyhq/latchkey/internal/workflows"
)

// exampleSteps fills the new-workflow form.
const exampleSteps = `[
  {
    "key": "hello",
    "kind": "code",
    "apps": ["slack"],
    "code": "const res = await fetch(\"https://slack.com/api/chat.postMessage\", {\n  method: \"POST\",\n  headers: { Authorization: ` + "`Bearer ${auths.slack.oauth_access_token}`" + `, \"Content-Type\": \"application/json\" },\n  body: JSON.stringify({ text: \"Hello, world!\", channel: \"#general\" }),\n})\nreturn await res.json()"
  }
]`

type workflowsContent struct {
	// SandboxWarning is shown as a banner when steps are not sandboxed.
	SandboxWarning string
	Workflows      []workflows.Workflow
	Name           string
	Steps          string
}

func (h *Handler) workflowsPage(w http.ResponseWriter, r *http.Request, s *session) error {
	return h.renderWorkflows(w, r, s, http.StatusOK, "", "", exampleSteps)
}

func (h *Handler) renderWorkflows(w http.ResponseWriter, r *http.Request, s *session, status int, errMsg, name, steps string) error {
	list, err := h.workflows.List(r.Context(), s.actor)
	if err != nil {
		return internalError{err}
	}
	v := h.view(s, "Workflows", "workflows", workflowsContent{SandboxWarning: h.workflows.SandboxWarning(), Workflows: list, Name: name, Steps: steps})
	v.Error = errMsg
	h.render(w, r, status, "workflows.html", v)
	return nil
}

func (h *Handler) createWorkflow(w http.ResponseWriter, r *http.Request, s *session) error {
	name, stepsText := r.PostFormValue("name"), r.PostFormValue("steps")
	var steps []workflows.Step
	if err := json.Unmarshal([]byte(stepsText), &steps); err != nil {
		return h.renderWorkflows(w, r, s, http.StatusUnprocessableEntity, "The steps are not valid JSON: "+err.Error(), name, stepsText)
	}
	wf, err := h.workflows.Save(r.Context(), s.actor, "", name, steps)
	if err != nil {
		if e := classify(err); !e.internal() {
			// The form again, with the error above it.
			return h.renderWorkflows(w, r, s, e.Status, e.Message, name, stepsText)
		}
		return err
	}
	http.Redirect(w, r, "/workflows/"+wf.ID, http.StatusSeeOther)
	return nil
}

// stepView is a step with, for each of its apps, the accounts it may use.
type stepView struct {
	workflows.Step
	Links []linkView
	// Source is the code or command, as shown.
	Source string
	// Fields, on an action step, are its input's form.
	Fields []inputField
}

type linkView struct {
	App, AppName string
	Options      []accountRow
	Selected     string
}

type workflowContent struct {
	SandboxWarning string
	Workflow       workflows.Workflow
	Steps          []stepView
	Runs           []workflows.Run
	// Shown is the run the page opens on, if any.
	Shown string
	// OAuth says, for each account a run blamed, whether it reconnects
	// through the provider (else its keys are replaced).
	OAuth map[string]bool
}

func (h *Handler) workflowPage(w http.ResponseWriter, r *http.Request, s *session) error {
	wf, err := h.workflows.Get(r.Context(), s.actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	c := workflowContent{SandboxWarning: h.workflows.SandboxWarning(), Workflow: wf, Shown: r.URL.Query().Get("run")}
	for _, st := range wf.Steps {
		sv := stepView{Step: st, Source: st.Code}
		if st.Kind == workflows.KindCommand {
			sv.Source = strings.Join(st.Command, " ")
		}
		if st.HTTP != nil {
			sv.Source = strings.ToUpper(orGet(st.HTTP.Method)) + " " + st.HTTP.Path + st.HTTP.URL
		}
		if st.Kind == workflows.KindAction {
			sv.Source = st.Action
			if _, act, err := h.actions.Lookup(r.Context(), s.actor.WorkspaceID, st.Action); err == nil {
				sv.Fields = inputFields(act, "input."+st.Key+".", st.Input)
			}
		}
		for _, app := range st.Apps {
			lv := linkView{App: app, AppName: app, Selected: st.Accounts[app]}
			if a, err := h.apps.App(r.Context(), s.actor.WorkspaceID, app); err == nil {
				lv.AppName = a.Name
			}
			list, _, err := h.accounts.List(r.Context(), s.actor, accounts.ListInput{App: app, Limit: accounts.MaxPage})
			if err != nil {
				return internalError{err}
			}
			for _, a := range list {
				lv.Options = append(lv.Options, h.row(r, s, a))
			}
			sv.Links = append(sv.Links, lv)
		}
		c.Steps = append(c.Steps, sv)
	}
	if c.Runs, err = h.workflows.Runs(r.Context(), s.actor, wf.ID, 10); err != nil {
		return internalError{err}
	}
	c.OAuth = map[string]bool{}
	var reconnectable []*catalog.App
	for _, run := range c.Runs {
		for _, st := range run.Steps {
			if st.AccountID == "" {
				continue
			}
			if acc, err := h.accounts.Get(r.Context(), s.actor, st.AccountID); err == nil {
				row := h.row(r, s, acc)
				c.OAuth[st.AccountID] = row.OAuth
				reconnectable = append(reconnectable, row.app)
			}
		}
	}
	h.allowFormsTo(w, reconnectable...)
	v := h.view(s, wf.Name, "workflows", c)
	if r.URL.Query().Get("done") == "linked" {
		v.Flash = "The accounts are linked."
	}
	h.render(w, r, http.StatusOK, "workflow.html", v)
	return nil
}

func orGet(m string) string {
	if m == "" {
		return "GET"
	}
	return m
}

// saveLinks links each step's apps to the accounts chosen in the form.
func (h *Handler) saveLinks(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "the form does not parse", http.StatusBadRequest)
		return nil
	}
	wf, err := h.workflows.Get(r.Context(), s.actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	// The form has a field per app of each step it showed; the service
	// applies the choices to the workflow as it is now.
	var choices []workflows.LinkChoice
	inputs := map[string]json.RawMessage{}
	for _, st := range wf.Steps {
		for _, app := range st.Apps {
			if v, ok := r.PostForm["link."+st.Key+"."+app]; ok {
				choices = append(choices, workflows.LinkChoice{Step: st.Key, App: app, AccountID: v[0]})
			}
		}
		// An action step's form is posted with the links; the service
		// checks the input against the action's schema.
		if st.Kind == workflows.KindAction && r.PostForm.Get("inputs."+st.Key) != "" {
			_, act, err := h.actions.Lookup(r.Context(), s.actor.WorkspaceID, st.Action)
			if err != nil {
				return err
			}
			in, err := inputFrom(act, "input."+st.Key+".", r.PostForm)
			if err != nil {
				return err
			}
			inputs[st.Key] = in
		}
	}
	if _, err := h.workflows.EditSteps(r.Context(), s.actor, wf.ID, choices, inputs); err != nil {
		return err
	}
	http.Redirect(w, r, "/workflows/"+wf.ID+"?done=linked", http.StatusSeeOther)
	return nil
}

func (h *Handler) runWorkflow(w http.ResponseWriter, r *http.Request, s *session) error {
	// The page answers when the run is done, which may take longer than
	// the server's write timeout.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
	run, err := h.workflows.Run(r.Context(), s.actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/workflows/"+run.WorkflowID+"?run="+run.ID+"#"+run.ID, http.StatusSeeOther)
	return nil
}

func (h *Handler) deleteWorkflow(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := h.workflows.Delete(r.Context(), s.actor, r.PathValue("id")); err != nil {
		return err
	}
	http.Redirect(w, r, "/workflows", http.StatusSeeOther)
	return nil
}

// usedBy lists the workflows that use an account, for the pages.
func (h *Handler) usedBy(r *http.Request, s *session, id string) []workflows.Ref {
	list, err := h.workflows.UsedBy(r.Context(), s.actor, id)
	if err != nil {
		h.log.WarnContext(r.Context(), "used-by lookup failed", "account", id, "err", err)
		return nil
	}
	return list
}
