package webhooks

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// secretPrefix marks a Standard Webhooks signing secret.
const secretPrefix = "whsec_"

// newSecret makes a signing secret: 24 random bytes, base64, whsec_.
func newSecret() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b) // crypto/rand never fails on supported platforms
	return secretPrefix + base64.StdEncoding.EncodeToString(b)
}

// signature is the webhook-signature header: one "v1,<sig>" per secret
// still valid at now, space-separated, so a receiver holding either the
// old or the new secret during a rotation's overlap can verify.
func signature(secrets []signingSecret, msgID string, now time.Time, body []byte) (string, error) {
	var sigs []string
	for _, sec := range secrets {
		if sec.Until != nil && !now.Before(*sec.Until) {
			continue
		}
		wh, err := standardwebhooks.NewWebhook(sec.Key)
		if err != nil {
			return "", fmt.Errorf("signing secret: %w", err)
		}
		sig, err := wh.Sign(msgID, now, body)
		if err != nil {
			return "", fmt.Errorf("sign: %w", err)
		}
		sigs = append(sigs, sig)
	}
	if len(sigs) == 0 {
		return "", fmt.Errorf("no signing secret is valid")
	}
	return strings.Join(sigs, " "), nil
}
