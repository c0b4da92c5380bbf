package fetch

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestPageReturnsBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "ok")
	}))
	defer srv.Close()
	body, err := Page(context.Background(), srv.URL)
	if err != nil || string(body) != "ok" {
		t.Fatalf("got %q, %v", body, err)
	}
}

func TestPageNotFound(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	if _, err := Page(context.Background(), srv.URL); !errors.Is(err, ErrNotFound) {
		t.Fatalf("want ErrNotFound, got %v", err)
	}
}

func TestPageCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Page(ctx, "http://127.0.0.1:1"); err == nil {
		t.Fatal("want an error for a cancelled context")
	}
}

func TestAllEmpty(t *testing.T) {
	pages, err := All(context.Background(), nil, 2)
	if err != nil || len(pages) != 0 {
		t.Fatalf("got %v, %v", pages, err)
	}
}

func TestAllKeepsOrder(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, r.URL.Path)
	}))
	defer srv.Close()
	pages, err := All(context.Background(), []string{srv.URL + "/a", srv.URL + "/b"}, 2)
	if err != nil || string(pages[0]) != "/a" || string(pages[1]) != "/b" {
		t.Fatalf("got %q, %v", pages, err)
	}
}

func BenchmarkPage(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	for i := 0; i < b.N; i++ {
		_, _ = Page(context.Background(), srv.URL)
	}
}
