package seal

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// LoadOrCreateKeyFile reads the keys in path, or, when the file does not
// exist, creates it with one new key and mode 0600. It refuses a key file
// that others can read.
func LoadOrCreateKeyFile(path string) (keys [][]byte, created bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		k, err := GenerateKey()
		if err != nil {
			return nil, false, err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, false, fmt.Errorf("key file %s: %w", path, err)
		}
		// O_EXCL: two processes starting at once must not both write a key.
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			return LoadOrCreateKeyFile(path)
		}
		if err != nil {
			return nil, false, fmt.Errorf("key file %s: %w", path, err)
		}
		if _, err := f.WriteString(EncodeKey(k) + "\n"); err != nil {
			f.Close()
			return nil, false, fmt.Errorf("key file %s: %w", path, err)
		}
		if err := f.Close(); err != nil {
			return nil, false, fmt.Errorf("key file %s: %w", path, err)
		}
		return [][]byte{k}, true, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("key file %s: %w", path, err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, false, fmt.Errorf("key file %s: %w", path, err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, false, fmt.Errorf("key file %s has mode %v; it must be readable by its owner only (chmod 600)", path, st.Mode().Perm())
	}
	keys, err = ParseKeys(string(b))
	if err != nil {
		return nil, false, fmt.Errorf("key file %s: %w", path, err)
	}
	return keys, false, nil
}

// WriteKeyFile replaces the key file with the given keys, primary first,
// atomically and with mode 0600.
func WriteKeyFile(path string, keys [][]byte) error {
	var content string
	for _, k := range keys {
		content += EncodeKey(k) + "\n"
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".master.key-*")
	if err != nil {
		return fmt.Errorf("key file %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("key file %s: %w", path, err)
	}
	if _, err := tmp.WriteString(content); err != nil {
		tmp.Close()
		return fmt.Errorf("key file %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("key file %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("key file %s: %w", path, err)
	}
	return nil
}
