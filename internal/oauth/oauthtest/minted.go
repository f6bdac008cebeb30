package oauthtest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"testing"

	"github.com/go-jose/go-jose/v3"
	"github.com/ory/fosite"
	"github.com/ory/fosite/storage"
)

// Mints counts token requests with grant_type client_credentials or the
// JWT bearer grant, successful or not.
func (s *Server) Mints() int { return int(s.mints.Load()) }

// jwtBearerGrant is RFC 7523's grant type.
const jwtBearerGrant = "urn:ietf:params:oauth:grant-type:jwt-bearer"

// TrustKey lets JWT assertions signed by key, with iss issuer and sub
// subject and the kid header keyID, be traded for tokens carrying up to
// scopes. Assertions with another subject are refused (invalid_grant).
func (s *Server) TrustKey(issuer, subject, keyID string, key *rsa.PublicKey, scopes []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	iss, ok := s.store.IssuerPublicKeys[issuer]
	if !ok {
		iss = storage.IssuerPublicKeys{Issuer: issuer, KeysBySub: map[string]storage.SubjectPublicKeys{}}
	}
	sub, ok := iss.KeysBySub[subject]
	if !ok {
		sub = storage.SubjectPublicKeys{Subject: subject, Keys: map[string]storage.PublicKeyScopes{}}
	}
	sub.Keys[keyID] = storage.PublicKeyScopes{
		Key:    &jose.JSONWebKey{Key: key, KeyID: keyID, Algorithm: string(jose.RS256), Use: "sig"},
		Scopes: scopes,
	}
	iss.KeysBySub[subject] = sub
	s.store.IssuerPublicKeys[issuer] = iss
}

// DistrustIssuer forgets every key of issuer: its next assertion is
// refused with invalid_grant, as when a service-account key is deleted.
func (s *Server) DistrustIssuer(issuer string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.store.IssuerPublicKeys, issuer)
}

// SetClientSecret changes the client's secret: requests with the old one
// now fail with invalid_client, as after a rotation at the provider.
func (s *Server) SetClientSecret(t testing.TB, secret string) {
	t.Helper()
	hashed, err := s.config.ClientSecretsHasher.Hash(context.Background(), []byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.store.Clients[s.clientID].(*fosite.DefaultClient)
	c.Secret = hashed
	s.clientSecret = secret
}

// RSAKey makes a 2048-bit RSA key for signing JWT assertions, and returns
// it with its PKCS #8 PEM form.
func RSAKey(t testing.TB) (*rsa.PrivateKey, string) {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return k, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}
