// Package oauth1test runs an OAuth 1.0a provider (RFC 5849) for tests:
// temporary credentials, an authorize page that approves at once, token
// credentials, and a small signed API. No well-kept Go module implements
// the provider side of three-legged OAuth 1.0a, so this one verifies
// every signature itself, from the request as it arrived, by the RFC's
// rules (section 3.4), with crypto/hmac: it shares no code with the
// client library Latchkey signs with, so a signing mistake there fails
// here.
//
// It serves the paths of Trello's entry, so a test can point the shipped
// app at it:
//
//	POST /1/OAuthGetRequestToken   signed with the consumer secret; needs oauth_callback
//	GET  /1/OAuthAuthorizeToken    approves (or denies) and redirects to the callback
//	POST /1/OAuthGetAccessToken    signed with the request token's secret; spends the verifier
//	GET  /1/members/me             signed with the access token's secret
//	*    /1/echo                   any method: answers the parameters it verified
package oauth1test

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server is a running provider.
type Server struct {
	// URL is its origin, http://127.0.0.1:port.
	URL string
	// ConsumerKey and ConsumerSecret are the one consumer it knows.
	ConsumerKey, ConsumerSecret string

	srv *httptest.Server

	mu       sync.Mutex
	requests map[string]*request // by request token
	access   map[string]string   // access token -> secret
	nonces   map[string]bool
	deny     bool
	// authorized are the query parameters of the authorize page's visits.
	authorized []url.Values
	signed     int
}

type request struct {
	secret, callback, verifier string
	used                       bool
}

// New starts a provider for the test.
func New(t testing.TB) *Server {
	s := &Server{ConsumerKey: "ck-" + random(8), ConsumerSecret: "cs-" + random(16),
		requests: map[string]*request{}, access: map[string]string{}, nonces: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /1/OAuthGetRequestToken", s.requestToken)
	mux.HandleFunc("GET /1/OAuthAuthorizeToken", s.authorize)
	mux.HandleFunc("POST /1/OAuthGetAccessToken", s.accessToken)
	mux.HandleFunc("GET /1/members/me", s.api(func(w http.ResponseWriter, _ map[string]string) {
		_, _ = w.Write([]byte(`{"id":"5f0c0ffee0000000000000aa","fullName":"Alice Example","username":"alice"}`))
	}))
	mux.HandleFunc("/1/echo", s.api(func(w http.ResponseWriter, p map[string]string) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(p)
	}))
	mux.HandleFunc("POST /1/cards", s.api(func(w http.ResponseWriter, p map[string]string) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"id": "c0ffee", "name": p["name"], "idList": p["idList"], "shortUrl": "https://trello.example/c/c0ffee"})
	}))
	s.srv = httptest.NewServer(mux)
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

// Deny makes the authorize page refuse, as a user who clicks Deny.
func (s *Server) Deny(deny bool) { s.mu.Lock(); s.deny = deny; s.mu.Unlock() }

// RevokeAll ends every access token, as a user who revokes the app.
func (s *Server) RevokeAll() { s.mu.Lock(); s.access = map[string]string{}; s.mu.Unlock() }

// Authorized returns the query of each visit of the authorize page.
func (s *Server) Authorized() []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]url.Values(nil), s.authorized...)
}

// Signed counts the API requests whose signature held.
func (s *Server) Signed() int { s.mu.Lock(); defer s.mu.Unlock(); return s.signed }

// IsAccessToken reports whether token and secret are a live token
// credential this provider issued.
func (s *Server) IsAccessToken(token, secret string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return token != "" && s.access[token] == secret
}

func (s *Server) requestToken(w http.ResponseWriter, r *http.Request) {
	p, err := s.verify(r, func(map[string]string) (string, bool) { return "", true })
	if err != nil {
		refuse(w, err)
		return
	}
	cb := p["oauth_callback"]
	if u, err := url.Parse(cb); err != nil || !u.IsAbs() {
		refuse(w, errors.New("parameter_absent: oauth_callback"))
		return
	}
	tok, sec := "rt-"+random(12), "rs-"+random(16)
	s.mu.Lock()
	s.requests[tok] = &request{secret: sec, callback: cb}
	s.mu.Unlock()
	_, _ = io.WriteString(w, url.Values{"oauth_token": {tok}, "oauth_token_secret": {sec}, "oauth_callback_confirmed": {"true"}}.Encode())
}

func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	s.authorized = append(s.authorized, q)
	rq, deny := s.requests[q.Get("oauth_token")], s.deny
	if rq != nil && !deny {
		rq.verifier = "v-" + random(10)
	}
	s.mu.Unlock()
	if rq == nil {
		http.Error(w, "unknown request token", http.StatusBadRequest)
		return
	}
	cb, _ := url.Parse(rq.callback)
	cq := cb.Query()
	cq.Set("oauth_token", q.Get("oauth_token"))
	if deny {
		cq.Set("denied", q.Get("oauth_token"))
	} else {
		cq.Set("oauth_verifier", rq.verifier)
	}
	cb.RawQuery = cq.Encode()
	http.Redirect(w, r, cb.String(), http.StatusFound)
}

func (s *Server) accessToken(w http.ResponseWriter, r *http.Request) {
	var rq *request
	p, err := s.verify(r, func(p map[string]string) (string, bool) {
		s.mu.Lock()
		defer s.mu.Unlock()
		rq = s.requests[p["oauth_token"]]
		if rq == nil || rq.used {
			return "", false
		}
		return rq.secret, true
	})
	if err != nil {
		refuse(w, err)
		return
	}
	s.mu.Lock()
	ok := rq.verifier != "" && hmac.Equal([]byte(rq.verifier), []byte(p["oauth_verifier"]))
	rq.used = true // a verifier is good for one try
	tok, sec := "at-"+random(12), "as-"+random(16)
	if ok {
		s.access[tok] = sec
	}
	s.mu.Unlock()
	if !ok {
		refuse(w, errors.New("permission_denied: the verifier is wrong"))
		return
	}
	_, _ = io.WriteString(w, url.Values{"oauth_token": {tok}, "oauth_token_secret": {sec}}.Encode())
}

// api wraps a handler that only a request signed with a live access token
// reaches; it gets every parameter that was signed.
func (s *Server) api(h func(http.ResponseWriter, map[string]string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, err := s.verify(r, func(p map[string]string) (string, bool) {
			s.mu.Lock()
			defer s.mu.Unlock()
			sec, ok := s.access[p["oauth_token"]]
			return sec, ok
		})
		if err != nil {
			refuse(w, err)
			return
		}
		s.mu.Lock()
		s.signed++
		s.mu.Unlock()
		h(w, p)
	}
}

func refuse(w http.ResponseWriter, err error) {
	problem, advice, _ := strings.Cut(err.Error(), ": ")
	w.Header().Set("Content-Type", "application/x-www-form-urlencoded")
	w.WriteHeader(http.StatusUnauthorized)
	_, _ = io.WriteString(w, url.Values{"oauth_problem": {problem}, "oauth_problem_advice": {advice}}.Encode())
}

// verify checks a request's OAuth 1.0a signature (RFC 5849 section 3.4,
// HMAC-SHA1), its consumer, timestamp and nonce. tokenSecret finds the
// secret of the oauth_token the request names. It returns every
// parameter signed (query, form body and oauth_* alike).
func (s *Server) verify(r *http.Request, tokenSecret func(map[string]string) (string, bool)) (map[string]string, error) {
	oauthParams, err := parseAuthorization(r.Header.Get("Authorization"))
	if err != nil {
		return nil, err
	}
	var pairs [][2]string
	all := map[string]string{}
	add := func(k, v string) {
		pairs = append(pairs, [2]string{k, v})
		all[k] = v
	}
	for k, vs := range r.URL.Query() {
		for _, v := range vs {
			add(k, v)
		}
	}
	if r.Body != nil && r.Header.Get("Content-Type") == "application/x-www-form-urlencoded" {
		b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			return nil, err
		}
		form, err := url.ParseQuery(string(b))
		if err != nil {
			return nil, errors.New("parameter_rejected: the form body does not parse")
		}
		for k, vs := range form {
			for _, v := range vs {
				add(k, v)
			}
		}
	}
	sig := oauthParams["oauth_signature"]
	for k, v := range oauthParams {
		if k != "oauth_signature" && k != "realm" {
			add(k, v)
		}
	}
	switch {
	case all["oauth_consumer_key"] != s.ConsumerKey:
		return nil, errors.New("consumer_key_unknown: no such consumer")
	case all["oauth_signature_method"] != "HMAC-SHA1":
		return nil, errors.New("signature_method_rejected: HMAC-SHA1 only")
	case sig == "":
		return nil, errors.New("parameter_absent: oauth_signature")
	}
	ts, err := strconv.ParseInt(all["oauth_timestamp"], 10, 64)
	if err != nil || time.Since(time.Unix(ts, 0)).Abs() > 5*time.Minute {
		return nil, errors.New("timestamp_refused: the timestamp is missing or too far off")
	}
	sec, ok := tokenSecret(all)
	if !ok {
		return nil, errors.New("token_rejected: no such token")
	}
	sort.Slice(pairs, func(i, j int) bool {
		a, b := pairs[i], pairs[j]
		if ea, eb := encode(a[0]), encode(b[0]); ea != eb {
			return ea < eb
		}
		return encode(a[1]) < encode(b[1])
	})
	enc := make([]string, len(pairs))
	for i, p := range pairs {
		enc[i] = encode(p[0]) + "=" + encode(p[1])
	}
	base := strings.ToUpper(r.Method) + "&" + encode("http://"+strings.ToLower(r.Host)+r.URL.EscapedPath()) + "&" + encode(strings.Join(enc, "&"))
	mac := hmac.New(sha1.New, []byte(encode(s.ConsumerSecret)+"&"+encode(sec)))
	mac.Write([]byte(base))
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(want), []byte(sig)) {
		return nil, errors.New("signature_invalid: the signature does not match")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	nonce := all["oauth_timestamp"] + "/" + all["oauth_nonce"]
	if all["oauth_nonce"] == "" || s.nonces[nonce] {
		return nil, errors.New("nonce_used: the nonce was used already")
	}
	s.nonces[nonce] = true
	return all, nil
}

// parseAuthorization reads an `OAuth k="v", ...` header.
func parseAuthorization(h string) (map[string]string, error) {
	rest, ok := strings.CutPrefix(h, "OAuth ")
	if !ok {
		return nil, errors.New("parameter_absent: the Authorization header is not OAuth")
	}
	out := map[string]string{}
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
			return nil, fmt.Errorf("parameter_rejected: %q", part)
		}
		dk, err1 := url.PathUnescape(k)
		dv, err2 := url.PathUnescape(v[1 : len(v)-1])
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("parameter_rejected: %q", part)
		}
		out[dk] = dv
	}
	return out, nil
}

// encode is RFC 5849 section 3.6 percent-encoding: everything but the
// unreserved characters, in upper-case hex.
func encode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

func random(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
