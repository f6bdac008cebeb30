package mcpserver

import (
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strconv"

	"github.com/latchkeyhq/latchkey/internal/mcpauth"
)

// maxRegistration is the largest registration request read.
const maxRegistration = 64 << 10

// authServerMetadata serves the RFC 8414 metadata.
func (s *Server) authServerMetadata(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Cache-Control", "max-age=300")
	writeJSON(w, http.StatusOK, s.o.OAuth.Metadata())
}

// registerClient is RFC 7591 dynamic client registration, open to
// anyone as the MCP authorization spec has it, and limited per address.
func (s *Server) registerClient(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	var in mcpauth.ClientMetadata
	// Unknown fields are ignored, as RFC 7591 asks of a server.
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxRegistration)).Decode(&in); err != nil {
		writeJSON(w, http.StatusBadRequest, oauthError{"invalid_client_metadata", "the body is not a JSON object of client metadata"})
		return
	}
	out, err := s.o.OAuth.Register(r.Context(), peer(r), in)
	var bad *mcpauth.RegistrationError
	var limited *mcpauth.RateLimitError
	switch {
	case errors.As(err, &bad):
		writeJSON(w, http.StatusBadRequest, oauthError{bad.Code, bad.Description})
	case errors.As(err, &limited):
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(limited.Wait.Seconds())))))
		writeJSON(w, http.StatusTooManyRequests, oauthError{"too_many_requests", "too many registrations from this address; try again later"})
	case err != nil:
		s.o.Log.ErrorContext(r.Context(), "mcp: registering a client failed", "err", err)
		writeJSON(w, http.StatusInternalServerError, oauthError{"server_error", "the client could not be registered; try again"})
	default:
		writeJSON(w, http.StatusCreated, out)
	}
}

type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
