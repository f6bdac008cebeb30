package servertest

import (
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
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.Requests.Add(1)
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(p.Close)
	return p
}
