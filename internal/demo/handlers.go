package demo

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ory/fosite"
	"golang.org/x/crypto/bcrypt"
)

// sessionCookie is the demo provider's own sign-in, apart from Latchkey's.
const sessionCookie = "latchkey_demo"

func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	s.mu.Lock()
	defer s.mu.Unlock()
	ar, err := s.provider.NewAuthorizeRequest(ctx, r)
	if err != nil {
		s.provider.WriteAuthorizeError(ctx, w, ar, err)
		return
	}
	// fosite checks PKCE only when it issues the code; refuse before the
	// user signs in for nothing.
	if ar.GetRequestForm().Get("code_challenge") == "" || ar.GetRequestForm().Get("code_challenge_method") != "S256" {
		s.provider.WriteAuthorizeError(ctx, w, ar, fosite.ErrInvalidRequest.WithHint("The demo provider wants PKCE with S256."))
		return
	}
	user := s.user(r)
	if r.Method != http.MethodPost {
		s.consent(w, ar, r.Form, user, "")
		return
	}
	switch r.PostForm.Get("consent") {
	case "approve":
	case "deny":
		s.provider.WriteAuthorizeError(ctx, w, ar, fosite.ErrAccessDenied)
		return
	default:
		s.consent(w, ar, r.Form, user, "Choose Allow or Deny.")
		return
	}
	if user == "" {
		var problem string
		if user, problem = s.signIn(w, r); problem != "" {
			s.consent(w, ar, r.Form, "", problem)
			return
		}
	}
	for _, sc := range ar.GetRequestedScopes() {
		ar.GrantScope(sc)
	}
	resp, err := s.provider.NewAuthorizeResponse(ctx, ar, &fosite.DefaultSession{Subject: user, Username: user})
	if err != nil {
		s.provider.WriteAuthorizeError(ctx, w, ar, err)
		return
	}
	s.provider.WriteAuthorizeResponse(ctx, w, ar, resp)
}

// consent shows the sign-in and consent page; its form repeats the
// authorize request's parameters.
func (s *Server) consent(w http.ResponseWriter, ar fosite.AuthorizeRequester, form url.Values, user, problem string) {
	params := url.Values{}
	for k, vs := range form {
		switch k {
		case "consent", "username", "password":
		default:
			params[k] = vs
		}
	}
	status := http.StatusOK
	if problem != "" {
		status = http.StatusUnprocessableEntity
	}
	s.render(w, status, consentPage, map[string]any{
		"Scopes": ar.GetRequestedScopes(), "Params": params, "User": user, "Problem": problem, "Action": AuthorizePath,
	})
}

// signIn checks the form's user name and password. The first sign-in of
// a name creates that demo user with that password.
func (s *Server) signIn(w http.ResponseWriter, r *http.Request) (string, string) {
	name := strings.TrimSpace(r.PostForm.Get("username"))
	pw := r.PostForm.Get("password")
	if !validName(name) {
		return "", "Enter a user name of 1 to 40 letters, digits, dots, dashes or underscores."
	}
	if len(pw) < 4 || len(pw) > 72 {
		return "", "Enter a password of 4 to 72 characters."
	}
	s.users.Lock()
	hash, known := s.accounts[name]
	s.users.Unlock()
	if known {
		if bcrypt.CompareHashAndPassword(hash, []byte(pw)) != nil {
			return "", "That is not the password of " + name + "."
		}
	} else {
		h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.DefaultCost)
		if err != nil {
			return "", "The password could not be set; try another."
		}
		s.users.Lock()
		if _, raced := s.accounts[name]; raced {
			s.users.Unlock()
			return "", "That user name was just taken; sign in again."
		}
		s.accounts[name] = h
		s.users.Unlock()
	}
	b, err := random(24)
	if err != nil {
		return "", "Signing in failed; try again."
	}
	id := hex.EncodeToString(b)
	s.users.Lock()
	s.sessions[id] = name
	s.users.Unlock()
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: PagePath, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	return name, ""
}

func validName(n string) bool {
	if n == "" || len(n) > 40 {
		return false
	}
	for _, c := range n {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("._-", c)) {
			return false
		}
	}
	return true
}

// user is the demo user signed in on this browser, or "".
func (s *Server) user(r *http.Request) string {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return ""
	}
	s.users.Lock()
	defer s.users.Unlock()
	return s.sessions[c.Value]
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	s.mu.Lock()
	defer s.mu.Unlock()
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
	// As Salesforce's instance_url: where this grant's API is, for code.
	if s.apiURL != "" {
		resp.SetExtra(APIURLField, s.apiURL)
	}
	s.provider.WriteAccessResponse(ctx, w, ar, resp)
}

func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.provider.NewRevocationRequest(ctx, r)
	s.provider.WriteRevocationResponse(ctx, w, err)
}

// bearer is the demo user a valid access token acts for, or "".
func (s *Server) bearer(r *http.Request) string {
	token := fosite.AccessTokenFromRequest(r)
	if token == "" {
		return ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	use, ar, err := s.provider.IntrospectToken(r.Context(), token, fosite.AccessToken, &fosite.DefaultSession{})
	if err != nil || use != fosite.AccessToken {
		return ""
	}
	return ar.GetSession().GetSubject()
}

func unauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token", "error_description": "The access token is missing, expired or revoked."})
}

func (s *Server) handleMe(w http.ResponseWriter, r *http.Request) {
	user := s.bearer(r)
	if user == "" {
		unauthorized(w)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"sub": user, "name": user + " (demo)"})
}

// maxMessage bounds a message's text, in bytes; maxMessages how many of a
// user's the demo keeps.
const (
	maxMessage  = 2000
	maxMessages = 100
)

func (s *Server) handleMessage(w http.ResponseWriter, r *http.Request) {
	user := s.bearer(r)
	if user == "" {
		unauthorized(w)
		return
	}
	var in struct {
		Text string `json:"text"`
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": `The body must be {"text": "..."}.`})
		return
	}
	in.Text = strings.TrimSpace(in.Text)
	if in.Text == "" || len(in.Text) > maxMessage || !utf8.ValidString(in.Text) {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"error": "invalid_request", "error_description": fmt.Sprintf("text must be 1 to %d bytes of UTF-8.", maxMessage)})
		return
	}
	m := s.keep(user, in.Text)
	writeJSON(w, http.StatusCreated, m)
}

// keep stores a message of the user's, dropping the oldest past
// maxMessages: the demo lives in memory.
func (s *Server) keep(user, text string) Message {
	s.users.Lock()
	defer s.users.Unlock()
	s.lastMessage++
	m := Message{ID: s.lastMessage, Text: text, From: user, At: time.Now().UTC()}
	if n := len(s.messages[user]); n >= maxMessages {
		s.messages[user] = s.messages[user][n-maxMessages+1:]
	}
	s.messages[user] = append(s.messages[user], m)
	return m
}

// Messages are what the user's tokens posted, oldest first.
func (s *Server) Messages(user string) []Message {
	s.users.Lock()
	defer s.users.Unlock()
	return append([]Message(nil), s.messages[user]...)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

var consentPage = template.Must(template.New("consent").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Latchkey Demo: allow access?</title><meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,"></head>
<body><main><h1>Latchkey Demo provider</h1>
<p>This is the demo's own authorization server, standing in for a provider such as Slack or GitHub.</p>
<h2>Allow Latchkey to use your demo account?</h2>
<p id="demo-scopes">It asks for: {{range $i, $s := .Scopes}}{{if $i}}, {{end}}<code>{{$s}}</code>{{end}}</p>
{{with .Problem}}<p id="demo-problem" role="alert">{{.}}</p>{{end}}
<form method="post" action="{{.Action}}">{{range $k, $vs := .Params}}{{range $vs}}<input type="hidden" name="{{$k}}" value="{{.}}">{{end}}{{end}}
{{if .User}}<p id="demo-user">Signed in as <strong>{{.User}}</strong>.</p>
{{else}}<p>Sign in to the demo provider. A new name makes a new demo user with that password.</p>
<p><label for="username">User name</label> <input id="username" name="username" autocomplete="username" required maxlength="40"></p>
<p><label for="password">Password</label> <input id="password" name="password" type="password" autocomplete="current-password" required minlength="4" maxlength="72"></p>
{{end}}<button type="submit" name="consent" value="approve" id="approve">Allow</button>
<button type="submit" name="consent" value="deny" id="deny" formnovalidate>Deny</button>
</form></main></body></html>`))

func (s *Server) render(w http.ResponseWriter, status int, t *template.Template, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	// A provider's consent page refuses to be framed, and runs nothing.
	// The consent form's redirect goes on to Latchkey's callback.
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; img-src data:; base-uri 'none'; frame-ancestors 'none'; form-action 'self' "+s.callbackOrigin)
	w.WriteHeader(status)
	_ = t.Execute(w, data)
}
