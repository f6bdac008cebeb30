// Package seed fills a store with many accounts quickly, for measuring
// Latchkey's lists at scale (latchkey-load seed).
package seed

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/latchkeyhq/latchkey/internal/accounts"
	"github.com/latchkeyhq/latchkey/internal/ids"
	"github.com/latchkeyhq/latchkey/internal/seal"
	"github.com/latchkeyhq/latchkey/internal/store"
)

// Apps are the apps seeded accounts are spread over, round robin:
// key-based catalog apps, so every seeded account opens like a real one.
var Apps = []string{"sendgrid", "openai", "anthropic", "airtable", "algolia", "stripe", "twilio", "mailgun",
	"postmark", "resend", "cohere", "mistral", "pinecone", "sentry", "datadog", "pagerduty", "cloudflare", "vercel", "netlify", "brevo"}

// seedBatch is how many accounts go in one transaction.
const seedBatch = 5000

// Seed is what Accounts makes; each filter of the accounts list has a
// value that selects a known share of them (see the README's load
// measurement section).
type Seed struct {
	WorkspaceID, OwnerID string
	// N accounts, ids in creation order from Start on, one microsecond
	// apart.
	N     int
	Start time.Time
}

// Accounts stores s.N accounts in st, for measuring lists at scale,
// in transactions of a few thousand each. Account i is of app
// Apps[i%20], needs a reconnect when i%50 == 49, belongs to the end
// user end-(i/4), carries the tag team=t(i%1000), and is named
// "Seed i%1000" with the identity user<i>@org<i%1000>.example. Its
// credentials are an API key sealed with ring, as the accounts service
// seals them. progress, if not nil, is told after each transaction.
func Accounts(ctx context.Context, st store.Accounts, ring *seal.Ring, s Seed, progress func(done int)) error {
	batch := make([]store.Account, 0, seedBatch)
	for i := range s.N {
		at := s.Start.Add(time.Duration(i) * time.Microsecond)
		id := ids.New(ids.Account, at)
		creds, err := json.Marshal(accounts.Credentials{Fields: map[string]string{"api_key": fmt.Sprintf("seed-key-%d", i)}})
		if err != nil {
			return err
		}
		sealed, err := ring.Seal(creds, []byte(id))
		if err != nil {
			return fmt.Errorf("seed account %d: %w", i, err)
		}
		status := store.StatusHealthy
		if i%50 == 49 {
			status = store.StatusNeedsReconnect
		}
		batch = append(batch, store.Account{
			ID: id, WorkspaceID: s.WorkspaceID, OwnerID: s.OwnerID, App: Apps[i%len(Apps)],
			Nickname: fmt.Sprintf("Seed %d", i%1000), IdentityLabel: fmt.Sprintf("user%d@org%d.example", i, i%1000),
			Scopes: []string{}, Status: status, Untested: true, Credentials: sealed,
			ExternalUserID: fmt.Sprintf("end-%d", i/4), Tags: map[string]string{"team": fmt.Sprintf("t%d", i%1000)},
			CreatedAt: at, UpdatedAt: at,
		})
		if len(batch) == seedBatch || i == s.N-1 {
			if err := st.CreateAccounts(ctx, batch); err != nil {
				return fmt.Errorf("seed accounts: %w", err)
			}
			batch = batch[:0]
			if progress != nil {
				progress(i + 1)
			}
		}
	}
	return nil
}
