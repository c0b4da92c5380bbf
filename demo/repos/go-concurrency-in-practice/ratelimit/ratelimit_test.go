package ratelimit

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestWaitHonoursCancellation(t *testing.T) {
	l, stop := New(time.Hour)
	defer stop()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
}

func BenchmarkWait(b *testing.B) {
	l, stop := New(time.Nanosecond)
	defer stop()
	for i := 0; i < b.N; i++ {
		_ = l.Wait(context.Background())
	}
}
