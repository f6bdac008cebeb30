package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestTokensCatchADoubleRefresh: the token endpoint rotates refresh
// tokens, refuses a spent one and counts it, so a bench run can tell
// whether any account was refreshed twice.
func TestTokensCatchADoubleRefresh(t *testing.T) {
	tok := newTokens("cid", "csecret", 60, 0)
	srv := httptest.NewServer(tok)
	defer srv.Close()
	refresh := func(rt, secret string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("cid", secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}
	status, body := refresh("rt.7.0", "csecret")
	if status != http.StatusOK || body["refresh_token"] != "rt.7.1" || body["access_token"] != "at.7.1" || body["expires_in"] != 60.0 {
		t.Fatalf("first refresh: %d %v", status, body)
	}
	if status, body = refresh("rt.7.0", "csecret"); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Fatalf("the spent token again: %d %v, want 400 invalid_grant", status, body)
	}
	if status, _ = refresh("rt.7.1", "csecret"); status != http.StatusOK {
		t.Fatalf("the rotated token: %d", status)
	}
	if status, _ = refresh("rt.8.0", "wrong"); status != http.StatusUnauthorized {
		t.Fatalf("a wrong client secret: %d, want 401", status)
	}
	if status, _ = refresh("not-ours", "csecret"); status != http.StatusBadRequest {
		t.Fatalf("a foreign token: %d, want 400", status)
	}
	s := tok.stats()
	if s.Refreshes != 2 || s.Accounts != 1 || s.Twice != 1 || s.Reused != 1 || len(s.PerSecond) == 0 || s.MaxInFlight < 1 {
		t.Fatalf("stats = %+v; want 2 refreshes of 1 account (twice), 1 reuse", s)
	}
}
