package webtest_test

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// TestMCPDocsOnAPhone: at 390 px the page on connecting an agent, signed
// in with the workspace's tools listed, has nothing wider than the
// screen, and an app in its index scrolls to that app's tools.
func TestMCPDocsOnAPhone(t *testing.T) {
	h := start(t, options{})
	h.signUp()
	h.setViewport(phone)
	h.open("/docs/mcp")
	h.at("/docs/mcp", "Connect an agent (MCP)")
	if n := eval[int](h, `document.querySelectorAll("[data-tool]").length`); n < 100 {
		t.Fatalf("the page lists %d tools", n)
	}

	h.checkFitsScreen()

	h.do("follow the index to Slack", chromedp.Click(chromedp.CSS(`nav.mcpdocs-apps a[href="#tools-slack"]`)))
	h.waitFor("Slack's tools at the top of the screen", `location.hash === "#tools-slack" && scrollY > 0 &&
		(r => r.top >= 0 && r.top < 40)(document.getElementById("tools-slack").getBoundingClientRect())`)
	if got := h.text(`#tools-slack h3 .app-cell > span:last-child`); got != "Slack" {
		t.Errorf("Slack's section is headed %q", got)
	}
}
