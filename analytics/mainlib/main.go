// Package mainlib is the portcullis-analytics service: it wires the
// ClickHouse store, the rules and the Kafka pipeline from flags. It is the
// only place that creates a logger.
package mainlib

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/portcullis/portcullis/analytics/internal/pipeline"
	"github.com/portcullis/portcullis/analytics/internal/rules"
	"github.com/portcullis/portcullis/analytics/internal/store"
)

// startupRetryMax caps the wait between attempts to reach ClickHouse and
// Kafka at start.
const startupRetryMax = 10 * time.Second

// Main runs the analytics service with args (without the program name)
// until ctx is done, logging JSON to stderr. It returns nil after a clean
// stop (ctx cancelled) or -h, and an error for invalid flags or a failure
// it cannot retry. At start it waits, retrying, for ClickHouse (to migrate
// the schema) and Kafka (to create the topics).
func Main(ctx context.Context, args []string, stderr io.Writer) error {
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	log := newLogger(cfg.logLevel, stderr)
	defer log.Sync() //nolint:errcheck // nothing to do about a failed flush

	st, err := store.Open(store.Options{
		Addr:     cfg.clickhouseAddr,
		Database: cfg.clickhouseDatabase,
		Username: cfg.clickhouseUser,
		Password: cfg.clickhousePassword,
		Logger:   log.Named("store"),
	})
	if err != nil {
		return err
	}
	defer func() { _ = st.Close() }()

	rule, err := rules.NewDenyBurst(rules.DenyBurstConfig{
		Threshold: cfg.denyThreshold, Window: cfg.denyWindow, BlockFor: cfg.blockFor,
	})
	if err != nil {
		return err
	}
	topics := pipeline.Topics{Decisions: cfg.decisionsTopic, Verdicts: cfg.verdictsTopic}
	p, err := pipeline.New(pipeline.Config{
		Brokers: cfg.kafkaBrokers,
		Group:   cfg.group,
		Topics:  topics,
		Rules:   []rules.Rule{rule},
		Logger:  log.Named("pipeline"),
	}, st)
	if err != nil {
		return err
	}
	defer p.Close()

	if !untilDone(ctx, log, "migrate clickhouse", st.Migrate) {
		return nil
	}
	if cfg.createTopics {
		adm := kadm.NewClient(p.Client())
		if !untilDone(ctx, log, "create kafka topics", func(ctx context.Context) error {
			return pipeline.EnsureTopics(ctx, adm, topics)
		}) {
			return nil
		}
	}
	log.Info("analytics running",
		zap.Strings("kafka_brokers", cfg.kafkaBrokers), zap.String("group", cfg.group),
		zap.String("decisions_topic", cfg.decisionsTopic), zap.String("verdicts_topic", cfg.verdictsTopic),
		zap.String("clickhouse_addr", cfg.clickhouseAddr), zap.String("clickhouse_database", cfg.clickhouseDatabase),
		zap.Int("deny_threshold", cfg.denyThreshold), zap.Duration("deny_window", cfg.denyWindow),
		zap.Duration("block_for", cfg.blockFor))
	if err := p.Run(ctx); err != nil {
		return fmt.Errorf("pipeline: %w", err)
	}
	log.Info("analytics stopped")
	return nil
}

// newLogger returns the production JSON logger writing to w.
func newLogger(level zapcore.Level, w io.Writer) *zap.Logger {
	enc := zap.NewProductionEncoderConfig()
	enc.EncodeTime = zapcore.ISO8601TimeEncoder
	core := zapcore.NewCore(zapcore.NewJSONEncoder(enc), zapcore.Lock(zapcore.AddSync(w)), level)
	return zap.New(core, zap.AddCaller(), zap.AddStacktrace(zapcore.ErrorLevel)).With(zap.String("service", "portcullis-analytics"))
}

// untilDone runs fn until it succeeds (true) or ctx is done (false),
// waiting between attempts with capped exponential backoff.
func untilDone(ctx context.Context, log *zap.Logger, what string, fn func(context.Context) error) bool {
	wait := 250 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := fn(ctx)
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		log.Warn("startup step failed, retrying", zap.String("step", what), zap.Int("attempt", attempt),
			zap.Duration("retry_in", wait), zap.Error(err))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-t.C:
		}
		wait = min(2*wait, startupRetryMax)
	}
}
