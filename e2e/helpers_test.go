package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net"
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
		g.errs <- devproxy.Main(ctx, []string{"-bootstrap", "../envoy/envoy.yaml", "-listen", g.Addr, "-extproc", extAddr, "-upstream", upstream}, io.Discard)
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
