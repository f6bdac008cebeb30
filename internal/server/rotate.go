package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/latchkeyhq/latchkey/internal/accounts"
	"github.com/latchkeyhq/latchkey/internal/apps"
	"github.com/latchkeyhq/latchkey/internal/audit"
	"github.com/latchkeyhq/latchkey/internal/bootstrap"
	"github.com/latchkeyhq/latchkey/internal/catalog"
	"github.com/latchkeyhq/latchkey/internal/clients"
	"github.com/latchkeyhq/latchkey/internal/config"
	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/seal"
	"github.com/latchkeyhq/latchkey/internal/store"
)

// RotateKeys is `latchkey keys rotate`. With newKey (key-file mode only) it
// first puts a new random key at the head of the key file, keeping the old
// ones so existing data still opens. Then it seals everything an older key
// sealed again under the primary key.
func RotateKeys(ctx context.Context, cfg config.Config, log *slog.Logger, newKey bool) (accounts.ResealStats, error) {
	if err := cfg.Validate(); err != nil {
		return accounts.ResealStats{}, err
	}
	if newKey {
		if cfg.MasterKey != "" {
			return accounts.ResealStats{}, errors.New("--new-key works on the key file; with LATCHKEY_MASTER_KEY, put the new key first in it yourself (new,old) and run keys rotate")
		}
		old, _, err := seal.LoadOrCreateKeyFile(cfg.MasterKeyFile)
		if err != nil {
			return accounts.ResealStats{}, err
		}
		k, err := seal.GenerateKey()
		if err != nil {
			return accounts.ResealStats{}, err
		}
		if err := seal.WriteKeyFile(cfg.MasterKeyFile, append([][]byte{k}, old...)); err != nil {
			return accounts.ResealStats{}, err
		}
		log.Info("added a new primary key to the key file; the old keys stay in it", "file", cfg.MasterKeyFile, "key", seal.KeyID(k))
	}
	st, ring, err := openKeyed(ctx, cfg, log)
	if err != nil {
		return accounts.ResealStats{}, err
	}
	defer st.Close()
	cat, err := catalog.LoadDir(cfg.CatalogDir)
	if err != nil {
		return accounts.ResealStats{}, err
	}
	auditLog := audit.New(st, log)
	defer auditLog.Close()
	appSvc := apps.New(apps.Options{Store: st, Catalog: cat, AppOrigins: cfg.AppOrigins, Audit: auditLog, Log: log})
	who := identity.New(identity.Options{Store: st, Log: log})
	clientSvc := clients.New(clients.Options{Store: st, Apps: appSvc, Operators: who, Ring: ring, Audit: auditLog, Log: log})
	svc := accounts.New(accounts.Options{Store: st, Apps: appSvc, Clients: clientSvc, Audit: auditLog, Ring: ring, Log: log})
	return svc.Reseal(ctx)
}

// openKeyed opens the configured store and the key ring, for a command
// that works on the store without a server, and checks the ring against
// the store's canary (which also moves the canary to the primary key).
func openKeyed(ctx context.Context, cfg config.Config, log *slog.Logger) (store.Store, *seal.Ring, error) {
	ring, err := loadRing(cfg, log)
	if err != nil {
		return nil, nil, err
	}
	st, err := OpenStore(ctx, cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("open store: %w", err)
	}
	if err := bootstrap.CheckKey(ctx, st, ring); err != nil {
		st.Close()
		return nil, nil, err
	}
	return st, ring, nil
}
