package accounts

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/store"
)

// Limits of what a product keeps with its end users' accounts.
const (
	MaxExternalUserID = 250
	MaxMetadata       = 16 << 10
	MaxTags           = 32
	MaxTagValue       = 256
)

// tagKey is what a tag's key may be: short, and without "=", so that
// "key=value" in a query parses one way.
var tagKey = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$`)

// CheckExternalUserID checks a product's id for one of its users: 1 to
// 250 characters, printable.
func CheckExternalUserID(id string) error {
	if id == "" {
		return invalid("external_user_id", "is required")
	}
	if !utf8.ValidString(id) || utf8.RuneCountInString(id) > MaxExternalUserID {
		return invalid("external_user_id", "must be at most %d characters of UTF-8", MaxExternalUserID)
	}
	if strings.IndexFunc(id, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return invalid("external_user_id", "must not hold control or invisible characters")
	}
	return nil
}

// CheckTags checks an account's tags: at most 32, each key 1 to 64
// letters, digits or "_.:-" (starting with a letter or digit), each value
// 1 to 256 printable characters.
func CheckTags(tags map[string]string) error {
	if len(tags) > MaxTags {
		return invalid("tags", "may hold at most %d tags", MaxTags)
	}
	for k, v := range tags {
		if !tagKey.MatchString(k) {
			return invalid("tags", "key %q must be 1 to 64 letters, digits or _.:- starting with a letter or digit", k)
		}
		if v == "" || !utf8.ValidString(v) || utf8.RuneCountInString(v) > MaxTagValue ||
			strings.IndexFunc(v, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
			return invalid("tags", "the value of %q must be 1 to %d printable characters", k, MaxTagValue)
		}
	}
	return nil
}

// ParseTagFilter reads "key=value", as a list filter gives it.
func ParseTagFilter(s string) (store.Tag, error) {
	k, v, ok := strings.Cut(s, "=")
	if !ok {
		return store.Tag{}, invalid("tags", "%q must be key=value", s)
	}
	if err := CheckTags(map[string]string{k: v}); err != nil {
		return store.Tag{}, err
	}
	return store.Tag{Key: k, Value: v}, nil
}

// checkMetadata checks free metadata and returns it compacted: a JSON
// value of at most 16 KiB, nil for none (absent, empty or null).
func checkMetadata(raw json.RawMessage) ([]byte, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	if len(raw) > MaxMetadata {
		return nil, invalid("metadata", "must be at most %d bytes of JSON", MaxMetadata)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, invalid("metadata", "must be JSON")
	}
	return buf.Bytes(), nil
}

// endUserFields checks what a new account carries for an end user.
func endUserFields(in CreateInput) (tags map[string]string, metadata []byte, err error) {
	if in.ExternalUserID != "" {
		if err := CheckExternalUserID(in.ExternalUserID); err != nil {
			return nil, nil, err
		}
	}
	if err := CheckTags(in.Tags); err != nil {
		return nil, nil, err
	}
	if metadata, err = checkMetadata(in.Metadata); err != nil {
		return nil, nil, err
	}
	if len(in.Tags) > 0 {
		tags = maps.Clone(in.Tags)
	}
	return tags, metadata, nil
}

// ActionLabelled is the audit action of a change of tags or metadata.
const ActionLabelled = "account.labelled"

// LabelInput changes an account's tags or metadata; a nil field is left
// as it is.
type LabelInput struct {
	// Tags replace the account's tags; an empty map removes them.
	Tags *map[string]string
	// Metadata replaces the account's metadata; JSON null removes it.
	Metadata json.RawMessage
}

// CheckLabel checks a change of tags or metadata, so a surface that
// changes more of an account at once can refuse it before changing any.
func CheckLabel(in LabelInput) error {
	if in.Tags != nil {
		if err := CheckTags(*in.Tags); err != nil {
			return err
		}
	}
	_, err := checkMetadata(in.Metadata)
	return err
}

// Label sets an account's tags or metadata. Bad input changes nothing.
func (s *Service) Label(ctx context.Context, actor Actor, id string, in LabelInput) (Account, error) {
	if err := actor.Require(identity.ScopeAccountsWrite); err != nil {
		return Account{}, err
	}
	if err := CheckLabel(in); err != nil {
		return Account{}, err
	}
	var tags map[string]string
	if in.Tags != nil && len(*in.Tags) > 0 {
		tags = maps.Clone(*in.Tags)
	}
	metadata, err := checkMetadata(in.Metadata)
	if err != nil {
		return Account{}, err
	}
	if !actor.CanChangeAccounts() {
		return Account{}, refuse(actor, "change")
	}
	acc, err := s.visible(ctx, actor, id)
	if err != nil {
		return Account{}, err
	}
	if !canChange(actor, acc) {
		return Account{}, refuse(actor, "change")
	}
	acc, err = s.store.UpdateAccount(ctx, actor.WorkspaceID, id, func(a *store.Account) error {
		if in.Tags != nil {
			a.Tags = tags
		}
		if in.Metadata != nil {
			a.Metadata = metadata
		}
		a.UpdatedAt = s.clock.Now().UTC()
		return nil
	})
	if err != nil {
		return Account{}, fmt.Errorf("label account %s: %w", id, err)
	}
	s.remember(acc)
	detail := map[string]string{}
	if in.Tags != nil {
		detail["tags"] = tagString(tags)
	}
	if in.Metadata != nil {
		detail["metadata_bytes"] = fmt.Sprint(len(metadata))
	}
	s.audit(ctx, actor, id, ActionLabelled, detail)
	return viewOf(acc), nil
}

// tagString renders tags as "k=v k=v", sorted, for the audit log.
func tagString(tags map[string]string) string {
	var parts []string
	for k, v := range tags {
		parts = append(parts, k+"="+v)
	}
	slices.Sort(parts)
	return strings.Join(parts, " ")
}
