package web

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/latchkeyhq/latchkey/internal/audit"
	"github.com/latchkeyhq/latchkey/internal/identity"
)

type activityContent struct {
	Events []activityEvent
	// The filters as given, to fill the form again.
	Actor, Account, Action, Since, Until string
	Members                              []identity.User
	// Next is the query of the next page, if there is one.
	Next string
}

type activityEvent struct {
	audit.Event
	Words, Who, Via string
}

// activityPage is the workspace's audit log, for owners and admins.
func (h *Handler) activityPage(w http.ResponseWriter, r *http.Request, s *session) error {
	if h.audit == nil {
		return internalError{errors.New("the activity page has no audit log to read")}
	}
	q := r.URL.Query()
	c := activityContent{Actor: q.Get("actor"), Account: q.Get("account"), Action: q.Get("action"), Since: q.Get("since"), Until: q.Get("until")}
	since, err := audit.ParseSince(c.Since)
	if err != nil {
		return err
	}
	until, err := audit.ParseUntil(c.Until)
	if err != nil {
		return err
	}
	page, err := h.audit.List(r.Context(), s.actor, audit.Query{ActorID: c.Actor, AccountID: c.Account, Action: c.Action,
		Since: since, Until: until, Cursor: q.Get("cursor")})
	if err != nil {
		return err
	}
	// One list of members names every actor on the page.
	members, err := h.identity.Members(r.Context(), s.actor)
	if err != nil {
		return internalError{err}
	}
	c.Members = members
	c.Events = describe(s, members, page.Events)
	if page.Next != "" {
		next := url.Values{}
		for k, v := range q {
			next[k] = v
		}
		next.Set("cursor", page.Next)
		c.Next = "?" + next.Encode()
	}
	h.render(w, r, http.StatusOK, "activity.html", h.view(s, "Activity", "activity", c))
	return nil
}

// describe puts events in words: what happened, and who did it, by the
// members' emails (the signed-in user is always known). An actor who is
// no longer a member is shown by id, so the log still tells them apart.
func describe(s *session, members []identity.User, events []audit.Event) []activityEvent {
	names := make(map[string]string, len(members)+1)
	for _, m := range members {
		names[m.ID] = m.Email
	}
	names[s.user.ID] = s.user.Email
	out := make([]activityEvent, 0, len(events))
	for _, e := range events {
		who := names[e.ActorID]
		switch {
		case who != "":
		case e.ActorID == "" || e.ActorID == "system":
			who = "Latchkey"
		default:
			who = e.ActorID
		}
		if e.TokenName != "" {
			who += " with the token " + e.TokenName
		}
		out = append(out, activityEvent{Event: e, Words: audit.Words(e.Action), Who: who, Via: audit.SurfaceWords(e.Surface)})
	}
	return out
}
