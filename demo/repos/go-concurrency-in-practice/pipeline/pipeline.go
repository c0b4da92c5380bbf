// Package pipeline shows a cancellable fan-out / fan-in pipeline.
package pipeline

import (
	"context"
	"sync"
	"time"
)

// Square reads numbers until the context is done or in is closed.
func Square(ctx context.Context, in <-chan int) <-chan int {
	out := make(chan int)
	go func() {
		defer close(out)
		for n := range in {
			select {
			case out <- n * n:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

// Merge fans in several channels; it waits for every sender before closing.
func Merge(ctx context.Context, ins ...<-chan int) <-chan int {
	var wg sync.WaitGroup
	out := make(chan int)
	for _, in := range ins {
		wg.Add(1)
		go func(in <-chan int) {
			defer wg.Done()
			for n := range in {
				select {
				case out <- n:
				case <-ctx.Done():
					return
				}
			}
		}(in)
	}
	go func() { wg.Wait(); close(out) }()
	return out
}

// FirstOrTimeout returns the first value or gives up after d.
func FirstOrTimeout(in <-chan int, d time.Duration) (int, bool) {
	select {
	case n := <-in:
		return n, true
	case <-time.After(d):
		return 0, false
	}
}
