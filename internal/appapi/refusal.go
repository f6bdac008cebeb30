package appapi

import (
	"encoding/json"

	"github.com/latchkeyhq/latchkey/internal/catalog"
)

// BodyRefusal applies the app's refusal rule to an answer: a 2xx JSON
// answer may still say the request failed, and whether the credentials
// were why. Any other answer, and any app without a rule, gives false.
func BodyRefusal(app *catalog.App, status int, body []byte) (catalog.Refused, bool) {
	if app.Refusal == nil || status < 200 || status > 299 {
		return catalog.Refused{}, false
	}
	var doc any
	if json.Unmarshal(body, &doc) != nil {
		return catalog.Refused{}, false
	}
	return app.Refusal.Judge(doc)
}
