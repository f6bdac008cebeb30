package endusers_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/latchkeyhq/latchkey/internal/accounts"
	"github.com/latchkeyhq/latchkey/internal/connecting"
	"github.com/latchkeyhq/latchkey/internal/endusers"
	"github.com/latchkeyhq/latchkey/internal/oauth"
	"github.com/latchkeyhq/latchkey/internal/store"
	"github.com/latchkeyhq/latchkey/internal/validation"
)

func TestErrorCode(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&connecting.ProviderError{Code: "access_denied", Description: "the user said no"}, endusers.ErrorAccessDenied},
		{fmt.Errorf("callback: %w", &connecting.ProviderError{Code: "temporarily_unavailable"}), endusers.ErrorProvider},
		{&oauth.Error{Code: "invalid_grant"}, endusers.ErrorProvider},
		{connecting.ErrMissingCode, endusers.ErrorProvider},
		{endusers.ErrTokenUsed, endusers.ErrorExpired},
		{fmt.Errorf("save: %w", endusers.ErrTokenExpired), endusers.ErrorExpired},
		{&accounts.TestFailedError{Err: errors.New("401")}, endusers.ErrorKeysRefused},
		{errors.New("database is down"), endusers.ErrorServer},
	} {
		if got := endusers.ErrorCode(tc.err); got != tc.want {
			t.Errorf("ErrorCode(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

// TestHostedTokens: what a hosted OAuth connection asks of its token:
// Open while it is open, Spend once whoever races, and neither in
// another workspace nor after it expired.
func TestHostedTokens(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f fixture) {
		ctx := context.Background()
		m, err := f.svc.Mint(ctx, f.who["backend"], endusers.MintInput{ExternalUserID: "eu-1", Tags: map[string]string{"org": "acme"}})
		if err != nil {
			t.Fatal(err)
		}
		id := m.Token.ID
		ht, err := f.svc.Open(ctx, "wsp_a", id)
		if err != nil || ht.ExternalUserID != "eu-1" || ht.Tags["org"] != "acme" {
			t.Fatalf("Open: %+v, %v", ht, err)
		}
		if _, err := f.svc.Open(ctx, "wsp_b", id); !errors.Is(err, endusers.ErrInvalidToken) {
			t.Errorf("Open from another workspace: %v, want ErrInvalidToken", err)
		}
		if err := f.svc.Spend(ctx, "wsp_b", id); !errors.Is(err, endusers.ErrInvalidToken) {
			t.Errorf("Spend from another workspace: %v, want ErrInvalidToken", err)
		}
		var wg sync.WaitGroup
		errs := make([]error, 6)
		for i := range errs {
			wg.Go(func() { errs[i] = f.svc.Spend(ctx, "wsp_a", id) })
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, endusers.ErrTokenUsed):
				t.Errorf("a racing Spend: %v, want ErrTokenUsed", err)
			}
		}
		if won != 1 {
			t.Errorf("%d of 6 racing spends won, want 1", won)
		}
		if _, err := f.svc.Open(ctx, "wsp_a", id); !errors.Is(err, endusers.ErrTokenUsed) {
			t.Errorf("Open after Spend: %v, want ErrTokenUsed", err)
		}

		late, err := f.svc.Mint(ctx, f.who["backend"], endusers.MintInput{ExternalUserID: "eu-2"})
		if err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(endusers.DefaultTokenTTL)
		if _, err := f.svc.Open(ctx, "wsp_a", late.Token.ID); !errors.Is(err, endusers.ErrTokenExpired) {
			t.Errorf("Open of an expired token: %v, want ErrTokenExpired", err)
		}
		if err := f.svc.Spend(ctx, "wsp_a", late.Token.ID); !errors.Is(err, endusers.ErrTokenExpired) {
			t.Errorf("Spend of an expired token: %v, want ErrTokenExpired", err)
		}
	})
}

// TestFailedReportsConnectFailed: a failed flow writes one connect.failed
// event to the outbox, with the token's ids, end user and tags and the
// error code, never the token or what the provider said.
func TestFailedReportsConnectFailed(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f fixture) {
		ctx := context.Background()
		now := f.clock.Now()
		for _, ws := range []string{"wsp_a", "wsp_b"} {
			if err := f.st.CreateWebhookEndpoint(ctx, store.WebhookEndpoint{ID: "whk_" + ws, WorkspaceID: ws, URL: "https://hooks.example/" + ws,
				Secrets: []byte("sealed"), Enabled: true, CreatedAt: now, UpdatedAt: now}); err != nil {
				t.Fatal(err)
			}
		}
		m, err := f.svc.Mint(ctx, f.who["backend"], endusers.MintInput{ExternalUserID: "eu-3", Tags: map[string]string{"plan": "pro"}})
		if err != nil {
			t.Fatal(err)
		}
		f.svc.Failed(ctx, "wsp_a", m.Token.ID, "slack", &connecting.ProviderError{Code: "access_denied", Description: "secret-ish provider text"})
		list, err := f.st.ListWebhookDeliveries(ctx, "wsp_a", "whk_wsp_a", "", 10)
		if err != nil || len(list) != 1 || list[0].EventType != "connect.failed" {
			t.Fatalf("deliveries %+v, %v; want one connect.failed", list, err)
		}
		var body struct {
			Type string         `json:"type"`
			Data map[string]any `json:"data"`
		}
		if err := json.Unmarshal(list[0].Payload, &body); err != nil {
			t.Fatal(err)
		}
		d := body.Data
		if d["connect_token_id"] != m.Token.ID || d["app"] != "slack" || d["external_user_id"] != "eu-3" || d["error"] != "access_denied" ||
			d["tags"].(map[string]any)["plan"] != "pro" {
			t.Errorf("connect.failed data %v", d)
		}
		if raw := string(list[0].Payload); strings.Contains(raw, m.Secret.Reveal()) || strings.Contains(raw, "secret-ish") {
			t.Errorf("the payload holds the token or the provider's text: %s", raw)
		}
		if other, _ := f.st.ListWebhookDeliveries(ctx, "wsp_b", "whk_wsp_b", "", 10); len(other) != 0 {
			t.Errorf("another workspace's endpoint got %d deliveries", len(other))
		}
	})
}

// TestMintReconnect: a reconnect token takes its end user and app from
// an end user's account the caller may see, and refuses any other.
func TestMintReconnect(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f fixture) {
		ctx := context.Background()
		actor := f.who["backend"]
		end, err := f.accts.Create(ctx, actor, accounts.CreateInput{App: "openai", Fields: map[string]string{"api_key": "sk-test"}, SkipTest: true, ExternalUserID: "eu-4"})
		if err != nil {
			t.Fatal(err)
		}
		member, err := f.accts.Create(ctx, actor, accounts.CreateInput{App: "openai", Fields: map[string]string{"api_key": "sk-test"}, SkipTest: true})
		if err != nil {
			t.Fatal(err)
		}
		m, err := f.svc.Mint(ctx, actor, endusers.MintInput{AccountID: end.ID})
		if err != nil || m.Token.AccountID != end.ID || m.Token.ExternalUserID != "eu-4" || len(m.Token.Apps) != 1 || m.Token.Apps[0] != "openai" {
			t.Fatalf("reconnect token %+v, %v", m.Token, err)
		}
		if n := stored(t, f); n != 1 {
			t.Fatalf("%d tokens stored, want the reconnect token", n)
		}
		for _, tc := range []struct {
			name  string
			who   string
			in    endusers.MintInput
			field string
		}{
			{"a member's account", "backend", endusers.MintInput{AccountID: member.ID}, "account_id"},
			{"another end user", "backend", endusers.MintInput{AccountID: end.ID, ExternalUserID: "eu-5"}, "external_user_id"},
			{"another app", "backend", endusers.MintInput{AccountID: end.ID, Apps: []string{"slack"}}, "apps"},
			{"no such account", "backend", endusers.MintInput{AccountID: "acc_nosuch"}, "account_id"},
			{"another workspace", "outsider", endusers.MintInput{AccountID: end.ID}, "account_id"},
		} {
			_, err := f.svc.Mint(ctx, f.who[tc.who], tc.in)
			var ve *validation.Error
			if !errors.As(err, &ve) || ve.Field != tc.field {
				t.Errorf("%s: %v, want a validation error of %s", tc.name, err, tc.field)
			}
		}
		if n := stored(t, f); n != 0 {
			t.Errorf("refused mints stored %d tokens", n)
		}
	})
}
