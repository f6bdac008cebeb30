package accounts

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/ids"
	"github.com/latchkeyhq/latchkey/internal/store"
)

// Audit actions of sharing.
const (
	ActionShared   = "account.shared"
	ActionUnshared = "account.unshared"
)

// MaxShares bounds the members one account is shared with by name; share
// it with the workspace beyond that.
const MaxShares = 100

// Sharing is who an account is shared with besides its owner: the whole
// workspace, chosen members (user ids), both or neither.
type Sharing struct {
	Workspace bool
	Members   []string
}

// Private reports whether the sharing shares with nobody.
func (sh Sharing) Private() bool { return !sh.Workspace && len(sh.Members) == 0 }

// SharingOf is the account's sharing as it stands.
func SharingOf(a Account) Sharing { return Sharing{Workspace: a.Shared, Members: a.SharedWith} }

// CheckSharing checks a sharing the actor means to give the account: it
// may change the account, and every member named belongs to its
// workspace and is not its owner. It returns the sharing with the members
// sorted, once each. Nothing is written.
func (s *Service) CheckSharing(ctx context.Context, actor Actor, id string, sh Sharing) (Account, Sharing, error) {
	if err := actor.Require(identity.ScopeAccountsWrite); err != nil {
		return Account{}, Sharing{}, err
	}
	if !actor.CanChangeAccounts() {
		return Account{}, Sharing{}, refuse(actor, "share")
	}
	acc, err := s.visible(ctx, actor, id)
	if err != nil {
		return Account{}, Sharing{}, err
	}
	if !canChange(actor, acc) {
		return Account{}, Sharing{}, refuse(actor, "share")
	}
	members := slices.Clone(sh.Members)
	slices.Sort(members)
	members = slices.Compact(members)
	if len(members) > MaxShares {
		return Account{}, Sharing{}, invalid("members", "name at most %d members; share the account with the workspace instead", MaxShares)
	}
	for _, m := range members {
		if !ids.Valid(ids.User, m) {
			return Account{}, Sharing{}, invalid("members", "%q is not a member id (usr_…)", clip(m, 40))
		}
		if m == acc.OwnerID {
			return Account{}, Sharing{}, invalid("members", "%s owns the account; share it with others", m)
		}
		if _, err := s.store.GetUser(ctx, acc.WorkspaceID, m); errors.Is(err, store.ErrNotFound) {
			return Account{}, Sharing{}, invalid("members", "%s is not a member of this workspace", m)
		} else if err != nil {
			return Account{}, Sharing{}, fmt.Errorf("share account %s: member %s: %w", id, m, err)
		}
	}
	if len(members) == 0 {
		members = nil
	}
	return viewOf(acc), Sharing{Workspace: sh.Workspace, Members: members}, nil
}

// Share sets who the account is shared with besides its owner: the whole
// workspace, chosen members of it, both, or (with neither) nobody. Only
// the account's owner or a workspace owner may. Sharing lets others see
// the account, read its credentials and link it into their workflows;
// never rename, reconnect, give it new keys or delete it. Each change is
// audited.
func (s *Service) Share(ctx context.Context, actor Actor, id string, sh Sharing) (Account, error) {
	_, sh, err := s.CheckSharing(ctx, actor, id, sh)
	if err != nil {
		return Account{}, err
	}
	var before Sharing
	acc, err := s.store.UpdateAccount(ctx, actor.WorkspaceID, id, func(a *store.Account) error {
		// The owner may have changed since the check; the rule is
		// checked again under the lock.
		if !canChange(actor, *a) {
			return refuse(actor, "share")
		}
		if slices.Contains(sh.Members, a.OwnerID) {
			return invalid("members", "%s owns the account; share it with others", a.OwnerID)
		}
		before = Sharing{Workspace: a.Shared, Members: a.SharedWith}
		a.Shared, a.SharedWith = sh.Workspace, sh.Members
		a.UpdatedAt = s.clock.Now().UTC()
		return nil
	})
	if err != nil {
		return Account{}, fmt.Errorf("share account %s: %w", id, err)
	}
	s.remember(acc)
	action := ActionShared
	if sh.Private() {
		action = ActionUnshared
	}
	s.audit(ctx, actor, id, action, map[string]string{
		"workspace": fmt.Sprint(sh.Workspace), "members": strings.Join(sh.Members, " "),
		"was_workspace": fmt.Sprint(before.Workspace), "was_members": strings.Join(before.Members, " "),
	})
	s.log.InfoContext(ctx, "account sharing changed", "account", id, "workspace", sh.Workspace, "members", len(sh.Members))
	return viewOf(acc), nil
}

// SeenBy reports whether the user, of the role, would see the account were
// it shared as sh: how the workflows service tells which workflows an
// unsharing would break.
func SeenBy(a Account, sh Sharing, user identity.Actor) bool {
	b := store.Account{ID: a.ID, WorkspaceID: a.WorkspaceID, OwnerID: a.OwnerID, App: a.App, Shared: sh.Workspace, SharedWith: sh.Members}
	return canSee(user, b)
}
