// Package bootstrap proves at start-up that the master key is the one the
// installation's data was sealed with, before anything is served or
// written. The first start's workspace, owner and admin token are
// identity's (identity.Service.FirstStart).
package bootstrap

import (
	"context"
	"errors"
	"fmt"

	"github.com/latchkeyhq/latchkey/internal/seal"
	"github.com/latchkeyhq/latchkey/internal/store"
)

const canaryKey = "seal_canary"

var canaryText = []byte("latchkey master key check")

// ErrWrongKey means the configured master key cannot open this data.
var ErrWrongKey = errors.New("the master key does not open this installation's data")

// CheckKey seals a canary on first start and opens it on every later one,
// so a wrong master key stops the server before it serves or writes
// anything.
func CheckKey(ctx context.Context, m store.Meta, ring *seal.Ring) error {
	sealed, err := ring.Seal(canaryText, []byte(canaryKey))
	if err != nil {
		return err
	}
	stored, err := m.PutMetaIfAbsent(ctx, canaryKey, sealed)
	if err != nil {
		return fmt.Errorf("key check: %w", err)
	}
	if stored {
		return nil
	}
	existing, err := m.GetMeta(ctx, canaryKey)
	if err != nil {
		return fmt.Errorf("key check: %w", err)
	}
	if _, err := ring.Open(existing, []byte(canaryKey)); err != nil {
		id, _ := seal.SealedBy(existing)
		return fmt.Errorf("%w: it was sealed with key %s, and the key ring holds %s (set LATCHKEY_MASTER_KEY or the key file to the original key): %v",
			ErrWrongKey, id, ring.PrimaryID(), err)
	}
	if ring.NeedsReseal(existing) {
		// After a rotation the canary follows the new primary key.
		return m.PutMeta(ctx, canaryKey, sealed)
	}
	return nil
}
