package identity

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/latchkeyhq/latchkey/internal/ids"
	"github.com/latchkeyhq/latchkey/internal/store"
)

// ErrSetUpDone means set-up has been done, here or by a racing browser: go
// and sign in.
var ErrSetUpDone = errors.New("set-up is done")

// metaWebSetup records that the first owner was set up; only one set-up
// can win it.
const metaWebSetup = "web_setup"

// NeedsSetup reports whether nobody can sign in yet.
func (s *Service) NeedsSetup(ctx context.Context) (bool, error) {
	ws, err := s.store.FirstWorkspace(ctx)
	if err != nil {
		return false, fmt.Errorf("needs set-up: %w", err)
	}
	n, err := s.store.CountPasswordUsers(ctx, ws.ID)
	if err != nil {
		return false, fmt.Errorf("needs set-up: %w", err)
	}
	return n == 0, nil
}

// FirstOwner is who set-up creates: the first owner who signs in with a
// password.
type FirstOwner struct {
	Email, Name, Password string
}

// Check returns the InputError of the first thing wrong with the input, or
// nil.
func (in FirstOwner) Check() error {
	email := NormalEmail(in.Email)
	if _, err := mail.ParseAddress(email); err != nil || len(email) > 200 {
		return &InputError{"Enter a valid email address."}
	}
	if len(strings.TrimSpace(in.Name)) > 100 {
		return &InputError{"The name is too long."}
	}
	if len(in.Password) < MinPassword || len(in.Password) > MaxPassword {
		return ErrPasswordLength
	}
	return nil
}

// SetUp creates the first owner and signs them in. Only one set-up can
// win, however many browsers race; the others get ErrSetUpDone.
func (s *Service) SetUp(ctx context.Context, in FirstOwner) (SignedIn, error) {
	if err := in.Check(); err != nil {
		return SignedIn{}, err
	}
	need, err := s.NeedsSetup(ctx)
	if err != nil {
		return SignedIn{}, err
	}
	if !need {
		return SignedIn{}, ErrSetUpDone
	}
	ws, err := s.store.FirstWorkspace(ctx)
	if err != nil {
		return SignedIn{}, fmt.Errorf("set-up: %w", err)
	}
	email := NormalEmail(in.Email)
	won, err := s.store.PutMetaIfAbsent(ctx, metaWebSetup, []byte(email))
	if err != nil {
		return SignedIn{}, fmt.Errorf("set-up: %w", err)
	}
	if !won {
		return SignedIn{}, ErrSetUpDone
	}
	name := strings.TrimSpace(in.Name)
	if name == "" {
		name = email
	}
	u, err := s.createUser(ctx, NewUser{WorkspaceID: ws.ID, Email: email, Name: name, Role: RoleOwner, Password: in.Password})
	if err != nil {
		return SignedIn{}, fmt.Errorf("set-up: %w", err)
	}
	s.log.InfoContext(ctx, "first owner created", "user", u.ID)
	return s.startSession(ctx, u)
}

// AdminTokenName names the token the first start issues.
const AdminTokenName = "admin (created on first start)"

// FirstStart creates the default workspace, an owner (the operator) and an
// admin API token when the store has no workspace, and writes the token to
// tokenFile with mode 0600. When the workspace exists but tokenFile is
// missing, it issues a new admin token, so the local CLI keeps working.
// Several replicas starting at once create one workspace between them. It
// returns the first workspace's id.
func (s *Service) FirstStart(ctx context.Context, tokenFile string) (string, error) {
	now := s.clock.Now().UTC()
	ws, err := s.store.FirstWorkspace(ctx)
	if errors.Is(err, store.ErrNotFound) {
		ws = store.Workspace{ID: ids.New(ids.Workspace, now), Name: "Default", CreatedAt: now}
		won, err := s.store.PutMetaIfAbsent(ctx, "bootstrap_workspace", []byte(ws.ID))
		if err != nil {
			return "", fmt.Errorf("first run: %w", err)
		}
		if !won {
			// Another replica is creating it; give it a moment.
			if ws, err = s.waitForWorkspace(ctx); err != nil {
				return "", err
			}
			return ws.ID, nil
		}
		if err := s.store.CreateWorkspace(ctx, ws); err != nil {
			return "", fmt.Errorf("first run: workspace: %w", err)
		}
		owner, err := s.CreateUser(ctx, NewUser{WorkspaceID: ws.ID, Email: "admin@localhost", Name: "Admin", Role: RoleOwner})
		if err != nil {
			return "", fmt.Errorf("first run: owner: %w", err)
		}
		if err := s.store.PutMeta(ctx, store.MetaAdminUser, []byte(owner.ID)); err != nil {
			return "", fmt.Errorf("first run: %w", err)
		}
		s.log.InfoContext(ctx, "first start: created the default workspace", "workspace", ws.ID)
	} else if err != nil {
		return "", fmt.Errorf("first run: %w", err)
	}

	if _, err := os.Stat(tokenFile); err == nil {
		return ws.ID, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("admin token file: %w", err)
	}
	adminID, err := s.waitForAdmin(ctx)
	if err != nil {
		return "", fmt.Errorf("first run: admin user: %w", err)
	}
	tok, _, err := s.IssueToken(ctx, ws.ID, string(adminID), AdminTokenName, []string{ScopeAll})
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(tokenFile), 0o700); err != nil {
		return "", fmt.Errorf("admin token file: %w", err)
	}
	if err := os.WriteFile(tokenFile, []byte(tok.Reveal()+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("admin token file: %w", err)
	}
	s.log.InfoContext(ctx, "wrote the admin API token; the CLI on this machine uses it", "file", tokenFile)
	return ws.ID, nil
}

// waitForWorkspace waits for another replica's first start. It waits in
// real time, not by the injected clock: the other replica's progress is
// real, and a test's fake clock would never let the wait end.
func (s *Service) waitForWorkspace(ctx context.Context) (store.Workspace, error) {
	for i := 0; i < 50; i++ {
		ws, err := s.store.FirstWorkspace(ctx)
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

// waitForAdmin returns the admin principal, waiting (as waitForWorkspace
// does) for a replica that made the workspace and has yet to record its
// admin: a replica that starts in that moment finds the one and not the
// other.
func (s *Service) waitForAdmin(ctx context.Context) ([]byte, error) {
	for i := 0; ; i++ {
		id, err := s.store.GetMeta(ctx, store.MetaAdminUser)
		if err == nil || !errors.Is(err, store.ErrNotFound) || i == 50 {
			return id, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
