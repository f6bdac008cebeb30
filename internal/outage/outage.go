// Package outage holds the errors of a database that does not answer.
// The store returns them and re-exports them; the surfaces, which must
// not import the store, render them from here.
package outage

import "errors"

var (
	// ErrUnavailable says the database could not be reached, even after
	// the store retried for a while; the same call may succeed later.
	ErrUnavailable = errors.New("the database is unavailable")
	// ErrOutcomeUnknown says a write's COMMIT got no answer and the store
	// could not learn afterwards whether it was kept.
	ErrOutcomeUnknown = errors.New("the database did not say whether the change was kept")
)
