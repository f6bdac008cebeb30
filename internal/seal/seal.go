// Package seal encrypts secrets at rest with AES-256-GCM under a key ring.
//
// Every ciphertext names the key that sealed it, so old keys keep opening
// old data while the primary key seals new data, and a rotation can
// re-seal row by row without downtime. The caller binds each ciphertext to
// its owner (the row's id) as associated data: a ciphertext copied to
// another row does not open.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the length of a master key in bytes.
const KeySize = 32

const version byte = 1

// Errors returned by Open.
var (
	// ErrUnknownKey means the ciphertext was sealed by a key the ring lacks.
	ErrUnknownKey = errors.New("sealed with a key that is not in the key ring")
	// ErrCorrupt means the ciphertext is malformed, was altered, or belongs
	// to another owner.
	ErrCorrupt = errors.New("ciphertext does not open: altered, or bound to another owner")
)

type key struct {
	id   string
	aead cipher.AEAD
}

// Ring holds the primary key, which seals, and older keys, which only open.
type Ring struct {
	primary *key
	byID    map[string]*key
	// prks are the keys' HKDF pseudo-random keys, primary first, for
	// Derive; the raw keys are not kept.
	prks [][]byte
}

// NewRing builds a ring from raw 32-byte keys; the first is the primary.
func NewRing(keys ...[]byte) (*Ring, error) {
	if len(keys) == 0 {
		return nil, errors.New("key ring: no keys")
	}
	r := &Ring{byID: make(map[string]*key, len(keys))}
	for i, k := range keys {
		if len(k) != KeySize {
			return nil, fmt.Errorf("key ring: key %d is %d bytes, want %d", i+1, len(k), KeySize)
		}
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, fmt.Errorf("key ring: key %d: %w", i+1, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("key ring: key %d: %w", i+1, err)
		}
		kk := &key{id: KeyID(k), aead: aead}
		if _, dup := r.byID[kk.id]; dup {
			return nil, fmt.Errorf("key ring: key %d is listed twice", i+1)
		}
		r.byID[kk.id] = kk
		prk, err := hkdf.Extract(sha256.New, k, []byte("latchkey derive"))
		if err != nil {
			return nil, fmt.Errorf("key ring: key %d: %w", i+1, err)
		}
		r.prks = append(r.prks, prk)
		if r.primary == nil {
			r.primary = kk
		}
	}
	return r, nil
}

// KeyID names a key without revealing it: the first 8 bytes of a domain
// separated SHA-256, in hex.
func KeyID(k []byte) string {
	h := sha256.Sum256(append([]byte("latchkey seal key id\x00"), k...))
	return hex.EncodeToString(h[:8])
}

// Derive returns a 32-byte secret for one purpose from each key of the
// ring, primary first (HKDF-SHA256): every replica with the same keys
// derives the same secrets, and a secret of an older key still checks
// what it made until a rotation drops that key. purpose must differ for
// every use.
func (r *Ring) Derive(purpose string) [][]byte {
	out := make([][]byte, 0, len(r.prks))
	for _, prk := range r.prks {
		k, err := hkdf.Expand(sha256.New, prk, purpose, 32)
		if err != nil {
			panic(err) // only for a length HKDF-SHA256 cannot make
		}
		out = append(out, k)
	}
	return out
}

// PrimaryID is the id of the key that seals new data.
func (r *Ring) PrimaryID() string { return r.primary.id }

// Seal encrypts plaintext under the primary key, bound to owner.
func (r *Ring) Seal(plaintext, owner []byte) ([]byte, error) {
	k := r.primary
	nonce := make([]byte, k.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("seal: nonce: %w", err)
	}
	out := make([]byte, 0, 2+len(k.id)+len(nonce)+len(plaintext)+k.aead.Overhead())
	out = append(out, version, byte(len(k.id)))
	out = append(out, k.id...)
	out = append(out, nonce...)
	return k.aead.Seal(out, nonce, plaintext, owner), nil
}

// Open decrypts a ciphertext made by Seal with the same owner.
func (r *Ring) Open(ciphertext, owner []byte) ([]byte, error) {
	id, body, err := split(ciphertext)
	if err != nil {
		return nil, err
	}
	k, ok := r.byID[id]
	if !ok {
		return nil, fmt.Errorf("open: key %s: %w", id, ErrUnknownKey)
	}
	n := k.aead.NonceSize()
	if len(body) < n+k.aead.Overhead() {
		return nil, fmt.Errorf("open: %w", ErrCorrupt)
	}
	pt, err := k.aead.Open(nil, body[:n], body[n:], owner)
	if err != nil {
		return nil, fmt.Errorf("open: %w", ErrCorrupt)
	}
	return pt, nil
}

// SealedBy returns the id of the key that sealed a ciphertext.
func SealedBy(ciphertext []byte) (string, error) {
	id, _, err := split(ciphertext)
	return id, err
}

// NeedsReseal reports whether a ciphertext was sealed by a key other than
// the primary, so a rotation should seal it again.
func (r *Ring) NeedsReseal(ciphertext []byte) bool {
	id, _, err := split(ciphertext)
	return err == nil && id != r.primary.id
}

func split(c []byte) (id string, body []byte, err error) {
	if len(c) < 2 || c[0] != version || len(c) < 2+int(c[1]) {
		return "", nil, fmt.Errorf("open: %w", ErrCorrupt)
	}
	n := int(c[1])
	return string(c[2 : 2+n]), c[2+n:], nil
}

// GenerateKey returns a new random master key.
func GenerateKey() ([]byte, error) {
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	return k, nil
}

// EncodeKey writes a key as standard base64, the form keys take in
// LATCHKEY_MASTER_KEY and in the key file.
func EncodeKey(k []byte) string { return base64.StdEncoding.EncodeToString(k) }

// ParseKeys reads base64 keys separated by commas or new lines, primary
// first. Blank entries and lines starting with # are skipped.
func ParseKeys(s string) ([][]byte, error) {
	var keys [][]byte
	for i, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' }) {
		f = strings.TrimSpace(f)
		if f == "" || strings.HasPrefix(f, "#") {
			continue
		}
		k, err := base64.StdEncoding.DecodeString(f)
		if err != nil {
			return nil, fmt.Errorf("key %d is not base64", i+1)
		}
		if len(k) != KeySize {
			return nil, fmt.Errorf("key %d is %d bytes, want %d (make one with: openssl rand -base64 32)", i+1, len(k), KeySize)
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, errors.New("no key given")
	}
	return keys, nil
}
