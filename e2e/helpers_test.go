package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/portcullis/portcullis/extproc/devproxy"
	extproc "github.com/portcullis/portcullis/extproc/mainlib"
)

// hashKey is the key_sha256 the policy stores for an agent key.
func hashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// gateway is the filter (extproc.Main) and the Envoy emulation
// (devproxy.Main, with envoy/envoy.yaml) in front of one upstream, sending
// decisions to an embedded Kafka.
type gateway struct {
	Addr    string   // the emulated Envoy listener (host:port)
	Brokers []string // the embedded Kafka
	cluster *kfake.Cluster
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	errs    chan error
}

// startGateway starts a gateway whose filter takes its policy from
// policyArgs ("-config FILE" or the -registry-* flags). It returns once
// both listen; stop ends them.
func startGateway(t *testing.T, policyArgs []string, upstream, dir, instance string) *gateway {
	t.Helper()
	return startGatewayBootstrap(t, "../envoy/envoy.yaml", policyArgs, upstream, dir, instance)
}

// startGatewayBootstrap is startGateway with the Envoy emulation running
// bootstrap.
func startGatewayBootstrap(t *testing.T, bootstrap string, policyArgs []string, upstream, dir, instance string) *gateway {
	t.Helper()
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	g := &gateway{Brokers: cluster.ListenAddrs(), cluster: cluster, cancel: cancel, errs: make(chan error, 2)}
	extAddr := freeAddr(t)
	g.Addr = freeAddr(t)
	g.wg.Add(2)
	go func() {
		defer g.wg.Done()
		g.errs <- extproc.Main(ctx, append(slices.Clone(policyArgs), "-listen", extAddr, "-kafka-brokers", strings.Join(g.Brokers, ","),
			"-spool-dir", filepath.Join(dir, "spool"), "-instance", instance, "-shutdown-grace", "1s"), strings.NewReader(""), io.Discard, io.Discard)
	}()
	waitTCP(t, extAddr)
	go func() {
		defer g.wg.Done()
		g.errs <- devproxy.Main(ctx, []string{"-bootstrap", bootstrap, "-listen", g.Addr, "-extproc", extAddr, "-upstream", upstream}, io.Discard)
	}()
	waitTCP(t, g.Addr)
	return g
}

// stop ends the gateway and reports any service that failed.
func (g *gateway) stop(t *testing.T) {
	t.Helper()
	g.cancel()
	g.wg.Wait()
	close(g.errs)
	for err := range g.errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("service: %v", err)
		}
	}
	g.cluster.Close()
}

// personaBootstrap writes envoy/envoy.yaml with its persona routes replaced
// by routes for one persona: for each path p, /p/<persona>/<p> is forwarded
// to the upstream's /<p>, with the route's metadata naming persona and
// upstream. Everything else (the ext_proc filter settings above all) is
// envoy/envoy.yaml's.
func personaBootstrap(t *testing.T, dir, persona, upstream string, paths ...string) string {
	t.Helper()
	raw, err := os.ReadFile("../envoy/envoy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	src := string(raw)
	start := strings.Index(src, "              - name: persona-support-agent\n")
	end := strings.Index(src, "              # Default deny")
	if start < 0 || end < start {
		t.Fatal("envoy/envoy.yaml: persona routes not found where the e2e tests expect them")
	}
	var routes strings.Builder
	for _, p := range paths {
		fmt.Fprintf(&routes, `              - name: persona-%[1]s-%[3]s
                match: {path_separated_prefix: /p/%[1]s/%[3]s}
                route:
                  cluster: mcp_upstream
                  prefix_rewrite: /%[3]s
                  timeout: 0s
                typed_per_filter_config:
                  envoy.filters.http.ext_proc:
                    "@type": type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExtProcPerRoute
                    overrides:
                      grpc_initial_metadata:
                      - {key: x-portcullis-persona, value: %[1]s}
                      - {key: x-portcullis-upstream, value: %[2]s}
`, persona, upstream, p)
	}
	path := filepath.Join(dir, "envoy.yaml")
	if err := os.WriteFile(path, []byte(src[:start]+routes.String()+src[end:]), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
