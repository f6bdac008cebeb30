package workflows

import (
	"context"
	"fmt"
	"strings"

	"github.com/latchkeyhq/latchkey/internal/accounts"
	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/store"
)

// UsedBy lists the workflows the actor may see with a step linked to the
// account.
func (s *Service) UsedBy(ctx context.Context, actor identity.Actor, accountID string) ([]Ref, error) {
	seen, _, err := s.using(ctx, actor, accountID)
	return seen, err
}

// Usage is who uses an account: the workflows the actor may see, by
// name, and how many others.
type Usage struct {
	Workflows []Ref
	Hidden    int
}

// UsedByAccounts is UsedBy for a page of accounts the accounts service
// gave the actor, in one query whatever their number. Accounts no workflow
// uses are absent; an account the actor may not see is left out.
func (s *Service) UsedByAccounts(ctx context.Context, actor identity.Actor, accs []accounts.Account) (map[string]Usage, error) {
	if err := actor.Require(identity.ScopeAccountsRead); err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(accs))
	for _, a := range accs {
		if accounts.CanSee(actor, a) {
			ids = append(ids, a.ID)
		}
	}
	all, err := s.store.WorkflowsUsingAccounts(ctx, actor.WorkspaceID, ids)
	if err != nil {
		return nil, fmt.Errorf("workflows using %d accounts: %w", len(ids), err)
	}
	out := make(map[string]Usage, len(all))
	for id, list := range all {
		var u Usage
		for _, w := range list {
			if canSeeRef(actor, w) {
				u.Workflows = append(u.Workflows, Ref{ID: w.ID, Name: w.Name})
			} else {
				u.Hidden++
			}
		}
		out[id] = u
	}
	return out, nil
}

// using splits the workflows linked to the account into those the actor
// may see and a count of the others.
func (s *Service) using(ctx context.Context, actor identity.Actor, accountID string) ([]Ref, int, error) {
	if _, err := s.accounts.Get(ctx, actor, accountID); err != nil {
		return nil, 0, err
	}
	all, err := s.store.WorkflowsUsing(ctx, actor.WorkspaceID, accountID)
	if err != nil {
		return nil, 0, err
	}
	var seen []Ref
	for _, w := range all {
		if canSee(actor, w) {
			seen = append(seen, Ref{ID: w.ID, Name: w.Name})
		}
	}
	return seen, len(all) - len(seen), nil
}

// InUseError names the workflows that would break, those the caller may
// see by name and the others only by number.
type InUseError struct {
	Workflows []Ref
	Hidden    int
	// Unsharing says the change is an unsharing, not a deletion.
	Unsharing bool
}

func (e *InUseError) Error() string {
	var names []string
	for _, w := range e.Workflows {
		names = append(names, fmt.Sprintf("%q (%s)", w.Name, w.ID))
	}
	switch {
	case e.Hidden == 1:
		names = append(names, "1 workflow you cannot see")
	case e.Hidden > 1:
		names = append(names, fmt.Sprintf("%d workflows you cannot see", e.Hidden))
	}
	if e.Unsharing {
		return "the account is used by " + strings.Join(names, ", ") + " of members it would no longer be shared with; they will break if it is unshared"
	}
	return "the account is used by " + strings.Join(names, ", ") + "; they will break if it is deleted"
}

func (e *InUseError) Unwrap() error { return ErrInUse }

// CheckDelete returns an *InUseError when workflows use the account.
func (s *Service) CheckDelete(ctx context.Context, actor identity.Actor, accountID string) error {
	seen, hidden, err := s.using(ctx, actor, accountID)
	if err != nil {
		return err
	}
	if len(seen) > 0 || hidden > 0 {
		return &InUseError{Workflows: seen, Hidden: hidden}
	}
	return nil
}

// DeleteAccount deletes an account (revoking its grant at the provider
// if asked) unless workflows use it: then it deletes nothing and returns
// an *InUseError, unless force says the caller was told and goes ahead.
// The API and the web both delete accounts through it, so both refuse
// alike.
func (s *Service) DeleteAccount(ctx context.Context, actor identity.Actor, accountID string, revoke, force bool) (outcome, detail string, err error) {
	if !force {
		if err := s.CheckDelete(ctx, actor, accountID); err != nil {
			return "", "", err
		}
	}
	return s.accounts.Delete(ctx, actor, accountID, revoke)
}

// ShareAccount sets who the account is shared with (accounts.Service's
// Share) unless that would take it away from workflows that use it, of
// members who would no longer see it: then it changes nothing and
// returns an *InUseError, unless force says the caller was told and goes
// ahead, as deleting does. Those workflows' steps then fail when run,
// saying their owner may not use the account. The API and the web both
// share through it.
func (s *Service) ShareAccount(ctx context.Context, actor identity.Actor, accountID string, sh accounts.Sharing, force bool) (accounts.Account, error) {
	acc, sh, err := s.accounts.CheckSharing(ctx, actor, accountID, sh)
	if err != nil {
		return accounts.Account{}, err
	}
	if !force {
		all, err := s.store.WorkflowsUsing(ctx, actor.WorkspaceID, accountID)
		if err != nil {
			return accounts.Account{}, err
		}
		var lose []store.Workflow
		for _, w := range all {
			owner := s.ownerOf(ctx, w.WorkspaceID, w.OwnerID)
			if accounts.SeenBy(acc, accounts.SharingOf(acc), owner) && !accounts.SeenBy(acc, sh, owner) {
				lose = append(lose, w)
			}
		}
		if len(lose) > 0 {
			e := &InUseError{Unsharing: true}
			for _, w := range lose {
				if canSee(actor, w) {
					e.Workflows = append(e.Workflows, Ref{ID: w.ID, Name: w.Name})
				} else {
					e.Hidden++
				}
			}
			return accounts.Account{}, e
		}
	}
	return s.accounts.Share(ctx, actor, accountID, sh)
}
