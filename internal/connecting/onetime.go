package connecting

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"strings"
	"time"
)

// oneTimeAlphabet is Crockford's base 32: no I, L, O or U to misread.
const oneTimeAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// oneTimeLen is the code's length: 40 bits, against at most
// MaxCodeAttempts guesses within the connection's lifetime.
const oneTimeLen = 8

func newOneTimeCode() (string, error) {
	b := make([]byte, oneTimeLen)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random: %w", err)
	}
	for i := range b {
		b[i] = oneTimeAlphabet[int(b[i])%len(oneTimeAlphabet)] // 256 is a multiple of 32: no bias
	}
	return string(b), nil
}

// formatOneTimeCode writes a code as two groups of four.
func formatOneTimeCode(c string) string {
	if len(c) != oneTimeLen {
		return c
	}
	return c[:4] + "-" + c[4:]
}

// normalizeOneTimeCode reads a code as a person may type it: any case,
// with dashes or spaces, O for 0, I or L for 1.
func normalizeOneTimeCode(c string) string {
	c = strings.ToUpper(c)
	c = strings.NewReplacer("-", "", " ", "", "O", "0", "I", "1", "L", "1").Replace(c)
	if len(c) > 20 {
		return ""
	}
	return c
}

// hashOneTimeCode binds the code to its connection, so a stored hash
// matches no other connection's code.
func hashOneTimeCode(connectionID, code string) []byte {
	h := sha256.Sum256([]byte(connectionID + "\x00" + code))
	return h[:]
}

// RateLimitError: the caller started too many connections; try again after
// RetryAfter.
type RateLimitError struct{ RetryAfter time.Duration }

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("too many connections started; try again in %d seconds", int(e.RetryAfter.Round(time.Second)/time.Second))
}

// Connection starts allowed per user: a burst, then one every interval.
const (
	connectBurst    = 20
	connectInterval = 6 * time.Second
	// maxConnectKeys bounds the limit's memory.
	maxConnectKeys = 10000
)
