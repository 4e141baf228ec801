// Package devproxy is the standalone mode: an HTTP proxy that plays Envoy's
// side of ext_proc (package envoyemu) with the filter configuration, the
// connection manager's path handling and the route table read from the same
// Envoy bootstrap an operator deploys (envoy/envoy.yaml), so the product runs
// locally without an Envoy binary.
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
	"time"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/portcullis/portcullis/extproc/envoyemu"
	"github.com/portcullis/portcullis/extproc/internal/envoyconfig"
)

// Options configure the proxy.
type Options struct {
	// Bootstrap is the Envoy bootstrap whose ext_proc filter, listener,
	// connection manager path handling and route table are emulated.
	// Required.
	Bootstrap string
	// Listen overrides the bootstrap listener's address when set.
	Listen string
	// ExtProc is the filter's gRPC address: the ext_proc filter's
	// grpc_service. Defaults to 127.0.0.1:9002 (the bootstrap's
	// portcullis_extproc cluster).
	ExtProc string
	// Upstream is the MCP server base URL, serving every cluster the
	// bootstrap's routes forward to. Defaults to http://127.0.0.1:8081 (the
	// bootstrap's mcp_upstream cluster).
	Upstream string
	// Transport sends requests upstream. Defaults to the emulation's
	// (envoyemu.Config.Transport).
	Transport http.RoundTripper
}

// Handler is the proxy: the bootstrap's path normalisation and route table
// (persona routes, /healthz, the default-deny 404) in front of the emulated
// ext_proc filter.
type Handler struct {
	proxy *envoyemu.Proxy
	conn  *grpc.ClientConn
	// Listen is the address to serve on.
	Listen string
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
	client := extprocv3.NewExternalProcessorClient(conn)
	// A route's overrides.grpc_service may name the filter's own service.
	clients := map[string]extprocv3.ExternalProcessorClient{}
	if gs := local.ExtProc.GetGrpcService(); gs != nil {
		if c := gs.GetEnvoyGrpc().GetClusterName(); c != "" {
			clients[c] = client
		}
	}
	p, err := envoyemu.New(envoyemu.Config{
		Filter:            local.ExtProc,
		Client:            client,
		GrpcClients:       clients,
		RouteConfig:       local.RouteConfig,
		Clusters:          routeClusters(local.RouteConfig, up),
		ConnectionManager: local.ConnectionManager,
		FilterName:        local.ExtProcName,
		BufferLimit:       local.BufferLimit,
		Transport:         opts.Transport,
	})
	if err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("devproxy: %s: %w", opts.Bootstrap, err)
	}
	h := &Handler{proxy: p, conn: conn, Listen: local.Listen}
	if opts.Listen != "" {
		h.Listen = opts.Listen
	}
	return h, nil
}

// routeClusters maps every cluster rc's routes forward to onto upstream: the
// dev proxy has one upstream.
func routeClusters(rc *routev3.RouteConfiguration, upstream *url.URL) map[string]*url.URL {
	base := &url.URL{Scheme: upstream.Scheme, Host: upstream.Host}
	out := map[string]*url.URL{}
	for _, vh := range rc.GetVirtualHosts() {
		for _, r := range vh.GetRoutes() {
			if c := r.GetRoute().GetCluster(); c != "" {
				out[c] = base
			}
		}
	}
	return out
}

// Close releases the gRPC connection.
func (h *Handler) Close() error { return h.conn.Close() }

// ServeHTTP routes and processes the request as the bootstrap's Envoy would.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.proxy.ServeHTTP(w, r) }

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
		if err := srv.Shutdown(sctx); err != nil {
			if !errors.Is(err, context.DeadlineExceeded) {
				return err
			}
			// Long-lived streams (SSE, GET streams) outlast any drain, as
			// they do Envoy's: closed once the drain time is over.
			_, _ = fmt.Fprintln(stderr, "portcullis-devproxy: closing streams still open after 5s of draining")
			return srv.Close()
		}
		return nil
	case err := <-errc:
		return err
	}
}
