package api

import (
	"net/http"
	"time"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/webhooks"
)

// SetWebhooks sets the service behind the /v1/webhooks routes.
func (h *Handler) SetWebhooks(svc *webhooks.Service) { h.webhooks = svc }

func (h *Handler) webhookService() (*webhooks.Service, error) {
	if h.webhooks == nil {
		return nil, problem(http.StatusNotFound, "no-such-route", "No such API route", "webhooks are not served here")
	}
	return h.webhooks, nil
}

func endpointView(e webhooks.Endpoint) client.WebhookEndpoint {
	types := e.EventTypes
	if types == nil {
		types = []string{}
	}
	return client.WebhookEndpoint{ID: e.ID, URL: e.URL, EventTypes: types, Enabled: e.Enabled, DisabledReason: e.DisabledReason,
		ConnectTokenID: e.ConnectTokenID, CreatedAt: *timestamp(&e.CreatedAt)}
}

func deliveryView(d webhooks.Delivery) client.WebhookDelivery {
	v := client.WebhookDelivery{ID: d.ID, EventID: d.EventID, EventType: d.EventType, Status: d.Status, Attempts: d.Attempts,
		NextAttemptAt: timestamp(d.NextAttemptAt), LastStatusCode: d.LastStatusCode, LastError: d.LastError,
		LastAttemptAt: timestamp(d.LastAttemptAt), CreatedAt: *timestamp(&d.CreatedAt), AttemptLog: []client.WebhookAttempt{}}
	for _, at := range d.History {
		v.AttemptLog = append(v.AttemptLog, client.WebhookAttempt{At: *timestamp(&at.At), StatusCode: at.StatusCode, Error: at.Error,
			DurationMS: at.Duration.Milliseconds()})
	}
	return v
}

func (h *Handler) getWebhook(w http.ResponseWriter, r *http.Request) error {
	svc, err := h.webhookService()
	if err != nil {
		return err
	}
	e, err := svc.Get(r.Context(), actor(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, endpointView(e))
}

func (h *Handler) updateWebhook(w http.ResponseWriter, r *http.Request) error {
	svc, err := h.webhookService()
	if err != nil {
		return err
	}
	var req client.UpdateWebhook
	if err := decode(w, r, &req); err != nil {
		return err
	}
	e, err := svc.Update(r.Context(), actor(r), r.PathValue("id"), webhooks.UpdateInput{URL: req.URL, EventTypes: req.EventTypes, Enabled: req.Enabled})
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, endpointView(e))
}

func (h *Handler) getDelivery(w http.ResponseWriter, r *http.Request) error {
	svc, err := h.webhookService()
	if err != nil {
		return err
	}
	d, err := svc.Delivery(r.Context(), actor(r), r.PathValue("id"), r.PathValue("delivery"))
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, deliveryView(d))
}

func (h *Handler) createWebhook(w http.ResponseWriter, r *http.Request) error {
	svc, err := h.webhookService()
	if err != nil {
		return err
	}
	var req client.CreateWebhook
	if err := decode(w, r, &req); err != nil {
		return err
	}
	e, sec, err := svc.Create(r.Context(), actor(r), webhooks.CreateInput{URL: req.URL, EventTypes: req.EventTypes})
	if err != nil {
		return err
	}
	v := endpointView(e)
	v.Secret = sec.Reveal()
	return reply(w, http.StatusCreated, v)
}

func (h *Handler) listWebhooks(w http.ResponseWriter, r *http.Request) error {
	svc, err := h.webhookService()
	if err != nil {
		return err
	}
	list, err := svc.List(r.Context(), actor(r))
	if err != nil {
		return err
	}
	out := struct {
		Data []client.WebhookEndpoint `json:"data"`
	}{Data: []client.WebhookEndpoint{}}
	for _, e := range list {
		out.Data = append(out.Data, endpointView(e))
	}
	return reply(w, http.StatusOK, out)
}

func (h *Handler) deleteWebhook(w http.ResponseWriter, r *http.Request) error {
	svc, err := h.webhookService()
	if err != nil {
		return err
	}
	if err := svc.Delete(r.Context(), actor(r), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) listDeliveries(w http.ResponseWriter, r *http.Request) error {
	svc, err := h.webhookService()
	if err != nil {
		return err
	}
	before, err := decodeCursor(r)
	if err != nil {
		return err
	}
	limit, err := limitParam(r, 50, 200)
	if err != nil {
		return err
	}
	list, err := svc.Deliveries(r.Context(), actor(r), r.PathValue("id"), before, limit)
	if err != nil {
		return err
	}
	out := struct {
		Data       []client.WebhookDelivery `json:"data"`
		NextCursor *string                  `json:"next_cursor"`
	}{Data: []client.WebhookDelivery{}}
	for _, d := range list {
		out.Data = append(out.Data, deliveryView(d))
	}
	if len(list) == limit {
		out.NextCursor = encodeCursor(list[len(list)-1].ID)
	}
	return reply(w, http.StatusOK, out)
}

func (h *Handler) redeliver(w http.ResponseWriter, r *http.Request) error {
	svc, err := h.webhookService()
	if err != nil {
		return err
	}
	d, err := svc.Redeliver(r.Context(), actor(r), r.PathValue("id"), r.PathValue("delivery"))
	if err != nil {
		return err
	}
	return reply(w, http.StatusAccepted, deliveryView(d))
}

func (h *Handler) rotateWebhookSecret(w http.ResponseWriter, r *http.Request) error {
	svc, err := h.webhookService()
	if err != nil {
		return err
	}
	var req client.RotateWebhookSecret
	if r.ContentLength != 0 {
		if err := decode(w, r, &req); err != nil {
			return err
		}
	}
	overlap := 24 * time.Hour
	if req.OverlapSeconds != nil {
		overlap = time.Duration(*req.OverlapSeconds) * time.Second
	}
	sec, err := svc.RotateSecret(r.Context(), actor(r), r.PathValue("id"), overlap)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, client.WebhookSecret{Secret: sec.Reveal()})
}
