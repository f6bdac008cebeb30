package oauth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	"golang.org/x/oauth2/jwt"

	"github.com/latchkeyhq/latchkey/internal/catalog"
	"github.com/latchkeyhq/latchkey/internal/secret"
)

// Minter mints access tokens for an app of a minted mode (client
// credentials, JWT bearer, two-step) from the secret the account keeps.
// There is no refresh token: each mint starts from the secret again.
type Minter struct {
	App *catalog.App
	// Fields are every field of the account, secrets included.
	Fields map[string]string
	// HTTP makes the token request; its Timeout bounds it.
	HTTP *http.Client
	// Now turns expires_in into an expiry.
	Now func() time.Time
}

// KeyError is a private key (or service-account file) that cannot be
// used. It names the field and never quotes the key.
type KeyError struct {
	Field  string
	Reason string
}

func (e *KeyError) Error() string { return e.Field + ": " + e.Reason }

// Check reads the account's secret as the app's mode needs it, without
// calling the provider: a JWT bearer key must parse. It returns a
// *KeyError for a key that does not.
func (m *Minter) Check() error {
	if m.App.Auth != catalog.AuthJWTBearer {
		return nil
	}
	_, err := m.jwtConfig()
	return err
}

// Mint gets a new access token.
func (m *Minter) Mint(ctx context.Context) (*Token, error) {
	switch m.App.Auth {
	case catalog.AuthClientCredentials:
		return m.clientCredentials(ctx)
	case catalog.AuthJWTBearer:
		return m.jwtBearer(ctx)
	case catalog.AuthTwoStep:
		return m.twoStep(ctx)
	}
	return nil, fmt.Errorf("%s does not mint tokens", m.App.Name)
}

func (m *Minter) expand(tpl string) (string, error) {
	return catalog.Expand(tpl, m.lookup)
}

// lookup reads a field; an optional one left empty reads as empty, so a
// claim such as sub is left out rather than the mint failing.
func (m *Minter) lookup(name string) (string, bool) {
	if v, ok := m.Fields[name]; ok {
		return v, true
	}
	_, declared := m.App.Field(name)
	return "", declared
}

// expandAll expands each scope template.
func (m *Minter) expandAll(scopes []string) ([]string, error) {
	out := make([]string, 0, len(scopes))
	for _, s := range scopes {
		v, err := m.expand(s)
		if err != nil {
			return nil, fmt.Errorf("scopes: %w", err)
		}
		out = append(out, v)
	}
	return out, nil
}

func (m *Minter) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// httpContext carries the guarded client, adapted by quirks, to x/oauth2.
func (m *Minter) httpContext(ctx context.Context, q *catalog.OAuth2) context.Context {
	base := m.HTTP
	if base == nil {
		base = http.DefaultClient
	}
	c := *base
	c.Transport = &quirks{next: transport(base), app: q}
	return context.WithValue(ctx, oauth2.HTTPClient, &c)
}

// redactor covers every secret field and the Basic header they may form.
func (m *Minter) redactor() redactor {
	var secrets []string
	for _, f := range m.App.Fields {
		if v := m.Fields[f.Name]; f.Secret && v != "" {
			secrets = append(secrets, v, url.QueryEscape(v))
		}
	}
	if id, cs := m.Fields[catalog.ClientIDField], m.Fields[catalog.ClientSecretField]; cs != "" {
		for _, basic := range []string{url.QueryEscape(id) + ":" + url.QueryEscape(cs), id + ":" + cs} {
			secrets = append(secrets, base64.StdEncoding.EncodeToString([]byte(basic)))
		}
	}
	return newRedactor(secrets...)
}

func (m *Minter) clientCredentials(ctx context.Context) (*Token, error) {
	c := m.App.ClientCredentials
	tokenURL, err := m.expand(c.TokenURL)
	if err != nil {
		return nil, fmt.Errorf("token_url: %w", err)
	}
	params := url.Values{}
	for k, v := range c.TokenParams {
		if v, err = m.expand(v); err != nil {
			return nil, fmt.Errorf("token_params.%s: %w", k, err)
		}
		// A parameter from an optional field left empty is left out.
		if v != "" {
			params.Set(k, v)
		}
	}
	headers := map[string]string{}
	for k, v := range c.TokenHeaders {
		if headers[k], err = m.expand(v); err != nil {
			return nil, fmt.Errorf("token_headers.%s: %w", k, err)
		}
	}
	style := oauth2.AuthStyleInParams
	if c.ClientAuth == "basic" {
		style = oauth2.AuthStyleInHeader
	}
	scopes, err := m.expandAll(c.Scopes)
	if err != nil {
		return nil, err
	}
	cfg := clientcredentials.Config{
		ClientID:       m.Fields[catalog.ClientIDField],
		ClientSecret:   m.Fields[catalog.ClientSecretField],
		TokenURL:       tokenURL,
		Scopes:         scopes,
		EndpointParams: params,
		AuthStyle:      style,
	}
	tok, err := cfg.Token(m.httpContext(ctx, &catalog.OAuth2{TokenHeaders: headers, TokenBody: c.TokenBody}))
	if err != nil {
		return nil, classify(err, m.redactor())
	}
	return m.token(tok, c.DefaultExpiresIn, c.KeepFields), nil
}

// token reads an x/oauth2 token with the injected clock.
func (m *Minter) token(tok *oauth2.Token, def catalog.Duration, keep []string) *Token {
	t := &Token{AccessToken: secret.New(tok.AccessToken)}
	secs := tok.ExpiresIn
	if secs == 0 {
		// x/oauth2/jwt keeps expires_in only among the extras.
		switch v := tok.Extra("expires_in").(type) {
		case float64:
			secs = int64(v)
		case string:
			secs, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	switch {
	case secs > 0:
		t.Expiry = m.now().Add(time.Duration(secs) * time.Second)
	case def > 0:
		t.Expiry = m.now().Add(time.Duration(def))
	}
	if s, ok := tok.Extra("scope").(string); ok && s != "" {
		t.Scopes = splitScopes(s)
	}
	for _, k := range keep {
		if v, ok := tok.Extra(k).(string); ok && v != "" {
			if t.Kept == nil {
				t.Kept = map[string]string{}
			}
			t.Kept[k] = v
		}
	}
	return t
}

// serviceAccount is the part of a Google service-account key file used.
// Its token_uri is ignored: the catalog names the token endpoint, so a
// pasted file cannot send the signed assertion elsewhere.
type serviceAccount struct {
	Type         string `json:"type"`
	ClientEmail  string `json:"client_email"`
	PrivateKey   string `json:"private_key"`
	PrivateKeyID string `json:"private_key_id"`
}

// jwtConfig builds the x/oauth2/jwt configuration from the account's key
// and the entry's claims.
func (m *Minter) jwtConfig() (*jwt.Config, error) {
	j := m.App.JWTBearer
	scopes, err := m.expandAll(j.Scopes)
	if err != nil {
		return nil, err
	}
	cfg := &jwt.Config{Scopes: scopes, Expires: time.Hour}
	if j.Lifetime > 0 {
		cfg.Expires = time.Duration(j.Lifetime)
	}
	switch j.Key {
	case catalog.KeyGoogleServiceAccount:
		var sa serviceAccount
		field := catalog.ServiceAccountJSONField
		if err := json.Unmarshal([]byte(m.Fields[field]), &sa); err != nil {
			return nil, &KeyError{Field: field, Reason: "is not a service-account JSON key file"}
		}
		if sa.Type != "service_account" || sa.ClientEmail == "" || sa.PrivateKey == "" {
			return nil, &KeyError{Field: field, Reason: `is not a service-account key: it needs "type": "service_account", client_email and private_key`}
		}
		if err := parseRSAKey([]byte(sa.PrivateKey)); err != nil {
			return nil, &KeyError{Field: field, Reason: "its private_key " + err.Error()}
		}
		cfg.Email, cfg.PrivateKey, cfg.PrivateKeyID = sa.ClientEmail, []byte(sa.PrivateKey), sa.PrivateKeyID
	default:
		key := []byte(m.Fields[catalog.PrivateKeyField])
		if err := parseRSAKey(key); err != nil {
			return nil, &KeyError{Field: catalog.PrivateKeyField, Reason: err.Error()}
		}
		cfg.PrivateKey = key
		if cfg.Email, err = m.expand(j.Issuer); err != nil {
			return nil, fmt.Errorf("issuer: %w", err)
		}
		if cfg.PrivateKeyID, err = m.expand(j.KeyID); err != nil {
			return nil, fmt.Errorf("key_id: %w", err)
		}
	}
	if cfg.Subject, err = m.expand(j.Subject); err != nil {
		return nil, fmt.Errorf("subject: %w", err)
	}
	if cfg.TokenURL, err = m.expand(j.TokenURL); err != nil {
		return nil, fmt.Errorf("token_url: %w", err)
	}
	if cfg.Audience, err = m.expand(j.Audience); err != nil {
		return nil, fmt.Errorf("audience: %w", err)
	}
	// A fresh jti each time: providers (and RFC 7523 servers that refuse
	// replays) see every assertion as new.
	cfg.PrivateClaims = map[string]any{"jti": rand.Text()}
	for k, v := range j.Claims {
		if cfg.PrivateClaims[k], err = m.expand(v); err != nil {
			return nil, fmt.Errorf("claims.%s: %w", k, err)
		}
	}
	return cfg, nil
}

// parseRSAKey checks that b is a PEM RSA private key, PKCS #8 or #1, as
// x/oauth2/jwt signs with; its errors never quote the key.
func parseRSAKey(b []byte) error {
	block, _ := pem.Decode(b)
	if block == nil {
		return errors.New(`is not a PEM private key (it should start with "-----BEGIN PRIVATE KEY-----")`)
	}
	if strings.Contains(block.Type, "ENCRYPTED") {
		return errors.New("is encrypted; give the key without a passphrase")
	}
	if k, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		if _, ok := k.(*rsa.PrivateKey); !ok {
			return errors.New("is not an RSA key; RS256 needs one")
		}
		return nil
	}
	if _, err := x509.ParsePKCS1PrivateKey(block.Bytes); err != nil {
		return errors.New("cannot be read as a PKCS #8 or PKCS #1 RSA private key")
	}
	return nil
}

func (m *Minter) jwtBearer(ctx context.Context) (*Token, error) {
	cfg, err := m.jwtConfig()
	if err != nil {
		return nil, &Error{Kind: Permanent, Code: "invalid_key", Description: err.Error()}
	}
	tok, err := cfg.TokenSource(m.httpContext(ctx, &catalog.OAuth2{})).Token()
	if err != nil {
		return nil, classify(withErrorCode(err), m.redactor())
	}
	return m.token(tok, m.App.JWTBearer.DefaultExpiresIn, nil), nil
}

// withErrorCode fills in the RFC 6749 error code of a RetrieveError that
// x/oauth2/jwt leaves unparsed, so that classify reads it.
func withErrorCode(err error) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "" {
		return err
	}
	var body struct {
		Code        string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(re.Body, &body) == nil {
		re.ErrorCode, re.ErrorDescription = body.Code, body.Description
	}
	return err
}
