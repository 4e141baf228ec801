package pipeline

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/zap"
)

func TestRetryBacksOffAndRecovers(t *testing.T) {
	p := &Pipeline{cfg: Config{RetryInitial: time.Millisecond, RetryMax: 4 * time.Millisecond}, log: zap.NewNop()}
	var calls []time.Time
	err := p.retry(context.Background(), "step", func(context.Context) error {
		calls = append(calls, time.Now())
		if len(calls) < 6 {
			return errors.New("down")
		}
		return nil
	})
	if err != nil || len(calls) != 6 {
		t.Fatalf("err %v after %d calls", err, len(calls))
	}
	// Waits: 1, 2, 4, 4, 4 ms (+ up to 20%): at least 15ms in all.
	if el := calls[5].Sub(calls[0]); el < 15*time.Millisecond {
		t.Fatalf("retries took %s, want >= 15ms of backoff", el)
	}
}

func TestRetryStopsWithContext(t *testing.T) {
	p := &Pipeline{cfg: Config{RetryInitial: time.Hour, RetryMax: time.Hour}, log: zap.NewNop()}
	ctx, cancel := context.WithCancel(context.Background())
	down := errors.New("down")
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	start := time.Now()
	err := p.retry(ctx, "insert", func(context.Context) error { return down })
	if !errors.Is(err, context.Canceled) || !errors.Is(err, down) {
		t.Fatalf("err = %v, want context.Canceled wrapping the last error", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("retry did not stop promptly on cancel")
	}
}

func TestJitter(t *testing.T) {
	for range 1000 {
		if j := jitter(100 * time.Millisecond); j < 100*time.Millisecond || j > 120*time.Millisecond {
			t.Fatalf("jitter(100ms) = %s", j)
		}
	}
	if jitter(0) != 0 {
		t.Fatal("jitter(0) != 0")
	}
}
