// Package validation is the error every service returns for bad input: it
// names the field the input is wrong in and says why, never repeating a
// secret.
package validation

import "fmt"

// Error is bad input, naming the field it is about.
type Error struct {
	Field   string
	Message string
}

func (e *Error) Error() string { return e.Field + ": " + e.Message }

// Invalid returns an *Error about field.
func Invalid(field, format string, args ...any) error {
	return &Error{Field: field, Message: fmt.Sprintf(format, args...)}
}
