// Package accounts is the connected-accounts service: it creates, lists,
// renames and deletes accounts, checks key-based credentials with the app's
// test request, labels accounts with the app's identity request, saves the
// grants package connecting obtains, keeps OAuth tokens fresh, and hands
// out credentials to callers allowed to read them, auditing every read. It
// looks apps up with package apps and builds OAuth flows with package
// clients.
package accounts

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/singleflight"

	"github.com/latchkeyhq/latchkey/internal/appapi"
	"github.com/latchkeyhq/latchkey/internal/apps"
	"github.com/latchkeyhq/latchkey/internal/audit"
	"github.com/latchkeyhq/latchkey/internal/catalog"
	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/oauth"
	"github.com/latchkeyhq/latchkey/internal/outbound"
	"github.com/latchkeyhq/latchkey/internal/seal"
	"github.com/latchkeyhq/latchkey/internal/store"
	"github.com/latchkeyhq/latchkey/internal/ttlcache"
	"github.com/latchkeyhq/latchkey/internal/validation"
	"github.com/latchkeyhq/latchkey/internal/webhooks"
)

// Errors the service returns besides ErrNotFound and ErrConflict.
var (
	// ErrForbidden: the actor may not do this to this account.
	ErrForbidden = identity.ErrForbidden
	// ErrUnknownApp: the catalog has no such app.
	ErrUnknownApp = apps.ErrUnknownApp
)

// ValidationError is bad input, naming the field it is about; every
// service returns the one type.
type ValidationError = validation.Error

func invalid(field, format string, args ...any) error {
	return validation.Invalid(field, format, args...)
}

// TestFailedError means the app's test request refused the credentials or
// could not be made; nothing was saved.
type TestFailedError struct{ Err error }

func (e *TestFailedError) Error() string { return "the credentials test failed: " + e.Err.Error() }
func (e *TestFailedError) Unwrap() error { return e.Err }

// Actor is who is calling; see package identity.
type Actor = identity.Actor

// canSee: workspace owners see every account of the workspace; everyone
// else (admins included) their own, those shared with the workspace and
// those shared with them. A token limited to chosen accounts or apps sees
// none beyond its limits, whatever surface or service asks.
func canSee(a Actor, acc store.Account) bool {
	return acc.WorkspaceID == a.WorkspaceID && a.MayUseAccount(acc.ID, acc.App) &&
		(a.SeesAllAccounts() || acc.OwnerID == a.UserID || acc.Shared || slices.Contains(acc.SharedWith, a.UserID))
}

// canChange: only the account's owner or a workspace owner renames,
// shares, reconnects, gives new keys to or deletes it; sharing lets others
// see and use an account, never change it. A viewer changes nothing.
func canChange(a Actor, acc store.Account) bool {
	return canSee(a, acc) && a.CanChangeAccounts() && (a.IsOwner() || acc.OwnerID == a.UserID)
}

// refuse is the error for a visible account the actor may not change.
func refuse(a Actor, what string) error {
	if !a.CanChangeAccounts() {
		return fmt.Errorf("%w: a viewer may not %s accounts", ErrForbidden, what)
	}
	return fmt.Errorf("%w: only the account's owner may %s it", ErrForbidden, what)
}

// Store is what the service needs of the store: the accounts, their
// refresh leases and the scheduler's queries, and the audit log.
type Store interface {
	store.Accounts
	store.RefreshLeases
	store.Refreshing
	store.Audit
	// DeleteAccountWithEvents deletes an account and writes its webhook
	// event in one transaction.
	DeleteAccountWithEvents(ctx context.Context, workspaceID, id string, events []store.WebhookEvent) error
	// GetUser checks that the members an account is shared with belong
	// to its workspace.
	GetUser(ctx context.Context, workspaceID, id string) (store.User, error)
}

// Apps looks apps up as the workspace sees them (package apps).
type Apps interface {
	App(ctx context.Context, workspaceID, slug string) (*catalog.App, error)
}

// Clients builds an app's OAuth flow with a stored client and reseals the
// clients' secrets (package clients).
type Clients interface {
	Flow(ctx context.Context, workspaceID, clientID string, app *catalog.App, fields map[string]string) (*oauth.Flow, error)
	// Consumer is an OAuth 1.0a app's consumer key and secret, kept as
	// the client of that id.
	Consumer(ctx context.Context, workspaceID, clientID string) (oauth.Client, error)
	Reseal(ctx context.Context) (int, error)
}

// Service is the accounts service.
type Service struct {
	store   Store
	apps    Apps
	clients Clients
	ring    *seal.Ring
	client  *http.Client
	clock   clockwork.Clock
	log     *slog.Logger

	refreshMargin  time.Duration
	unhealthyAfter time.Duration
	flight         singleflight.Group
	metrics        *metrics
	auditLog       *audit.Log
	// ownAudit: the service started auditLog itself and closes it.
	ownAudit bool
	// cache spares the database the account read on every credential
	// read. This process updates it on its own writes; a change made by
	// another replica is seen within accountCacheTTL. That is safe because
	// a cached token is only handed out while it is valid, and a refresh
	// always re-reads the row under its lock.
	cache *ttlcache.Cache[string, store.Account]
}

// accountCacheTTL bounds how stale a cached account may be.
const accountCacheTTL = time.Second

func cacheKey(workspaceID, id string) string { return workspaceID + "/" + id }

// remember caches an account as just read or written.
func (s *Service) remember(a store.Account) store.Account {
	s.cache.Set(cacheKey(a.WorkspaceID, a.ID), a)
	return a
}

// Options configure a Service.
type Options struct {
	Store Store
	// Apps and Clients are the services the accounts service looks apps
	// and OAuth clients up with; both are required.
	Apps    Apps
	Clients Clients
	Ring    *seal.Ring
	// Audit takes the service's audit events; nil means the service
	// starts its own log, which Close stops.
	Audit *audit.Log
	// Client makes provider requests; its Timeout bounds each one. Nil
	// means the guarded client with no exceptions.
	Client *http.Client
	Clock  clockwork.Clock
	Log    *slog.Logger
	// RefreshMargin: tokens expiring within it are refreshed before use.
	RefreshMargin time.Duration
	// UnhealthyAfter is how long transient refresh failures may last
	// before the account needs reconnecting.
	UnhealthyAfter time.Duration
	// Registerer takes the service's metrics; nil means none are exported.
	Registerer prometheus.Registerer
}

// New returns a Service.
func New(o Options) *Service {
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Client == nil {
		o.Client = outbound.New(outbound.Options{Timeout: 30 * time.Second})
	}
	if o.RefreshMargin == 0 {
		o.RefreshMargin = 5 * time.Minute
	}
	if o.UnhealthyAfter == 0 {
		o.UnhealthyAfter = 24 * time.Hour
	}
	svc := &Service{
		store: o.Store, apps: o.Apps, clients: o.Clients, ring: o.Ring, client: o.Client, clock: o.Clock, log: o.Log,
		refreshMargin: o.RefreshMargin, unhealthyAfter: o.UnhealthyAfter, metrics: newMetrics(o.Registerer, o.Store),
		auditLog: o.Audit,
		cache:    ttlcache.New[string, store.Account](accountCacheTTL, o.Clock.Now),
	}
	if svc.auditLog == nil {
		svc.auditLog, svc.ownAudit = audit.New(o.Store, o.Log), true
	}
	return svc
}

// Credentials is what an account's sealed blob holds.
type Credentials struct {
	// Fields are what the user entered (keys, connection fields).
	Fields map[string]string `json:"fields,omitempty"`
	// OAuth 2 tokens, and the kept token response fields.
	AccessToken  string            `json:"access_token,omitempty"`
	RefreshToken string            `json:"refresh_token,omitempty"`
	Kept         map[string]string `json:"kept,omitempty"`
	// ClientID is the provider's id of the OAuth client the tokens were
	// issued to.
	ClientID string `json:"client_id,omitempty"`
	// TokenSecret is an OAuth 1.0a account's token secret; AccessToken
	// is then its oauth_token.
	TokenSecret string `json:"token_secret,omitempty"`
}

// Values are the credentials as templates and code see them:
// auths.<app>.<name>. The refresh token is never among them, nor the
// secret a minted app's tokens are minted from.
func (c Credentials) Values(app *catalog.App) appapi.Values {
	v := appapi.Values{}
	for k, x := range c.Fields {
		if !app.Withheld(k) {
			v[k] = x
		}
	}
	for k, x := range c.Kept {
		v[k] = x
	}
	switch {
	case c.TokenSecret != "":
		v[catalog.OAuth1TokenField] = c.AccessToken
		v[catalog.OAuth1TokenSecretField] = c.TokenSecret
	case c.AccessToken != "":
		v[catalog.AccessTokenField] = c.AccessToken
	}
	if c.ClientID != "" {
		v[catalog.OAuthClientIDField] = c.ClientID
	}
	return v
}

func (s *Service) seal(id string, c Credentials) ([]byte, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("encode credentials: %w", err)
	}
	return s.ring.Seal(b, []byte(id))
}

func (s *Service) open(acc store.Account) (Credentials, error) {
	b, err := s.ring.Open(acc.Credentials, []byte(acc.ID))
	if err != nil {
		return Credentials{}, fmt.Errorf("account %s: %w", acc.ID, err)
	}
	var c Credentials
	if err := json.Unmarshal(b, &c); err != nil {
		return Credentials{}, fmt.Errorf("account %s: decode credentials: %w", acc.ID, err)
	}
	return c, nil
}

const maxNickname = 100

// checkNickname trims and checks a nickname.
func checkNickname(n string) (string, error) {
	n = strings.TrimSpace(n)
	switch {
	case n == "":
		return "", invalid("nickname", "must not be empty")
	case utf8.RuneCountInString(n) > maxNickname:
		return "", invalid("nickname", "must be at most %d characters", maxNickname)
	case !utf8.ValidString(n):
		return "", invalid("nickname", "must be UTF-8 text")
	}
	if i := hiddenRune(n); i >= 0 {
		r, _ := utf8.DecodeRuneInString(n[i:])
		return "", invalid("nickname", "must not contain %U, a control or invisible character", r)
	}
	return n, nil
}

// hiddenRune returns the index of the first rune in n that is not shown as
// itself, or -1. Such runes let one account pass for another in a list:
// controls (Cc, with U+0085), format characters (Cf: bidi overrides such
// as U+202E, zero-width spaces and joiners), and line and paragraph
// separators (Zl, Zp). A zero-width joiner between two symbols is kept,
// since it is how emoji such as 👩‍💻 are spelled.
func hiddenRune(n string) int {
	var prev rune
	for i, r := range n {
		if r == '\u200d' {
			next, size := utf8.DecodeRuneInString(n[i+len("\u200d"):])
			if size > 0 && emojiPart(prev) && unicode.Is(unicode.So, next) {
				prev = r
				continue
			}
			return i
		}
		if unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp) {
			return i
		}
		prev = r
	}
	return -1
}

// emojiPart reports whether r may precede a joiner inside an emoji: a
// symbol, a skin-tone modifier, or the emoji presentation selector.
func emojiPart(r rune) bool {
	return unicode.In(r, unicode.So, unicode.Sk) || r == '\ufe0f'
}

// CheckFields checks entered values against an app's fields: no unknown
// field, every required one present, every pattern matched. Defaults fill
// what was left out. Errors never repeat a value.
func CheckFields(app *catalog.App, in map[string]string) (map[string]string, error) {
	out := map[string]string{}
	for name := range in {
		if _, ok := app.Field(name); !ok {
			var names []string
			for _, f := range app.Fields {
				names = append(names, f.Name)
			}
			return nil, invalid("fields."+name, "%s has no field %q (its fields: %s)", app.Name, name, strings.Join(names, ", "))
		}
	}
	for _, f := range app.Fields {
		v := strings.TrimSpace(in[f.Name])
		if v == "" {
			v = f.Default
		}
		if v == "" {
			if f.Optional {
				continue
			}
			return nil, invalid("fields."+f.Name, "%s is required", f.Label)
		}
		if len(v) > 8192 {
			return nil, invalid("fields."+f.Name, "%s is too long", f.Label)
		}
		if f.Pattern != "" {
			re, err := regexp.Compile(f.Pattern)
			if err != nil {
				return nil, fmt.Errorf("app %s field %s: bad pattern: %w", app.Slug, f.Name, err)
			}
			if !re.MatchString(v) {
				return nil, invalid("fields."+f.Name, "%s does not have the expected format", f.Label)
			}
		}
		out[f.Name] = v
	}
	return out, nil
}

func (s *Service) audit(ctx context.Context, actor Actor, accountID, action string, detail map[string]string) {
	s.auditLog.Record(actor, accountID, action, detail, s.clock.Now())
}

// Close writes the queued audit events of a log the service started
// itself; call it before closing the store.
func (s *Service) Close() {
	if s.ownAudit {
		s.auditLog.Close()
	}
}

// outboxOf turns the audit events of a change that are also webhook
// events into outbox events, written with the change.
func outboxOf(a store.Account, now time.Time, events []store.AuditEvent) []store.WebhookEvent {
	var out []store.WebhookEvent
	for _, e := range events {
		if slices.Contains(webhooks.EventTypes, e.Action) {
			out = append(out, webhooks.AccountEvent(e.Action, a, now, nil))
		}
	}
	return out
}
