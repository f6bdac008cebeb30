package proxy

import (
	"net/http"
	"net/textproto"
	"strings"

	"github.com/latchkeyhq/latchkey/internal/appapi"
)

// hopByHop are the headers of one connection, not of the message (RFC
// 9110 section 7.6.1), as net/http/httputil's reverse proxy drops them.
var hopByHop = []string{"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// callerOnly are request headers that stay with Latchkey: the caller's
// own credentials and cookies (for Latchkey, not the app), and what the
// transport sets itself.
var callerOnly = []string{"Authorization", "Cookie", "Host", "Expect", "Content-Length", "Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Real-Ip"}

// providerOnly are answer headers that stay with the proxy: a cookie is
// the provider's session for the account, as good as its credentials;
// the others speak for the origin the caller reached, which is Latchkey.
var providerOnly = []string{"Set-Cookie", "Set-Cookie2", "Strict-Transport-Security", "Alt-Svc", "Clear-Site-Data"}

// requestHeader is the caller's headers as the provider gets them, before
// the app's own headers and credentials are put on.
func requestHeader(in http.Header) http.Header {
	out := in.Clone()
	if out == nil {
		out = http.Header{}
	}
	dropHopByHop(out)
	for _, k := range callerOnly {
		out.Del(k)
	}
	for k := range out {
		if strings.HasPrefix(k, "Latchkey-") || strings.HasPrefix(k, "X-Latchkey-") {
			delete(out, k)
		}
	}
	return out
}

// answerHeader is the provider's headers as the caller gets them: no
// hop-by-hop headers, no cookies, and no credential value anywhere (a
// Location that repeats a query-string key, say).
func answerHeader(in http.Header, values appapi.Values) http.Header {
	out := in.Clone()
	if out == nil {
		out = http.Header{}
	}
	dropHopByHop(out)
	for _, k := range providerOnly {
		out.Del(k)
	}
	for k, vs := range out {
		for i, v := range vs {
			vs[i] = appapi.Scrub(v, values)
		}
		out[k] = vs
	}
	return out
}

// dropHopByHop removes the hop-by-hop headers, and those the Connection
// header names.
func dropHopByHop(h http.Header) {
	for _, v := range h.Values("Connection") {
		for _, name := range strings.Split(v, ",") {
			if name = textproto.TrimString(name); name != "" {
				h.Del(name)
			}
		}
	}
	for _, k := range hopByHop {
		h.Del(k)
	}
}
