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

// cors mounts h at method and path for any origin, with the preflight
// (OPTIONS) it takes: an MCP client in a web page, on a site of its own,
// discovers, registers and gets and revokes tokens. Nothing here reads a
// cookie, so no origin gains anything by its visitors' browsers, and none
// is allowed credentials. The headers: Content-Type for JSON and forms,
// MCP-Protocol-Version that clients send with discovery.
func cors(mux *http.ServeMux, method, path string, h http.Handler) {
	allow := func(w http.ResponseWriter) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Access-Control-Allow-Methods", method+", OPTIONS")
		w.Header().Set("Access-Control-Allow-Headers", "Content-Type, MCP-Protocol-Version")
		w.Header().Set("Access-Control-Expose-Headers", "Retry-After")
		w.Header().Set("Access-Control-Max-Age", "3600")
	}
	mux.Handle(method+" "+path, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		allow(w)
		h.ServeHTTP(w, r)
	}))
	mux.HandleFunc(http.MethodOptions+" "+path, func(w http.ResponseWriter, _ *http.Request) {
		allow(w)
		w.WriteHeader(http.StatusNoContent)
	})
}
