// Package ratelimit is a token bucket that respects cancellation.
package ratelimit

import (
	"context"
	"time"
)

// Limiter hands out one token every interval.
type Limiter struct {
	tokens <-chan time.Time
}

// New starts a limiter; Stop it when done.
func New(interval time.Duration) (*Limiter, func()) {
	ticker := time.NewTicker(interval)
	return &Limiter{tokens: ticker.C}, ticker.Stop
}

// Wait blocks until a token is available or ctx is done.
func (l *Limiter) Wait(ctx context.Context) error {
	select {
	case <-l.tokens:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
