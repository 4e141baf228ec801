package envoyemu

import (
	"fmt"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	filterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/anypb"
)

// DefaultFilterName is the ext_proc filter's usual http_filters name, under
// which typed_per_filter_config entries are looked up by default.
const DefaultFilterName = "envoy.filters.http.ext_proc"

// perRouteConfig is one ExtProcPerRoute, or the merge of several (Envoy's
// FilterConfigPerRoute). Optional fields are nil when unset.
type perRouteConfig struct {
	disabled bool
	// mode replaces the whole processing mode (no field merge).
	mode *filterv3.ProcessingMode
	// grpcService replaces the filter's; grpcKey names its client.
	grpcService *corev3.GrpcService
	grpcKey     string
	// initialMetadata is merged key by key into the gRPC service's
	// initial_metadata.
	initialMetadata []*corev3.HeaderValue
	forwarding      *[]string // metadata_options.forwarding_namespaces.untyped
	receiving       *[]string // metadata_options.receiving_namespaces.untyped
	failureModeOpen *bool     // failure_mode_allow
}

// perRoute compiles the ext_proc entry of a typed_per_filter_config; nil
// when there is none.
func (c *routeCompiler) perRoute(where string, tpfc map[string]*anypb.Any) *perRouteConfig {
	a, ok := tpfc[c.filterName]
	if !ok {
		return nil
	}
	where = fmt.Sprintf("%s: typed_per_filter_config[%s]", where, c.filterName)
	if a.MessageIs(&routev3.FilterConfig{}) {
		c.notYet(where, "the envoy.config.route.v3.FilterConfig wrapper")
		return nil
	}
	pb := &filterv3.ExtProcPerRoute{}
	if err := a.UnmarshalTo(pb); err != nil {
		c.fail(where, "want an ExtProcPerRoute: %v", err)
		return nil
	}
	if err := pb.ValidateAll(); err != nil {
		c.fail(where, "invalid ExtProcPerRoute: %v", err)
		return nil
	}
	o := pb.GetOverrides()
	pr := &perRouteConfig{disabled: pb.GetDisabled(), initialMetadata: o.GetGrpcInitialMetadata()}
	// initProcessingMode: a disabled entry carries no mode.
	if !pr.disabled && o.GetProcessingMode() != nil {
		pr.mode = o.GetProcessingMode()
		for _, m := range []filterv3.ProcessingMode_BodySendMode{pr.mode.GetRequestBodyMode(), pr.mode.GetResponseBodyMode()} {
			if !bodyModeEmulated(m) {
				c.notYet(where, fmt.Sprintf("overrides.processing_mode body mode %s", m))
			}
		}
	}
	if gs := o.GetGrpcService(); gs != nil {
		pr.grpcService, pr.grpcKey = gs, grpcServiceKey(gs)
		if _, ok := c.clients[pr.grpcKey]; !ok {
			c.fail(where, "overrides.grpc_service names ext_proc service %q, which is not in GrpcClients", pr.grpcKey)
		}
		c.checkMetadata(where+": overrides.grpc_service.initial_metadata", gs.GetInitialMetadata())
	}
	c.checkMetadata(where+": overrides.grpc_initial_metadata", pr.initialMetadata)
	if mo := o.GetMetadataOptions(); mo != nil {
		if fw := mo.GetForwardingNamespaces(); fw != nil {
			ns := fw.GetUntyped()
			pr.forwarding = &ns
		}
		if rc := mo.GetReceivingNamespaces(); rc != nil {
			ns := rc.GetUntyped()
			pr.receiving = &ns
		}
	}
	if f := o.GetFailureModeAllow(); f != nil {
		v := f.GetValue()
		pr.failureModeOpen = &v
	}
	if o.GetProcessingRequestModifier() != nil {
		c.notYet(where, "overrides.processing_request_modifier")
	}
	return pr
}

// checkMetadata refuses initial metadata values with command operators
// (%REQ(...)% and the like), which the emulation sends as they are.
func (c *routeCompiler) checkMetadata(where string, hvs []*corev3.HeaderValue) {
	if err := checkInitialMetadata(hvs); err != nil {
		c.fail(where, "%v", err)
	}
}

func checkInitialMetadata(hvs []*corev3.HeaderValue) error {
	for _, hv := range hvs {
		if strings.Contains(headerValueString(hv), "%") {
			return fmt.Errorf("%s: command operators in metadata values are not yet emulated", hv.GetKey())
		}
	}
	return nil
}

// grpcServiceKey names a GrpcService's client in Config.GrpcClients: the
// envoy_grpc cluster_name, or the google_grpc target_uri.
func grpcServiceKey(gs *corev3.GrpcService) string {
	if eg := gs.GetEnvoyGrpc(); eg != nil {
		return eg.GetClusterName()
	}
	return gs.GetGoogleGrpc().GetTargetUri()
}

// mergePerRoute mirrors FilterConfigPerRoute's merging constructor: the more
// specific entry wins field by field, a disabled one carries no mode, and
// initial metadata is merged key by key.
func mergePerRoute(less, more *perRouteConfig) *perRouteConfig {
	out := &perRouteConfig{
		disabled:        more.disabled,
		mode:            more.mode,
		grpcService:     more.grpcService,
		grpcKey:         more.grpcKey,
		initialMetadata: mergeHeaderValues(less.initialMetadata, more.initialMetadata),
		forwarding:      more.forwarding,
		receiving:       more.receiving,
		failureModeOpen: more.failureModeOpen,
	}
	if out.mode == nil && !more.disabled {
		out.mode = less.mode
	}
	if out.grpcService == nil {
		out.grpcService, out.grpcKey = less.grpcService, less.grpcKey
	}
	if out.forwarding == nil {
		out.forwarding = less.forwarding
	}
	if out.receiving == nil {
		out.receiving = less.receiving
	}
	if out.failureModeOpen == nil {
		out.failureModeOpen = less.failureModeOpen
	}
	return out
}

// mergeHeaderValues adds each of more to base, replacing every entry with
// the same key or appending (Envoy's mergeHeaderValues).
func mergeHeaderValues(base, more []*corev3.HeaderValue) []*corev3.HeaderValue {
	out := append([]*corev3.HeaderValue(nil), base...)
	for _, hv := range more {
		found := false
		for i, dst := range out {
			if dst.GetKey() == hv.GetKey() {
				out[i] = hv
				found = true
			}
		}
		if !found {
			out = append(out, hv)
		}
	}
	return out
}

// perRouteOf merges the ExtProcPerRoute entries that apply to r, least
// specific first (route configuration, virtual host, route), as Envoy's
// mergePerRouteConfig; nil when there are none.
func (t *routeTable) perRouteOf(r *route) *perRouteConfig {
	var merged *perRouteConfig
	for _, pr := range []*perRouteConfig{t.perRoute, r.vhost.perRoute, r.perRoute} {
		switch {
		case pr == nil:
		case merged == nil:
			merged = pr
		default:
			merged = mergePerRoute(merged, pr)
		}
	}
	return merged
}

// allDisabledMode is the mode a disabled ExtProcPerRoute sets: headers SKIP,
// bodies NONE, trailers not sent.
func allDisabledMode() *filterv3.ProcessingMode {
	return &filterv3.ProcessingMode{
		RequestHeaderMode:  filterv3.ProcessingMode_SKIP,
		ResponseHeaderMode: filterv3.ProcessingMode_SKIP,
	}
}

// applyPerRoute sets the exchange's ext_proc settings from the filter
// configuration and the route's merged ExtProcPerRoute (Envoy's
// mergePerRouteConfig, run once when the request headers arrive: a later
// re-route does not change them). It runs before the stream opens.
func (ex *exchange) applyPerRoute(pr *perRouteConfig) {
	s := &ex.p.s
	ex.client = ex.p.client
	ex.failureModeAllow = s.failureModeAllow
	ex.forwardingNamespaces = s.forwardingNamespaces
	ex.receivingNamespaces = s.receivingNamespaces
	initial := s.grpcInitialMetadata
	if pr != nil {
		if pr.disabled {
			ex.setModeLocked(allDisabledMode())
			return
		}
		if pr.mode != nil {
			ex.setModeLocked(pr.mode)
		}
		if pr.grpcService != nil {
			ex.client = ex.p.clients[pr.grpcKey]
			initial = pr.grpcService.GetInitialMetadata()
		}
		initial = mergeHeaderValues(initial, pr.initialMetadata)
		if pr.forwarding != nil {
			ex.forwardingNamespaces = *pr.forwarding
		}
		if pr.receiving != nil {
			ex.receivingNamespaces = *pr.receiving
		}
		if pr.failureModeOpen != nil {
			ex.failureModeAllow = *pr.failureModeOpen
		}
	}
	if len(initial) > 0 {
		ex.grpcMetadata = metadata.MD{}
		for _, hv := range initial {
			ex.grpcMetadata.Append(strings.ToLower(hv.GetKey()), headerValueString(hv))
		}
	}
}

// setModeLocked replaces both directions' modes (ProcessorState's
// setProcessingMode).
func (ex *exchange) setModeLocked(pm *filterv3.ProcessingMode) {
	ex.req.mode = requestMode(pm)
	ex.resp.mode = responseMode(pm)
}

// headerValueString is a HeaderValue's value, or its raw_value when value is
// empty.
func headerValueString(hv *corev3.HeaderValue) string {
	if v := hv.GetValue(); v != "" {
		return v
	}
	return string(hv.GetRawValue())
}
