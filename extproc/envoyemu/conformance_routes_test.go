package envoyemu

import (
	"io"
	"net/http"
	"strings"
	"testing"

	mutationrulesv3 "github.com/envoyproxy/go-control-plane/envoy/config/common/mutation_rules/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	filterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/anypb"
	wrapperspb "google.golang.org/protobuf/types/known/wrapperspb"
)

// Routing and per-route ExtProcPerRoute cases. The route table is that of
// Envoy's integration tests (one virtual host for every domain, one route
// "/" to cluster_0), adjusted per case as the Envoy test's config modifier
// does.

// integrationRoutes returns Envoy's integration-test route configuration,
// changed by mod.
func integrationRoutes(mod func(vh *routev3.VirtualHost)) func() *routev3.RouteConfiguration {
	return func() *routev3.RouteConfiguration {
		vh := &routev3.VirtualHost{Name: "integration", Domains: []string{"*"}, Routes: []*routev3.Route{
			clusterRoute("route_0", prefixMatch("/"), ""),
		}}
		if mod != nil {
			mod(vh)
		}
		return &routev3.RouteConfiguration{Name: "route_config_0", VirtualHosts: []*routev3.VirtualHost{vh}}
	}
}

func prefixMatch(p string) *routev3.RouteMatch {
	return &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: p}}
}

func pathMatch(p string) *routev3.RouteMatch {
	return &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Path{Path: p}}
}

// clusterRoute forwards to cluster_0, with prefixRewrite when not empty.
func clusterRoute(name string, m *routev3.RouteMatch, prefixRewrite string) *routev3.Route {
	return &routev3.Route{Name: name, Match: m, Action: &routev3.Route_Route{Route: &routev3.RouteAction{
		ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: "cluster_0"}, PrefixRewrite: prefixRewrite,
	}}}
}

func directRoute(name string, m *routev3.RouteMatch, status uint32, body string) *routev3.Route {
	dr := &routev3.DirectResponseAction{Status: status}
	if body != "" {
		dr.Body = &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: body}}
	}
	return &routev3.Route{Name: name, Match: m, Action: &routev3.Route_DirectResponse{DirectResponse: dr}}
}

// extProcPerRoute is a typed_per_filter_config holding pr for the ext_proc
// filter (Envoy's setPerRouteConfig / setPerHostConfig).
func extProcPerRoute(pr *filterv3.ExtProcPerRoute) map[string]*anypb.Any {
	a, err := anypb.New(pr)
	if err != nil {
		panic(err)
	}
	return map[string]*anypb.Any{DefaultFilterName: a}
}

func overrides(o *filterv3.ExtProcOverrides) *filterv3.ExtProcPerRoute {
	return &filterv3.ExtProcPerRoute{Override: &filterv3.ExtProcPerRoute_Overrides{Overrides: o}}
}

func metadataValue(key, value string) *corev3.HeaderValue {
	return &corev3.HeaderValue{Key: key, Value: value}
}

func get(path string) func(h *harness) response {
	return func(h *harness) response { return h.do(h.newRequest(http.MethodGet, path, "")) }
}

// upstream100 answers with 100 bytes in 10-byte flushed chunks (Envoy's
// handleUpstreamRequestWithResponse(full_response, 10)).
func upstream100(w http.ResponseWriter, _ *http.Request) {
	for i := range 10 {
		_, _ = io.WriteString(w, strings.Repeat(string(rune('a'+i)), 10))
		http.NewResponseController(w).Flush() //nolint:errcheck // the test checks what arrives
	}
}

var body100 = "aaaaaaaaaabbbbbbbbbbccccccccccddddddddddeeeeeeeeeeffffffffffgggggggggghhhhhhhhhhiiiiiiiiiijjjjjjjjjj"

// expectBufferedResponse checks the messages of a request whose response
// body the route made BUFFERED.
func expectBufferedResponse(t *testing.T, h *harness, res response) {
	t.Helper()
	expectStatus(t, res, 200)
	if res.body != body100 {
		t.Errorf("body = %q", res.body)
	}
	s := h.proc.stream(t, 0)
	expectMessages(t, s, "request_headers(eos=true)", "response_headers(eos=false)", "response_body(100B,eos=true)")
	msgs := s.messages()
	if pc := msgs[0].GetProtocolConfig(); pc.GetResponseBodyMode() != filterv3.ProcessingMode_BUFFERED {
		t.Errorf("protocol_config = %v, want the route's response_body_mode BUFFERED", pc)
	}
	if len(msgs) == 3 {
		if b, eos := bodyOf(msgs[2]); b != body100 || !eos {
			t.Errorf("response_body = %q eos=%t, want the whole body", b, eos)
		}
	}
}

// hostRouting is the route table of the SetHostHeaderRouting tests: the
// only virtual host serves "new_host".
var hostRouting = integrationRoutes(func(vh *routev3.VirtualHost) {
	vh.Name = "vhost"
	vh.Domains = []string{"new_host"}
})

func allowAllRouting(f *filterv3.ExternalProcessor) {
	f.MutationRules = &mutationrulesv3.HeaderMutationRules{AllowAllRouting: wrapperspb.Bool(true)}
}

// setAuthority answers the request headers by setting :authority and
// clearing the route cache, then continues.
func setAuthority(host string) func(s *procStream) error {
	return func(s *procStream) error {
		m := s.expect("request_headers")
		if v := headerValue(m.GetRequestHeaders().GetHeaders(), ":authority"); v == host || v == "" {
			s.t.Errorf(":authority sent = %q, want the client's", v)
		}
		s.send(requestHeadersReply(&extprocv3.CommonResponse{
			HeaderMutation:  headerMutation([]*corev3.HeaderValueOption{setHeader(":authority", host)}),
			ClearRouteCache: true,
		}))
		return continueAll(s)
	}
}

var routeCases = []conformanceCase{
	{
		// The route's processing_mode {response_body_mode: BUFFERED}
		// replaces the filter's default mode.
		name: "PerRouteProcessingMode",
		routes: integrationRoutes(func(vh *routev3.VirtualHost) {
			r := vh.Routes[0]
			r.Match = pathMatch("/foo")
			r.TypedPerFilterConfig = extProcPerRoute(overrides(&filterv3.ExtProcOverrides{
				ProcessingMode: &filterv3.ProcessingMode{ResponseBodyMode: filterv3.ProcessingMode_BUFFERED},
			}))
		}),
		upstream: upstream100,
		script:   continueAll,
		request:  get("/foo"),
		check:    expectBufferedResponse,
	},
	{
		// The virtual host's mode (both header modes SKIP) is not honoured:
		// the route's replaces it as a whole, no field merge.
		name: "PerRouteAndHostProcessingMode",
		routes: integrationRoutes(func(vh *routev3.VirtualHost) {
			vh.TypedPerFilterConfig = extProcPerRoute(overrides(&filterv3.ExtProcOverrides{
				ProcessingMode: &filterv3.ProcessingMode{
					RequestHeaderMode: filterv3.ProcessingMode_SKIP, ResponseHeaderMode: filterv3.ProcessingMode_SKIP,
				},
			}))
			r := vh.Routes[0]
			r.Match = pathMatch("/foo")
			r.TypedPerFilterConfig = extProcPerRoute(overrides(&filterv3.ExtProcOverrides{
				ProcessingMode: &filterv3.ProcessingMode{ResponseBodyMode: filterv3.ProcessingMode_BUFFERED},
			}))
		}),
		upstream: upstream100,
		script:   continueAll,
		request:  get("/foo"),
		check:    expectBufferedResponse,
	},
	{
		name: "PerRouteDisable",
		routes: integrationRoutes(func(vh *routev3.VirtualHost) {
			r := vh.Routes[0]
			r.Match = pathMatch("/foo")
			r.TypedPerFilterConfig = extProcPerRoute(&filterv3.ExtProcPerRoute{
				Override: &filterv3.ExtProcPerRoute_Disabled{Disabled: true},
			})
		}),
		upstream: upstream100,
		script:   continueAll,
		request:  get("/foo"),
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 200)
			if res.body != body100 {
				t.Errorf("body = %q", res.body)
			}
			oneUpstream(t, h)
			if n := h.proc.streamCount(); n != 0 {
				t.Errorf("%d ext_proc streams opened, want none", n)
			}
			if st := h.proxy.Stats(); st.StreamsStarted != 0 || st.StreamMsgsSent != 0 {
				t.Errorf("stats = %+v", st)
			}
		},
	},
	{
		// The route's grpc_service replaces the filter's: only
		// ext_proc_server_1 sees the request.
		name: "PerRouteGrpcService",
		routes: integrationRoutes(func(vh *routev3.VirtualHost) {
			r := vh.Routes[0]
			r.Match = pathMatch("/foo")
			r.TypedPerFilterConfig = extProcPerRoute(overrides(&filterv3.ExtProcOverrides{
				GrpcService: &corev3.GrpcService{TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{
					EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: "ext_proc_server_1"}}},
			}))
		}),
		script: continueAll,
		script1: func(s *procStream) error {
			s.expect("request_headers")
			s.send(requestHeadersReply(nil))
			s.expect("response_headers")
			s.send(responseHeadersReply(&extprocv3.CommonResponse{HeaderMutation: headerMutation([]*corev3.HeaderValueOption{
				setHeader("x-response-processed", "1"), setHeader(":status", "201"),
			})}))
			s.drain()
			return nil
		},
		request: get("/foo"),
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 201)
			if v := res.header.Get("X-Response-Processed"); v != "1" {
				t.Errorf("x-response-processed = %q", v)
			}
			expectMessages(t, h.proc1.stream(t, 0), "request_headers(eos=true)", "response_headers(eos=false)")
			if n := h.proc.streamCount(); n != 0 {
				t.Errorf("the filter's own ext_proc service got %d streams, want none", n)
			}
		},
	},
	{
		// The route's grpc_initial_metadata is merged key by key into the
		// gRPC service's initial_metadata (here the filter's a=a, b=b; the
		// Envoy test has none): b is replaced, c added, a kept.
		name: "PerRouteGrpcMetadata",
		filter: func(f *filterv3.ExternalProcessor) {
			f.GrpcService = &corev3.GrpcService{
				TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: "ext_proc_server_0"}},
				InitialMetadata: []*corev3.HeaderValue{metadataValue("a", "a"), metadataValue("b", "b")},
			}
		},
		routes: integrationRoutes(func(vh *routev3.VirtualHost) {
			r := vh.Routes[0]
			r.Match = pathMatch("/foo")
			r.TypedPerFilterConfig = extProcPerRoute(overrides(&filterv3.ExtProcOverrides{
				GrpcInitialMetadata: []*corev3.HeaderValue{metadataValue("b", "c"), metadataValue("c", "c")},
			}))
		}),
		script:  continueAll,
		request: get("/foo"),
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 200)
			md := h.proc.stream(t, 0).md
			for k, want := range map[string]string{"a": "a", "b": "c", "c": "c"} {
				if got := md.Get(k); len(got) != 1 || got[0] != want {
					t.Errorf("initial metadata %s = %q, want [%q]", k, got, want)
				}
			}
		},
	},
	{
		// No virtual host serves the client's host; the processor sets
		// :authority (allow_all_routing) and clears the route cache, and the
		// router picks the new_host route.
		name:    "SetHostHeaderRoutingSucceeded",
		filter:  allowAllRouting,
		routes:  hostRouting,
		script:  setAuthority("new_host"),
		request: get("/"),
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 200)
			if up := oneUpstream(t, h); up.Host != "new_host" {
				t.Errorf("upstream Host = %q, want new_host", up.Host)
			}
			expectMessages(t, h.proc.stream(t, 0), "request_headers(eos=true)", "response_headers(eos=false)")
			if r := h.result(); r.RouteName != "route_0" {
				t.Errorf("route = %q, want route_0", r.RouteName)
			}
		},
	},
	{
		name: "SetHostHeaderRoutingFailed",
		filter: func(f *filterv3.ExternalProcessor) {
			allowAllRouting(f)
			mode(f).ResponseHeaderMode = filterv3.ProcessingMode_SKIP
		},
		routes:  hostRouting,
		script:  setAuthority("wrong_host"),
		request: get("/"),
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 404)
			expectNoUpstream(t, h)
			if r := h.result(); r.Details != "route_not_found" || !r.LocalReply || r.RouteName != "" {
				t.Errorf("result = %+v", r)
			}
			if st := h.proxy.Stats(); st.NoRoute != 1 {
				t.Errorf("NoRoute = %d", st.NoRoute)
			}
		},
	},
}

// rewriteRoutes has /foo forwarded to cluster_0 as /rewritten, and a
// default-deny direct 404 for everything else (like envoy/envoy.yaml).
var rewriteRoutes = integrationRoutes(func(vh *routev3.VirtualHost) {
	vh.Routes = []*routev3.Route{
		clusterRoute("foo", &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_PathSeparatedPrefix{PathSeparatedPrefix: "/foo"}}, "/rewritten"),
		directRoute("default-deny", prefixMatch("/"), 404, ""),
	}
})

// setPath answers the request headers with :path set to path, clearing the
// route cache when clear is set.
func setPath(path string, clear bool) func(s *procStream) error {
	return func(s *procStream) error {
		s.expect("request_headers")
		s.send(requestHeadersReply(&extprocv3.CommonResponse{
			HeaderMutation:  headerMutation([]*corev3.HeaderValueOption{setHeader(":path", path)}),
			ClearRouteCache: clear,
		}))
		return continueAll(s)
	}
}

func expectDirect404(t *testing.T, h *harness, res response) {
	t.Helper()
	expectStatus(t, res, 404)
	expectNoUpstream(t, h)
	if r := h.result(); r.Details != "direct_response" || r.RouteName != "default-deny" {
		t.Errorf("result = %+v", r)
	}
}

func expectRewritten(want string) func(t *testing.T, h *harness, res response) {
	return func(t *testing.T, h *harness, res response) {
		t.Helper()
		expectStatus(t, res, 200)
		up := oneUpstream(t, h)
		if up.Path != want {
			t.Errorf("upstream path = %q, want %q", up.Path, want)
		}
		if r := h.result(); r.RouteName != "foo" {
			t.Errorf("route = %q, want foo", r.RouteName)
		}
	}
}

// routeBehaviourCases check routing behaviour from Envoy's sources that no
// named integration test covers.
var routeBehaviourCases = []conformanceCase{
	{
		// The ext_proc filter runs before the router: an unrouted request is
		// processed, then answered 404 without reaching the processor again.
		name:    "NoRouteAfterProcessing",
		routes:  integrationRoutes(func(vh *routev3.VirtualHost) { vh.Routes[0].Match = pathMatch("/foo") }),
		script:  continueAll,
		request: post("hello"),
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 404)
			expectNoUpstream(t, h)
			expectMessages(t, h.proc.stream(t, 0), "request_headers(eos=false)")
			if r := h.result(); r.Details != "route_not_found" {
				t.Errorf("result = %+v", r)
			}
		},
	},
	{
		// envoy/envoy.yaml's healthz: a direct_response on a route that
		// disables ext_proc.
		name: "DirectResponseRoute",
		routes: integrationRoutes(func(vh *routev3.VirtualHost) {
			r := directRoute("healthz", pathMatch("/healthz"), 200, "ok\n")
			r.TypedPerFilterConfig = extProcPerRoute(&filterv3.ExtProcPerRoute{Override: &filterv3.ExtProcPerRoute_Disabled{Disabled: true}})
			vh.Routes = append([]*routev3.Route{r}, vh.Routes...)
		}),
		script:  continueAll,
		request: get("/healthz?probe=1"),
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 200)
			if res.body != "ok\n" || res.header.Get("Content-Type") != "text/plain" {
				t.Errorf("body %q, content-type %q", res.body, res.header.Get("Content-Type"))
			}
			expectNoUpstream(t, h)
			if n := h.proc.streamCount(); n != 0 {
				t.Errorf("%d ext_proc streams opened, want none", n)
			}
			if st := h.proxy.Stats(); st.DirectResponses != 1 {
				t.Errorf("DirectResponses = %d", st.DirectResponses)
			}
		},
	},
	{
		// prefix_rewrite is the router's, after ext_proc: the processor sees
		// the original :path, the upstream the rewritten one and
		// x-envoy-original-path.
		name:   "PrefixRewriteAfterProcessing",
		routes: rewriteRoutes,
		script: func(s *procStream) error {
			m := s.expect("request_headers")
			if p := headerValue(m.GetRequestHeaders().GetHeaders(), ":path"); p != "/foo/a?x=1" {
				s.t.Errorf(":path sent = %q", p)
			}
			s.send(requestHeadersReply(nil))
			return continueAll(s)
		},
		request: get("/foo/a?x=1"),
		check: func(t *testing.T, h *harness, res response) {
			expectRewritten("/rewritten/a")(t, h, res)
			up := h.upstreamRequests()[0]
			if up.RawQuery != "x=1" || up.Header.Get("X-Envoy-Original-Path") != "/foo/a?x=1" {
				t.Errorf("upstream query %q, x-envoy-original-path %q", up.RawQuery, up.Header.Get("X-Envoy-Original-Path"))
			}
		},
	},
	{
		name:    "ClearRouteCacheReroutesOnPath",
		routes:  rewriteRoutes,
		script:  setPath("/foo/b", true),
		request: get("/other"),
		check:   expectRewritten("/rewritten/b"),
	},
	{
		// Without clear_route_cache the route picked from the original
		// headers stays: the request still gets the default-deny 404.
		name:    "PathMutationWithoutClearRouteCacheKeepsRoute",
		routes:  rewriteRoutes,
		script:  setPath("/foo/b", false),
		request: get("/other"),
		check:   expectDirect404,
	},
	{
		// The kept route's prefix_rewrite replaces as many characters as its
		// prefix had, whatever the path has become (finalizePathHeader).
		name:    "PrefixRewriteOfMutatedPathWithoutClearRouteCache",
		routes:  rewriteRoutes,
		script:  setPath("/other/b", false),
		request: get("/foo/a"),
		check:   expectRewritten("/rewrittener/b"),
	},
	{
		// Without allow_all_routing the :authority mutation is rejected; the
		// route picked again from the unchanged headers is still none.
		name:    "SetHostHeaderRoutingWithoutAllowAllRouting",
		routes:  hostRouting,
		script:  setAuthority("new_host"),
		request: get("/"),
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 404)
			expectNoUpstream(t, h)
			if n := h.proxy.Stats().RejectedHeaderMutations; n != 1 {
				t.Errorf("RejectedHeaderMutations = %d", n)
			}
		},
	},
	{
		name:   "ClearRouteCacheWithoutHeaderMutationIgnored",
		routes: rewriteRoutes,
		script: func(s *procStream) error {
			s.expect("request_headers")
			s.send(requestHeadersReply(&extprocv3.CommonResponse{ClearRouteCache: true}))
			return continueAll(s)
		},
		request: get("/foo/a"),
		check: func(t *testing.T, h *harness, res response) {
			expectRewritten("/rewritten/a")(t, h, res)
			if n := h.proxy.Stats().ClearRouteCacheIgnored; n != 1 {
				t.Errorf("ClearRouteCacheIgnored = %d", n)
			}
		},
	},
	{
		name: "RouteCacheActionRetain",
		filter: func(f *filterv3.ExternalProcessor) {
			f.RouteCacheAction = filterv3.ExternalProcessor_RETAIN
		},
		routes:  rewriteRoutes,
		script:  setPath("/foo/b", true),
		request: get("/other"),
		check: func(t *testing.T, h *harness, res response) {
			expectDirect404(t, h, res)
			if n := h.proxy.Stats().ClearRouteCacheDisabled; n != 1 {
				t.Errorf("ClearRouteCacheDisabled = %d", n)
			}
		},
	},
	{
		name: "RouteCacheActionClear",
		filter: func(f *filterv3.ExternalProcessor) {
			f.RouteCacheAction = filterv3.ExternalProcessor_CLEAR
		},
		routes:  rewriteRoutes,
		script:  setPath("/foo/b", false),
		request: get("/other"),
		check:   expectRewritten("/rewritten/b"),
	},
	{
		// A BUFFERED body reply still holds the headers: its header mutation
		// and clear_route_cache re-route the request.
		name: "ClearRouteCacheOnBufferedBodyReply",
		filter: func(f *filterv3.ExternalProcessor) {
			mode(f).RequestBodyMode = filterv3.ProcessingMode_BUFFERED
		},
		routes: rewriteRoutes,
		script: func(s *procStream) error {
			s.expect("request_headers")
			s.send(requestHeadersReply(nil))
			s.expect("request_body")
			s.send(requestBodyReply(&extprocv3.CommonResponse{
				HeaderMutation:  headerMutation([]*corev3.HeaderValueOption{setHeader(":path", "/foo/c")}),
				ClearRouteCache: true,
			}))
			return continueAll(s)
		},
		request: func(h *harness) response { return h.do(h.newRequest(http.MethodPost, "/other", "payload")) },
		check: func(t *testing.T, h *harness, res response) {
			expectRewritten("/rewritten/c")(t, h, res)
			if up := h.upstreamRequests()[0]; up.Body != "payload" {
				t.Errorf("upstream body = %q", up.Body)
			}
		},
	},
	{
		// disabled is the most specific entry's: a route entry without it
		// enables the filter a virtual host disabled, and its metadata
		// merges with the virtual host's and the route configuration's.
		name: "PerRouteMergeAcrossLevels",
		routes: func() *routev3.RouteConfiguration {
			rc := integrationRoutes(func(vh *routev3.VirtualHost) {
				vh.TypedPerFilterConfig = extProcPerRoute(&filterv3.ExtProcPerRoute{Override: &filterv3.ExtProcPerRoute_Disabled{Disabled: true}})
				vh.Routes[0].TypedPerFilterConfig = extProcPerRoute(overrides(&filterv3.ExtProcOverrides{
					GrpcInitialMetadata: []*corev3.HeaderValue{metadataValue("x-level", "route")},
				}))
			})()
			rc.TypedPerFilterConfig = extProcPerRoute(overrides(&filterv3.ExtProcOverrides{
				GrpcInitialMetadata: []*corev3.HeaderValue{metadataValue("x-level", "route-config"), metadataValue("x-config", "yes")},
			}))
			return rc
		},
		script:  continueAll,
		request: get("/"),
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 200)
			s := h.proc.stream(t, 0)
			expectMessages(t, s, "request_headers(eos=true)", "response_headers(eos=false)")
			if a, b := s.md.Get("x-level"), s.md.Get("x-config"); len(a) != 1 || a[0] != "route" || len(b) != 1 || b[0] != "yes" {
				t.Errorf("initial metadata x-level %q x-config %q", a, b)
			}
		},
	},
	{
		// overrides.failure_mode_allow replaces the filter's.
		name: "PerRouteFailureModeAllow",
		routes: integrationRoutes(func(vh *routev3.VirtualHost) {
			vh.Routes[0].TypedPerFilterConfig = extProcPerRoute(overrides(&filterv3.ExtProcOverrides{
				FailureModeAllow: wrapperspb.Bool(true),
			}))
		}),
		script: func(s *procStream) error {
			s.expect("request_headers")
			return status.Error(codes.Internal, "boom")
		},
		request: get("/"),
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 200)
			oneUpstream(t, h)
			if st := h.proxy.Stats(); st.FailureModeAllowed != 1 {
				t.Errorf("FailureModeAllowed = %d", st.FailureModeAllowed)
			}
		},
	},
	{
		// xds.route_name is the route's name: the request attributes carry
		// the route the request arrived on, the response attributes the
		// route the router used after the re-route.
		name: "RouteNameAttributeFollowsReroute",
		filter: func(f *filterv3.ExternalProcessor) {
			f.RequestAttributes = []string{"xds.route_name"}
			f.ResponseAttributes = []string{"xds.route_name"}
		},
		routes:  rewriteRoutes,
		script:  setPath("/foo/b", true),
		request: get("/other"),
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 200)
			msgs := h.proc.stream(t, 0).messages()
			var names []string
			for _, m := range msgs {
				if a := m.GetAttributes()[attributesKey]; a != nil {
					names = append(names, a.GetFields()["xds.route_name"].GetStringValue())
				}
			}
			if strings.Join(names, ",") != "default-deny,foo" {
				t.Errorf("xds.route_name attributes = %q, want [default-deny foo]", names)
			}
		},
	},
}
