// Package mainlib is the portcullis-extproc program as a library: Main parses
// flags, wires the policy core to gRPC and Kafka, and serves until ctx is
// done. Tests and the local stack call it in-process.
package mainlib

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
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
	"github.com/portcullis/portcullis/extproc/internal/registryfeed"
	"github.com/portcullis/portcullis/extproc/internal/server"
	"github.com/portcullis/portcullis/extproc/internal/spool"
	"github.com/portcullis/portcullis/extproc/internal/verdict"
)

// Flag defaults.
const (
	DefaultListen   = "127.0.0.1:9002"
	DefaultSpoolDir = "portcullis-spool"
	// DefaultRegistryInitialTimeout bounds how long a filter following the
	// registry waits for its first snapshot before falling back to the
	// cached one (and failing when there is none).
	DefaultRegistryInitialTimeout = 30 * time.Second
	// DefaultRegistryCacheName is the cached snapshot's file name in the
	// spool directory when -registry-cache is not set.
	DefaultRegistryCacheName = "registry-snapshot.json"
	// DefaultSSEMode is how event-stream responses are requested from
	// Envoy when -sse-mode is not set: STREAMED.
	DefaultSSEMode = server.SSEStreamed
)

type config struct {
	policyPath     string
	registryURL    string
	registryToken  string // file
	registryEnv    string
	registryCache  string
	registryWait   time.Duration
	secretsDir     string
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
	sseModeFlag    string
	sseMode        server.SSEMode // parsed from sseModeFlag
	sessionKeyFile string
	anyRoute       bool
	sessionKey     []byte // read from sessionKeyFile
}

// Main runs the filter. args exclude the program name. It returns when ctx is
// done (nil) or on a fatal error.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("portcullis-extproc", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	fs.StringVar(&c.policyPath, "config", "", "static policy file (personas, agents, upstreams); exactly one of -config and -registry-url")
	fs.StringVar(&c.registryURL, "registry-url", "", "registry base URL (e.g. http://registry:8080) whose policy snapshots the filter follows; exactly one of -config and -registry-url")
	fs.StringVar(&c.registryToken, "registry-token-file", "", "file holding the bearer token (role filter) presented to the registry")
	fs.StringVar(&c.registryEnv, "registry-environment", registryfeed.DefaultEnvironment, "registry environment followed: prod or preprod")
	fs.StringVar(&c.registryCache, "registry-cache", "", "file keeping the last applied registry snapshot, used at start when the registry is down (default: <spool-dir>/"+DefaultRegistryCacheName+")")
	fs.DurationVar(&c.registryWait, "registry-initial-timeout", DefaultRegistryInitialTimeout, "how long to wait for the registry's first snapshot before starting from the cache (no cache: fail)")
	fs.StringVar(&c.secretsDir, "secrets-dir", registryfeed.DefaultSecretsDir, "directory of mounted secrets: a registry credential reference secret://NAME/KEY is read from <dir>/NAME/KEY")
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
	fs.StringVar(&c.sessionKeyFile, "session-key-file", "", "file holding the key (at least 32 bytes) that binds MCP session ids to the agent they were issued to; every replica serving the same agents must have the same key (default: a random key per process: one replica, and sessions end when it restarts, agents then get 404 and initialise again)")
	fs.BoolVar(&c.anyRoute, "allow-unnamed-routes", false, "serve requests whose route sends no x-portcullis-persona metadata (by default they are refused with 404 and recorded: Envoy's default-deny route, or a route missing its ExtProcPerRoute)")
	fs.StringVar(&c.sseModeFlag, "sse-mode", DefaultSSEMode.String(), "ext_proc body mode asked of Envoy for event-stream responses: streamed (STREAMED, one reply per chunk) or full-duplex (FULL_DUPLEX_STREAMED with response trailers SEND; the bootstrap's allowed_override_modes must list it)")
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
	switch {
	case c.policyPath == "" && c.registryURL == "":
		errs = append(errs, errors.New("-config or -registry-url is required"))
	case c.policyPath != "" && c.registryURL != "":
		errs = append(errs, errors.New("-config and -registry-url are exclusive: the policy comes from a file or from the registry"))
	}
	if c.registryEnv != "prod" && c.registryEnv != "preprod" {
		errs = append(errs, fmt.Errorf("-registry-environment: %q is not prod or preprod", c.registryEnv))
	}
	if c.registryWait <= 0 {
		errs = append(errs, errors.New("-registry-initial-timeout must be positive"))
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
	if m, err := server.ParseSSEMode(c.sseModeFlag); err != nil {
		errs = append(errs, fmt.Errorf("-sse-mode: %w", err))
	} else {
		c.sseMode = m
	}
	if c.sessionKeyFile != "" {
		key, err := os.ReadFile(c.sessionKeyFile)
		key = bytes.TrimRight(key, "\r\n")
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("-session-key-file: %w", err))
		case len(key) < 32:
			errs = append(errs, fmt.Errorf("-session-key-file: the key has %d bytes, want at least 32", len(key)))
		default:
			c.sessionKey = key
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if c.registryCache == "" {
		c.registryCache = filepath.Join(c.spoolDir, DefaultRegistryCacheName)
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
	var pol *policy.Policy
	var token string
	if c.registryURL == "" {
		p, err := policy.Load(c.policyPath)
		if err != nil {
			return err
		}
		pol = p
	} else {
		// Until the first snapshot arrives the engine holds an empty
		// policy, which refuses everything; nothing is served before then.
		p, err := policy.Compile(policy.File{})
		if err != nil {
			return err
		}
		pol = p
		if c.registryToken != "" {
			b, err := os.ReadFile(c.registryToken)
			if err != nil {
				return fmt.Errorf("-registry-token-file: %w", err)
			}
			if token = strings.TrimSpace(string(b)); token == "" {
				return fmt.Errorf("-registry-token-file: %s is empty", c.registryToken)
			}
		}
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
	engine := filter.NewEngine(pol, filter.Options{Verdicts: cache, Admit: emitter.Admit, SessionKey: c.sessionKey, RequireRoutePersona: !c.anyRoute})

	// Background loops outlive the gRPC server by the grace period so that
	// the last decisions are delivered.
	bgCtx, bgCancel := context.WithCancel(context.WithoutCancel(ctx))
	defer bgCancel()
	g, gctx := errgroup.WithContext(bgCtx)
	g.Go(func() error { return emitter.Run(gctx) })
	g.Go(func() error { return feed.Run(gctx) })
	if c.registryURL != "" {
		rf, err := registryfeed.New(c.registryURL, engine, registryfeed.Options{
			Environment: c.registryEnv, Token: token, SecretsDir: c.secretsDir, CacheFile: c.registryCache, Logger: log,
		})
		if err != nil {
			bgCancel()
			return errors.Join(err, g.Wait())
		}
		g.Go(func() error { return rf.Run(gctx) })
		if err := awaitPolicy(ctx, rf, c.registryWait, log); err != nil || ctx.Err() != nil {
			bgCancel()
			return errors.Join(err, g.Wait())
		}
	}

	lis, err := net.Listen("tcp", c.listen)
	if err != nil {
		bgCancel()
		return errors.Join(err, g.Wait())
	}
	gs := grpc.NewServer()
	extprocv3.RegisterExternalProcessorServer(gs, server.New(engine, emitter, server.Options{SSEMode: c.sseMode}))
	hs := health.NewServer()
	healthpb.RegisterHealthServer(gs, hs)
	log.Info("portcullis-extproc serving", zap.String("listen", lis.Addr().String()), zap.String("instance", c.instance),
		zap.Stringer("sse_mode", c.sseMode),
		zap.String("environment", engine.Policy().Environment), zap.String("policy_version", engine.Policy().Version),
		zap.Int64("spool_pending_bytes", sp.Stats().PendingBytes))

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

// awaitPolicy waits for the registry's first snapshot; after timeout it
// starts from the cached snapshot instead, and fails when there is none
// (fail closed: the filter never serves without a policy). It returns nil
// without a policy only when ctx is done.
func awaitPolicy(ctx context.Context, rf *registryfeed.Feed, timeout time.Duration, log *zap.Logger) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return nil
	case <-rf.Ready():
		return nil
	case <-t.C:
	}
	if err := rf.LoadCache(); err != nil {
		return fmt.Errorf("no policy: the registry sent no usable snapshot within -registry-initial-timeout %s, and no cached snapshot: %w", timeout, err)
	}
	log.Warn("registry unreachable at start; serving the cached snapshot until it answers",
		zap.String("policy_version", rf.Status().Version), zap.Uint64("policy_revision", rf.Status().Revision))
	return nil
}
