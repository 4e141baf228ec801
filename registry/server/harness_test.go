package server_test

import (
	"context"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"connectrpc.com/connect"

	"github.com/portcullis/portcullis/proto/gen/go/portcullis/registry/v1/registryv1connect"
	"github.com/portcullis/portcullis/registry/server"
)

// Tokens of the test registry, one per role.
const (
	adminToken   = "admin-token-0123456789abcdef"
	editorToken  = "editor-token-0123456789abcdef"
	auditorToken = "auditor-token-0123456789abcdef"
	filterToken  = "filter-token-0123456789abcdef"
)

func testTokens(t testing.TB) *server.Tokens {
	t.Helper()
	src := strings.Join([]string{
		"# name role sha256",
		"alice admin " + server.HashToken(adminToken),
		"bob editor " + server.HashToken(editorToken),
		"carol auditor sha256:" + server.HashToken(auditorToken),
		"filter-1 filter " + server.HashToken(filterToken),
	}, "\n")
	tok, err := server.ParseTokens(strings.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// exampleDir returns a registry directory whose preprod environment is a
// copy of the example catalog (config/catalog) without its policy section
// (the tests write their own agents, data policies and settings) and whose
// prod is empty.
func exampleDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join("..", "..", "config", "catalog")
	dst := filepath.Join(dir, server.EnvPreprod)
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if rel == "policy.yaml" {
			return nil
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// registry is a running registry over real HTTP (HTTP/1.1 and h2c).
type registry struct {
	URL    string
	Store  *server.Store
	srv    *httptest.Server
	cancel context.CancelFunc
}

func startRegistry(t testing.TB, dir string) *registry {
	t.Helper()
	store, err := server.OpenStore(dir, server.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(server.NewHandler(store, testTokens(t)))
	srv := httptest.NewUnstartedServer(mux)
	var p http.Protocols
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	srv.Config.Protocols = &p
	ctx, cancel := context.WithCancel(context.Background())
	srv.Config.BaseContext = func(net.Listener) context.Context { return ctx }
	srv.Start()
	r := &registry{URL: srv.URL, Store: store, srv: srv, cancel: cancel}
	t.Cleanup(r.Stop)
	return r
}

// Stop ends every call (watches included) and closes the listener.
func (r *registry) Stop() {
	r.cancel()
	r.srv.CloseClientConnections()
	r.srv.Close()
}

// bearer adds the token to every call of a client.
func bearer(token string) connect.ClientOption {
	return connect.WithInterceptors(connect.UnaryInterceptorFunc(func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
			if token != "" {
				req.Header().Set("Authorization", "Bearer "+token)
			}
			return next(ctx, req)
		}
	}), streamBearer(token))
}

type streamBearer string

func (s streamBearer) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc { return next }
func (s streamBearer) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return func(ctx context.Context, spec connect.Spec) connect.StreamingClientConn {
		conn := next(ctx, spec)
		if s != "" {
			conn.RequestHeader().Set("Authorization", "Bearer "+string(s))
		}
		return conn
	}
}
func (s streamBearer) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return next
}

// client is a binary-protobuf Connect client (the default codec).
func client(r *registry, token string, opts ...connect.ClientOption) registryv1connect.RegistryServiceClient {
	return registryv1connect.NewRegistryServiceClient(http.DefaultClient, r.URL, append([]connect.ClientOption{bearer(token)}, opts...)...)
}
