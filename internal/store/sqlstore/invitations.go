package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/latchkeyhq/latchkey/internal/store"
)

const invitationColumns = `id, workspace_id, kind, email, role, user_id, token_hash, created_by, created_at, expires_at, used_at`

// CreateInvitation stores inv; ErrConflict when its id or hash exists.
func (s *Store) CreateInvitation(ctx context.Context, inv store.Invitation) error {
	_, err := s.exec(ctx, "create invitation", `INSERT INTO invitations (`+invitationColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		inv.ID, inv.WorkspaceID, string(inv.Kind), inv.Email, string(inv.Role), inv.UserID, inv.TokenHash, inv.CreatedBy,
		micros(inv.CreatedAt), micros(inv.ExpiresAt), nullMicros(inv.UsedAt))
	if err != nil {
		return s.conflict(err, "create invitation %s", inv.ID)
	}
	return nil
}

func scanInvitation(row scanner) (store.Invitation, error) {
	var (
		inv              store.Invitation
		kind, role       string
		created, expires int64
		used             sql.NullInt64
	)
	if err := row.Scan(&inv.ID, &inv.WorkspaceID, &kind, &inv.Email, &role, &inv.UserID, &inv.TokenHash, &inv.CreatedBy,
		&created, &expires, &used); err != nil {
		return store.Invitation{}, err
	}
	inv.Kind, inv.Role = store.InvitationKind(kind), store.Role(role)
	inv.CreatedAt, inv.ExpiresAt, inv.UsedAt = fromMicros(created), fromMicros(expires), fromNullMicros(used)
	return inv, nil
}

// GetInvitation returns the workspace's link with the id.
func (s *Store) GetInvitation(ctx context.Context, workspaceID, id string) (store.Invitation, error) {
	inv, err := scanInvitation(s.queryRowDirect(ctx,
		`SELECT `+invitationColumns+` FROM invitations WHERE workspace_id = $1 AND id = $2`, workspaceID, id))
	if err != nil {
		return store.Invitation{}, notFound(err, "get invitation %s", id)
	}
	return inv, nil
}

// InvitationByHash finds a link by its token's hash.
func (s *Store) InvitationByHash(ctx context.Context, hash []byte) (store.Invitation, error) {
	inv, err := scanInvitation(s.queryRowDirect(ctx,
		`SELECT `+invitationColumns+` FROM invitations WHERE token_hash = $1`, hash))
	if err != nil {
		// The hash stays out of the message, as a token's does.
		return store.Invitation{}, notFound(err, "invitation by hash")
	}
	return inv, nil
}

// ListInvitations lists the workspace's unused links of the kind.
func (s *Store) ListInvitations(ctx context.Context, workspaceID string, kind store.InvitationKind) ([]store.Invitation, error) {
	rows, err := s.query(ctx, `SELECT `+invitationColumns+` FROM invitations
		WHERE workspace_id = $1 AND kind = $2 AND used_at IS NULL ORDER BY id`, workspaceID, string(kind))
	if err != nil {
		return nil, fmt.Errorf("list invitations: %w", err)
	}
	defer rows.Close()
	out, err := scanAll(rows, "list invitations", scanInvitation)
	if err != nil {
		return nil, err
	}
	return out, rows.Err()
}

// UpdateInvitation is the compare-and-swap of one link.
func (s *Store) UpdateInvitation(ctx context.Context, workspaceID, id string, fn func(store.Invitation) (store.Invitation, error)) (store.Invitation, error) {
	var inv store.Invitation
	err := s.inTx(ctx, "update invitation "+id, func(tx *sql.Tx) error {
		old, err := scanInvitation(tx.QueryRowContext(ctx,
			`SELECT `+invitationColumns+` FROM invitations WHERE workspace_id = $1 AND id = $2`+s.d.LockRows, workspaceID, id))
		if err != nil {
			return notFound(err, "update invitation %s", id)
		}
		if inv, err = fn(old); err != nil {
			return err
		}
		inv.ID, inv.WorkspaceID, inv.Kind, inv.Email, inv.UserID, inv.CreatedBy, inv.CreatedAt =
			old.ID, old.WorkspaceID, old.Kind, old.Email, old.UserID, old.CreatedBy, old.CreatedAt
		if _, err := tx.ExecContext(ctx, `UPDATE invitations SET role = $3, token_hash = $4, expires_at = $5, used_at = $6
			WHERE workspace_id = $1 AND id = $2`, workspaceID, id, string(inv.Role), inv.TokenHash, micros(inv.ExpiresAt), nullMicros(inv.UsedAt)); err != nil {
			return s.conflict(err, "update invitation %s", id)
		}
		return nil
	})
	if err != nil {
		return store.Invitation{}, err
	}
	inv.CreatedAt, inv.ExpiresAt, inv.UsedAt = stored(inv.CreatedAt), stored(inv.ExpiresAt), storedPtr(inv.UsedAt)
	return inv, nil
}

// DeleteInvitation deletes the workspace's link with the id.
func (s *Store) DeleteInvitation(ctx context.Context, workspaceID, id string) error {
	return s.deleteOne(ctx, `DELETE FROM invitations WHERE workspace_id = $1 AND id = $2`, workspaceID, id, "delete invitation")
}
