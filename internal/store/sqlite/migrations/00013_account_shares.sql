-- +goose Up
-- Accounts shared with chosen members, besides (or instead of) the whole
-- workspace. A share goes with its account and with its member.
CREATE TABLE account_shares (
	account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	PRIMARY KEY (account_id, user_id)
);
-- The account list asks "shared with this user?" of every row.
CREATE INDEX account_shares_user ON account_shares (user_id, account_id);

-- +goose Down
DROP TABLE account_shares;
