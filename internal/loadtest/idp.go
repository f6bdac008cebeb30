package loadtest

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// IdP is the small OAuth 2 authorization server the load command connects
// its account through: the authorization code grant with PKCE S256 and
// client_secret_basic, refresh, and a userinfo endpoint. It auto-approves
// for one user. The tests' server (internal/oauth/oauthtest, built on
// fosite) cannot serve here: fosite links the testing package, and the
// command must not.
type IdP struct {
	// URL is the base URL, http://127.0.0.1:port.
	URL          string
	ClientID     string
	ClientSecret string

	srv       *http.Server
	refreshes atomic.Int64

	mu     sync.Mutex
	codes  map[string]grant // authorization code -> what it grants, once
	tokens map[string]bool  // access tokens issued
}

// grant is an authorization code's request.
type grant struct {
	redirectURI, challenge, scope string
	expires                       time.Time
}

// IdPApp is the catalog entry of the IdP, for a catalog_dir file named
// IdPSlug + ".yaml"; app_origins must send IdPSlug to the IdP's URL.
const IdPApp = idpApp

// IdPSlug is the IdP's app.
const IdPSlug = "loadidp"

// idpApp is the catalog entry for the IdP; its URLs name a placeholder
// host that app_origins sends to the IdP's loopback address.
const idpApp = `slug: loadidp
name: Load IdP
categories: [developer-tools]
docs_url: https://idp.example/docs
auth: oauth2
base_url: https://idp.example
oauth2:
  authorize_url: https://idp.example/authorize
  token_url: https://idp.example/token
  default_scopes: [openid, email, offline_access, read]
  client_auth: basic
identity:
  url: /userinfo
  label: '{email}'
`

// accessTokenLife is how long an access token is valid: long enough that
// a run never refreshes.
const accessTokenLife = time.Hour

// NewIdP starts an IdP on loopback, on a free port.
func NewIdP() (*IdP, error) { return NewIdPAt("127.0.0.1:0") }

// NewIdPAt starts an IdP listening on addr, a loopback host:port.
func NewIdPAt(addr string) (*IdP, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	p := &IdP{URL: "http://" + ln.Addr().String(), ClientID: "latchkey-load", ClientSecret: "secret-" + rand.Text(),
		codes: map[string]grant{}, tokens: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /authorize", p.authorize)
	mux.HandleFunc("POST /token", p.token)
	mux.HandleFunc("GET /userinfo", p.userinfo)
	p.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = p.srv.Serve(ln) }()
	return p, nil
}

// Close stops the IdP.
func (p *IdP) Close() error { return p.srv.Close() }

// Refreshes counts refresh-token grants.
func (p *IdP) Refreshes() int { return int(p.refreshes.Load()) }

// authorize approves at once and sends the browser back with a code.
// The redirect URI must be on loopback, as Latchkey's is here.
func (p *IdP) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	back, err := url.Parse(q.Get("redirect_uri"))
	switch {
	case q.Get("client_id") != p.ClientID, q.Get("response_type") != "code":
		http.Error(w, "unknown client or response type", http.StatusBadRequest)
		return
	case err != nil || back.Scheme != "http" || back.Hostname() != "127.0.0.1":
		http.Error(w, "the redirect URI must be on loopback", http.StatusBadRequest)
		return
	case q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "":
		http.Error(w, "PKCE S256 is required", http.StatusBadRequest)
		return
	}
	code := rand.Text()
	p.mu.Lock()
	p.codes[code] = grant{redirectURI: back.String(), challenge: q.Get("code_challenge"), scope: q.Get("scope"), expires: time.Now().Add(time.Minute)}
	p.mu.Unlock()
	v := back.Query()
	v.Set("code", code)
	v.Set("state", q.Get("state"))
	back.RawQuery = v.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

// token answers the authorization code and refresh token grants.
func (p *IdP) token(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	if !ok || id != p.ClientID || subtle.ConstantTimeCompare([]byte(secret), []byte(p.ClientSecret)) != 1 {
		tokenError(w, http.StatusUnauthorized, "invalid_client")
		return
	}
	if err := r.ParseForm(); err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_request")
		return
	}
	scope := ""
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		p.mu.Lock()
		g, found := p.codes[r.PostForm.Get("code")]
		delete(p.codes, r.PostForm.Get("code"))
		p.mu.Unlock()
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		if !found || time.Now().After(g.expires) || g.redirectURI != r.PostForm.Get("redirect_uri") ||
			base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
			tokenError(w, http.StatusBadRequest, "invalid_grant")
			return
		}
		scope = g.scope
	case "refresh_token":
		p.refreshes.Add(1)
	default:
		tokenError(w, http.StatusBadRequest, "unsupported_grant_type")
		return
	}
	access := rand.Text()
	p.mu.Lock()
	p.tokens[access] = true
	p.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"access_token": access, "token_type": "Bearer", "expires_in": int(accessTokenLife / time.Second),
		"refresh_token": rand.Text(), "scope": scope,
	})
}

func tokenError(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code})
}

// userinfo names the one user, for a valid access token.
func (p *IdP) userinfo(w http.ResponseWriter, r *http.Request) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	p.mu.Lock()
	valid := ok && p.tokens[tok]
	p.mu.Unlock()
	if !valid {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"sub": "alice", "email": "alice@example.com", "name": "Alice"})
}
