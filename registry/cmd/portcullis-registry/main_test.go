package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"

	registryv1 "github.com/portcullis/portcullis/proto/gen/go/portcullis/registry/v1"
	"github.com/portcullis/portcullis/proto/gen/go/portcullis/registry/v1/registryv1connect"
	"github.com/portcullis/portcullis/registry/server"
)

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestFlagValidation(t *testing.T) {
	var stderr bytes.Buffer
	err := Main(context.Background(), []string{"-keep-revisions", "0"}, nil, nil, &stderr)
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{"-dir is required", "-tokens-file is required", "-keep-revisions must be at least 1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in %v", want, err)
		}
	}
}

func TestHashToken(t *testing.T) {
	var out bytes.Buffer
	if err := Main(context.Background(), []string{"-hash-token"}, strings.NewReader("s3cr3t\n"), &out, &out); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(out.String()); got != server.HashToken("s3cr3t") {
		t.Fatalf("got %q", got)
	}
}

func TestServe(t *testing.T) {
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens.txt")
	if err := os.WriteFile(tokens, []byte("ops admin "+server.HashToken("tok")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stderr := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- Main(ctx, []string{"-listen", "127.0.0.1:0", "-dir", filepath.Join(dir, "reg"), "-tokens-file", tokens}, nil, nil, stderr)
	}()
	re := regexp.MustCompile(`listening on (\S+)`)
	var addr string
	for deadline := time.Now().Add(10 * time.Second); addr == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := re.FindStringSubmatch(stderr.String()); m != nil {
			addr = m[1]
		}
	}
	if addr == "" {
		t.Fatalf("not listening: %s", stderr.String())
	}
	c := registryv1connect.NewRegistryServiceClient(http.DefaultClient, "http://"+addr)
	req := connect.NewRequest(&registryv1.WhoAmIRequest{})
	req.Header().Set("Authorization", "Bearer tok")
	who, err := c.WhoAmI(ctx, req)
	if err != nil || who.Msg.GetRole() != "admin" {
		t.Fatalf("whoami: %v %v", who, err)
	}
	// An open watch does not hold shutdown.
	wreq := connect.NewRequest(&registryv1.WatchSnapshotsRequest{Environment: "prod"})
	wreq.Header().Set("Authorization", "Bearer tok")
	w, err := c.WatchSnapshots(ctx, wreq)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if !w.Receive() {
		t.Fatal(w.Err())
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Main did not return after cancel")
	}
}
