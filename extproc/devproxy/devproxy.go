// Package devproxy is the standalone mode: an HTTP proxy that plays Envoy's
// side of ext_proc (package envoyemu) with the filter configuration and
// persona routes read from the same Envoy bootstrap an operator deploys
// (envoy/envoy.yaml), so the product runs locally without an Envoy binary.
package devproxy

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/portcullis/portcullis/extproc/envoyemu"
	"github.com/portcullis/portcullis/extproc/internal/envoyconfig"
)

// Options configure the proxy.
type Options struct {
	// Bootstrap is the Envoy bootstrap whose ext_proc filter, listener and
	// persona routes are emulated. Required.
	Bootstrap string
	// Listen overrides the bootstrap listener's address when set.
	Listen string
	// ExtProc is the filter's gRPC address. Defaults to 127.0.0.1:9002 (the
	// bootstrap's portcullis_extproc cluster).
	ExtProc string
	// Upstream is the MCP server base URL. Defaults to http://127.0.0.1:8081
	// (the bootstrap's mcp_upstream cluster).
	Upstream string
	// Transport sends requests upstream, shared by all routes. Defaults to
	// the emulation's (envoyemu.Config.Transport), one per route.
	Transport http.RoundTripper
}

// Handler is the proxy: persona routes, /healthz, and 404 for the rest.
type Handler struct {
	routes []route
	conn   *grpc.ClientConn
	// Listen is the address to serve on.
	Listen string
}

type route struct {
	prefix, rewrite string
	proxy           *envoyemu.Proxy
}

// New builds the proxy. Close releases its gRPC connection.
func New(opts Options) (*Handler, error) {
	if opts.Bootstrap == "" {
		return nil, errors.New("devproxy: bootstrap path is required")
	}
	if opts.ExtProc == "" {
		opts.ExtProc = "127.0.0.1:9002"
	}
	if opts.Upstream == "" {
		opts.Upstream = "http://127.0.0.1:8081"
	}
	local, err := envoyconfig.LoadLocal(opts.Bootstrap)
	if err != nil {
		return nil, err
	}
	up, err := url.Parse(opts.Upstream)
	if err != nil || up.Host == "" {
		return nil, fmt.Errorf("devproxy: bad upstream URL %q", opts.Upstream)
	}
	conn, err := grpc.NewClient(opts.ExtProc, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, err
	}
	h := &Handler{conn: conn, Listen: local.Listen}
	if opts.Listen != "" {
		h.Listen = opts.Listen
	}
	for _, r := range local.Routes {
		md := metadata.MD{}
		for k, v := range r.Metadata {
			md.Set(k, v)
		}
		p, err := envoyemu.New(envoyemu.Config{
			Filter:      local.ExtProc,
			Client:      extprocv3.NewExternalProcessorClient(metadataConn{conn, md}),
			Upstream:    up,
			BufferLimit: local.BufferLimit,
			RouteName:   r.Name,
			Transport:   opts.Transport,
		})
		if err != nil {
			conn.Close()
			return nil, fmt.Errorf("devproxy: route %s: %w", r.Name, err)
		}
		h.routes = append(h.routes, route{prefix: r.Prefix, rewrite: r.PrefixRewrite, proxy: p})
	}
	return h, nil
}

// Close releases the gRPC connection.
func (h *Handler) Close() error { return h.conn.Close() }

// ServeHTTP routes like the bootstrap's virtual host.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/healthz" {
		_, _ = io.WriteString(w, "ok\n")
		return
	}
	for _, rt := range h.routes {
		if r.URL.Path == rt.prefix || strings.HasPrefix(r.URL.Path, rt.prefix+"/") {
			// Envoy applies prefix_rewrite in the router, after ext_proc; the
			// emulation forwards what it is given, so the rewrite happens here.
			r2 := r.Clone(r.Context())
			r2.URL.Path = rt.rewrite + strings.TrimPrefix(r.URL.Path, rt.prefix)
			r2.URL.RawPath = ""
			rt.proxy.ServeHTTP(w, r2)
			return
		}
	}
	http.NotFound(w, r)
}

// metadataConn adds per-route initial metadata to every stream, as
// ExtProcPerRoute.overrides.grpc_initial_metadata does.
type metadataConn struct {
	grpc.ClientConnInterface
	md metadata.MD
}

func (c metadataConn) NewStream(ctx context.Context, desc *grpc.StreamDesc, method string, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	return c.ClientConnInterface.NewStream(metadata.NewOutgoingContext(ctx, c.md), desc, method, opts...)
}

// Main runs the dev proxy until ctx is done.
func Main(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("portcullis-devproxy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o Options
	fs.StringVar(&o.Bootstrap, "bootstrap", "envoy/envoy.yaml", "Envoy bootstrap to emulate")
	fs.StringVar(&o.Listen, "listen", "", "listen address (default: the bootstrap listener's)")
	fs.StringVar(&o.ExtProc, "extproc", "127.0.0.1:9002", "ext_proc gRPC address")
	fs.StringVar(&o.Upstream, "upstream", "http://127.0.0.1:8081", "upstream MCP server base URL")
	if err := fs.Parse(args); err != nil {
		return err
	}
	h, err := New(o)
	if err != nil {
		return err
	}
	defer func() { _ = h.Close() }()
	lis, err := net.Listen("tcp", h.Listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	_, _ = fmt.Fprintf(stderr, "portcullis-devproxy: listening on http://%s (ext_proc %s, upstream %s)\n", lis.Addr(), o.ExtProc, o.Upstream)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(lis) }()
	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	case err := <-errc:
		return err
	}
}
