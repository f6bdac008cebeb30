package api

import (
	"net/http"
	"time"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/accounts"
	"github.com/latchkeyhq/latchkey/internal/workflows"
)

// stepsIn turns the API's steps into the workflow service's; the two
// types have the same fields, so each can change apart.
func stepsIn(in []client.WorkflowStep) []workflows.Step {
	out := make([]workflows.Step, len(in))
	for i, st := range in {
		out[i] = workflows.Step{Key: st.Key, Name: st.Name, Kind: st.Kind, Apps: st.Apps, Accounts: st.Accounts,
			Code: st.Code, Command: st.Command, HTTP: (*workflows.HTTPStep)(st.HTTP), Action: st.Action, Input: st.Input, Env: st.Env, TimeoutSeconds: st.TimeoutSeconds}
	}
	return out
}

func stepsOut(in []workflows.Step) []client.WorkflowStep {
	out := make([]client.WorkflowStep, len(in))
	for i, st := range in {
		out[i] = client.WorkflowStep{Key: st.Key, Name: st.Name, Kind: st.Kind, Apps: st.Apps, Accounts: st.Accounts,
			Code: st.Code, Command: st.Command, HTTP: (*client.HTTPStep)(st.HTTP), Action: st.Action, Input: st.Input, Env: st.Env, TimeoutSeconds: st.TimeoutSeconds}
	}
	return out
}

func workflowView(w workflows.Workflow) client.Workflow {
	return client.Workflow{ID: w.ID, Name: w.Name, OwnerID: w.OwnerID, Steps: stepsOut(w.Steps),
		CreatedAt: *timestamp(&w.CreatedAt), UpdatedAt: *timestamp(&w.UpdatedAt)}
}

func runView(r workflows.Run) client.Run {
	steps := make([]client.StepResult, len(r.Steps))
	for i, st := range r.Steps {
		steps[i] = client.StepResult{Key: st.Key, Name: st.Name, Kind: st.Kind, Status: st.Status, Result: st.Result,
			Exports: st.Exports, Logs: st.Logs, Error: st.Error, ErrorKind: st.ErrorKind,
			AccountID: st.AccountID, AccountStatus: st.AccountStatus, DurationMS: st.DurationMS}
		if st.AccountID != "" {
			// The fix for a blamed account, in this surface's words.
			steps[i].ReconnectPath = reconnectPath(st.AccountID)
		}
	}
	return client.Run{ID: r.ID, WorkflowID: r.WorkflowID, Status: r.Status, Steps: steps,
		StartedAt: *timestamp(&r.StartedAt), FinishedAt: timestamp(r.FinishedAt)}
}

// reconnectPath is where an account is reconnected through the API.
func reconnectPath(accountID string) string { return "/v1/accounts/" + accountID + "/reconnect" }

func (h *Handler) listWorkflows(w http.ResponseWriter, r *http.Request) error {
	list, err := h.workflows.List(r.Context(), actor(r))
	if err != nil {
		return err
	}
	out := client.Page[client.Workflow]{Data: []client.Workflow{}}
	for _, wf := range list {
		out.Data = append(out.Data, workflowView(wf))
	}
	return reply(w, http.StatusOK, out)
}

func (h *Handler) createWorkflow(w http.ResponseWriter, r *http.Request) error {
	var req client.SaveWorkflow
	if err := decode(w, r, &req); err != nil {
		return err
	}
	wf, err := h.workflows.Save(r.Context(), actor(r), "", req.Name, stepsIn(req.Steps))
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/workflows/"+wf.ID)
	return reply(w, http.StatusCreated, workflowView(wf))
}

func (h *Handler) getWorkflow(w http.ResponseWriter, r *http.Request) error {
	wf, err := h.workflows.Get(r.Context(), actor(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, workflowView(wf))
}

func (h *Handler) updateWorkflow(w http.ResponseWriter, r *http.Request) error {
	var req client.SaveWorkflow
	if err := decode(w, r, &req); err != nil {
		return err
	}
	wf, err := h.workflows.Save(r.Context(), actor(r), r.PathValue("id"), req.Name, stepsIn(req.Steps))
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, workflowView(wf))
}

func (h *Handler) deleteWorkflow(w http.ResponseWriter, r *http.Request) error {
	if err := h.workflows.Delete(r.Context(), actor(r), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) linkAccount(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		AccountID string `json:"account_id"`
	}
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if req.AccountID != "" {
		if err := h.mayUseAccount(r, req.AccountID); err != nil {
			return err
		}
	}
	wf, err := h.workflows.Link(r.Context(), actor(r), r.PathValue("id"), r.PathValue("step"), r.PathValue("app"), req.AccountID)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, workflowView(wf))
}

func (h *Handler) runWorkflow(w http.ResponseWriter, r *http.Request) error {
	// A run answers when its steps are done, which may take longer than
	// the server's write timeout.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
	run, err := h.workflows.Run(r.Context(), actor(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/runs/"+run.ID)
	return reply(w, http.StatusCreated, runView(run))
}

func (h *Handler) listRuns(w http.ResponseWriter, r *http.Request) error {
	limit, err := limitParam(r, 20, accounts.MaxPage)
	if err != nil {
		return err
	}
	runs, err := h.workflows.Runs(r.Context(), actor(r), r.PathValue("id"), limit)
	if err != nil {
		return err
	}
	out := client.Page[client.Run]{Data: []client.Run{}}
	for _, run := range runs {
		out.Data = append(out.Data, runView(run))
	}
	return reply(w, http.StatusOK, out)
}

func (h *Handler) getRun(w http.ResponseWriter, r *http.Request) error {
	run, err := h.workflows.GetRun(r.Context(), actor(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, runView(run))
}

func refs(list []workflows.Ref) []client.WorkflowRef {
	out := []client.WorkflowRef{}
	for _, w := range list {
		out = append(out, client.WorkflowRef{ID: w.ID, Name: w.Name})
	}
	return out
}

func (h *Handler) usedBy(w http.ResponseWriter, r *http.Request) error {
	list, err := h.workflows.UsedBy(r.Context(), actor(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, map[string]any{"data": refs(list)})
}
