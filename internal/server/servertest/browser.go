package servertest

import (
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
)

var resumeForm = regexp.MustCompile(`action="(/oauth/callback/resume/[^"]+)"`)

// Approve plays the user's browser for an authorize URL: it follows the
// redirects back to Latchkey's callback and, when the page asks for the
// one-time code, enters code there. It returns the last page. hc may be
// nil; it gets a cookie jar of its own when it has none, as a browser
// keeps cookies.
func Approve(hc *http.Client, authorizeURL, code string) (int, string, error) {
	if hc == nil {
		hc = &http.Client{}
	}
	if hc.Jar == nil {
		c := *hc
		c.Jar, _ = cookiejar.New(nil)
		hc = &c
	}
	resp, err := hc.Get(authorizeURL)
	if err != nil {
		return 0, "", err
	}
	return finish(hc, resp, code)
}

// hiddenInput is one of a consent form's hidden fields.
var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// ApproveForm plays a user at a provider whose authorize URL shows a
// sign-in and consent form (the demo's): it opens the page, posts the form
// with fields and the Allow button, follows the redirects back to Latchkey
// and enters the one-time code when asked.
func ApproveForm(hc *http.Client, authorizeURL, code string, fields url.Values) (int, string, error) {
	if hc == nil || hc.Jar == nil {
		return 0, "", fmt.Errorf("ApproveForm needs a client with a cookie jar")
	}
	resp, err := hc.Get(authorizeURL)
	if err != nil {
		return 0, "", err
	}
	at := resp.Request.URL
	status, page, err := read(resp)
	if err != nil || status != http.StatusOK {
		return status, page, err
	}
	form := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(page, -1) {
		form.Add(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	for k, vs := range fields {
		form[k] = vs
	}
	form.Set("consent", "approve")
	resp, err = hc.PostForm(at.Scheme+"://"+at.Host+at.Path, form)
	if err != nil {
		return 0, "", err
	}
	return finish(hc, resp, code)
}

// finish reads the page a provider's redirect led to and, when it asks
// for the one-time code, enters it.
func finish(hc *http.Client, resp *http.Response, code string) (int, string, error) {
	// The page's origin is the last redirect's: Latchkey's callback.
	at := resp.Request.URL
	status, page, err := read(resp)
	if err != nil || !strings.Contains(page, `data-need="code"`) {
		return status, page, err
	}
	m := resumeForm.FindStringSubmatch(page)
	if m == nil {
		return status, page, fmt.Errorf("the one-time code page has no form:\n%s", page)
	}
	resp, err = hc.PostForm(at.Scheme+"://"+at.Host+m[1], url.Values{"code": {code}})
	if err != nil {
		return 0, "", err
	}
	return read(resp)
}

func read(resp *http.Response) (int, string, error) {
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}
