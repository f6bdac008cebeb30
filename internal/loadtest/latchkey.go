package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/config"
	"github.com/latchkeyhq/latchkey/internal/seal"
	"github.com/latchkeyhq/latchkey/internal/server"
)

// Latchkey is a running server, on loopback, with one OAuth 2 account
// connected through an in-process authorization server (IdP). Its access
// token is valid for an hour, so reading its credentials is the warm path:
// no refresh.
//
// Start needs nothing of the testing package, so the latchkey-load
// command does not link it; a benchmark calls Start as well.
type Latchkey struct {
	URL       string
	Token     string
	AccountID string
	Config    config.Config
	Server    *server.Server
	IdP       *IdP
	// Body is the answer to one credential read, taken at start.
	Body []byte

	stopOnce sync.Once
	stop     func()
}

// Target is the warm credential read: GET /v1/accounts/{id}/credentials
// with the admin token.
func (l *Latchkey) Target() Target { return CredentialRead(l.URL, l.Token, l.AccountID, len(l.Body)) }

// CredentialRead is GET /v1/accounts/{id}/credentials with token, whose
// answers must be bodyLen bytes long when bodyLen is above 0.
func CredentialRead(serverURL, token, accountID string, bodyLen int) Target {
	h := http.Header{}
	h.Set("Authorization", "Bearer "+token)
	return Target{URL: serverURL + "/v1/accounts/" + accountID + "/credentials", Header: h, BodyLen: int64(bodyLen)}
}

// Stop shuts the server and the IdP down and removes the temporary
// folder; calling it again does nothing.
func (l *Latchkey) Stop() { l.stopOnce.Do(l.stop) }

// QuietLogger is what Start uses for a nil logger: the default level
// (info), text, written nowhere. The access log is at debug level, so a
// credential read logs nothing, as in a default production set-up.
func QuietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// Start runs a Latchkey on databaseURL ("" for SQLite in a temporary
// folder), connects an OAuth 2 account and reads its credentials once to
// check them. The caller calls Stop.
func Start(ctx context.Context, databaseURL string, log *slog.Logger) (_ *Latchkey, err error) {
	if log == nil {
		log = QuietLogger()
	}
	var undo []func()
	l := &Latchkey{}
	l.stop = func() {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
	}
	defer func() {
		if err != nil {
			l.Stop()
		}
	}()

	dir, err := os.MkdirTemp("", "latchkey-load-")
	if err != nil {
		return nil, err
	}
	undo = append(undo, func() { os.RemoveAll(dir) })
	idp, err := NewIdP()
	if err != nil {
		return nil, err
	}
	undo = append(undo, func() { idp.Close() })
	l.IdP = idp

	cfg, err := serverConfig(dir, databaseURL, idp)
	if err != nil {
		return nil, err
	}
	// Listen first, so the public URL (and the OAuth redirect URI) names
	// the real port.
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, err
	}
	cfg.Listen = ln.Addr().String()
	cfg.PublicURL = "http://" + cfg.Listen
	sctx, cancel := context.WithCancel(context.Background())
	s, err := server.New(sctx, cfg, log, server.Options{})
	if err != nil {
		cancel()
		ln.Close()
		return nil, fmt.Errorf("start server: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(sctx, ln) }()
	undo = append(undo, func() {
		cancel()
		if err := <-done; err != nil {
			log.Error("serve", "err", err)
		}
		s.Close()
	})
	token, err := os.ReadFile(cfg.AdminTokenFile())
	if err != nil {
		return nil, fmt.Errorf("admin token: %w", err)
	}
	l.URL, l.Token, l.Config, l.Server = cfg.PublicURL, strings.TrimSpace(string(token)), cfg, s
	if err := l.connect(ctx); err != nil {
		return nil, err
	}
	return l, nil
}

// serverConfig is a configuration for a load run: a data folder in dir, a
// fresh master key, loopback on a free port, the IdP as the app loadidp.
func serverConfig(dir, databaseURL string, idp *IdP) (config.Config, error) {
	cfg := config.Default()
	cfg.DataDir = filepath.Join(dir, "data")
	cfg.DatabaseURL = databaseURL
	k, err := seal.GenerateKey()
	if err != nil {
		return cfg, err
	}
	cfg.MasterKey = seal.EncodeKey(k)
	cfg.Listen = "127.0.0.1:0"
	cfg.LogLevel = "info"
	cfg.CatalogDir = filepath.Join(dir, "catalog")
	if err := os.Mkdir(cfg.CatalogDir, 0o700); err != nil {
		return cfg, err
	}
	if err := os.WriteFile(filepath.Join(cfg.CatalogDir, IdPSlug+".yaml"), []byte(IdPApp), 0o600); err != nil {
		return cfg, err
	}
	cfg.AppOrigins = map[string]string{IdPSlug: idp.URL}
	return cfg, nil
}

// connect connects the account through the IdP and keeps the answer of
// its first credential read.
func (l *Latchkey) connect(ctx context.Context) error {
	id, body, err := Connect(ctx, l.URL, l.Token, l.IdP)
	if err != nil {
		return err
	}
	l.AccountID, l.Body = id, body
	return nil
}

// Connect registers the IdP's client with the Latchkey at serverURL (whose
// catalog has IdPApp, sent to the IdP by app_origins), connects an account
// through it as a browser would, with the admin token, and reads its
// credentials once. It returns the account's id and the raw answer of
// that read, whose size a bare handler copies.
func Connect(ctx context.Context, serverURL, token string, idp *IdP) (accountID string, body []byte, err error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	hc := &http.Client{Timeout: 30 * time.Second}
	api := client.New(serverURL, token, hc)
	if _, err := api.SetOAuthClient(ctx, IdPSlug, client.SetOAuthClient{
		ClientID: idp.ClientID, ClientSecret: idp.ClientSecret, Managed: true,
	}); err != nil {
		return "", nil, fmt.Errorf("set OAuth client: %w", err)
	}
	started, err := api.Connect(ctx, client.Connect{App: IdPSlug})
	if err != nil {
		return "", nil, fmt.Errorf("connect: %w", err)
	}
	// The browser: the IdP approves and redirects to Latchkey's callback.
	// The admin token cannot sign in on the web, so the callback asks
	// for the one-time code the start returned.
	status, page, err := approve(ctx, started.AuthorizeURL, started.OneTimeCode)
	if err != nil {
		return "", nil, fmt.Errorf("approve: %w", err)
	}
	if status != http.StatusOK || !strings.Contains(page, "is connected") {
		return "", nil, fmt.Errorf("callback page %d:\n%s", status, page)
	}
	conn, err := api.GetConnection(ctx, started.ID)
	if err != nil || conn.Status != "completed" || conn.AccountID == "" {
		return "", nil, fmt.Errorf("connection after approval: %+v, %v", conn, err)
	}
	accountID = conn.AccountID
	creds, err := api.Credentials(ctx, accountID)
	if err != nil {
		return "", nil, fmt.Errorf("read credentials: %w", err)
	}
	if creds["oauth_access_token"] == "" {
		return "", nil, fmt.Errorf("credentials without an access token: %d fields", len(creds))
	}

	t := CredentialRead(serverURL, token, accountID, 0)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.URL, nil)
	if err != nil {
		return "", nil, err
	}
	req.Header = t.Header.Clone()
	resp, err := hc.Do(req)
	if err != nil {
		return "", nil, fmt.Errorf("read credentials: %w", err)
	}
	body, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return "", nil, fmt.Errorf("read credentials: %w", err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		return "", nil, fmt.Errorf("read credentials: %s, %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	if n := idp.Refreshes(); n != 0 {
		return "", nil, fmt.Errorf("the fresh token was refreshed %d times", n)
	}
	return accountID, body, nil
}

var resumeForm = regexp.MustCompile(`action="(/oauth/callback/resume/[^"]+)"`)

// approve plays the user's browser for an authorize URL: it follows the
// redirects back to Latchkey's callback and enters the one-time code on
// the page that asks for it. It returns the last page.
func approve(ctx context.Context, authorizeURL, code string) (int, string, error) {
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authorizeURL, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, "", err
	}
	// The page's origin is the last redirect's: Latchkey's callback.
	at := resp.Request.URL
	status, page, err := readPage(resp)
	if err != nil || !strings.Contains(page, `data-need="code"`) {
		return status, page, err
	}
	m := resumeForm.FindStringSubmatch(page)
	if m == nil {
		return status, page, errors.New("the one-time code page has no form")
	}
	req, err = http.NewRequestWithContext(ctx, http.MethodPost, at.Scheme+"://"+at.Host+m[1], strings.NewReader(url.Values{"code": {code}}.Encode()))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if resp, err = hc.Do(req); err != nil {
		return 0, "", err
	}
	return readPage(resp)
}

func readPage(resp *http.Response) (int, string, error) {
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}
