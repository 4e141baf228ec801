package pipeline

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"go.uber.org/zap"
)

// retry runs step until it succeeds, waiting between failures with capped
// exponential backoff. It returns only nil, or the context's error (wrapped,
// with the step's last error) once ctx is done.
func (p *Pipeline) retry(ctx context.Context, step string, fn func(context.Context) error) error {
	wait := p.cfg.RetryInitial
	for attempt := 1; ; attempt++ {
		err := fn(ctx)
		if err == nil {
			if attempt > 1 {
				p.log.Info("pipeline step recovered", zap.String("step", step), zap.Int("attempts", attempt))
			}
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s: stopped after %d attempts: %w (last error: %w)", step, attempt, ctx.Err(), err)
		}
		d := jitter(wait)
		p.log.Warn("pipeline step failed, retrying the same batch",
			zap.String("step", step), zap.Int("attempt", attempt), zap.Duration("retry_in", d), zap.Error(err))
		if !sleep(ctx, d) {
			return fmt.Errorf("%s: stopped after %d attempts: %w (last error: %w)", step, attempt, ctx.Err(), err)
		}
		wait = min(2*wait, p.cfg.RetryMax)
	}
}

// jitter returns d plus up to 20% of it, so that replicas retrying against
// one recovering server spread out.
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return d + rand.N(d/5+1)
}

// sleep waits d, or until ctx is done; it reports whether it waited d.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
