// Package bootstrap prepares an installation at start-up: it proves the
// master key is the one the data was sealed with, and on first start it
// creates the default workspace, its owner and an admin API token.
package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/latchkeyhq/latchkey/internal/apitokens"
	"github.com/latchkeyhq/latchkey/internal/ids"
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

// AdminTokenName names the token the first start issues.
const AdminTokenName = "admin (created on first start)"

// FirstRun creates the default workspace, an owner and an admin API token
// when the store has no workspace, and writes the token to tokenFile with
// mode 0600. When the workspace exists but tokenFile is missing, it issues
// a new admin token, so the local CLI keeps working. Several replicas
// starting at once create one workspace between them.
func FirstRun(ctx context.Context, s store.Store, tokenFile string, now time.Time, log *slog.Logger) (store.Workspace, error) {
	ws, err := s.FirstWorkspace(ctx)
	if errors.Is(err, store.ErrNotFound) {
		ws = store.Workspace{ID: ids.New(ids.Workspace, now), Name: "Default", CreatedAt: now.UTC()}
		won, err := s.PutMetaIfAbsent(ctx, "bootstrap_workspace", []byte(ws.ID))
		if err != nil {
			return store.Workspace{}, fmt.Errorf("first run: %w", err)
		}
		if !won {
			// Another replica is creating it; give it a moment.
			return waitForWorkspace(ctx, s)
		}
		if err := s.CreateWorkspace(ctx, ws); err != nil {
			return store.Workspace{}, fmt.Errorf("first run: workspace: %w", err)
		}
		owner := store.User{ID: ids.New(ids.User, now), WorkspaceID: ws.ID, Email: "admin@localhost", Name: "Admin", Role: store.RoleOwner, CreatedAt: now.UTC()}
		if err := s.CreateUser(ctx, owner); err != nil {
			return store.Workspace{}, fmt.Errorf("first run: owner: %w", err)
		}
		if err := s.PutMeta(ctx, store.MetaAdminUser, []byte(owner.ID)); err != nil {
			return store.Workspace{}, fmt.Errorf("first run: %w", err)
		}
		log.InfoContext(ctx, "first start: created the default workspace", "workspace", ws.ID)
	} else if err != nil {
		return store.Workspace{}, fmt.Errorf("first run: %w", err)
	}

	if _, err := os.Stat(tokenFile); err == nil {
		return ws, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return store.Workspace{}, fmt.Errorf("admin token file: %w", err)
	}
	adminID, err := s.GetMeta(ctx, store.MetaAdminUser)
	if err != nil {
		return store.Workspace{}, fmt.Errorf("first run: admin user: %w", err)
	}
	tok, _, err := apitokens.Issue(ctx, s, ws.ID, string(adminID), AdminTokenName, []string{"*"}, now)
	if err != nil {
		return store.Workspace{}, err
	}
	if err := os.MkdirAll(filepath.Dir(tokenFile), 0o700); err != nil {
		return store.Workspace{}, fmt.Errorf("admin token file: %w", err)
	}
	if err := os.WriteFile(tokenFile, []byte(tok.Reveal()+"\n"), 0o600); err != nil {
		return store.Workspace{}, fmt.Errorf("admin token file: %w", err)
	}
	log.InfoContext(ctx, "wrote the admin API token; the CLI on this machine uses it", "file", tokenFile)
	return ws, nil
}

func waitForWorkspace(ctx context.Context, s store.Workspaces) (store.Workspace, error) {
	for i := 0; i < 50; i++ {
		ws, err := s.FirstWorkspace(ctx)
		if err == nil {
			return ws, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return store.Workspace{}, err
		}
		select {
		case <-ctx.Done():
			return store.Workspace{}, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return store.Workspace{}, errors.New("first run: another instance started creating the workspace but did not finish")
}
