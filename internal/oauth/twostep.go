package oauth

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/latchkeyhq/latchkey/internal/catalog"
	"github.com/latchkeyhq/latchkey/internal/outbound"
	"github.com/latchkeyhq/latchkey/internal/secret"
)

// twoStep makes the token request the entry describes and reads the token,
// its lifetime and the kept values from the JSON answer.
func (m *Minter) twoStep(ctx context.Context) (*Token, error) {
	s := m.App.TwoStep
	req, err := m.twoStepRequest(ctx, s)
	if err != nil {
		return nil, err
	}
	hc := m.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		if be := blocked(err); be != nil {
			return nil, be
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &Error{Kind: Transient, Description: "the token endpoint could not be reached"}
	}
	defer resp.Body.Close()
	if err := outbound.Redirect(resp); err != nil {
		return nil, &Error{Kind: Transient, Status: resp.StatusCode, Description: err.Error(), cause: err}
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenBody))
	if err != nil {
		return nil, &Error{Kind: Transient, Status: resp.StatusCode, Description: "the token endpoint's answer was cut off"}
	}
	red := m.redactor()
	var doc any
	jsonErr := json.Unmarshal(b, &doc)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := &Error{Kind: kindForStatus(resp.StatusCode), Status: resp.StatusCode,
			Description: fmt.Sprintf("the token endpoint answered %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))}
		if obj, ok := doc.(map[string]any); ok {
			if code, ok := obj["error"].(string); ok {
				e.Code = outbound.Clip(red.text(code))
			}
			for _, k := range []string{"error_description", "message"} {
				if d, ok := obj[k].(string); ok && d != "" {
					e.Description = outbound.Clip(red.text(d))
					break
				}
			}
		}
		if permanentCodes[e.Code] {
			e.Kind = Permanent
		}
		return nil, e
	}
	if jsonErr != nil {
		return nil, &Error{Kind: Transient, Status: resp.StatusCode, Description: "the token endpoint did not answer with JSON"}
	}
	tokVal, _ := lookupString(doc, s.TokenPath)
	if tokVal == "" {
		return nil, &Error{Kind: Transient, Status: resp.StatusCode, Description: "the answer has no token at " + s.TokenPath}
	}
	t := &Token{AccessToken: secret.New(tokVal), Expiry: m.now().Add(time.Duration(s.DefaultExpiresIn))}
	if s.ExpiresInPath != "" {
		if v, ok := lookupString(doc, s.ExpiresInPath); ok {
			if secs, err := strconv.ParseFloat(v, 64); err == nil && secs > 0 {
				t.Expiry = m.now().Add(time.Duration(secs * float64(time.Second)))
			}
		}
	}
	if s.ExpiresAtPath != "" {
		if v, ok := lookupString(doc, s.ExpiresAtPath); ok {
			if at, err := time.Parse(time.RFC3339Nano, v); err == nil {
				t.Expiry = at
			}
		}
	}
	for k, p := range s.Keep {
		if v, ok := lookupString(doc, p); ok && v != "" {
			if t.Kept == nil {
				t.Kept = map[string]string{}
			}
			t.Kept[k] = outbound.Clip(v)
		}
	}
	return t, nil
}

func (m *Minter) twoStepRequest(ctx context.Context, s *catalog.TwoStep) (*http.Request, error) {
	u, err := m.expand(s.TokenURL)
	if err != nil {
		return nil, fmt.Errorf("token_url: %w", err)
	}
	method := s.Method
	if method == "" {
		method = http.MethodPost
	}
	body := strings.TrimSpace(s.Body)
	isJSON := strings.HasPrefix(body, "{") || strings.HasPrefix(body, "[")
	escape := url.QueryEscape
	if isJSON {
		escape = func(v string) string {
			b, _ := json.Marshal(v)
			return string(b[1 : len(b)-1])
		}
	}
	filled, err := catalog.Expand(body, func(name string) (string, bool) {
		v, ok := m.lookup(name)
		return escape(v), ok
	})
	if err != nil {
		return nil, fmt.Errorf("body: %w", err)
	}
	var rd io.Reader
	if filled != "" {
		rd = bytes.NewReader([]byte(filled))
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, fmt.Errorf("two_step: %w", err)
	}
	switch {
	case filled != "" && isJSON:
		req.Header.Set("Content-Type", "application/json")
	case filled != "":
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Accept", "application/json")
	for k, v := range s.Headers {
		if v, err = m.expand(v); err != nil {
			return nil, fmt.Errorf("headers.%s: %w", k, err)
		}
		req.Header.Set(k, v)
	}
	if s.Basic != nil {
		user, err := m.expand(s.Basic.Username)
		if err != nil {
			return nil, fmt.Errorf("basic.username: %w", err)
		}
		pass, err := m.expand(s.Basic.Password)
		if err != nil {
			return nil, fmt.Errorf("basic.password: %w", err)
		}
		req.SetBasicAuth(user, pass)
	}
	return req, nil
}

// lookupString follows a dot path to a string or number.
func lookupString(doc any, path string) (string, bool) {
	v, ok := lookupValue(doc, path)
	if !ok {
		return "", false
	}
	switch x := v.(type) {
	case string:
		return x, true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	}
	return "", false
}
