package mainlib

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/portcullis/portcullis/extproc/internal/policy"
)

func TestMainValidatesFlagsTogether(t *testing.T) {
	var stderr bytes.Buffer
	short := filepath.Join(t.TempDir(), "session.key")
	if err := os.WriteFile(short, []byte("too-short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := Main(context.Background(), []string{"-spool-dir", "", "-log-level", "loud", "-sse-mode", "duplex", "-session-key-file", short}, strings.NewReader(""), &bytes.Buffer{}, &stderr)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"-config or -registry-url is required", "-kafka-brokers is required", "-spool-dir must not be empty", "-log-level", `-sse-mode: SSE mode "duplex" is not streamed or full-duplex`, "-session-key-file: the key has 9 bytes, want at least 32"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestHashKey(t *testing.T) {
	var out bytes.Buffer
	if err := Main(context.Background(), []string{"-hash-key"}, strings.NewReader("pk_abc\n"), &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(out.String()) != policy.HashKey("pk_abc") {
		t.Fatalf("got %q", out.String())
	}
}

func TestExamplePolicyLoads(t *testing.T) {
	p, err := policy.Load("../../config/personas.yaml")
	if err != nil {
		t.Fatal(err)
	}
	a, err := p.Authenticate("Bearer pk_demo_support_7f3a9c2e51d84b06")
	if err != nil || a.ID != "support-bot" || !a.Persona.Grants("get_ticket") || a.Persona.Grants("send_email") {
		t.Fatalf("agent %+v err %v", a, err)
	}
}

func TestMainPolicySourceExclusive(t *testing.T) {
	err := Main(context.Background(), []string{"-config", "p.yaml", "-registry-url", "http://r", "-kafka-brokers", "k",
		"-registry-environment", "staging", "-registry-initial-timeout", "0s"}, strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"-config and -registry-url are exclusive", `-registry-environment: "staging" is not prod or preprod`, "-registry-initial-timeout must be positive"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

// A filter following a registry it cannot reach, with no cached snapshot,
// does not start (fail closed).
func TestMainRegistryDownWithoutCacheFails(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + l.Addr().String()
	l.Close()
	err = Main(context.Background(), []string{"-registry-url", dead, "-registry-initial-timeout", "300ms",
		"-kafka-brokers", strings.Join(cluster.ListenAddrs(), ","), "-spool-dir", filepath.Join(dir, "spool"), "-listen", "127.0.0.1:0", "-instance", "t"},
		strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "no policy") || !strings.Contains(err.Error(), "registry-snapshot.json") {
		t.Fatalf("got %v", err)
	}
}
