package envoyconfig

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	httpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"

	// Every typed_config type used in envoy/*.yaml must be linked in, or protojson cannot
	// resolve its "@type". The packages imported by name above register the rest.
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/stream/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
)

// envoyDir is the repository's envoy/ directory, relative to this package.
const envoyDir = "../../../envoy"

// Names shared by the configs and the processor.
const (
	extProcFilterName   = "envoy.filters.http.ext_proc"
	routerFilterName    = "envoy.filters.http.router"
	hcmFilterName       = "envoy.filters.network.http_connection_manager"
	extProcClusterName  = "portcullis_extproc"
	upstreamClusterName = "mcp_upstream"
	personaMetadataKey  = "x-portcullis-persona"
	upstreamMetadataKey = "x-portcullis-upstream"
	// exampleUpstream is the registered upstream every example route names.
	exampleUpstream   = "helpdesk"
	metadataNamespace = "portcullis"
	httpOptionsKey    = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
)

var examplePersonas = []string{"support-agent", "reporting-agent"}

// Type URLs every bootstrap must contain (as google.protobuf.Any values) and that the walker must
// have unpacked: if one is missing the walk did not reach it, and its contents went unvalidated.
var commonAnyTypes = []string{
	"type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
	"type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor",
	"type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExtProcPerRoute",
	"type.googleapis.com/envoy.extensions.filters.http.router.v3.Router",
	"type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog",
	"type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
}

// --- loading and validation ------------------------------------------------------------------

func readEnvoyFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(envoyDir, name))
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return b
}

func parseBootstrap(y []byte) (*bootstrapv3.Bootstrap, error) { return Parse(y) }

// validation is the result of walking a message tree.
type validation struct {
	errs     []string       // "path: error", one per failing message or Any
	anyTypes map[string]int // type URL -> number of Any values unpacked
	messages int            // messages visited
}

// validateTree walks every message reachable from root — message fields, lists and maps — and
// calls ValidateAll on each one that has it. protoc-gen-validate does not look inside
// google.protobuf.Any, so every Any is unpacked (with the global registry) and walked too.
// A parent's ValidateAll also reports its children's errors, so one bad field shows up once per
// enclosing message up to the nearest Any; that repetition is accepted for completeness.
func validateTree(root proto.Message) *validation {
	v := &validation{anyTypes: map[string]int{}}
	v.walk(root.ProtoReflect(), string(root.ProtoReflect().Descriptor().Name()))
	sort.Strings(v.errs)
	return v
}

func (v *validation) walk(m protoreflect.Message, path string) {
	v.messages++
	if a, ok := m.Interface().(*anypb.Any); ok {
		inner, err := anypb.UnmarshalNew(a, proto.UnmarshalOptions{})
		if err != nil {
			v.errs = append(v.errs, fmt.Sprintf("%s: unpack %s: %v", path, a.GetTypeUrl(), err))
			return
		}
		v.anyTypes[a.GetTypeUrl()]++
		v.walk(inner.ProtoReflect(), fmt.Sprintf("%s<%s>", path, inner.ProtoReflect().Descriptor().Name()))
		return
	}
	if vm, ok := m.Interface().(interface{ ValidateAll() error }); ok {
		if err := vm.ValidateAll(); err != nil {
			v.errs = append(v.errs, fmt.Sprintf("%s: %v", path, err))
		}
	}
	m.Range(func(fd protoreflect.FieldDescriptor, val protoreflect.Value) bool {
		name := path + "." + string(fd.Name())
		switch {
		case fd.IsList():
			if fd.Message() == nil {
				return true
			}
			l := val.List()
			for i := 0; i < l.Len(); i++ {
				v.walk(l.Get(i).Message(), fmt.Sprintf("%s[%d]", name, i))
			}
		case fd.IsMap():
			if fd.MapValue().Message() == nil {
				return true
			}
			val.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
				v.walk(mv.Message(), fmt.Sprintf("%s[%q]", name, k.String()))
				return true
			})
		case fd.Message() != nil:
			v.walk(val.Message(), name)
		}
		return true
	})
}

// loadValidBootstrap parses and fully validates an envoy/ file, failing the test on any error.
func loadValidBootstrap(t *testing.T, name string) (*bootstrapv3.Bootstrap, *validation) {
	t.Helper()
	b, err := parseBootstrap(readEnvoyFile(t, name))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	v := validateTree(b)
	for _, e := range v.errs {
		t.Errorf("%s: %s", name, e)
	}
	if t.Failed() {
		t.FailNow()
	}
	return b, v
}

// --- accessors -------------------------------------------------------------------------------

func unpack[T proto.Message](t *testing.T, a *anypb.Any, into T) T {
	t.Helper()
	if a == nil {
		t.Fatalf("missing typed_config for %T", into)
	}
	if err := a.UnmarshalTo(into); err != nil {
		t.Fatalf("unpack %s into %T: %v", a.GetTypeUrl(), into, err)
	}
	return into
}

func onlyListener(t *testing.T, b *bootstrapv3.Bootstrap) *listenerv3.Listener {
	t.Helper()
	ls := b.GetStaticResources().GetListeners()
	if len(ls) != 1 {
		t.Fatalf("want exactly 1 listener, got %d", len(ls))
	}
	return ls[0]
}

func hcmOf(t *testing.T, l *listenerv3.Listener) *hcmv3.HttpConnectionManager {
	t.Helper()
	if len(l.GetFilterChains()) != 1 {
		t.Fatalf("listener %s: want exactly 1 filter chain, got %d", l.GetName(), len(l.GetFilterChains()))
	}
	for _, f := range l.GetFilterChains()[0].GetFilters() {
		if f.GetName() == hcmFilterName {
			return unpack(t, f.GetTypedConfig(), &hcmv3.HttpConnectionManager{})
		}
	}
	t.Fatalf("listener %s: no %s", l.GetName(), hcmFilterName)
	return nil
}

// extProcOf returns the ext_proc filter config and checks the filter order: ext_proc before the
// router, router last.
func extProcOf(t *testing.T, hcm *hcmv3.HttpConnectionManager) *extprocv3.ExternalProcessor {
	t.Helper()
	fs := hcm.GetHttpFilters()
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = f.GetName()
	}
	ei, ri := slices.Index(names, extProcFilterName), slices.Index(names, routerFilterName)
	if ei < 0 || ri != len(names)-1 || ei > ri {
		t.Fatalf("http_filters = %v: want %s before %s, router last", names, extProcFilterName, routerFilterName)
	}
	return unpack(t, fs[ei].GetTypedConfig(), &extprocv3.ExternalProcessor{})
}

func routesOf(t *testing.T, hcm *hcmv3.HttpConnectionManager) []*routev3.Route {
	t.Helper()
	vhs := hcm.GetRouteConfig().GetVirtualHosts()
	if len(vhs) != 1 {
		t.Fatalf("want exactly 1 virtual host, got %d", len(vhs))
	}
	return vhs[0].GetRoutes()
}

func perRouteExtProc(t *testing.T, r *routev3.Route) *extprocv3.ExtProcPerRoute {
	t.Helper()
	a, ok := r.GetTypedPerFilterConfig()[extProcFilterName]
	if !ok {
		return nil
	}
	return unpack(t, a, &extprocv3.ExtProcPerRoute{})
}

func clusterByName(t *testing.T, b *bootstrapv3.Bootstrap, name string) *clusterv3.Cluster {
	t.Helper()
	for _, c := range b.GetStaticResources().GetClusters() {
		if c.GetName() == name {
			return c
		}
	}
	t.Fatalf("no cluster %q", name)
	return nil
}

func clusterEndpoint(t *testing.T, c *clusterv3.Cluster) (string, uint32) {
	t.Helper()
	if c.GetLoadAssignment().GetClusterName() != c.GetName() {
		t.Errorf("cluster %s: load_assignment.cluster_name = %q", c.GetName(), c.GetLoadAssignment().GetClusterName())
	}
	eps := c.GetLoadAssignment().GetEndpoints()
	if len(eps) != 1 || len(eps[0].GetLbEndpoints()) != 1 {
		t.Fatalf("cluster %s: want exactly one endpoint", c.GetName())
	}
	sa := eps[0].GetLbEndpoints()[0].GetEndpoint().GetAddress().GetSocketAddress()
	return sa.GetAddress(), sa.GetPortValue()
}

func httpOptionsOf(t *testing.T, c *clusterv3.Cluster) *httpv3.HttpProtocolOptions {
	t.Helper()
	return unpack(t, c.GetTypedExtensionProtocolOptions()[httpOptionsKey], &httpv3.HttpProtocolOptions{})
}

// --- shared expectations ---------------------------------------------------------------------

// checkExtProc asserts the ext_proc filter contract the processor relies on.
func checkExtProc(t *testing.T, ep *extprocv3.ExternalProcessor, wantCluster string, wantResponseBody extprocv3.ProcessingMode_BodySendMode) {
	t.Helper()
	if got := ep.GetGrpcService().GetEnvoyGrpc().GetClusterName(); got != wantCluster {
		t.Errorf("grpc_service.envoy_grpc.cluster_name = %q, want %q", got, wantCluster)
	}
	if ep.GetFailureModeAllow() {
		t.Error("failure_mode_allow = true, want false (fail closed)")
	}
	if ep.GetMessageTimeout() == nil || ep.GetMessageTimeout().AsDuration() != time.Second {
		t.Errorf("message_timeout = %v, want 1s", ep.GetMessageTimeout())
	}
	if got := ep.GetStatusOnError().GetCode(); got != typev3.StatusCode_ServiceUnavailable {
		t.Errorf("status_on_error.code = %v, want ServiceUnavailable", got)
	}
	if got, want := ep.GetRequestAttributes(), []string{"source.address", "destination.address", "request.path", "xds.route_name"}; !slices.Equal(got, want) {
		t.Errorf("request_attributes = %v, want %v", got, want)
	}
	if !slices.Contains(ep.GetMetadataOptions().GetReceivingNamespaces().GetUntyped(), metadataNamespace) {
		t.Errorf("metadata_options.receiving_namespaces.untyped lacks %q", metadataNamespace)
	}

	pm := ep.GetProcessingMode()
	want := &extprocv3.ProcessingMode{
		RequestHeaderMode:   extprocv3.ProcessingMode_SEND,
		RequestBodyMode:     extprocv3.ProcessingMode_BUFFERED,
		RequestTrailerMode:  extprocv3.ProcessingMode_SKIP,
		ResponseHeaderMode:  extprocv3.ProcessingMode_SEND,
		ResponseBodyMode:    wantResponseBody,
		ResponseTrailerMode: extprocv3.ProcessingMode_SKIP,
	}
	if !proto.Equal(pm, want) {
		t.Errorf("processing_mode = %v, want %v", pm, want)
	}

	for _, p := range overrideProblems(ep) {
		t.Error(p)
	}
}

// checkRoutes asserts the route table: healthz without ext_proc, one route per persona passing the
// persona as gRPC initial metadata, and a default-deny catch-all last.
func checkRoutes(t *testing.T, routes []*routev3.Route, wantIdleTimeout time.Duration) {
	t.Helper()
	byName := map[string]*routev3.Route{}
	for i, r := range routes {
		if r.GetName() == "" {
			t.Errorf("route %d has no name (the processor receives it as xds.route_name)", i)
		}
		byName[r.GetName()] = r
	}

	hz := byName["healthz"]
	if hz.GetMatch().GetPath() != "/healthz" || hz.GetDirectResponse().GetStatus() != 200 {
		t.Errorf("healthz route = %v, want direct_response 200 on path /healthz", hz)
	}
	if pr := perRouteExtProc(t, hz); pr == nil || !pr.GetDisabled() {
		t.Error("healthz route: ext_proc must be disabled")
	}

	for _, p := range examplePersonas {
		r := byName["persona-"+p]
		if r == nil {
			t.Errorf("no route persona-%s", p)
			continue
		}
		if got, want := r.GetMatch().GetPathSeparatedPrefix(), "/p/"+p+"/mcp"; got != want {
			t.Errorf("persona-%s: match.path_separated_prefix = %q, want %q", p, got, want)
		}
		ra := r.GetRoute()
		if ra.GetCluster() != upstreamClusterName || ra.GetPrefixRewrite() != "/mcp" {
			t.Errorf("persona-%s: route = cluster %q prefix_rewrite %q, want %s and /mcp", p, ra.GetCluster(), ra.GetPrefixRewrite(), upstreamClusterName)
		}
		if ra.GetTimeout() == nil || ra.GetTimeout().AsDuration() != 0 {
			t.Errorf("persona-%s: route.timeout = %v, want explicit 0s (streams)", p, ra.GetTimeout())
		}
		if wantIdleTimeout > 0 && ra.GetIdleTimeout().AsDuration() != wantIdleTimeout {
			t.Errorf("persona-%s: route.idle_timeout = %v, want %v", p, ra.GetIdleTimeout(), wantIdleTimeout)
		}
		checkPersonaOverride(t, perRouteExtProc(t, r), p)
	}

	last := routes[len(routes)-1]
	if last.GetName() != "default-deny" || last.GetMatch().GetPrefix() != "/" || last.GetDirectResponse().GetStatus() != 404 {
		t.Errorf("last route = %v, want default-deny: prefix / -> 404", last)
	}
	if perRouteExtProc(t, last) != nil {
		t.Error("default-deny: ext_proc must stay enabled (the processor records the attempt)")
	}
}

func checkPersonaOverride(t *testing.T, pr *extprocv3.ExtProcPerRoute, persona string) {
	t.Helper()
	if pr == nil || pr.GetDisabled() {
		t.Errorf("persona %s: want an enabled ExtProcPerRoute", persona)
		return
	}
	md := pr.GetOverrides().GetGrpcInitialMetadata()
	if len(md) != 2 || md[0].GetKey() != personaMetadataKey || md[0].GetValue() != persona ||
		md[1].GetKey() != upstreamMetadataKey || md[1].GetValue() != exampleUpstream {
		t.Errorf("persona %s: grpc_initial_metadata = %v, want [%s: %s, %s: %s]", persona, md, personaMetadataKey, persona, upstreamMetadataKey, exampleUpstream)
	}
	if pr.GetOverrides().GetProcessingMode() != nil {
		t.Errorf("persona %s: a per-route processing_mode replaces the whole mode (and drops allow_mode_override semantics); not expected", persona)
	}
}

// checkClusterReferences asserts that every cluster named by a route or by the ext_proc gRPC
// service exists: Envoy would reject the bootstrap otherwise, and PGV cannot see it.
func checkClusterReferences(t *testing.T, b *bootstrapv3.Bootstrap, hcm *hcmv3.HttpConnectionManager, ep *extprocv3.ExternalProcessor) {
	t.Helper()
	have := map[string]bool{}
	for _, c := range b.GetStaticResources().GetClusters() {
		if have[c.GetName()] {
			t.Errorf("duplicate cluster %q", c.GetName())
		}
		have[c.GetName()] = true
	}
	refs := []string{ep.GetGrpcService().GetEnvoyGrpc().GetClusterName()}
	for _, r := range routesOf(t, hcm) {
		if c := r.GetRoute().GetCluster(); c != "" {
			refs = append(refs, c)
		}
	}
	for _, c := range refs {
		if !have[c] {
			t.Errorf("cluster %q is referenced but not defined", c)
		}
	}
}

func checkAnyTypes(t *testing.T, v *validation, want []string) {
	t.Helper()
	for _, u := range want {
		if v.anyTypes[u] == 0 {
			t.Errorf("no Any of type %s was unpacked and validated", u)
		}
	}
}

// --- tests -----------------------------------------------------------------------------------

func TestBootstrapsValidate(t *testing.T) {
	tlsTypes := []string{
		"type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext",
		"type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
	}
	for _, tc := range []struct {
		file     string
		anyTypes []string
	}{
		{"envoy.yaml", commonAnyTypes},
		{"envoy-production.yaml", append(slices.Clone(commonAnyTypes), tlsTypes...)},
	} {
		t.Run(tc.file, func(t *testing.T) {
			b, v := loadValidBootstrap(t, tc.file)
			checkAnyTypes(t, v, tc.anyTypes)
			hcm := hcmOf(t, onlyListener(t, b))
			checkClusterReferences(t, b, hcm, extProcOf(t, hcm))
			t.Logf("%s: %d messages validated, %d Any values unpacked", tc.file, v.messages, countAnys(v))
		})
	}
}

func countAnys(v *validation) int {
	n := 0
	for _, c := range v.anyTypes {
		n += c
	}
	return n
}

func TestLocalBootstrap(t *testing.T) {
	b, _ := loadValidBootstrap(t, "envoy.yaml")

	if sa := b.GetAdmin().GetAddress().GetSocketAddress(); sa.GetAddress() != "127.0.0.1" || sa.GetPortValue() != 9901 {
		t.Errorf("admin = %s:%d, want 127.0.0.1:9901", sa.GetAddress(), sa.GetPortValue())
	}

	l := onlyListener(t, b)
	if sa := l.GetAddress().GetSocketAddress(); sa.GetAddress() != "127.0.0.1" || sa.GetPortValue() != 10000 {
		t.Errorf("listener = %s:%d, want 127.0.0.1:10000", sa.GetAddress(), sa.GetPortValue())
	}
	if got := l.GetPerConnectionBufferLimitBytes().GetValue(); got != 1<<20 {
		t.Errorf("per_connection_buffer_limit_bytes = %d, want 1 MiB", got)
	}
	if l.GetFilterChains()[0].GetTransportSocket() != nil {
		t.Error("local listener must be plaintext")
	}

	hcm := hcmOf(t, l)
	checkExtProc(t, extProcOf(t, hcm), extProcClusterName, extprocv3.ProcessingMode_NONE)
	checkRoutes(t, routesOf(t, hcm), 0)
	if len(hcm.GetAccessLog()) != 1 || hcm.GetAccessLog()[0].GetTypedConfig().GetTypeUrl() != "type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog" {
		t.Errorf("access_log = %v, want one stdout logger", hcm.GetAccessLog())
	}

	xp := clusterByName(t, b, extProcClusterName)
	if host, port := clusterEndpoint(t, xp); host != "127.0.0.1" || port != 9002 {
		t.Errorf("%s endpoint = %s:%d, want 127.0.0.1:9002", extProcClusterName, host, port)
	}
	if httpOptionsOf(t, xp).GetExplicitHttpConfig().GetHttp2ProtocolOptions() == nil {
		t.Errorf("%s must speak HTTP/2 (gRPC)", extProcClusterName)
	}

	up := clusterByName(t, b, upstreamClusterName)
	if host, port := clusterEndpoint(t, up); host != "127.0.0.1" || port != 8081 {
		t.Errorf("%s endpoint = %s:%d, want 127.0.0.1:8081", upstreamClusterName, host, port)
	}
	if httpOptionsOf(t, up).GetExplicitHttpConfig().GetHttpProtocolOptions() == nil {
		t.Errorf("%s must speak HTTP/1.1", upstreamClusterName)
	}
}

func TestProductionBootstrap(t *testing.T) {
	b, _ := loadValidBootstrap(t, "envoy-production.yaml")

	if sa := b.GetAdmin().GetAddress().GetSocketAddress(); sa.GetAddress() != "127.0.0.1" {
		t.Errorf("admin bound to %s, want loopback only", sa.GetAddress())
	}

	l := onlyListener(t, b)
	if sa := l.GetAddress().GetSocketAddress(); sa.GetAddress() != "0.0.0.0" || sa.GetPortValue() != 8443 {
		t.Errorf("listener = %s:%d, want 0.0.0.0:8443", sa.GetAddress(), sa.GetPortValue())
	}
	if got := l.GetPerConnectionBufferLimitBytes().GetValue(); got != 1<<20 {
		t.Errorf("per_connection_buffer_limit_bytes = %d, want 1 MiB", got)
	}
	dtls := unpack(t, l.GetFilterChains()[0].GetTransportSocket().GetTypedConfig(), &tlsv3.DownstreamTlsContext{})
	certs := dtls.GetCommonTlsContext().GetTlsCertificates()
	if len(certs) != 1 || certs[0].GetCertificateChain().GetFilename() == "" || certs[0].GetPrivateKey().GetFilename() == "" {
		t.Errorf("downstream TLS: want one certificate with chain and key files, got %v", certs)
	}

	hcm := hcmOf(t, l)
	if !hcm.GetUseRemoteAddress().GetValue() {
		t.Error("use_remote_address must be true at the edge")
	}
	if hcm.GetXffNumTrustedHops() != 0 || hcm.GetSkipXffAppend() {
		t.Errorf("xff: num_trusted_hops=%d skip_append=%v, want 0/false at the edge", hcm.GetXffNumTrustedHops(), hcm.GetSkipXffAppend())
	}
	if hcm.GetInternalAddressConfig() == nil {
		t.Error("internal_address_config must be explicit (no client is internal)")
	}
	if d := hcm.GetStreamIdleTimeout().AsDuration(); d <= 0 {
		t.Errorf("stream_idle_timeout = %v, want > 0", d)
	}
	if d := hcm.GetRequestHeadersTimeout().AsDuration(); d <= 0 {
		t.Errorf("request_headers_timeout = %v, want > 0", d)
	}
	ep := extProcOf(t, hcm)
	checkExtProc(t, ep, extProcClusterName, extprocv3.ProcessingMode_STREAMED)
	checkRoutes(t, routesOf(t, hcm), 600*time.Second)

	for _, name := range []string{extProcClusterName, upstreamClusterName} {
		c := clusterByName(t, b, name)
		utls := unpack(t, c.GetTransportSocket().GetTypedConfig(), &tlsv3.UpstreamTlsContext{})
		host, _ := clusterEndpoint(t, c)
		if utls.GetSni() != host {
			t.Errorf("cluster %s: sni = %q, want the endpoint host %q", name, utls.GetSni(), host)
		}
		vc := utls.GetCommonTlsContext().GetValidationContext()
		if vc.GetTrustedCa().GetFilename() == "" || len(vc.GetMatchTypedSubjectAltNames()) == 0 {
			t.Errorf("cluster %s: upstream TLS must verify the peer (trusted_ca + SAN match)", name)
		}
	}
	xp := clusterByName(t, b, extProcClusterName)
	if httpOptionsOf(t, xp).GetExplicitHttpConfig().GetHttp2ProtocolOptions() == nil {
		t.Errorf("%s must speak HTTP/2 (gRPC)", extProcClusterName)
	}
	if th := xp.GetCircuitBreakers().GetThresholds(); len(th) == 0 || th[0].GetMaxRequests().GetValue() < 10000 {
		t.Errorf("%s: max_requests circuit breaker must allow one stream per in-flight request", extProcClusterName)
	}
	if httpOptionsOf(t, clusterByName(t, b, upstreamClusterName)).GetExplicitHttpConfig().GetHttpProtocolOptions() == nil {
		t.Errorf("%s must speak HTTP/1.1", upstreamClusterName)
	}
}

// TestValidatorCatchesInvalidDocuments proves the checks have teeth: each case breaks envoy.yaml
// in one place, several of them inside an Any nested in another Any.
func TestValidatorCatchesInvalidDocuments(t *testing.T) {
	orig := string(readEnvoyFile(t, "envoy.yaml"))
	for _, tc := range []struct {
		name, old, new string
		wantParseErr   bool
		wantErr        string // substring of a reported error
		rootValidOK    bool   // Bootstrap.ValidateAll alone misses it (the error sits inside an Any)
	}{
		{
			name: "negative message_timeout in ext_proc (Any in Any)",
			old:  "message_timeout: 1s", new: "message_timeout: -1s",
			wantErr: "MessageTimeout", rootValidOK: true,
		},
		{
			name: "empty envoy_grpc cluster name (Any in Any)",
			old:  "envoy_grpc: {cluster_name: portcullis_extproc}", new: `envoy_grpc: {cluster_name: ""}`,
			wantErr: "ClusterName", rootValidOK: true,
		},
		{
			name: "empty persona metadata key in ExtProcPerRoute (Any in Any)",
			old:  "- {key: x-portcullis-persona, value: support-agent}", new: `- {key: "", value: support-agent}`,
			wantErr: "Key", rootValidOK: true,
		},
		{
			name: "empty load_assignment cluster_name (top level, no Any)",
			old:  "cluster_name: mcp_upstream", new: `cluster_name: ""`,
			wantErr: "ClusterName",
		},
		{
			name: "misspelt field",
			old:  "failure_mode_allow: false", new: "failure_mode_alow: false",
			wantParseErr: true,
		},
		{
			name: "unresolvable typed_config type",
			old:  "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router", new: "type.googleapis.com/envoy.extensions.filters.http.nope.v3.Nope",
			wantParseErr: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if strings.Count(orig, tc.old) != 1 {
				t.Fatalf("envoy.yaml must contain %q exactly once to mutate it", tc.old)
			}
			b, err := parseBootstrap([]byte(strings.Replace(orig, tc.old, tc.new, 1)))
			if tc.wantParseErr {
				if err == nil {
					t.Fatal("parse succeeded, want an error")
				}
				t.Logf("rejected as expected: %v", err)
				return
			}
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if rootErr := b.ValidateAll(); tc.rootValidOK && rootErr != nil {
				t.Errorf("Bootstrap.ValidateAll() = %v; expected it to miss an error hidden in an Any", rootErr)
			}
			v := validateTree(b)
			if len(v.errs) == 0 {
				t.Fatal("no validation error reported")
			}
			if !slices.ContainsFunc(v.errs, func(e string) bool { return strings.Contains(e, tc.wantErr) }) {
				t.Errorf("no error mentions %q; got:\n%s", tc.wantErr, strings.Join(v.errs, "\n"))
			}
			t.Logf("caught: %s", v.errs[len(v.errs)-1])
		})
	}
}

// TestExtProcFilterIsTheSameEverywhere guards against drift: the local, production and Istio
// ext_proc filters differ only where intended (local's default response body mode NONE against
// production's STREAMED; Istio's cluster name).
func TestExtProcFilterIsTheSameEverywhere(t *testing.T) {
	lb, _ := loadValidBootstrap(t, "envoy.yaml")
	pb, _ := loadValidBootstrap(t, "envoy-production.yaml")
	local := extProcOf(t, hcmOf(t, onlyListener(t, lb)))
	prod := extProcOf(t, hcmOf(t, onlyListener(t, pb)))
	local.GetProcessingMode().ResponseBodyMode = prod.GetProcessingMode().GetResponseBodyMode()
	if !proto.Equal(local, prod) {
		t.Errorf("local ext_proc differs from production beyond response_body_mode:\nlocal: %v\nprod:  %v", local, prod)
	}

	istio := loadEnvoyFilter(t).filter
	istio.GrpcService = prod.GetGrpcService()
	if !proto.Equal(prod, istio) {
		t.Errorf("Istio ext_proc differs from production beyond the cluster name:\nprod:  %v\nistio: %v", prod, istio)
	}
}
