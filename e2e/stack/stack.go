// Package stack starts the whole product in one process for `make run` and
// the end-to-end tests: the example upstream MCP server, the ext_proc filter,
// the Envoy-emulating dev proxy and the analytics service, each through its
// own testable Main, wired to Kafka (embedded kfake with a data directory, or
// a real broker) and to a ClickHouse server.
package stack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	analytics "github.com/portcullis/portcullis/analytics/mainlib"
	"github.com/portcullis/portcullis/extproc/devproxy"
	extproc "github.com/portcullis/portcullis/extproc/mainlib"
	"github.com/portcullis/portcullis/registry/examplemcp"
)

// Config configures a stack. Zero values select the documented defaults.
type Config struct {
	// Root is the repository root (envoy/envoy.yaml, config/personas.yaml).
	// Defaults to ".".
	Root string
	// Policy is the filter's policy file. Defaults to Root/config/personas.yaml.
	// Ignored when Catalog is set.
	Policy string
	// Catalog, when set, runs the registry on this catalog directory
	// (seeding both environments on first start, kept in StateDir/registry)
	// and the filter follows the registry's production snapshot instead of
	// reading Policy.
	Catalog string
	// RegistryAddr is the registry's listen address in registry mode.
	// Defaults to 127.0.0.1:8090.
	RegistryAddr string
	// StateDir holds the decision spool and the embedded Kafka's data.
	// Defaults to Root/tmp/stack.
	StateDir string
	// KafkaBrokers selects a real broker; empty starts an embedded kfake
	// cluster (persisted in StateDir/kafka) on KafkaPort.
	KafkaBrokers []string
	// KafkaPort is the embedded cluster's port. Defaults to 39092.
	KafkaPort int
	// ClickHouseAddr is the ClickHouse native address. Required.
	ClickHouseAddr string
	// ClickHouseDatabase defaults to "portcullis".
	ClickHouseDatabase string
	// DecisionsTopic and VerdictsTopic default to the services' defaults.
	DecisionsTopic, VerdictsTopic string
	// Group is the analytics consumer group. Defaults to "portcullis-analytics".
	Group string
	// GatewayAddr, ExtProcAddr and UpstreamAddr are listen addresses.
	// Defaults: 127.0.0.1:10000 (the bootstrap's listener), 127.0.0.1:9002,
	// 127.0.0.1:8081.
	GatewayAddr, ExtProcAddr, UpstreamAddr string
	// BackendToken is what the example upstream demands; it must match the
	// policy's credential. Defaults to the example policy's value.
	BackendToken string
	// UpstreamJSON makes the upstream answer with application/json.
	UpstreamJSON bool
	// DenyThreshold, DenyWindow and BlockFor tune the analytics rule.
	// Defaults: 5, 1m, 1m.
	DenyThreshold int
	DenyWindow    time.Duration
	BlockFor      time.Duration
	// Logs receives every service's log lines. Defaults to io.Discard.
	Logs io.Writer
}

// DefaultBackendToken is the example policy's backend credential.
const DefaultBackendToken = "dev-backend-secret-4b1d"

// Stack is a running stack.
type Stack struct {
	cfg     Config
	Gateway string // base URL of the gateway (dev proxy)
	Brokers []string
	// RegistryURL and AdminTokenFile are set in registry mode.
	RegistryURL, AdminTokenFile string
	cluster                     *kfake.Cluster
	cancel                      context.CancelFunc
	wg                          sync.WaitGroup
	mu                          sync.Mutex
	errs                        []error
}

func (c *Config) defaults() error {
	if c.Root == "" {
		c.Root = "."
	}
	if c.Policy == "" {
		c.Policy = filepath.Join(c.Root, "config", "personas.yaml")
	}
	if c.StateDir == "" {
		c.StateDir = filepath.Join(c.Root, "tmp", "stack")
	}
	if c.KafkaPort == 0 {
		c.KafkaPort = 39092
	}
	if c.RegistryAddr == "" {
		c.RegistryAddr = "127.0.0.1:8090"
	}
	if c.ClickHouseDatabase == "" {
		c.ClickHouseDatabase = "portcullis"
	}
	if c.DecisionsTopic == "" {
		c.DecisionsTopic = "portcullis.decisions.v1"
	}
	if c.VerdictsTopic == "" {
		c.VerdictsTopic = "portcullis.verdicts.v1"
	}
	if c.Group == "" {
		c.Group = "portcullis-analytics"
	}
	if c.GatewayAddr == "" {
		c.GatewayAddr = "127.0.0.1:10000"
	}
	if c.ExtProcAddr == "" {
		c.ExtProcAddr = "127.0.0.1:9002"
	}
	if c.UpstreamAddr == "" {
		c.UpstreamAddr = "127.0.0.1:8081"
	}
	if c.BackendToken == "" {
		c.BackendToken = DefaultBackendToken
	}
	if c.DenyThreshold == 0 {
		c.DenyThreshold = 5
	}
	if c.DenyWindow == 0 {
		c.DenyWindow = time.Minute
	}
	if c.BlockFor == 0 {
		c.BlockFor = time.Minute
	}
	if c.Logs == nil {
		c.Logs = io.Discard
	}
	if c.ClickHouseAddr == "" {
		return errors.New("stack: ClickHouseAddr is required")
	}
	return nil
}

// Start starts every service and returns once each one accepts connections.
// Cancel ctx or call Stop to end them.
func Start(ctx context.Context, cfg Config) (*Stack, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.StateDir, 0o755); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	s := &Stack{cfg: cfg, Gateway: "http://" + cfg.GatewayAddr, Brokers: cfg.KafkaBrokers, cancel: cancel}
	if len(s.Brokers) == 0 {
		c, err := kfake.NewCluster(kfake.Ports(cfg.KafkaPort), kfake.DataDir(filepath.Join(cfg.StateDir, "kafka")))
		if err != nil {
			cancel()
			return nil, fmt.Errorf("embedded Kafka: %w", err)
		}
		s.cluster = c
		s.Brokers = c.ListenAddrs()
	}
	brokers := strings.Join(s.Brokers, ",")

	upstream := &http.Server{Handler: examplemcp.Handler(examplemcp.HandlerOptions{BackendToken: cfg.BackendToken, JSONResponse: cfg.UpstreamJSON}), ReadHeaderTimeout: 10 * time.Second}
	lis, err := net.Listen("tcp", cfg.UpstreamAddr)
	if err != nil {
		return nil, errors.Join(err, s.Stop())
	}
	s.goRun("example upstream", func() error {
		go func() { <-ctx.Done(); _ = upstream.Close() }()
		if err := upstream.Serve(lis); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	s.goRun("analytics", func() error {
		return analytics.Main(ctx, []string{
			"-kafka-brokers", brokers, "-clickhouse-addr", cfg.ClickHouseAddr, "-clickhouse-database", cfg.ClickHouseDatabase,
			"-decisions-topic", cfg.DecisionsTopic, "-verdicts-topic", cfg.VerdictsTopic, "-group", cfg.Group,
			"-deny-threshold", strconv.Itoa(cfg.DenyThreshold), "-deny-window", cfg.DenyWindow.String(), "-block-for", cfg.BlockFor.String(),
		}, prefixed(cfg.Logs, "analytics"))
	})
	policyArgs := []string{"-config", cfg.Policy}
	if cfg.Catalog != "" {
		st, err := s.prepareRegistry(cfg)
		if err != nil {
			return nil, errors.Join(err, s.Stop())
		}
		if err := s.runRegistry(ctx, cfg, st); err != nil {
			return nil, fmt.Errorf("registry: %w", errors.Join(err, s.Stop()))
		}
		s.RegistryURL, s.AdminTokenFile = "http://"+cfg.RegistryAddr, st.adminToken
		policyArgs = []string{"-registry-url", s.RegistryURL, "-registry-token-file", st.filterToken,
			"-registry-environment", "prod", "-secrets-dir", st.secretsDir}
	}
	s.goRun("extproc", func() error {
		return extproc.Main(ctx, append(policyArgs,
			"-listen", cfg.ExtProcAddr, "-kafka-brokers", brokers,
			"-decisions-topic", cfg.DecisionsTopic, "-verdicts-topic", cfg.VerdictsTopic,
			"-spool-dir", filepath.Join(cfg.StateDir, "spool"), "-instance", "local-1",
		), strings.NewReader(""), io.Discard, prefixed(cfg.Logs, "extproc"))
	})
	if err := waitListening(ctx, cfg.ExtProcAddr); err != nil {
		return nil, fmt.Errorf("extproc did not start: %w", errors.Join(err, s.Stop()))
	}
	s.goRun("devproxy", func() error {
		return devproxy.Main(ctx, []string{
			"-bootstrap", filepath.Join(cfg.Root, "envoy", "envoy.yaml"), "-listen", cfg.GatewayAddr,
			"-extproc", cfg.ExtProcAddr, "-upstream", "http://" + cfg.UpstreamAddr,
		}, prefixed(cfg.Logs, "devproxy"))
	})
	if err := waitListening(ctx, cfg.GatewayAddr); err != nil {
		return nil, fmt.Errorf("dev proxy did not start: %w", errors.Join(err, s.Stop()))
	}
	return s, nil
}

func (s *Stack) goRun(name string, f func() error) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := f(); err != nil {
			s.mu.Lock()
			s.errs = append(s.errs, fmt.Errorf("%s: %w", name, err))
			s.mu.Unlock()
			s.cancel() // one service failing stops the stack
		}
	}()
}

// Err returns the errors services stopped with so far.
func (s *Stack) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return errors.Join(s.errs...)
}

// Wait blocks until every service stopped and returns their errors.
func (s *Stack) Wait() error {
	s.wg.Wait()
	if s.cluster != nil {
		s.cluster.Close()
		s.cluster = nil
	}
	return s.Err()
}

// Stop stops the stack and waits for it.
func (s *Stack) Stop() error {
	s.cancel()
	return s.Wait()
}

func waitListening(ctx context.Context, addr string) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return c.Close()
		}
		if time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// prefixed writes each line with "[name] " in front.
func prefixed(w io.Writer, name string) io.Writer {
	return &prefixWriter{w: w, prefix: []byte("[" + name + "] ")}
}

type prefixWriter struct {
	mu     sync.Mutex
	w      io.Writer
	prefix []byte
	buf    []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			break
		}
		line := append(append([]byte{}, p.prefix...), p.buf[:i+1]...)
		if _, err := p.w.Write(line); err != nil {
			return len(b), err
		}
		p.buf = p.buf[i+1:]
	}
	return len(b), nil
}
