package secret_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/latchkeyhq/latchkey/internal/secret"
)

func TestSecretNeverPrints(t *testing.T) {
	const value = "SG.very-secret-value"
	s := secret.New(value)
	type holder struct {
		Key secret.String
	}
	var logBuf bytes.Buffer
	slog.New(slog.NewJSONHandler(&logBuf, nil)).Info("x", "key", s, "holder", holder{s})
	slog.New(slog.NewTextHandler(&logBuf, nil)).Info("x", "key", s)
	js, err := json.Marshal(holder{s})
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"%v":     fmt.Sprintf("%v", s),
		"%s":     fmt.Sprintf("%s", s),
		"%q":     fmt.Sprintf("%q", s),
		"%x":     fmt.Sprintf("%x", s),
		"%#v":    fmt.Sprintf("%#v", holder{s}),
		"%+v":    fmt.Sprintf("%+v", holder{s}),
		"error":  fmt.Errorf("failed with %v", s).Error(),
		"wrap":   errors.Join(fmt.Errorf("k=%s", s)).Error(),
		"json":   string(js),
		"slog":   logBuf.String(),
		"concat": "key " + s.String(),
	}
	for name, out := range outputs {
		if strings.Contains(out, value) || strings.Contains(out, fmt.Sprintf("%x", value)) {
			t.Errorf("%s leaks the secret: %s", name, out)
		}
		if !strings.Contains(out, secret.Redacted) {
			t.Errorf("%s does not say %s: %s", name, secret.Redacted, out)
		}
	}
	if s.Reveal() != value {
		t.Fatalf("Reveal() = %q", s.Reveal())
	}
}
