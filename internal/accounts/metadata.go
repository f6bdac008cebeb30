package accounts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"

	"github.com/latchkeyhq/latchkey/internal/appapi"
	"github.com/latchkeyhq/latchkey/internal/catalog"
)

// ErrMetadata: the app's post-connect metadata request failed, or its
// answer lacked a value the account needs (the data centre its base URL
// names). Nothing is saved.
var ErrMetadata = errors.New("the provider's account details could not be read")

// metadata runs the app's post-connect request, if it has one, and returns
// the values it keeps. Each may go into a URL's host or path, so it must
// be a plain value.
func (s *Service) metadata(ctx context.Context, app *catalog.App, v appapi.Values) (map[string]string, error) {
	if app.OAuth2 == nil || app.OAuth2.Metadata == nil {
		return nil, nil
	}
	m := app.OAuth2.Metadata
	b, err := appapi.Probe(ctx, s.client, app, m.Probe(), v)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMetadata, err)
	}
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%w: the answer is not JSON", ErrMetadata)
	}
	kept := map[string]string{}
	for name, path := range m.Keep {
		val, ok := appapi.Lookup(doc, path)
		if !ok || val == "" {
			return nil, fmt.Errorf("%w: the answer has no %s", ErrMetadata, path)
		}
		if !catalog.SafeValue.MatchString(val) {
			return nil, fmt.Errorf("%w: the answer's %s is not a plain value", ErrMetadata, path)
		}
		kept[name] = val
	}
	return kept, nil
}

// mergeKept is a copy of a with b's values over it; nil when both are
// empty.
func mergeKept(a, b map[string]string) map[string]string {
	if len(a) == 0 && len(b) == 0 {
		return nil
	}
	out := maps.Clone(a)
	if out == nil {
		out = map[string]string{}
	}
	maps.Copy(out, b)
	return out
}
