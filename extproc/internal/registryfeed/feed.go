// Package registryfeed keeps the filter's policy in step with the registry:
// it fetches the environment's policy snapshot (GetSnapshot), follows the
// registry's watch stream (WatchSnapshots), converts every snapshot to the
// filter's policy document, compiles it and swaps it in. A snapshot that
// does not compile is reported and ignored; when the registry is down the
// filter keeps enforcing the snapshot it has, and reconnects with
// exponential backoff and jitter, resuming from the version it enforces.
//
// It is an edge adapter (Connect, protobuf): the policy core never imports
// it. Convert is the pure mapping; Feed does the I/O.
package registryfeed

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"connectrpc.com/connect"
	"go.uber.org/zap"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/portcullis/portcullis/extproc/internal/policy"
	registryv1 "github.com/portcullis/portcullis/proto/gen/go/portcullis/registry/v1"
	"github.com/portcullis/portcullis/proto/gen/go/portcullis/registry/v1/registryv1connect"
)

// Defaults of Options.
const (
	DefaultEnvironment = "prod"
	DefaultMinBackoff  = 250 * time.Millisecond
	DefaultMaxBackoff  = 30 * time.Second
)

// Target receives every compiled snapshot; *filter.Engine is one.
type Target interface {
	SetPolicy(*policy.Policy)
}

// Options configure a Feed. Zero values are the documented defaults.
type Options struct {
	// Environment is the registry environment followed ("prod" or
	// "preprod"). Defaults to DefaultEnvironment.
	Environment string
	// Token is the bearer token presented to the registry (a token of role
	// "filter"). Defaults to none.
	Token string
	// SecretsDir resolves secret://NAME/KEY credential references. Defaults
	// to DefaultSecretsDir.
	SecretsDir string
	// CacheFile, when set, receives every applied registry snapshot
	// (written atomically, mode 0600; it holds credential references and
	// key digests, never secrets), and LoadCache reads it back. Defaults to
	// no cache.
	CacheFile string
	// HTTPClient carries the calls. Defaults to a client without timeout
	// (the watch is long-lived) over http.DefaultTransport.
	HTTPClient connect.HTTPClient
	// MinBackoff is the first reconnection delay; each failed attempt
	// doubles it up to MaxBackoff. The delay actually waited is drawn
	// uniformly from [d/2, d] (jitter), so replicas do not reconnect in
	// step. The delay goes back to MinBackoff once an attempt reaches the
	// registry. Defaults to DefaultMinBackoff and DefaultMaxBackoff.
	MinBackoff, MaxBackoff time.Duration
	// Logger receives one line per applied or rejected snapshot and per
	// lost connection. Defaults to zap.NewNop().
	Logger *zap.Logger
	// Now is the clock. Defaults to time.Now.
	Now func() time.Time
}

// Source says where the enforced snapshot came from.
type Source string

const (
	SourceRegistry Source = "registry"
	SourceCache    Source = "cache"
)

// Status is the snapshot the filter enforces.
type Status struct {
	// Version is the snapshot's content hash ("sha256:<hex>"); empty until
	// a snapshot is applied.
	Version string
	// Revision is the registry's revision of the environment.
	Revision uint64
	// Environment is the snapshot's registry environment.
	Environment string
	// Source is where it came from.
	Source Source
	// AppliedAt is when it was swapped in.
	AppliedAt time.Time
}

// Feed follows the registry and keeps a Target's policy current. Its
// methods are safe for concurrent use.
type Feed struct {
	client registryv1connect.RegistryServiceClient
	target Target
	opts   Options
	log    *zap.Logger

	mu       sync.Mutex // serialises apply
	status   atomic.Pointer[Status]
	ready    chan struct{}
	readyOne sync.Once
	rejected atomic.Uint64
}

// New returns a feed of the registry at baseURL (e.g.
// "http://registry:8080") applying snapshots to target. Run starts it.
func New(baseURL string, target Target, opts Options) (*Feed, error) {
	if baseURL == "" {
		return nil, errors.New("registryfeed: registry URL is empty")
	}
	if target == nil {
		return nil, errors.New("registryfeed: no target")
	}
	if opts.Environment == "" {
		opts.Environment = DefaultEnvironment
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = DefaultMinBackoff
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = DefaultMaxBackoff
	}
	if opts.MaxBackoff < opts.MinBackoff {
		opts.MaxBackoff = opts.MinBackoff
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{}
	}
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	var copts []connect.ClientOption
	if opts.Token != "" {
		copts = append(copts, connect.WithInterceptors(bearer(opts.Token)))
	}
	f := &Feed{
		client: registryv1connect.NewRegistryServiceClient(opts.HTTPClient, baseURL, copts...),
		target: target,
		opts:   opts,
		log:    opts.Logger.With(zap.String("registry", baseURL), zap.String("registry_environment", opts.Environment)),
		ready:  make(chan struct{}),
	}
	return f, nil
}

// Ready is closed once a snapshot (from the registry or the cache) has been
// applied.
func (f *Feed) Ready() <-chan struct{} { return f.ready }

// Status returns the snapshot enforced now (zero before the first).
func (f *Feed) Status() Status {
	if s := f.status.Load(); s != nil {
		return *s
	}
	return Status{}
}

// Rejected counts snapshots that did not convert or compile.
func (f *Feed) Rejected() uint64 { return f.rejected.Load() }

// Run follows the registry until ctx is done; it returns nil then. It never
// gives up: a lost or refused connection is retried with backoff.
func (f *Feed) Run(ctx context.Context) error {
	backoff := f.opts.MinBackoff
	for {
		reached, err := f.session(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if reached {
			backoff = f.opts.MinBackoff
		}
		wait := backoff/2 + rand.N(backoff/2+1)
		st := f.Status()
		f.log.Warn("registry unreachable or watch ended; enforcing the last snapshot",
			zap.Error(err), zap.Duration("retry_in", wait), zap.String("policy_version", st.Version), zap.Uint64("policy_revision", st.Revision))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		if !reached {
			backoff = min(backoff*2, f.opts.MaxBackoff)
		}
	}
}

// session is one connection: GetSnapshot until the registry has supplied a
// snapshot, then the watch from the version enforced. reached reports
// whether the registry answered.
func (f *Feed) session(ctx context.Context) (reached bool, err error) {
	if f.Status().Source != SourceRegistry {
		resp, err := f.client.GetSnapshot(ctx, connect.NewRequest(&registryv1.GetSnapshotRequest{Environment: f.opts.Environment}))
		if err != nil {
			return false, err
		}
		reached = true
		f.handle(resp.Msg.GetSnapshot())
	}
	stream, err := f.client.WatchSnapshots(ctx, connect.NewRequest(&registryv1.WatchSnapshotsRequest{
		Environment: f.opts.Environment, KnownVersion: f.Status().Version,
	}))
	if err != nil {
		return reached, err
	}
	defer func() { _ = stream.Close() }()
	for stream.Receive() {
		reached = true
		if s := stream.Msg().GetSnapshot(); s != nil {
			f.handle(s)
		}
	}
	if err := stream.Err(); err != nil {
		return reached, err
	}
	return reached, errors.New("watch stream ended")
}

// handle applies a snapshot from the registry and logs the outcome.
func (f *Feed) handle(s *registryv1.PolicySnapshot) {
	skipped, err := f.apply(s, SourceRegistry)
	if err != nil {
		f.rejected.Add(1)
		st := f.Status()
		f.log.Error("registry snapshot rejected; keeping the policy in force",
			zap.String("snapshot_version", s.GetVersion()), zap.Uint64("snapshot_revision", s.GetRevision()),
			zap.String("policy_version", st.Version), zap.Uint64("policy_revision", st.Revision), zap.Error(err))
		return
	}
	f.logApplied(skipped)
	if f.opts.CacheFile == "" {
		return
	}
	if err := writeCache(f.opts.CacheFile, s); err != nil {
		f.log.Warn("could not write the snapshot cache", zap.String("file", f.opts.CacheFile), zap.Error(err))
	}
}

func (f *Feed) logApplied(skipped []string) {
	st := f.Status()
	f.log.Info("policy snapshot enforced", zap.String("policy_version", st.Version), zap.Uint64("policy_revision", st.Revision),
		zap.String("environment", st.Environment), zap.String("source", string(st.Source)))
	for _, s := range skipped {
		f.log.Warn("snapshot entry not enforceable; left out (fail closed)", zap.String("policy_version", st.Version), zap.String("entry", s))
	}
}

// LoadCache applies the cached snapshot, unless a registry snapshot is
// already in force (then it does nothing). It fails when there is no cache
// or it does not compile.
func (f *Feed) LoadCache() error {
	if f.opts.CacheFile == "" {
		return errors.New("no snapshot cache configured")
	}
	s, err := readCache(f.opts.CacheFile)
	if err != nil {
		return err
	}
	skipped, err := f.apply(s, SourceCache)
	if err != nil {
		return fmt.Errorf("cached snapshot %s: %w", f.opts.CacheFile, err)
	}
	if f.Status().Source == SourceCache {
		f.logApplied(skipped)
	}
	return nil
}

// Apply converts, compiles and swaps in s as if the registry had sent it
// (also writing the cache). Tests and tools use it; Run calls it for every
// snapshot it receives.
func (f *Feed) Apply(s *registryv1.PolicySnapshot) error {
	_, err := f.apply(s, SourceRegistry)
	if err == nil && f.opts.CacheFile != "" {
		err = writeCache(f.opts.CacheFile, s)
	}
	return err
}

func (f *Feed) apply(s *registryv1.PolicySnapshot, src Source) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if src == SourceCache && f.Status().Source == SourceRegistry {
		return nil, nil // the registry's word wins
	}
	if env := s.GetEnvironment(); env != f.opts.Environment {
		return nil, fmt.Errorf("snapshot of environment %q, following %q", env, f.opts.Environment)
	}
	conv, err := Convert(s, ConvertOptions{SecretsDir: f.opts.SecretsDir})
	if err != nil {
		return nil, err
	}
	p, err := policy.Compile(conv.File)
	if err != nil {
		return nil, err
	}
	p.Version = s.GetVersion()
	f.target.SetPolicy(p)
	f.status.Store(&Status{Version: s.GetVersion(), Revision: s.GetRevision(), Environment: s.GetEnvironment(), Source: src, AppliedAt: f.opts.Now()})
	f.readyOne.Do(func() { close(f.ready) })
	return conv.Skipped, nil
}

// writeCache replaces path with s atomically (temporary file, fsync,
// rename, fsync of the directory).
func writeCache(path string, s *registryv1.PolicySnapshot) error {
	raw, err := protojson.MarshalOptions{Multiline: true}.Marshal(s)
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer func() { _ = os.Remove(tmp.Name()) }() // no-op after the rename
	if _, err := tmp.Write(raw); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer func() { _ = d.Close() }()
	return d.Sync()
}

func readCache(path string) (*registryv1.PolicySnapshot, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s registryv1.PolicySnapshot
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &s, nil
}

// bearer presents the token on every call, unary and streaming.
type bearer string

func (b bearer) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		req.Header().Set("Authorization", "Bearer "+string(b))
		return next(ctx, req)
	}
}

func (b bearer) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return func(ctx context.Context, spec connect.Spec) connect.StreamingClientConn {
		conn := next(ctx, spec)
		conn.RequestHeader().Set("Authorization", "Bearer "+string(b))
		return conn
	}
}

func (b bearer) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return next
}
