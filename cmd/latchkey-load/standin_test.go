package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/latchkeyhq/latchkey/internal/server/servertest"
)

func TestStandIn(t *testing.T) {
	var errOut bytes.Buffer
	for _, args := range [][]string{{"-listen", "0.0.0.0:0", "-key", "k"}, {"-listen", "127.0.0.1:0"}, {"-key", "k", "extra"}} {
		if code := run(context.Background(), append([]string{"standin"}, args...), io.Discard, &errOut); code != 2 {
			t.Errorf("standin %q: exit %d, want 2", args, code)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	out := &servertest.LockedBuffer{}
	done := make(chan int)
	go func() { done <- run(ctx, []string{"standin", "-key", "the-key", "-size", "100"}, out, io.Discard) }()
	var url string
	for deadline := time.Now().Add(10 * time.Second); url == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if _, after, ok := strings.Cut(out.String(), "listening on "); ok {
			url = strings.TrimSpace(after)
		}
	}
	if url == "" {
		t.Fatal("the stand-in did not say where it listens")
	}
	get := func(key string) (int, int) {
		req, _ := http.NewRequest(http.MethodGet, url+"/v1/items", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, len(b)
	}
	if status, n := get("the-key"); status != http.StatusOK || n != 100 {
		t.Errorf("with the key: %d, %d bytes; want 200 and 100 bytes", status, n)
	}
	if status, _ := get("another"); status != http.StatusUnauthorized {
		t.Errorf("with another key: %d, want 401", status)
	}
	// Three requests on one kept-alive connection, then one on a new one.
	connections := func(c *http.Client) string {
		resp, err := c.Get(url + "/connections")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return strings.TrimSpace(string(b))
	}
	if got := connections(http.DefaultClient); got != `{"connections": 1}` {
		t.Errorf("after three requests on one connection: %s, want 1", got)
	}
	if got := connections(&http.Client{Transport: &http.Transport{}}); got != `{"connections": 2}` {
		t.Errorf("after a request on a second connection: %s, want 2", got)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit %d after interrupt, want 0", code)
	}
}
