-- +goose Up
-- A refresh holds a short lease on its account while it waits on the
-- provider, instead of a transaction: who holds it (random per attempt,
-- empty when free) and until when (unix microseconds).
ALTER TABLE accounts ADD COLUMN refresh_lease_holder TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN refresh_lease_until BIGINT;

-- +goose Down
ALTER TABLE accounts DROP COLUMN refresh_lease_until;
ALTER TABLE accounts DROP COLUMN refresh_lease_holder;
