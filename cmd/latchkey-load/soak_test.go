package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestSoakRefusesBadFlags: only loopback http URLs, and every required flag.
func TestSoakRefusesBadFlags(t *testing.T) {
	ok := []string{"-token", "t", "-app", "a", "-key", "k"}
	for _, args := range [][]string{
		append([]string{"-urls", "http://10.0.0.1:8080"}, ok...),
		append([]string{"-urls", "https://127.0.0.1:8080"}, ok...),
		{"-urls", "http://127.0.0.1:8080", "-token", "t"},
		append([]string{"-urls", "http://127.0.0.1:8080", "-duration", "2h"}, ok...),
	} {
		if code := run(context.Background(), append([]string{"soak"}, args...), io.Discard, io.Discard); code != 2 {
			t.Errorf("soak %q: exit %d, want 2", args, code)
		}
	}
}

// TestSoakCountsAnswers: a replica that answers 500 fails the run and is
// named; one that cannot be reached is skipped for the next.
func TestSoakCountsAnswers(t *testing.T) {
	var creates, fails atomic.Int64
	good := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.Method == http.MethodPost {
			creates.Add(1)
			w.WriteHeader(http.StatusCreated)
			_ = json.NewEncoder(w).Encode(map[string]string{"id": "acc_1"})
			return
		}
		_, _ = w.Write([]byte(`{}`))
	}))
	defer good.Close()
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fails.Add(1)
		w.WriteHeader(http.StatusInternalServerError)
	}))
	gone := httptest.NewServer(http.NotFoundHandler())
	goneURL := gone.URL
	gone.Close()

	var out bytes.Buffer
	args := []string{"soak", "-urls", good.URL + "," + goneURL, "-token", "tok", "-app", "a", "-key", "k", "-duration", "300ms", "-concurrency", "2", "-rate", "100"}
	if code := run(context.Background(), args, &out, io.Discard); code != 0 {
		t.Fatalf("exit %d with a good replica and a gone one:\n%s", code, &out)
	}
	if !strings.Contains(out.String(), "5xx answers: 0") || strings.Contains(out.String(), " 0 tries found a replica unreachable") || creates.Load() == 0 {
		t.Fatalf("report:\n%s", &out)
	}
	out.Reset()
	args[2] = good.URL + "," + bad.URL
	if code := run(context.Background(), args, &out, io.Discard); code != 1 || fails.Load() == 0 || !strings.Contains(out.String(), bad.URL+": 500") {
		t.Fatalf("exit %d with a failing replica, want 1 and it named:\n%s", code, &out)
	}
	bad.Close()
}
