package api

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/latchkeyhq/latchkey/internal/proxy"
)

// ProxyPrefix starts every proxied path: /v1/proxy/{account_id}/{path...}.
const ProxyPrefix = "/v1/proxy/"

// proxyPattern is the proxy's route as the role × route table and the
// metrics name it. The proxy takes any method.
const proxyPattern = ProxyPrefix + "{account_id}/{path...}"

// AccountStatusHeader reports the account's status after the app refused
// its credentials and Latchkey checked it again.
const AccountStatusHeader = "Latchkey-Account-Status"

// SetProxy sets the service behind /v1/proxy/; until then it answers 404.
func (h *Handler) SetProxy(svc *proxy.Service) { h.proxy = svc }

// IsProxyPath reports whether the request is for the proxy. Those requests
// must reach the handler as sent: a mux would clean "..", "//" and
// encoded slashes away (with a redirect), and the proxy refuses them
// instead.
func IsProxyPath(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, ProxyPrefix) }

// serveProxy forwards the request and streams the app's answer back. Only
// API tokens reach it (the API takes no session cookie), so a web page
// cannot make a signed-in browser call an app with someone's account.
func (h *Handler) serveProxy(w http.ResponseWriter, r *http.Request) error {
	if h.proxy == nil {
		return problem(http.StatusNotFound, "no-such-route", "No such API route", "the proxy is not served here")
	}
	// The escaped path as sent, so that an encoded slash or dot is seen.
	rest := strings.TrimPrefix(r.URL.EscapedPath(), ProxyPrefix)
	id, path, _ := strings.Cut(rest, "/")
	if id == "" {
		return problem(http.StatusNotFound, "no-such-route", "No such API route", "use "+proxyPattern)
	}
	resp, err := h.proxy.Forward(r.Context(), actor(r), proxy.Request{
		AccountID: id, Method: r.Method, Path: path, RawQuery: r.URL.RawQuery,
		Header: r.Header, Body: r.Body, ContentLength: r.ContentLength,
	})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	if resp.AccountStatus != "" {
		w.Header().Set(AccountStatusHeader, resp.AccountStatus)
	}
	w.WriteHeader(resp.Status)
	if err := stream(w, resp.Body); err != nil {
		// The status is sent; the caller must not take a cut answer for
		// a whole one, so the connection is broken off.
		h.log.WarnContext(r.Context(), "proxied answer cut off", "account", id, "err", err)
		panic(http.ErrAbortHandler)
	}
	return nil
}

// streamBuffers are stream's copy buffers: a fresh 32 KiB for every
// proxied call was most of the proxy's garbage, and so of its GC time.
var streamBuffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// stream copies the answer as it comes, flushing each piece, so that a
// provider's server-sent events reach the caller as they are sent.
func stream(w http.ResponseWriter, body io.Reader) error {
	rc := http.NewResponseController(w)
	bp := streamBuffers.Get().(*[]byte)
	defer streamBuffers.Put(bp)
	buf := *bp
	for {
		n, err := body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return werr
			}
			if ferr := rc.Flush(); ferr != nil && !errors.Is(ferr, http.ErrNotSupported) {
				return ferr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
