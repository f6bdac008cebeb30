package accounts

import (
	"context"
	"errors"
	"fmt"

	"github.com/latchkeyhq/latchkey/internal/store"
)

// ResealStats counts what a key rotation sealed again.
type ResealStats struct {
	Accounts, Clients int
}

// errSealed: the row is sealed by the primary key already.
var errSealed = errors.New("sealed by the primary key")

// Reseal seals again, under the primary key, every account's credentials
// and every OAuth client's secret that an older key sealed. Each account is
// rewritten under its row lock, so it can run beside serving replicas
// (which must already know the primary key). Rows keep their update time.
func (s *Service) Reseal(ctx context.Context) (ResealStats, error) {
	var st ResealStats
	pairs, err := s.store.AllAccountIDs(ctx)
	if err != nil {
		return st, err
	}
	for _, p := range pairs {
		_, err := s.store.UpdateAccount(ctx, p[0], p[1], func(a *store.Account) error {
			if len(a.Credentials) == 0 || !s.ring.NeedsReseal(a.Credentials) {
				return errSealed
			}
			plain, err := s.ring.Open(a.Credentials, []byte(a.ID))
			if err != nil {
				return err
			}
			a.Credentials, err = s.ring.Seal(plain, []byte(a.ID))
			return err
		})
		switch {
		case errors.Is(err, errSealed), errors.Is(err, store.ErrNotFound):
		case err != nil:
			return st, fmt.Errorf("account %s: %w", p[1], err)
		default:
			st.Accounts++
		}
	}
	n, err := s.clients.Reseal(ctx)
	st.Clients = n
	return st, err
}
