package webtest_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// box is an element's bounding box, and whether a click at its centre
// lands on it (nothing covers it).
type box struct {
	Text      string  `json:"text"`
	Left      float64 `json:"left"`
	Top       float64 `json:"top"`
	Right     float64 `json:"right"`
	Bottom    float64 `json:"bottom"`
	Clickable bool    `json:"clickable"`
}

// boxesJS measures every element sel matches.
func boxesJS(sel string) string {
	return `[...document.querySelectorAll(` + js(sel) + `)].map(e => {
		const r = e.getBoundingClientRect();
		const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
		return { text: e.textContent.trim(), left: r.left, top: r.top, right: r.right, bottom: r.bottom,
			clickable: !!hit && (hit === e || e.contains(hit)) };
	})`
}

// inside reports whether b lies wholly within a w×h viewport.
func (b box) inside(w, h int64) bool {
	return b.Left >= 0 && b.Top >= 0 && b.Right <= float64(w) && b.Bottom <= float64(h) && b.Right > b.Left
}

// TestPhoneRowMenu: at 390×844 every item of a row's "⋯" menu is on the
// screen and takes a click; Rename, chosen from there, opens its dialog.
func TestPhoneRowMenu(t *testing.T) {
	h := start(t, options{oauth: true})
	h.signUp()
	key := h.createKeyAccount("marketing")
	work := h.connectByAPI("work")
	h.setViewport(phone)
	h.open("/")
	h.waitRows("two accounts", func(r []row) bool { return len(r) == 2 })

	for _, id := range []string{key.ID, work.ID} {
		h.openRowMenu(id)
		sel := `tr[data-id=` + js(id) + `] details.menu [role=menuitem]`
		h.do("scroll the menu into view", chromedp.ScrollIntoView(chromedp.CSS(`tr[data-id=`+js(id)+`] .menu-list`)))
		items := eval[[]box](h, boxesJS(sel))
		if len(items) != 3 {
			t.Fatalf("the menu of %s has %d items: %+v", id, len(items), items)
		}
		for _, b := range items {
			if !b.inside(phone.width, phone.height) {
				t.Errorf("the menu item %q lies at %+v, outside the %dx%d screen", b.Text, b, phone.width, phone.height)
			}
			if !b.Clickable {
				t.Errorf("a click on the menu item %q lands on something else", b.Text)
			}
		}
		h.do("close the menu", chromedp.KeyEvent("\x1b"))
		h.waitFor("the menu to close", `!document.querySelector("tr[data-id=`+strings.ReplaceAll(js(id), `"`, `'`)+`] details.menu").open`)
	}

	h.openRowMenu(key.ID)
	h.do("choose Rename", chromedp.Click(chromedp.CSS(`tr[data-id="`+key.ID+`"] [data-rename]`)))
	h.waitFor("the rename dialog", `document.querySelector("#rename-dialog").open`)
	d := eval[[]box](h, boxesJS("#rename-dialog"))
	if len(d) != 1 || !d[0].inside(phone.width, phone.height) {
		t.Errorf("the rename dialog lies at %+v", d)
	}
}

// TestPhoneNav: at 390 px every link of the main navigation is one line,
// whole, and can be reached (the bar scrolls sideways rather than clip).
func TestPhoneNav(t *testing.T) {
	h := start(t, options{})
	h.signUp()
	h.setViewport(phone)
	h.open("/")
	h.at("/", "Accounts")
	type link struct {
		Text      string `json:"text"`
		Lines     int    `json:"lines"`
		Clipped   bool   `json:"clipped"`
		Reachable bool   `json:"reachable"`
	}
	links := eval[[]link](h, `[...document.querySelectorAll("nav[aria-label=Main] a")].map(a => {
		const lines = (rg => { rg.selectNodeContents(a); return new Set([...rg.getClientRects()].map(q => Math.round(q.top))).size; })(document.createRange());
		a.scrollIntoView({ inline: "nearest", block: "nearest" });
		const r = a.getBoundingClientRect();
		const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
		return { text: a.textContent, lines,
			clipped: a.scrollWidth > a.clientWidth + 1,
			reachable: !!hit && (hit === a || a.contains(hit)) && r.left >= 0 && r.right <= innerWidth };
	})`)
	var names []string
	for _, l := range links {
		names = append(names, l.Text)
		if l.Lines != 1 {
			t.Errorf("the nav link %q takes %d lines", l.Text, l.Lines)
		}
		if l.Clipped {
			t.Errorf("the nav link %q is clipped", l.Text)
		}
		if !l.Reachable {
			t.Errorf("the nav link %q cannot be scrolled to and clicked", l.Text)
		}
	}
	if !strings.Contains(strings.Join(names, ","), "OAuth clients") {
		t.Errorf("the owner's nav has %q, no OAuth clients", names)
	}
}
