// Package webtest holds the browser tests of Latchkey's web pages. Each test
// runs a real Latchkey on loopback and drives headless Chromium through the
// Chrome DevTools Protocol (github.com/chromedp/chromedp); a test fails if a
// page throws a JavaScript error or logs a console error.
//
// The tests find Chromium through LATCHKEY_CHROMIUM, or on PATH as
// chromium, chromium-browser or google-chrome. Without one they skip;
// LATCHKEY_REQUIRE_BROWSER=1 makes them fail instead. LATCHKEY_SCREENSHOTS
// names a folder for the screenshots of TestScreenshots. TestDemoWalkthrough
// also needs the step sandbox and Node.js; without the sandbox it skips,
// naming what is missing, unless LATCHKEY_REQUIRE_SANDBOX=1.
//
// The package has no code of its own: everything is in its tests.
package webtest
