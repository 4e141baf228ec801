package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

const petstore = "../../../third_party/corpora/openapi/oai__v2.0_petstore.json"

// syncBuffer is a goroutine-safe stderr.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestServesGeneratedTools(t *testing.T) {
	var gotKey string
	var mu sync.Mutex
	rest := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		gotKey = r.Header.Get("X-API-Key")
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `[{"id":1,"name":"Rex"}]`)
	}))
	defer rest.Close()
	keyFile := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(keyFile, []byte("rest-key-42\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stderr := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- Main(ctx, []string{"-spec", petstore, "-listen", "127.0.0.1:0", "-base-url", rest.URL + "/v1",
			"-credential-header", "X-API-Key", "-credential-file", keyFile}, stderr)
	}()
	addr := ""
	re := regexp.MustCompile(`listening on (\S+) \((\d+) tools\)`)
	for deadline := time.Now().Add(10 * time.Second); addr == ""; {
		if m := re.FindStringSubmatch(stderr.String()); m != nil {
			addr = m[1]
			if m[2] != "3" {
				t.Fatalf("serving %s tools, want 3", m[2])
			}
		} else if time.Now().After(deadline) {
			t.Fatalf("never listened: %s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil).Connect(ctx, &mcp.StreamableClientTransport{Endpoint: "http://" + addr + "/mcp"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "listPets", Arguments: map[string]any{}})
	if err != nil || res.IsError {
		t.Fatalf("listPets: %v %+v", err, res)
	}
	mu.Lock()
	if gotKey != "rest-key-42" {
		t.Fatalf("REST API got key %q", gotKey)
	}
	mu.Unlock()
	_ = cs.Close()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestFlagErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"-spec", petstore, "-credential-header", "X", "-credential-query", "k", "-credential-file", "f"},
		{"-spec", petstore, "-credential-header", "X"},
		{"-spec", "/nonexistent.yaml"},
		{"-spec", petstore, "-include", "nothingMatches"},
	} {
		var stderr bytes.Buffer
		if err := Main(context.Background(), append(args, "-listen", "127.0.0.1:0"), &stderr); err == nil || strings.Contains(stderr.String(), "listening") {
			t.Errorf("%v: err %v, stderr %s", args, err, stderr.String())
		}
	}
}
