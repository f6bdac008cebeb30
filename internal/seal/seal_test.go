package seal_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/latchkeyhq/latchkey/internal/seal"
)

func newKey(t *testing.T) []byte {
	t.Helper()
	k, err := seal.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealOpen(t *testing.T) {
	k1, k2 := newKey(t), newKey(t)
	ring, err := seal.NewRing(k1)
	if err != nil {
		t.Fatal(err)
	}
	plain := []byte(`{"api_key":"SG.abc"}`)
	ct, err := ring.Seal(plain, []byte("acc_1"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(ct, plain) || bytes.Contains(ct, []byte("SG.abc")) {
		t.Fatal("ciphertext contains the plaintext")
	}
	if id, _ := seal.SealedBy(ct); id != ring.PrimaryID() {
		t.Fatalf("SealedBy = %s, want %s", id, ring.PrimaryID())
	}

	tampered := bytes.Clone(ct)
	tampered[len(tampered)-1] ^= 1
	other, _ := seal.NewRing(k2)
	tests := []struct {
		name    string
		ring    *seal.Ring
		ct      []byte
		owner   string
		wantErr error
	}{
		{"same owner opens", ring, ct, "acc_1", nil},
		{"another row's id does not open", ring, ct, "acc_2", seal.ErrCorrupt},
		{"altered ciphertext does not open", ring, tampered, "acc_1", seal.ErrCorrupt},
		{"truncated does not open", ring, ct[:10], "acc_1", seal.ErrCorrupt},
		{"empty does not open", ring, nil, "acc_1", seal.ErrCorrupt},
		{"a different key is refused by id", other, ct, "acc_1", seal.ErrUnknownKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.ring.Open(tt.ct, []byte(tt.owner))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && !bytes.Equal(got, plain) {
				t.Fatalf("Open = %q", got)
			}
		})
	}
}

func TestRotationKeepsOldDataReadable(t *testing.T) {
	oldKey, newK := newKey(t), newKey(t)
	oldRing, _ := seal.NewRing(oldKey)
	ct, _ := oldRing.Seal([]byte("v"), []byte("o"))

	rotated, err := seal.NewRing(newK, oldKey)
	if err != nil {
		t.Fatal(err)
	}
	if !rotated.NeedsReseal(ct) {
		t.Fatal("old ciphertext should need resealing")
	}
	if got, err := rotated.Open(ct, []byte("o")); err != nil || string(got) != "v" {
		t.Fatalf("Open after rotation = %q, %v", got, err)
	}
	fresh, _ := rotated.Seal([]byte("v"), []byte("o"))
	if rotated.NeedsReseal(fresh) {
		t.Fatal("new ciphertext should not need resealing")
	}
	if _, err := oldRing.Open(fresh, []byte("o")); !errors.Is(err, seal.ErrUnknownKey) {
		t.Fatalf("old ring opening new data: %v", err)
	}
}

func TestNewRingRejectsBadKeys(t *testing.T) {
	k := newKey(t)
	for name, keys := range map[string][][]byte{
		"none":      nil,
		"short":     {k[:16]},
		"duplicate": {k, k},
	} {
		if _, err := seal.NewRing(keys...); err == nil {
			t.Errorf("%s: NewRing accepted it", name)
		}
	}
}

func TestParseKeys(t *testing.T) {
	k1, k2 := newKey(t), newKey(t)
	keys, err := seal.ParseKeys(" " + seal.EncodeKey(k1) + " ,\n# old\n" + seal.EncodeKey(k2) + "\n")
	if err != nil || len(keys) != 2 || !bytes.Equal(keys[0], k1) || !bytes.Equal(keys[1], k2) {
		t.Fatalf("ParseKeys = %d keys, %v", len(keys), err)
	}
	for _, bad := range []string{"", "not base64!", seal.EncodeKey(k1[:20])} {
		if _, err := seal.ParseKeys(bad); err == nil {
			t.Errorf("ParseKeys(%q) accepted it", bad)
		} else if strings.Contains(err.Error(), bad) && bad != "" {
			t.Errorf("error repeats the input: %v", err)
		}
	}
}

func TestKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "master.key")
	keys, created, err := seal.LoadOrCreateKeyFile(path)
	if err != nil || !created || len(keys) != 1 {
		t.Fatalf("create: %d keys, created=%v, %v", len(keys), created, err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode = %v, want 0600", st.Mode().Perm())
	}
	again, created, err := seal.LoadOrCreateKeyFile(path)
	if err != nil || created || !bytes.Equal(again[0], keys[0]) {
		t.Fatalf("reload: created=%v, same=%v, %v", created, err == nil && bytes.Equal(again[0], keys[0]), err)
	}

	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := seal.LoadOrCreateKeyFile(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("world-readable key file: %v", err)
	}

	k2 := newKey(t)
	if err := seal.WriteKeyFile(path, [][]byte{k2, keys[0]}); err != nil {
		t.Fatal(err)
	}
	got, _, err := seal.LoadOrCreateKeyFile(path)
	if err != nil || len(got) != 2 || !bytes.Equal(got[0], k2) {
		t.Fatalf("after WriteKeyFile: %d keys, %v", len(got), err)
	}
}

// Derive: one secret per key and purpose, the same from rings of the same
// keys, different per purpose and per key, and the primary's first.
func TestDerive(t *testing.T) {
	k1, k2 := bytes.Repeat([]byte{1}, seal.KeySize), bytes.Repeat([]byte{2}, seal.KeySize)
	a, _ := seal.NewRing(k1, k2)
	b, _ := seal.NewRing(k1, k2)
	rotated, _ := seal.NewRing(k2)
	da, db := a.Derive("x"), b.Derive("x")
	if len(da) != 2 || !bytes.Equal(da[0], db[0]) || !bytes.Equal(da[1], db[1]) {
		t.Fatalf("rings of the same keys derive %x and %x", da, db)
	}
	if bytes.Equal(da[0], da[1]) || bytes.Equal(da[0], a.Derive("y")[0]) || bytes.Equal(da[0], k1) {
		t.Error("secrets of two keys, two purposes, or a key itself are alike")
	}
	if got := rotated.Derive("x"); len(got) != 1 || !bytes.Equal(got[0], da[1]) {
		t.Error("a ring of the second key alone does not derive that key's secret")
	}
}
