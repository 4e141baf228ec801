// Package mainlib is the portcullis-extproc program as a library: Main parses
// flags, wires the policy core to gRPC and Kafka, and serves until ctx is
// done. Tests and the local stack call it in-process.
package mainlib

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/portcullis/portcullis/extproc/internal/filter"
	"github.com/portcullis/portcullis/extproc/internal/kafka"
	"github.com/portcullis/portcullis/extproc/internal/policy"
	"github.com/portcullis/portcullis/extproc/internal/server"
	"github.com/portcullis/portcullis/extproc/internal/spool"
	"github.com/portcullis/portcullis/extproc/internal/verdict"
)

// Flag defaults.
const (
	DefaultListen   = "127.0.0.1:9002"
	DefaultSpoolDir = "portcullis-spool"
)

type config struct {
	policyPath     string
	listen         string
	brokers        string
	decisionsTopic string
	verdictsTopic  string
	spoolDir       string
	spoolMaxBytes  int64
	instance       string
	logLevel       string
	hashKey        bool
	shutdownGrace  time.Duration
}

// Main runs the filter. args exclude the program name. It returns when ctx is
// done (nil) or on a fatal error.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("portcullis-extproc", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	fs.StringVar(&c.policyPath, "config", "", "policy file (personas, agents, upstreams); required")
	fs.StringVar(&c.listen, "listen", DefaultListen, "ext_proc gRPC listen address")
	fs.StringVar(&c.brokers, "kafka-brokers", "", "comma-separated Kafka seed brokers; required")
	fs.StringVar(&c.decisionsTopic, "decisions-topic", kafka.DefaultDecisionsTopic, "topic receiving decision events")
	fs.StringVar(&c.verdictsTopic, "verdicts-topic", kafka.DefaultVerdictsTopic, "compacted topic carrying verdicts")
	fs.StringVar(&c.spoolDir, "spool-dir", DefaultSpoolDir, "directory of the durable decision spool")
	fs.Int64Var(&c.spoolMaxBytes, "spool-max-bytes", 256<<20, "bound of undelivered decisions; when full, requests are refused with 503")
	fs.StringVar(&c.instance, "instance", "", "replica id in decision events (default: hostname)")
	fs.StringVar(&c.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.BoolVar(&c.hashKey, "hash-key", false, "read an API key from stdin, print its key_sha256 for the policy file, and exit")
	fs.DurationVar(&c.shutdownGrace, "shutdown-grace", 5*time.Second, "time to finish in-flight streams and deliver spooled decisions on shutdown")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if c.hashKey {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		key := strings.TrimSpace(line)
		if key == "" {
			return errors.New("-hash-key: no key on stdin")
		}
		_, err = fmt.Fprintln(stdout, policy.HashKey(key))
		return err
	}
	var errs []error
	if c.policyPath == "" {
		errs = append(errs, errors.New("-config is required"))
	}
	if c.brokers == "" {
		errs = append(errs, errors.New("-kafka-brokers is required"))
	}
	if c.spoolDir == "" {
		errs = append(errs, errors.New("-spool-dir must not be empty"))
	}
	var level zapcore.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		errs = append(errs, fmt.Errorf("-log-level: %w", err))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if c.instance == "" {
		h, err := os.Hostname()
		if err != nil {
			return fmt.Errorf("-instance not set and hostname unavailable: %w", err)
		}
		c.instance = h
	}
	log := newLogger(stderr, level)
	defer func() { _ = log.Sync() }()
	return run(ctx, c, log)
}

func newLogger(w io.Writer, level zapcore.Level) *zap.Logger {
	ec := zap.NewProductionEncoderConfig()
	ec.EncodeTime = zapcore.ISO8601TimeEncoder
	enc := zapcore.NewJSONEncoder(ec)
	return zap.New(zapcore.NewCore(enc, zapcore.AddSync(w), level))
}

func run(ctx context.Context, c config, log *zap.Logger) error {
	pol, err := policy.Load(c.policyPath)
	if err != nil {
		return err
	}
	sp, err := spool.Open(c.spoolDir, spool.Options{MaxBytes: c.spoolMaxBytes})
	if err != nil {
		return fmt.Errorf("open spool: %w", err)
	}
	defer func() { _ = sp.Close() }() // syncs; an error here has nowhere to go but the log
	brokers := strings.Split(c.brokers, ",")
	producer, err := kafka.NewProducerClient(brokers)
	if err != nil {
		return err
	}
	defer producer.Close()
	consumer, err := kafka.NewVerdictClient(brokers, c.verdictsTopic)
	if err != nil {
		return err
	}
	defer consumer.Close()
	{
		tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		if err := kafka.EnsureTopics(tctx, producer, kafka.Topics{Decisions: c.decisionsTopic, Verdicts: c.verdictsTopic}); err != nil {
			// Not fatal: decisions wait in the spool until the broker and
			// topics are there.
			log.Warn("could not ensure Kafka topics; decisions are spooled until they exist", zap.Error(err))
		}
		cancel()
	}
	emitter, err := kafka.NewEmitter(sp, producer, kafka.EmitterOptions{Topic: c.decisionsTopic, Instance: c.instance, Logger: log})
	if err != nil {
		return err
	}
	cache := verdict.NewCache()
	feed := kafka.NewVerdictFeed(consumer, cache, log)
	engine := filter.NewEngine(pol, filter.Options{Verdicts: cache, Admit: emitter.Admit})

	lis, err := net.Listen("tcp", c.listen)
	if err != nil {
		return err
	}
	gs := grpc.NewServer()
	extprocv3.RegisterExternalProcessorServer(gs, server.New(engine, emitter))
	hs := health.NewServer()
	healthpb.RegisterHealthServer(gs, hs)
	log.Info("portcullis-extproc serving", zap.String("listen", lis.Addr().String()), zap.String("instance", c.instance),
		zap.String("environment", pol.Environment), zap.Int64("spool_pending_bytes", sp.Stats().PendingBytes))

	// Background loops outlive the gRPC server by the grace period so that
	// the last decisions are delivered.
	bgCtx, bgCancel := context.WithCancel(context.WithoutCancel(ctx))
	defer bgCancel()
	g, gctx := errgroup.WithContext(bgCtx)
	g.Go(func() error { return emitter.Run(gctx) })
	g.Go(func() error { return feed.Run(gctx) })
	serveErr := make(chan error, 1)
	go func() { serveErr <- gs.Serve(lis) }()

	select {
	case <-ctx.Done():
	case err = <-serveErr:
		bgCancel()
		return errors.Join(err, g.Wait())
	case <-gctx.Done():
		gs.Stop()
		return g.Wait()
	}
	hs.Shutdown()
	stopped := make(chan struct{})
	go func() { gs.GracefulStop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(c.shutdownGrace):
		gs.Stop()
	}
	// Give delivery a bounded moment to drain; anything left stays spooled.
	deadline := time.Now().Add(c.shutdownGrace)
	for time.Now().Before(deadline) {
		st := emitter.Stats()
		if st.Spool.Acked+1 >= st.Spool.NextSeq {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	bgCancel()
	err = g.Wait()
	st := emitter.Stats()
	log.Info("portcullis-extproc stopped", zap.Uint64("emitted", st.Emitted), zap.Uint64("delivered", st.Delivered),
		zap.Uint64("spooled", st.Spool.NextSeq-1-st.Spool.Acked))
	return err
}
