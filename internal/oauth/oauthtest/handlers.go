package oauthtest

// The authorization server's endpoints: authorize, token, revoke, userinfo.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ory/fosite"
)

func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ctx := r.Context()
	ar, err := s.provider.NewAuthorizeRequest(ctx, r)
	if err != nil {
		s.provider.WriteAuthorizeError(ctx, w, ar, err)
		return
	}
	s.knobs.Lock()
	user, deny, consent := s.user, s.denyCode, s.consent
	s.knobs.Unlock()
	if consent {
		switch r.Form.Get("consent") {
		case "approve":
		case "deny":
			deny = fosite.ErrAccessDenied.ErrorField
		default:
			params := url.Values{}
			for k, vs := range r.Form {
				if k != "consent" {
					params[k] = vs
				}
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("X-Frame-Options", "DENY")
			w.Header().Set("Content-Security-Policy", "frame-ancestors 'none'")
			_ = consentPage.Execute(w, map[string]any{
				"Client": ar.GetClient().GetID(), "Scopes": strings.Join(ar.GetRequestedScopes(), " "), "Params": params,
			})
			return
		}
	}
	if deny != "" {
		var e error = fosite.ErrAccessDenied
		if deny != fosite.ErrAccessDenied.ErrorField {
			e = &fosite.RFC6749Error{ErrorField: deny, DescriptionField: "Denied by oauthtest.", CodeField: http.StatusForbidden}
		}
		s.provider.WriteAuthorizeError(ctx, w, ar, e)
		return
	}
	// Requested scopes were already checked against the client's allowed
	// scopes by NewAuthorizeRequest; grant them all.
	for _, sc := range ar.GetRequestedScopes() {
		ar.GrantScope(sc)
	}
	for _, aud := range ar.GetRequestedAudience() {
		ar.GrantAudience(aud)
	}
	resp, err := s.provider.NewAuthorizeResponse(ctx, ar, &fosite.DefaultSession{Subject: user, Username: user})
	if err != nil {
		s.provider.WriteAuthorizeError(ctx, w, ar, err)
		return
	}
	s.provider.WriteAuthorizeResponse(ctx, w, ar, resp)
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		s.codeExch.Add(1)
	case "client_credentials", jwtBearerGrant:
		s.mints.Add(1)
	case "refresh_token":
		s.refreshes.Add(1)
		s.knobs.Lock()
		gate, arrived := s.gate, s.arrived
		s.knobs.Unlock()
		if gate != nil {
			select {
			case arrived <- struct{}{}:
			default:
			}
			select {
			case <-gate:
			case <-r.Context().Done():
				return
			}
		}
	}
	if d := time.Duration(s.tokenDelay.Load()); d > 0 {
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return
		}
	}
	s.knobs.Lock()
	status := 0
	if s.failLeft > 0 {
		s.failLeft--
		status = s.failStatus
	}
	s.knobs.Unlock()
	if status != 0 {
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"error":"temporarily_unavailable","error_description":"Injected by oauthtest.FailNextToken."}`))
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	ctx := r.Context()
	ar, err := s.provider.NewAccessRequest(ctx, r, &fosite.DefaultSession{})
	if err != nil {
		s.provider.WriteAccessError(ctx, w, ar, err)
		return
	}
	resp, err := s.provider.NewAccessResponse(ctx, ar)
	if err != nil {
		s.provider.WriteAccessError(ctx, w, ar, err)
		return
	}
	s.provider.WriteAccessResponse(ctx, w, ar, resp)
}

func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	s.revocations.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	ctx := r.Context()
	err := s.provider.NewRevocationRequest(ctx, r)
	s.provider.WriteRevocationResponse(ctx, w, err)
}

func (s *Server) handleUserinfo(w http.ResponseWriter, r *http.Request) {
	token := fosite.AccessTokenFromRequest(r)
	if token == "" {
		unauthorized(w, "invalid_request")
		return
	}
	s.mu.Lock()
	use, ar, err := s.provider.IntrospectToken(r.Context(), token, fosite.AccessToken, &fosite.DefaultSession{})
	var sub string
	if err == nil && use == fosite.AccessToken {
		sub = ar.GetSession().GetSubject()
		// A client credentials token acts for the client itself.
		if sub == "" && ar.GetClient() != nil {
			sub = ar.GetClient().GetID()
		}
	}
	s.mu.Unlock()
	if sub == "" {
		unauthorized(w, "invalid_token")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(map[string]string{
		"sub":   sub,
		"email": sub + "@example.com",
		"name":  capitalise(sub),
	})
}

func unauthorized(w http.ResponseWriter, code string) {
	w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer error=%q`, code))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusUnauthorized)
	_, _ = fmt.Fprintf(w, `{"error":%q}`, code)
}

func capitalise(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}
