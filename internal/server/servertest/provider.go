package servertest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// ProviderKeys are the only credentials the stand-in provider accepts.
type ProviderKeys struct {
	SendGridKey            string
	TwilioSID, TwilioToken string
}

// Provider stands in for SendGrid and Twilio (send those apps to its URL
// with app_origins): it accepts exactly the known credentials, answers as
// the providers do, and counts the requests it gets.
type Provider struct {
	*httptest.Server
	Requests atomic.Int64
}

// NewProvider starts a stand-in provider for the test.
func NewProvider(t testing.TB, keys ProviderKeys) *Provider {
	p := &Provider{}
	mux := http.NewServeMux()
	sendgrid := func(r *http.Request) bool { return r.Header.Get("Authorization") == "Bearer "+keys.SendGridKey }
	mux.HandleFunc("GET /v3/scopes", func(w http.ResponseWriter, r *http.Request) {
		if !sendgrid(r) {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"errors":[{"field":null,"message":"authorization required"}]}`))
			return
		}
		_, _ = w.Write([]byte(`{"scopes":["mail.send"]}`))
	})
	mux.HandleFunc("GET /v3/user/profile", func(w http.ResponseWriter, r *http.Request) {
		if !sendgrid(r) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte(`{"first_name":"Ada","last_name":"Lovelace"}`))
	})
	mux.HandleFunc("GET /2010-04-01/Accounts/{sid}", func(w http.ResponseWriter, r *http.Request) {
		u, pw, ok := r.BasicAuth()
		if !ok || keys.TwilioSID == "" || u != keys.TwilioSID || pw != keys.TwilioToken || r.PathValue("sid") != keys.TwilioSID+".json" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"code":20003,"message":"Authenticate"}`))
			return
		}
		_, _ = w.Write([]byte(`{"friendly_name":"Acme Ops"}`))
	})
	// SendGrid's Mail Send answers 202 with no body.
	mux.HandleFunc("POST /v3/mail/send", func(w http.ResponseWriter, r *http.Request) {
		if !sendgrid(r) {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"errors":[{"field":null,"message":"The provided authorization grant is invalid, expired, or revoked"}]}`))
			return
		}
		var mail struct {
			Personalizations []struct {
				To []struct{ Email string } `json:"to"`
			} `json:"personalizations"`
		}
		if json.NewDecoder(r.Body).Decode(&mail) != nil || len(mail.Personalizations) == 0 || len(mail.Personalizations[0].To) == 0 {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	})
	// Twilio's Messages answers 201 with the message. This one also echoes
	// the Authorization header it got, as a careless debugging provider
	// might: the caller must see it masked.
	mux.HandleFunc("POST /2010-04-01/Accounts/{sid}/Messages.json", func(w http.ResponseWriter, r *http.Request) {
		u, pw, ok := r.BasicAuth()
		if !ok || u != keys.TwilioSID || pw != keys.TwilioToken || r.PathValue("sid") != keys.TwilioSID {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"code":20003,"message":"Authenticate"}`))
			return
		}
		if r.ParseForm() != nil || r.PostForm.Get("To") == "" || r.PostForm.Get("Body") == "" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]string{"sid": "SM0123456789abcdef0123456789abcdef", "status": "queued",
			"to": r.PostForm.Get("To"), "body": r.PostForm.Get("Body"), "debug_auth": r.Header.Get("Authorization"), "debug_token": pw})
	})
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.Requests.Add(1)
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(p.Close)
	return p
}
