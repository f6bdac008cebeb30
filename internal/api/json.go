package api

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MaxBody caps request bodies.
const MaxBody = 1 << 20

// decode reads one JSON object into v: at most MaxBody bytes, no unknown
// fields, nothing after it.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return problem(http.StatusUnsupportedMediaType, "unsupported-media-type", "The body must be JSON", "send Content-Type: application/json")
		}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		var syntax *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &tooBig):
			return problem(http.StatusRequestEntityTooLarge, "body-too-large", "The body is too large", fmt.Sprintf("the limit is %d bytes", MaxBody))
		case errors.Is(err, io.EOF):
			return errMalformed("the body is empty; send a JSON object")
		case errors.Is(err, io.ErrUnexpectedEOF):
			return errMalformed("the body is not valid JSON (it ends too soon)")
		case errors.As(err, &syntax):
			return errMalformed(fmt.Sprintf("the body is not valid JSON (at byte %d)", syntax.Offset))
		case errors.As(err, &typ):
			return errMalformed(fmt.Sprintf("field %q must be of JSON type %s", typ.Field, typ.Type))
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return errMalformed("unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field "))
		default:
			return errMalformed("the body is not a valid JSON object")
		}
	}
	if dec.More() {
		return errMalformed("the body has more than one JSON value")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errMalformed("the body has data after the JSON object")
	}
	return nil
}

// reply writes v as JSON with the status.
func reply(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	return newEncoder(w).Encode(v)
}

// newEncoder is the API's JSON encoder. It leaves <, > and & as they are:
// the answers are application/json with nosniff, never HTML, and help text
// such as "Settings > API Keys" should read as written.
func newEncoder(w io.Writer) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc
}

func encodeCursor(last string) *string {
	c := base64.RawURLEncoding.EncodeToString([]byte(last))
	return &c
}

func decodeCursor(r *http.Request) (string, error) {
	c := r.URL.Query().Get("cursor")
	if c == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return "", problem(http.StatusUnprocessableEntity, "validation", "The input is not valid", "cursor: is not a cursor this server gave")
	}
	return string(b), nil
}

func limitParam(r *http.Request, def, max int) (int, error) {
	s := r.URL.Query().Get("limit")
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > max {
		p := problem(http.StatusUnprocessableEntity, "validation", "The input is not valid", fmt.Sprintf("limit: must be a whole number from 1 to %d", max))
		p.Field = "limit"
		return 0, p
	}
	return n, nil
}

// timestamp formats times as RFC 3339 in UTC; nil stays null.
func timestamp(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := t.UTC().Format(time.RFC3339)
	return &s
}
