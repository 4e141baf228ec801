package envoyemu

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	filterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/protobuf/proto"
)

// Defaults applied by New. They mirror Envoy's defaults.
const (
	// DefaultBufferLimit is Envoy's default per_connection_buffer_limit_bytes.
	DefaultBufferLimit = 1 << 20
	// DefaultMessageTimeout is the ext_proc filter's default message_timeout.
	DefaultMessageTimeout = 200 * time.Millisecond
	// DefaultDeferredCloseTimeout is the ext_proc filter's default
	// deferred_close_timeout (observability mode only).
	DefaultDeferredCloseTimeout = 5 * time.Second
	// defaultStatusOnError is used when status_on_error is unset.
	defaultStatusOnError = http.StatusInternalServerError
)

// Config configures a Proxy. The zero value of each optional field selects the
// default documented on it.
type Config struct {
	// Filter is the Envoy ext_proc filter configuration to emulate. Required.
	// Honoured: processing_mode, failure_mode_allow, message_timeout
	// (default 200ms), max_message_timeout (default 0:
	// override_message_timeout ignored), allow_mode_override,
	// allowed_override_modes, status_on_error (default 500), mutation_rules,
	// forward_rules, disable_immediate_response, metadata_options (untyped
	// namespaces), request_attributes and response_attributes (see
	// SupportedAttributes), observability_mode, deferred_close_timeout
	// (default 5s), route_cache_action and disable_clear_route_cache, and of
	// grpc_service only initial_metadata (Client is the service).
	Filter *filterv3.ExternalProcessor
	// Client opens one Process stream per downstream request: the filter's
	// grpc_service. Required.
	Client extprocv3.ExternalProcessorClient
	// GrpcClients are the ext_proc services a route's
	// ExtProcPerRoute.overrides.grpc_service may name, keyed by the
	// GrpcService's envoy_grpc.cluster_name (google_grpc: target_uri).
	// Defaults to none: a route naming a service is a configuration error.
	GrpcClients map[string]extprocv3.ExternalProcessorClient
	// Upstream is the base URL (http or https) requests are forwarded to
	// when there is no RouteConfig, with httputil.ReverseProxy SetURL
	// semantics: the request path is joined to Upstream's path and the Host
	// header becomes Upstream's host. Exactly one of Upstream and RouteConfig
	// is required.
	Upstream *url.URL
	// RouteConfig is the connection manager's route_config: requests are
	// routed as Envoy routes them (virtual hosts by :authority, routes by
	// path, direct_response routes, 404 when nothing matches, a new route
	// when a processor reply clears the route cache), the routes'
	// typed_per_filter_config ExtProcPerRoute overrides apply, and the
	// router forwards to the route's cluster with :path (after
	// prefix_rewrite) and :authority as they are. New rejects the route
	// features the emulation does not cover (see doc.go).
	RouteConfig *routev3.RouteConfiguration
	// Clusters maps the cluster names RouteConfig's routes forward to onto
	// upstream URLs (http or https, no path). Required for every such
	// cluster.
	Clusters map[string]*url.URL
	// ConnectionManager is the HttpConnectionManager the filter runs in. Of
	// it New reads the path handling the connection manager applies to :path
	// before routing and before any filter sees it (see connmgr.go):
	// normalize_path (default false), merge_slashes (default false) and
	// path_with_escaped_slashes_action (IMPLEMENTATION_SPECIFIC_DEFAULT is
	// KEEP_UNCHANGED, Envoy's default). It rejects
	// typed_header_validation_config, path_normalization_options and the
	// host normalisations strip_port_mode and strip_trailing_host_dot, which
	// are not emulated; nothing else is read (the route table is
	// RouteConfig, the filter Filter). Defaults to nil: Envoy's defaults,
	// under which :path is only checked (a path not starting with '/' gets
	// 404, one with a '#' fragment 400), not changed.
	ConnectionManager *hcmv3.HttpConnectionManager
	// FilterName is the ext_proc filter's name in http_filters: the key of
	// its typed_per_filter_config entries. Defaults to DefaultFilterName.
	FilterName string
	// Transport sends requests upstream. Defaults to a clone of
	// http.DefaultTransport with DisableCompression set, so that, like Envoy,
	// the proxy neither adds Accept-Encoding nor decodes bodies.
	Transport http.RoundTripper
	// BufferLimit is Envoy's per_connection_buffer_limit_bytes: the most a
	// BUFFERED body may hold (a larger request gets 413, a larger response
	// 500) and the STREAMED backpressure threshold. Defaults to
	// DefaultBufferLimit (1 MiB).
	BufferLimit int
	// RouteName is the value of the xds.route_name attribute when there is
	// no RouteConfig (with one, it is the matched route's name). Defaults to
	// "" (the attribute is then omitted, as Envoy omits unavailable
	// attributes).
	RouteName string
	// Observer, when set, is called once for every finished downstream request
	// from the request's goroutine. Defaults to nil (no reports).
	Observer func(Result)
}

// settings is the validated, defaulted form of Config.Filter.
type settings struct {
	mode                     *filterv3.ProcessingMode
	failureModeAllow         bool
	messageTimeout           time.Duration
	maxMessageTimeout        time.Duration
	allowModeOverride        bool
	allowedOverrideModes     []*filterv3.ProcessingMode
	statusOnError            int
	disableImmediateResponse bool
	checker                  *mutationChecker
	forward                  *headerForwarder
	requestAttributes        []string
	responseAttributes       []string
	forwardingNamespaces     []string
	receivingNamespaces      []string
	bufferLimit              int
	routeName                string
	// grpcInitialMetadata is grpc_service.initial_metadata.
	grpcInitialMetadata []*corev3.HeaderValue
	// routes is the compiled RouteConfig; nil routes every request to
	// Config.Upstream.
	routes           *routeTable
	routeCacheAction filterv3.ExternalProcessor_RouteCacheAction
	// paths is the connection manager's path handling.
	paths pathSettings
	// observability is observability_mode: messages are flagged, never
	// waited on, and replies are ignored.
	observability bool
	// deferredCloseTimeout is how long an observability-mode stream stays
	// open after the downstream request ended (deferred_close_timeout,
	// default 5s).
	deferredCloseTimeout time.Duration
}

// validate checks cfg and derives its settings; all problems are joined.
func (cfg Config) validate() (settings, error) {
	var errs []error
	if cfg.Client == nil {
		errs = append(errs, errors.New("envoyemu: Client is required"))
	}
	switch {
	case cfg.Upstream == nil && cfg.RouteConfig == nil:
		errs = append(errs, errors.New("envoyemu: Upstream is required (or a RouteConfig)"))
	case cfg.Upstream != nil && cfg.RouteConfig != nil:
		errs = append(errs, errors.New("envoyemu: Upstream and RouteConfig are exclusive"))
	case cfg.Upstream != nil && !isHTTPURL(cfg.Upstream):
		errs = append(errs, fmt.Errorf("envoyemu: Upstream %q must be an absolute http or https URL", cfg.Upstream))
	}
	if cfg.RouteConfig != nil && cfg.RouteName != "" {
		errs = append(errs, errors.New("envoyemu: RouteName is the route's name with a RouteConfig; leave it empty"))
	}
	for name, u := range cfg.Clusters {
		if u == nil || !isHTTPURL(u) || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			errs = append(errs, fmt.Errorf("envoyemu: Clusters[%s] %q must be an http or https URL without a path", name, u))
		}
	}
	if cfg.BufferLimit < 0 {
		errs = append(errs, fmt.Errorf("envoyemu: BufferLimit %d must not be negative", cfg.BufferLimit))
	}
	if cfg.Filter == nil {
		errs = append(errs, errors.New("envoyemu: Filter is required"))
		return settings{}, errors.Join(errs...)
	}
	f := cfg.Filter
	if err := f.ValidateAll(); err != nil {
		errs = append(errs, fmt.Errorf("envoyemu: invalid Filter: %w", err))
	}

	s := settings{
		mode:                     defaultedMode(f.GetProcessingMode()),
		failureModeAllow:         f.GetFailureModeAllow(),
		messageTimeout:           DefaultMessageTimeout,
		allowModeOverride:        f.GetAllowModeOverride(),
		allowedOverrideModes:     f.GetAllowedOverrideModes(),
		statusOnError:            defaultStatusOnError,
		disableImmediateResponse: f.GetDisableImmediateResponse(),
		requestAttributes:        f.GetRequestAttributes(),
		responseAttributes:       f.GetResponseAttributes(),
		forwardingNamespaces:     f.GetMetadataOptions().GetForwardingNamespaces().GetUntyped(),
		receivingNamespaces:      f.GetMetadataOptions().GetReceivingNamespaces().GetUntyped(),
		bufferLimit:              cfg.BufferLimit,
		routeName:                cfg.RouteName,
		observability:            f.GetObservabilityMode(),
		deferredCloseTimeout:     DefaultDeferredCloseTimeout,
	}
	if f.GetDeferredCloseTimeout() != nil {
		s.deferredCloseTimeout = f.GetDeferredCloseTimeout().AsDuration()
	}
	if s.bufferLimit == 0 {
		s.bufferLimit = DefaultBufferLimit
	}
	if f.GetMessageTimeout() != nil {
		s.messageTimeout = f.GetMessageTimeout().AsDuration()
	}
	if f.GetMaxMessageTimeout() != nil {
		s.maxMessageTimeout = f.GetMaxMessageTimeout().AsDuration()
	}
	if code := f.GetStatusOnError().GetCode(); code != 0 {
		s.statusOnError = int(code)
	}
	var err error
	if s.checker, err = newMutationChecker(f.GetMutationRules()); err != nil {
		errs = append(errs, err)
	}
	if s.forward, err = newHeaderForwarder(f.GetForwardRules()); err != nil {
		errs = append(errs, err)
	}
	s.grpcInitialMetadata = f.GetGrpcService().GetInitialMetadata()
	if err := checkInitialMetadata(s.grpcInitialMetadata); err != nil {
		errs = append(errs, fmt.Errorf("envoyemu: Filter.grpc_service.initial_metadata: %w", err))
	}
	s.routeCacheAction = f.GetRouteCacheAction()
	if f.GetDisableClearRouteCache() {
		s.routeCacheAction = filterv3.ExternalProcessor_RETAIN
	}
	if cfg.RouteConfig != nil {
		name := cfg.FilterName
		if name == "" {
			name = DefaultFilterName
		}
		if s.routes, err = newRouteTable(cfg.RouteConfig, cfg.Clusters, cfg.GrpcClients, name); err != nil {
			errs = append(errs, err)
		}
	}
	if s.paths, err = newPathSettings(cfg.ConnectionManager); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, unsupported(f)...)
	errs = append(errs, invalidProcessingMode(f)...)
	return s, errors.Join(errs...)
}

func isHTTPURL(u *url.URL) bool {
	return (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// invalidProcessingMode mirrors verifyProcessingModeConfig in Envoy's
// config.cc: FULL_DUPLEX_STREAMED needs the trailer mode of its direction to
// be SEND. (failure_mode_allow is not refused: Envoy 1.36+ forces it off
// once a FULL_DUPLEX_STREAMED chunk was sent, see failOpenLocked.)
func invalidProcessingMode(f *filterv3.ExternalProcessor) []error {
	var errs []error
	pm := f.GetProcessingMode()
	if pm.GetRequestBodyMode() == filterv3.ProcessingMode_FULL_DUPLEX_STREAMED &&
		pm.GetRequestTrailerMode() != filterv3.ProcessingMode_SEND {
		errs = append(errs, errors.New("envoyemu: If the ext_proc filter has the request_body_mode set to "+
			"FULL_DUPLEX_STREAMED, then the request_trailer_mode has to be set to SEND"))
	}
	if pm.GetResponseBodyMode() == filterv3.ProcessingMode_FULL_DUPLEX_STREAMED &&
		pm.GetResponseTrailerMode() != filterv3.ProcessingMode_SEND {
		errs = append(errs, errors.New("envoyemu: If the ext_proc filter has the response_body_mode set to "+
			"FULL_DUPLEX_STREAMED, then the response_trailer_mode has to be set to SEND"))
	}
	return errs
}

// unsupported lists the configured features this emulation does not cover yet.
func unsupported(f *filterv3.ExternalProcessor) []error {
	var errs []error
	notYet := func(what string) {
		errs = append(errs, fmt.Errorf("envoyemu: %s is not yet emulated", what))
	}
	if f.GetSendBodyWithoutWaitingForHeaderResponse() {
		notYet("send_body_without_waiting_for_header_response")
	}
	if f.GetHttpService() != nil {
		notYet("http_service")
	}
	if f.GetProcessingRequestModifier() != nil {
		notYet("processing_request_modifier")
	}
	if f.GetOnProcessingResponse() != nil {
		notYet("on_processing_response")
	}
	if f.GetAllowContentLengthHeader() {
		notYet("allow_content_length_header")
	}
	pm := f.GetProcessingMode()
	for _, m := range []filterv3.ProcessingMode_BodySendMode{pm.GetRequestBodyMode(), pm.GetResponseBodyMode()} {
		if !bodyModeEmulated(m) {
			notYet(fmt.Sprintf("body mode %s", m))
		}
	}
	return errs
}

// defaultedMode returns a copy of pm (or of the empty mode when pm is nil).
func defaultedMode(pm *filterv3.ProcessingMode) *filterv3.ProcessingMode {
	if pm == nil {
		return &filterv3.ProcessingMode{}
	}
	return proto.CloneOf(pm)
}
