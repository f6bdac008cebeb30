package web

import (
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/latchkeyhq/latchkey/internal/webhooks"
)

type webhooksContent struct {
	Endpoints []webhooks.Endpoint
	Types     []typeOption
	// URL is the add form's URL, to fill it again after an error.
	URL string
	// Secret is a signing secret just made, shown this once, for SecretFor.
	Secret, SecretFor string
}

type typeOption struct {
	Name    string
	Checked bool
}

type deliveriesContent struct {
	Endpoint   webhooks.Endpoint
	Deliveries []webhooks.Delivery
	// Next is the cursor of the next page, if there is one.
	Next string
}

// deliveriesPerPage is a page of the deliveries list.
const deliveriesPerPage = 50

func (h *Handler) hooks() (*webhooks.Service, error) {
	if h.webhooks == nil {
		return nil, internalError{errors.New("the webhooks page has no webhooks service")}
	}
	return h.webhooks, nil
}

// webhooksPage lists the workspace's endpoints, for owners and admins.
func (h *Handler) webhooksPage(w http.ResponseWriter, r *http.Request, s *session) error {
	return h.renderWebhooks(w, r, s, http.StatusOK, webhooksContent{}, "")
}

func (h *Handler) renderWebhooks(w http.ResponseWriter, r *http.Request, s *session, status int, c webhooksContent, formErr string) error {
	svc, err := h.hooks()
	if err != nil {
		return err
	}
	if c.Endpoints, err = svc.List(r.Context(), s.actor); err != nil {
		return err
	}
	checked := r.PostForm["event_type"]
	for _, t := range webhooks.EventTypes {
		c.Types = append(c.Types, typeOption{Name: t, Checked: formErr != "" && slices.Contains(checked, t)})
	}
	v := h.view(s, "Webhooks", "webhooks", c)
	v.Error = formErr
	switch r.URL.Query().Get("done") {
	case "deleted":
		v.Flash = "The endpoint is deleted, with its deliveries."
	case "disabled":
		v.Flash = "The endpoint is off: its pending deliveries fail, and new events are not sent to it."
	case "enabled":
		v.Flash = "The endpoint is on again; events from now on are sent to it."
	}
	h.render(w, r, status, "webhooks.html", v)
	return nil
}

// formError is the words of an error the person can fix in the form, or "".
func formError(err error) string {
	if e := classify(err); !e.internal() && e.Status != http.StatusNotFound && e.Status != http.StatusForbidden {
		return e.Message
	}
	return ""
}

func (h *Handler) createWebhook(w http.ResponseWriter, r *http.Request, s *session) error {
	svc, err := h.hooks()
	if err != nil {
		return err
	}
	u := r.PostFormValue("url")
	e, sec, err := svc.Create(r.Context(), s.actor, webhooks.CreateInput{URL: u, EventTypes: r.PostForm["event_type"]})
	if msg := formError(err); msg != "" {
		return h.renderWebhooks(w, r, s, http.StatusUnprocessableEntity, webhooksContent{URL: u}, msg)
	}
	if err != nil {
		return err
	}
	return h.renderWebhooks(w, r, s, http.StatusOK, webhooksContent{Secret: sec.Reveal(), SecretFor: e.URL}, "")
}

func (h *Handler) turnWebhook(on bool) pageFunc {
	return func(w http.ResponseWriter, r *http.Request, s *session) error {
		svc, err := h.hooks()
		if err != nil {
			return err
		}
		if _, err := svc.Update(r.Context(), s.actor, r.PathValue("id"), webhooks.UpdateInput{Enabled: &on}); err != nil {
			return err
		}
		done := "disabled"
		if on {
			done = "enabled"
		}
		http.Redirect(w, r, "/webhooks?done="+done, http.StatusSeeOther)
		return nil
	}
}

func (h *Handler) deleteWebhook(w http.ResponseWriter, r *http.Request, s *session) error {
	svc, err := h.hooks()
	if err != nil {
		return err
	}
	if err := svc.Delete(r.Context(), s.actor, r.PathValue("id")); err != nil {
		return err
	}
	http.Redirect(w, r, "/webhooks?done=deleted", http.StatusSeeOther)
	return nil
}

func (h *Handler) rotateWebhook(w http.ResponseWriter, r *http.Request, s *session) error {
	svc, err := h.hooks()
	if err != nil {
		return err
	}
	overlap, err := time.ParseDuration(r.PostFormValue("overlap"))
	if err != nil {
		overlap = 24 * time.Hour
	}
	id := r.PathValue("id")
	e, err := svc.Get(r.Context(), s.actor, id)
	if err != nil {
		return err
	}
	sec, err := svc.RotateSecret(r.Context(), s.actor, id, overlap)
	if msg := formError(err); msg != "" {
		return h.renderWebhooks(w, r, s, http.StatusUnprocessableEntity, webhooksContent{}, msg)
	}
	if err != nil {
		return err
	}
	return h.renderWebhooks(w, r, s, http.StatusOK, webhooksContent{Secret: sec.Reveal(), SecretFor: e.URL}, "")
}

// deliveriesPage lists an endpoint's deliveries with every attempt.
func (h *Handler) deliveriesPage(w http.ResponseWriter, r *http.Request, s *session) error {
	svc, err := h.hooks()
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	e, err := svc.Get(r.Context(), s.actor, id)
	if err != nil {
		return err
	}
	list, err := svc.Deliveries(r.Context(), s.actor, id, r.URL.Query().Get("before"), deliveriesPerPage)
	if err != nil {
		return err
	}
	c := deliveriesContent{Endpoint: e, Deliveries: list}
	if len(list) == deliveriesPerPage {
		c.Next = list[len(list)-1].ID
	}
	v := h.view(s, "Webhook deliveries", "webhooks", c)
	if r.URL.Query().Get("done") == "redeliver" {
		v.Flash = "The delivery will be sent again within a few seconds."
	}
	h.render(w, r, http.StatusOK, "webhook.html", v)
	return nil
}

func (h *Handler) redeliverWebhook(w http.ResponseWriter, r *http.Request, s *session) error {
	svc, err := h.hooks()
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	if _, err := svc.Redeliver(r.Context(), s.actor, id, r.PathValue("delivery")); err != nil {
		return err
	}
	http.Redirect(w, r, "/webhooks/"+id+"?done=redeliver", http.StatusSeeOther)
	return nil
}
