package webtest_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestAPIReferenceOnAPhone: at 390 px the API reference renders with
// nothing wider than the screen, and a link of its contents scrolls to
// its operation.
func TestAPIReferenceOnAPhone(t *testing.T) {
	h := start(t, options{})
	h.setViewport(phone)
	h.open("/docs/api")
	h.at("/docs/api", "Latchkey API")
	if n := eval[int](h, `document.querySelectorAll("article[data-method]").length`); n < 60 {
		t.Fatalf("the page shows %d operations", n)
	}

	h.checkFitsScreen()

	// The operation with the longest path, the likeliest to be too wide.
	id := eval[string](h, `[...document.querySelectorAll("article[data-method]")]
		.sort((a, b) => b.dataset.path.length - a.dataset.path.length)[0].id`)
	link := `#contents a[href="#` + id + `"]`
	h.do("follow the contents to "+id, chromedp.Click(chromedp.CSS(link)))
	h.waitFor("the operation "+id+" at the top of the screen", `location.hash === `+js("#"+id)+` && scrollY > 0 &&
		(r => r.top >= 0 && r.top < 40)(document.getElementById(`+js(id)+`).getBoundingClientRect())`)
	heading := strings.Fields(h.text(`#` + id + ` h3`))
	path := eval[string](h, `document.getElementById(`+js(id)+`).dataset.path`)
	if len(heading) != 2 || heading[1] != path {
		t.Errorf("the section %s is headed %q, not its method and %s", id, heading, path)
	}
}

// checkFitsScreen: nothing of the page is wider than the screen.
func (h *harness) checkFitsScreen() {
	h.t.Helper()
	type overflow struct {
		Page  int      `json:"page"`
		Width int      `json:"width"`
		Wide  []string `json:"wide"`
	}
	o := eval[overflow](h, `({ page: document.documentElement.scrollWidth, width: innerWidth,
		wide: [...document.querySelectorAll("main *")].filter(e => e.getBoundingClientRect().right > innerWidth + 0.5)
			.slice(0, 5).map(e => e.tagName + " " + e.textContent.trim().slice(0, 80)) })`)
	if o.Page > o.Width || len(o.Wide) > 0 {
		h.t.Errorf("the page is %d px wide on a %d px screen; too wide: %q", o.Page, o.Width, o.Wide)
	}
}
