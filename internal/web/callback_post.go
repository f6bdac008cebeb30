package web

import (
	"net/http"
	"net/url"

	"github.com/latchkeyhq/latchkey/internal/connecting"
)

// Bounds of what a callback may carry besides the code and the state.
const (
	maxCallbackParams = 20
	maxCallbackQuery  = 8 << 10
)

// callbackQuery is the callback's other parameters, first values only,
// for the app's callback_fields. The service picks the ones it keeps.
func callbackQuery(q url.Values) map[string]string {
	out := map[string]string{}
	for k, v := range q {
		switch k {
		case "state", "code", "error", "error_description":
			continue
		}
		if len(out) == maxCallbackParams || len(k) > 64 || len(v) == 0 || len(v[0]) > 512 {
			continue
		}
		out[k] = v[0]
	}
	return out
}

// callbackPost takes a callback that the provider sends as a form post
// (Copper) and turns it into the GET callback it stands for, with a 303.
//
// It changes nothing itself, so it is exempt from the cross-origin check
// (the post comes from the provider's origin by design); the GET it leads
// to checks the state as any callback does. The detour matters: a
// cross-site POST carries no SameSite=Lax cookie, so the browser's
// session would be missing, while the top-level GET that follows the
// redirect carries it.
func (h *Handler) callbackPost(w http.ResponseWriter, r *http.Request) error {
	form := url.Values{}
	for k, v := range r.PostForm {
		if len(v) > 0 {
			form.Set(k, v[0])
		}
	}
	// A query string too long for a URL is no callback.
	enc := form.Encode()
	if form.Get("state") == "" || len(enc) > maxCallbackQuery {
		return connecting.ErrBadState
	}
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, CallbackPath+"?"+enc, http.StatusSeeOther)
	return nil
}
