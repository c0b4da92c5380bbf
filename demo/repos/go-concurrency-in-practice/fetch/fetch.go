// Package fetch downloads pages with a deadline and bounded concurrency.
package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"golang.org/x/sync/errgroup"
)

// ErrNotFound is returned for a 404.
var ErrNotFound = errors.New("fetch: not found")

var client = &http.Client{Timeout: 5 * time.Second}

// Page fetches one URL; the context cancels it.
func Page(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("build request for %s: %w", url, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return nil, ErrNotFound
	}
	return io.ReadAll(resp.Body)
}

// All fetches every URL, at most limit at a time, and stops at the first error.
func All(ctx context.Context, urls []string, limit int) ([][]byte, error) {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(limit)
	pages := make([][]byte, len(urls))
	for i, url := range urls {
		g.Go(func() error {
			body, err := Page(ctx, url)
			if errors.Is(err, ErrNotFound) {
				return nil
			}
			pages[i] = body
			return err
		})
	}
	return pages, g.Wait()
}
