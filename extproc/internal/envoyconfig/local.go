package envoyconfig

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/encoding/protojson"

	// Every typed_config type used in envoy/*.yaml must be linked in, or
	// protojson cannot resolve its "@type".
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/stream/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
)

// Parse converts an Envoy bootstrap from YAML and unmarshals it strictly:
// unknown fields, unresolvable "@type"s, repeated keys and any YAML document
// besides the one bootstrap are errors.
func Parse(y []byte) (*bootstrapv3.Bootstrap, error) {
	docs, err := documentsJSON(y)
	if err != nil {
		return nil, err
	}
	if len(docs) != 1 {
		return nil, fmt.Errorf("%d yaml documents, want exactly one (the bootstrap)", len(docs))
	}
	return parseBootstrapJSON(docs[0])
}

// parseBootstrapJSON unmarshals one bootstrap document, already converted to
// JSON, strictly.
func parseBootstrapJSON(j []byte) (*bootstrapv3.Bootstrap, error) {
	b := &bootstrapv3.Bootstrap{}
	if err := (protojson.UnmarshalOptions{DiscardUnknown: false}).Unmarshal(j, b); err != nil {
		return nil, fmt.Errorf("protojson: %w", err)
	}
	return b, nil
}

// Local is what the dev proxy takes from the local bootstrap (envoy/envoy.yaml)
// so that it runs the very filter configuration Envoy would.
type Local struct {
	// Listen is the first listener's address.
	Listen string
	// BufferLimit is the listener's per_connection_buffer_limit_bytes (0 if unset).
	BufferLimit int
	// ExtProc is the ext_proc filter configuration.
	ExtProc *extprocv3.ExternalProcessor
	// ExtProcName is the ext_proc filter's name in http_filters: the key of
	// its typed_per_filter_config entries.
	ExtProcName string
	// ConnectionManager is the listener's http_connection_manager (its
	// path handling, normalize_path, merge_slashes and
	// path_with_escaped_slashes_action, applies before routing).
	ConnectionManager *hcmv3.HttpConnectionManager
	// RouteConfig is the connection manager's route_config.
	RouteConfig *routev3.RouteConfiguration
	// Routes are the persona routes (path_separated_prefix matches with a
	// prefix_rewrite and per-route gRPC metadata), in order.
	Routes []Route
}

// Route is one persona virtual endpoint.
type Route struct {
	Name          string
	Prefix        string // path_separated_prefix
	PrefixRewrite string
	// Metadata is the per-route grpc_initial_metadata sent to the processor.
	Metadata map[string]string
}

// LoadLocal reads a bootstrap file and extracts the dev proxy's view of it.
func LoadLocal(path string) (*Local, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	b, err := Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	ls := b.GetStaticResources().GetListeners()
	if len(ls) == 0 {
		return nil, fmt.Errorf("%s: no listener", path)
	}
	l := ls[0]
	sa := l.GetAddress().GetSocketAddress()
	out := &Local{
		Listen:      net.JoinHostPort(sa.GetAddress(), strconv.Itoa(int(sa.GetPortValue()))),
		BufferLimit: int(l.GetPerConnectionBufferLimitBytes().GetValue()),
	}
	hcm := &hcmv3.HttpConnectionManager{}
	found := false
	for _, fc := range l.GetFilterChains() {
		for _, f := range fc.GetFilters() {
			if f.GetTypedConfig().MessageIs(hcm) {
				if err := f.GetTypedConfig().UnmarshalTo(hcm); err != nil {
					return nil, err
				}
				found = true
			}
		}
	}
	if !found {
		return nil, fmt.Errorf("%s: no http_connection_manager", path)
	}
	out.ConnectionManager = hcm
	for _, hf := range hcm.GetHttpFilters() {
		ep := &extprocv3.ExternalProcessor{}
		if hf.GetTypedConfig().MessageIs(ep) {
			if err := hf.GetTypedConfig().UnmarshalTo(ep); err != nil {
				return nil, err
			}
			out.ExtProc = ep
			out.ExtProcName = hf.GetName()
		}
	}
	if out.ExtProc == nil {
		return nil, errors.New(path + ": no ext_proc filter")
	}
	if hcm.GetRouteConfig() == nil {
		return nil, errors.New(path + ": no static route_config")
	}
	out.RouteConfig = hcm.GetRouteConfig()
	for _, vh := range hcm.GetRouteConfig().GetVirtualHosts() {
		for _, r := range vh.GetRoutes() {
			prefix := r.GetMatch().GetPathSeparatedPrefix()
			if prefix == "" || r.GetRoute() == nil {
				continue
			}
			rt := Route{Name: r.GetName(), Prefix: prefix, PrefixRewrite: r.GetRoute().GetPrefixRewrite(), Metadata: map[string]string{}}
			if a, ok := r.GetTypedPerFilterConfig()["envoy.filters.http.ext_proc"]; ok {
				per := &extprocv3.ExtProcPerRoute{}
				if err := a.UnmarshalTo(per); err != nil {
					return nil, err
				}
				for _, md := range per.GetOverrides().GetGrpcInitialMetadata() {
					rt.Metadata[md.GetKey()] = md.GetValue()
				}
			}
			out.Routes = append(out.Routes, rt)
		}
	}
	return out, nil
}
