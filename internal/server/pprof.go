package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// servePprof serves Go's profiler on the pprof_listen address (loopback,
// checked by the configuration), on a listener and mux of its own so that
// nothing of it is reachable through the API's port. It returns the
// function that stops it.
func (s *Server) servePprof(ctx context.Context) (func(), error) {
	ln, err := net.Listen("tcp", s.cfg.PprofListen)
	if err != nil {
		return nil, fmt.Errorf("pprof listener: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	// A CPU profile takes as long as it is asked to: no write timeout.
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) }}
	stop := s.serveAside(srv, ln, "pprof listener")
	s.log.Warn("serving the Go profiler; turn pprof_listen off outside measurements", "addr", ln.Addr().String())
	return stop, nil
}

// serveAside serves srv on ln, a listener beside the main one, until the
// returned function closes it; what names it in the log if it stops
// before.
func (s *Server) serveAside(srv *http.Server, ln net.Listener, what string) func() {
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Warn(what+" stopped", "err", err)
		}
	}()
	return func() { _ = srv.Close() }
}
