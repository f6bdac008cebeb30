package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/latchkeyhq/latchkey/internal/accounts"
	"github.com/latchkeyhq/latchkey/internal/actions"
	"github.com/latchkeyhq/latchkey/internal/catalog"
	"github.com/latchkeyhq/latchkey/internal/validation"
	"github.com/latchkeyhq/latchkey/internal/workflows"
)

// inputField is one input of an action as its step editor shows it, built
// from the action's input schema.
type inputField struct {
	// Name is the form field's name; Prop the input property.
	Name, Prop, Label string
	// Kind is text, number, integer, checkbox, select or json (arrays and
	// objects, written as JSON).
	Kind     string
	Required bool
	Value    string
	Checked  bool
	Options  []string
}

// inputFields builds the form of an action's input, filled from input.
func inputFields(act *catalog.Action, prefix string, input json.RawMessage) []inputField {
	var cur map[string]any
	_ = json.Unmarshal(input, &cur)
	sc := act.Input.Schema
	names := make([]string, 0, len(sc.Properties))
	for n := range sc.Properties {
		names = append(names, n)
	}
	// Required inputs first, then by name.
	slices.SortFunc(names, func(a, b string) int {
		if ra, rb := act.Input.Required(a), act.Input.Required(b); ra != rb {
			if ra {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	var out []inputField
	for _, n := range names {
		p := sc.Properties[n]
		f := inputField{Name: prefix + n, Prop: n, Label: p.Description, Required: act.Input.Required(n), Kind: "json"}
		switch p.Type {
		case "string":
			f.Kind = "text"
			for _, e := range p.Enum {
				if s, ok := e.(string); ok {
					f.Options = append(f.Options, s)
				}
			}
			if len(f.Options) > 0 {
				f.Kind = "select"
			}
		case "number", "integer", "boolean":
			f.Kind = p.Type
			if p.Type == "boolean" {
				f.Kind = "checkbox"
			}
		}
		if v, ok := cur[n]; ok {
			switch x := v.(type) {
			case string:
				if f.Kind == "json" {
					b, _ := json.Marshal(x)
					f.Value = string(b)
				} else {
					f.Value = x
				}
			case bool:
				f.Checked = x
			default:
				b, _ := json.Marshal(x)
				f.Value = string(b)
			}
		}
		out = append(out, f)
	}
	return out
}

// inputFrom reads an action's input back from a posted form: empty fields
// are left out, numbers and JSON are parsed, and the result is checked
// against the schema by the service that saves it.
func inputFrom(act *catalog.Action, prefix string, form url.Values) (json.RawMessage, error) {
	in := map[string]any{}
	for _, f := range inputFields(act, prefix, nil) {
		raw := strings.TrimSpace(form.Get(f.Name))
		switch f.Kind {
		case "checkbox":
			if form.Get(f.Name) != "" {
				in[f.Prop] = true
			}
			continue
		}
		if raw == "" {
			continue
		}
		switch f.Kind {
		case "text", "select":
			in[f.Prop] = form.Get(f.Name)
		case "number", "integer":
			n, err := strconv.ParseFloat(raw, 64)
			if err != nil {
				return nil, validation.Invalid(f.Prop, "%q is not a number", raw)
			}
			in[f.Prop] = n
		default:
			var v any
			if err := json.Unmarshal([]byte(raw), &v); err != nil {
				return nil, validation.Invalid(f.Prop, "is not valid JSON")
			}
			in[f.Prop] = v
		}
	}
	return json.Marshal(in)
}

type actionContent struct {
	// Actions is the picker's list when no action is chosen yet.
	Actions []actions.View
	Action  *actions.View
	Name    string
	Fields  []inputField
	// Accounts are the caller's accounts of the action's app; Connect is
	// where to connect one.
	Accounts []accountRow
	Selected string
	Connect  string
}

// newActionPage is the step editor of a new workflow of one action step:
// it asks for an account of the action's app (offering to connect one) and
// draws a form from the action's input schema.
func (h *Handler) newActionPage(w http.ResponseWriter, r *http.Request, s *session) error {
	return h.renderNewAction(w, r, s, http.StatusOK, r.URL.Query().Get("action"), "", "", nil, "")
}

func (h *Handler) renderNewAction(w http.ResponseWriter, r *http.Request, s *session, status int, ref, name, account string, input json.RawMessage, errMsg string) error {
	c := actionContent{Name: name, Selected: account}
	if ref == "" {
		list, err := h.actions.List(r.Context(), s.actor, "")
		if err != nil {
			return internalError{err}
		}
		c.Actions = list
	} else {
		v, err := h.actions.Get(r.Context(), s.actor, ref)
		if err != nil {
			return err
		}
		c.Action = &v
		if c.Name == "" {
			c.Name = v.AppName + ": " + v.Action.Description
			if len(c.Name) > 200 {
				c.Name = c.Name[:200]
			}
		}
		c.Fields = inputFields(v.Action, "input.", input)
		c.Connect = "/connect/" + url.PathEscape(v.App)
		list, _, err := h.accounts.List(r.Context(), s.actor, accounts.ListInput{App: v.App, Limit: accounts.MaxPage})
		if err != nil {
			return internalError{err}
		}
		for _, a := range list {
			c.Accounts = append(c.Accounts, h.row(r, s, a))
		}
	}
	v := h.view(s, "New action step", "workflows", c)
	v.Error = errMsg
	h.render(w, r, status, "action_step.html", v)
	return nil
}

func (h *Handler) createActionWorkflow(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "the form does not parse", http.StatusBadRequest)
		return nil
	}
	ref, name, account := r.PostForm.Get("action"), r.PostForm.Get("name"), r.PostForm.Get("account")
	v, err := h.actions.Get(r.Context(), s.actor, ref)
	if err != nil {
		return err
	}
	input, err := inputFrom(v.Action, "input.", r.PostForm)
	if err == nil {
		step := workflows.Step{Key: v.Action.Name, Kind: workflows.KindAction, Action: ref, Input: input}
		if account != "" {
			step.Accounts = map[string]string{v.App: account}
		}
		var wf workflows.Workflow
		if wf, err = h.workflows.Save(r.Context(), s.actor, "", name, []workflows.Step{step}); err == nil {
			http.Redirect(w, r, "/workflows/"+wf.ID, http.StatusSeeOther)
			return nil
		}
	}
	if e := classify(err); !e.internal() {
		// The form again, as it was filled, with the error above it.
		return h.renderNewAction(w, r, s, e.Status, ref, name, account, input, e.Message)
	}
	return err
}
