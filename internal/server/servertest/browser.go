package servertest

import (
	"fmt"
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
