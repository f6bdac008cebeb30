// Package accounts is the connected-accounts service: it creates, lists,
// renames and deletes accounts, checks key-based credentials with the app's
// test request, labels accounts with the app's identity request, and hands
// out credentials to callers allowed to read them, auditing every read.
package accounts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/singleflight"

	"github.com/latchkeyhq/latchkey/internal/appapi"
	"github.com/latchkeyhq/latchkey/internal/catalog"
	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/ids"
	"github.com/latchkeyhq/latchkey/internal/outbound"
	"github.com/latchkeyhq/latchkey/internal/seal"
	"github.com/latchkeyhq/latchkey/internal/store"
	"github.com/latchkeyhq/latchkey/internal/ttlcache"
)

// Errors the service returns besides store.ErrNotFound.
var (
	// ErrForbidden: the actor may not do this to this account.
	ErrForbidden = identity.ErrForbidden
	// ErrUnknownApp: the catalog has no such app.
	ErrUnknownApp = errors.New("unknown app")
)

// ValidationError is bad input, naming the field it is about.
type ValidationError struct {
	Field   string
	Message string
}

func (e *ValidationError) Error() string { return e.Field + ": " + e.Message }

func invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// TestFailedError means the app's test request refused the credentials or
// could not be made; nothing was saved.
type TestFailedError struct{ Err error }

func (e *TestFailedError) Error() string { return "the credentials test failed: " + e.Err.Error() }
func (e *TestFailedError) Unwrap() error { return e.Err }

// Actor is who is calling; see package identity.
type Actor = identity.Actor

// canSee: owners see every account of the workspace; others their own and
// the shared ones.
func canSee(a Actor, acc store.Account) bool {
	return acc.WorkspaceID == a.WorkspaceID && (a.IsOwner() || acc.OwnerID == a.UserID || acc.Shared)
}

// canChange: only the account's owner or a workspace owner changes it.
func canChange(a Actor, acc store.Account) bool {
	return acc.WorkspaceID == a.WorkspaceID && (a.IsOwner() || acc.OwnerID == a.UserID)
}

// Service is the accounts service.
type Service struct {
	store   store.Store
	catalog *catalog.Catalog
	ring    *seal.Ring
	client  *http.Client
	clock   clockwork.Clock
	log     *slog.Logger
	origins map[string]string
	// rerouted are the shipped apps with a configured origin, rewritten
	// once rather than on every lookup.
	rerouted map[string]*catalog.App

	redirectURI    string
	refreshMargin  time.Duration
	unhealthyAfter time.Duration
	flight         singleflight.Group
	metrics        *metrics
	auditLog       *auditLog
	// cache spares the database the account read on every credential
	// read. This process updates it on its own writes; a change made by
	// another replica is seen within accountCacheTTL. That is safe because
	// a cached token is only handed out while it is valid, and a refresh
	// always re-reads the row under its lock.
	cache *ttlcache.Cache[string, store.Account]
	// connectLimit limits connection starts per user.
	connectLimit keyedLimiter
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
	Store   store.Store
	Catalog *catalog.Catalog
	Ring    *seal.Ring
	// Client makes provider requests; its Timeout bounds each one. Nil
	// means the guarded client with no exceptions.
	Client *http.Client
	Clock  clockwork.Clock
	Log    *slog.Logger
	// AppOrigins sends an app's requests to another origin.
	AppOrigins map[string]string
	// RedirectURI is the OAuth callback URL registered with providers.
	RedirectURI string
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
	rerouted := map[string]*catalog.App{}
	for slug, origin := range o.AppOrigins {
		if app, ok := o.Catalog.Get(slug); ok {
			rerouted[slug] = app.WithOrigin(origin)
		}
	}
	return &Service{
		rerouted: rerouted,
		store:    o.Store, catalog: o.Catalog, ring: o.Ring, client: o.Client, clock: o.Clock, log: o.Log,
		origins: o.AppOrigins, redirectURI: o.RedirectURI, refreshMargin: o.RefreshMargin,
		unhealthyAfter: o.UnhealthyAfter, metrics: newMetrics(o.Registerer, o.Store),
		auditLog: newAuditLog(o.Store, o.Log),
		cache:    ttlcache.New[string, store.Account](accountCacheTTL, o.Clock.Now),
	}
}

// App returns the catalog entry for slug as this server uses it in the
// workspace: a shipped app (with any configured origin), else one of the
// workspace's own.
func (s *Service) App(ctx context.Context, workspaceID, slug string) (*catalog.App, error) {
	if app, ok := s.rerouted[slug]; ok {
		return app, nil
	}
	if app, ok := s.catalog.Get(slug); ok {
		return app, nil
	}
	app, err := s.customApp(ctx, workspaceID, slug)
	if err != nil {
		return nil, err
	}
	if origin := s.origins[slug]; origin != "" {
		app = app.WithOrigin(origin)
	}
	return app, nil
}

// RedirectURI is the OAuth callback URL to register with providers.
func (s *Service) RedirectURI() string { return s.redirectURI }

// Catalog returns the catalog the service uses.
func (s *Service) Catalog() *catalog.Catalog { return s.catalog }

// Credentials is what an account's sealed blob holds.
type Credentials struct {
	// Fields are what the user entered (keys, connection fields).
	Fields map[string]string `json:"fields,omitempty"`
	// OAuth 2 tokens, and the kept token response fields.
	AccessToken  string            `json:"access_token,omitempty"`
	RefreshToken string            `json:"refresh_token,omitempty"`
	Kept         map[string]string `json:"kept,omitempty"`
}

// Values are the credentials as templates and code see them:
// auths.<app>.<name>. The refresh token is never among them.
func (c Credentials) Values() appapi.Values {
	v := appapi.Values{}
	for k, x := range c.Fields {
		v[k] = x
	}
	for k, x := range c.Kept {
		v[k] = x
	}
	if c.AccessToken != "" {
		v[catalog.AccessTokenField] = c.AccessToken
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
	e := store.AuditEvent{
		ID:          ids.New(ids.Event, s.clock.Now()),
		WorkspaceID: actor.WorkspaceID,
		ActorID:     actor.UserID,
		AccountID:   accountID,
		Action:      action,
		Detail:      detail,
		CreatedAt:   s.clock.Now().UTC(),
	}
	s.auditLog.add(e)
}

// Close writes the queued audit events; call it before closing the store.
func (s *Service) Close() { s.auditLog.close() }
