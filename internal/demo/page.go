package demo

import (
	"html/template"
	"net/http"
)

// The demo provider's own page: who is signed in, the grants they gave
// and a Revoke button for each, and the messages their tokens posted.
var providerPage = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Latchkey Demo provider</title><meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,"></head>
<body><main><h1>Latchkey Demo provider</h1>
<p>This page belongs to the demo provider, not to Latchkey: here its users see what they allowed and take it back.</p>
{{with .Problem}}<p id="demo-problem" role="alert">{{.}}</p>{{end}}
{{if .User}}<p id="demo-user">Signed in as <strong>{{.User}}</strong>.</p>
<form method="post" action="/demo/signout"><button type="submit">Sign out</button></form>
<h2>Apps you allowed</h2>
{{if .Grants}}<table id="demo-grants"><thead><tr><th>App</th><th>Scopes</th><th>Allowed</th><th>Refreshed</th><th></th></tr></thead><tbody>
{{range .Grants}}<tr data-grant="{{.ID}}"><td>Latchkey</td><td>{{range $i, $s := .Scopes}}{{if $i}}, {{end}}<code>{{$s}}</code>{{end}}</td>
<td>{{.GrantedAt.Format "15:04:05"}}</td><td>{{if .Refreshes}}{{if eq .Refreshes 1}}once{{else}}{{.Refreshes}} times{{end}}, last at {{.RefreshedAt.Format "15:04:05"}}{{else}}not yet{{end}}</td>
<td><form method="post" action="/demo/grants/{{.ID}}/revoke"><button type="submit" class="revoke">Revoke</button></form></td></tr>
{{end}}</tbody></table>
{{else}}<p id="demo-no-grants">You have allowed no app. Connect the Latchkey Demo app in Latchkey's catalog to give one.</p>{{end}}
<h2>Messages posted with your tokens</h2>
{{if .Messages}}<ol id="demo-messages">{{range .Messages}}<li>{{.At.Format "15:04:05"}}: {{.Text}}</li>{{end}}</ol>
{{else}}<p>None yet. A workflow's code step can post one with <code>auths.demo.oauth_access_token</code>.</p>{{end}}
{{else}}<p>Sign in with the demo user you chose when you connected the demo app.</p>
<form method="post" action="/demo/signin">
<p><label for="username">User name</label> <input id="username" name="username" autocomplete="username" required maxlength="40"></p>
<p><label for="password">Password</label> <input id="password" name="password" type="password" autocomplete="current-password" required minlength="4" maxlength="72"></p>
<button type="submit">Sign in</button></form>{{end}}
</main></body></html>`))

func (s *Server) page(w http.ResponseWriter, status int, user, problem string) {
	data := map[string]any{"User": user, "Problem": problem}
	if user != "" {
		data["Grants"], data["Messages"] = s.Grants(user), s.Messages(user)
	}
	s.render(w, status, providerPage, data)
}

func (s *Server) handlePage(w http.ResponseWriter, r *http.Request) {
	s.page(w, http.StatusOK, s.user(r), "")
}

func (s *Server) handleSignIn(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.page(w, http.StatusBadRequest, "", "The form could not be read.")
		return
	}
	if _, problem := s.signIn(w, r); problem != "" {
		s.page(w, http.StatusUnprocessableEntity, "", problem)
		return
	}
	http.Redirect(w, r, PagePath, http.StatusSeeOther)
}

func (s *Server) handleSignOut(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		s.users.Lock()
		delete(s.sessions, c.Value)
		s.users.Unlock()
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: PagePath, MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, PagePath, http.StatusSeeOther)
}

// handleRevokeGrant revokes one of the signed-in user's grants; another
// user's grant is answered as if it did not exist.
func (s *Server) handleRevokeGrant(w http.ResponseWriter, r *http.Request) {
	user := s.user(r)
	if user == "" {
		s.page(w, http.StatusUnauthorized, "", "Sign in to revoke a grant.")
		return
	}
	if !s.Revoke(r.Context(), user, r.PathValue("id")) {
		s.page(w, http.StatusNotFound, user, "You have no such grant; it may be revoked already.")
		return
	}
	http.Redirect(w, r, PagePath, http.StatusSeeOther)
}
