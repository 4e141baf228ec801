package envoyemu

import (
	"net/url"
	"strings"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	filterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/anypb"
	wrapperspb "google.golang.org/protobuf/types/known/wrapperspb"
)

func mustRouteTable(t *testing.T, rc *routev3.RouteConfiguration) *routeTable {
	t.Helper()
	u, _ := url.Parse("http://127.0.0.1:1")
	rt, err := newRouteTable(rc, map[string]*url.URL{"cluster_0": u}, nil, DefaultFilterName)
	if err != nil {
		t.Fatal(err)
	}
	return rt
}

func requestHeaders(authority, path string) *headerMap {
	h := &headerMap{}
	h.add(":method", "GET")
	h.add(":path", path)
	h.add(":authority", authority)
	return h
}

// vhostNamed is a virtual host whose one route, named after it, matches
// every path.
func vhostNamed(name string, domains ...string) *routev3.VirtualHost {
	return &routev3.VirtualHost{Name: name, Domains: domains, Routes: []*routev3.Route{directRoute(name, prefixMatch("/"), 200, "")}}
}

// TestVirtualHostSelection follows RouteMatcher::findVirtualHost: exact
// domains first, then the longest suffix wildcard, then the longest prefix
// wildcard, then "*"; matching is case-insensitive and includes the port.
func TestVirtualHostSelection(t *testing.T) {
	rt := mustRouteTable(t, &routev3.RouteConfiguration{VirtualHosts: []*routev3.VirtualHost{
		vhostNamed("exact", "api.example.com", "API.other.com"),
		vhostNamed("suffix", "*.example.com"),
		vhostNamed("longer-suffix", "*.b.example.com"),
		vhostNamed("prefix", "api.*"),
		vhostNamed("longer-prefix", "api.internal.*"),
		vhostNamed("catch-all", "*"),
		vhostNamed("with-port", "ported.example.org:8443"),
	}})
	for host, want := range map[string]string{
		"api.example.com":         "exact",
		"API.Example.COM":         "exact",
		"api.other.com":           "exact",
		"x.example.com":           "suffix",
		"x.b.example.com":         "longer-suffix",
		".example.com":            "prefix-less", // "*.example.com" needs at least one character
		"api.example.org":         "prefix",
		"api.internal.org":        "longer-prefix",
		"api.example.com:80":      "prefix", // the port is part of the host: no exact or suffix match
		"ported.example.org:8443": "with-port",
		"ported.example.org":      "catch-all",
		"elsewhere":               "catch-all",
	} {
		if want == "prefix-less" {
			want = "catch-all"
		}
		r, _ := rt.match(requestHeaders(host, "/"))
		if r == nil || r.name != want {
			t.Errorf("host %q: got %v, want virtual host %s", host, r, want)
		}
	}

	// ignore_port_in_host_matching.
	rt = mustRouteTable(t, &routev3.RouteConfiguration{IgnorePortInHostMatching: true, VirtualHosts: []*routev3.VirtualHost{
		vhostNamed("exact", "api.example.com"), vhostNamed("v6", "[::1]"),
	}})
	for host, want := range map[string]string{"api.example.com:8080": "exact", "[::1]:80": "v6", "[::1]": "v6"} {
		if r, _ := rt.match(requestHeaders(host, "/")); r == nil || r.name != want {
			t.Errorf("ignore port, host %q: got %v, want %s", host, r, want)
		}
	}
	// Without "*", an unknown host has no virtual host.
	if r, _ := rt.match(requestHeaders("elsewhere", "/")); r != nil {
		t.Errorf("unknown host routed to %s", r.name)
	}
}

// TestRouteMatching checks the path specifiers: the first matching route
// wins, the query string and fragment are not matched, and matched is what
// prefix_rewrite replaces.
func TestRouteMatching(t *testing.T) {
	route := func(name string, m *routev3.RouteMatch) *routev3.Route { return clusterRoute(name, m, "") }
	insensitive := prefixMatch("/CI/")
	insensitive.CaseSensitive = wrapperspb.Bool(false)
	rt := mustRouteTable(t, &routev3.RouteConfiguration{VirtualHosts: []*routev3.VirtualHost{{
		Name: "vh", Domains: []string{"*"}, Routes: []*routev3.Route{
			route("exact", pathMatch("/exact")),
			route("separated", &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_PathSeparatedPrefix{PathSeparatedPrefix: "/p/a"}}),
			route("regex", &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: "/re/[0-9]+"}}}),
			route("insensitive", insensitive),
			route("prefix", prefixMatch("/pre")),
		},
	}}})
	for _, c := range []struct{ path, route, matched string }{
		{"/exact", "exact", "/exact"},
		{"/exact?q=1", "exact", "/exact"},
		{"/exact#frag", "exact", "/exact"},
		{"/exact/more", "", ""},
		{"/EXACT", "", ""},
		{"/p/a", "separated", "/p/a"},
		{"/p/a/b", "separated", "/p/a"},
		{"/p/a?x", "separated", "/p/a"},
		{"/p/ab", "", ""},
		{"/re/42", "regex", "/re/42"},
		{"/re/42?x=1", "regex", "/re/42"},
		{"/re/42x", "", ""},
		{"/ci/x", "insensitive", "/CI/"},
		{"/prefix", "prefix", "/pre"},
		{"/pr", "", ""},
	} {
		r, matched := rt.match(requestHeaders("h", c.path))
		name := ""
		if r != nil {
			name = r.name
		}
		if name != c.route || matched != c.matched {
			t.Errorf("%s: route %q matched %q, want %q %q", c.path, name, matched, c.route, c.matched)
		}
	}
}

func TestNewRejectsRoutes(t *testing.T) {
	withRoute := func(mod func(r *routev3.Route)) *routev3.RouteConfiguration {
		r := clusterRoute("r", prefixMatch("/"), "")
		mod(r)
		return &routev3.RouteConfiguration{VirtualHosts: []*routev3.VirtualHost{{Name: "vh", Domains: []string{"*"}, Routes: []*routev3.Route{r}}}}
	}
	filterConfig, _ := anypb.New(&routev3.FilterConfig{Disabled: true})
	wrongType, _ := anypb.New(&filterv3.ExternalProcessor{})
	cases := []struct {
		name   string
		mutate func(c *Config)
		want   []string
	}{
		{"Upstream and RouteConfig", func(c *Config) {}, []string{"Upstream and RouteConfig are exclusive"}},
		{"unknown cluster", func(c *Config) {
			c.RouteConfig = withRoute(func(r *routev3.Route) {
				r.GetRoute().ClusterSpecifier = &routev3.RouteAction_Cluster{Cluster: "nope"}
			})
		}, []string{"unknown cluster: nope"}},
		{"all problems at once", func(c *Config) {
			c.RouteConfig = withRoute(func(r *routev3.Route) {
				r.Match.Headers = []*routev3.HeaderMatcher{{Name: "x"}}
				r.Match.QueryParameters = []*routev3.QueryParameterMatcher{{Name: "q"}}
				r.GetRoute().RegexRewrite = &matcherv3.RegexMatchAndSubstitute{Pattern: &matcherv3.RegexMatcher{Regex: "x"}}
			})
		}, []string{"match.headers is not yet emulated", "match.query_parameters is not yet emulated", "route.regex_rewrite is not yet emulated"}},
		{"redirect", func(c *Config) {
			c.RouteConfig = withRoute(func(r *routev3.Route) { r.Action = &routev3.Route_Redirect{Redirect: &routev3.RedirectAction{}} })
		}, []string{"redirect is not yet emulated"}},
		{"FilterConfig wrapper", func(c *Config) {
			c.RouteConfig = withRoute(func(r *routev3.Route) {
				r.TypedPerFilterConfig = map[string]*anypb.Any{DefaultFilterName: filterConfig}
			})
		}, []string{"FilterConfig wrapper is not yet emulated"}},
		{"not an ExtProcPerRoute", func(c *Config) {
			c.RouteConfig = withRoute(func(r *routev3.Route) {
				r.TypedPerFilterConfig = map[string]*anypb.Any{DefaultFilterName: wrongType}
			})
		}, []string{"want an ExtProcPerRoute"}},
		{"unknown per-route grpc_service", func(c *Config) {
			c.RouteConfig = withRoute(func(r *routev3.Route) {
				r.TypedPerFilterConfig = extProcPerRoute(overrides(&filterv3.ExtProcOverrides{
					GrpcService: &corev3.GrpcService{TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{
						EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: "other"}}},
				}))
			})
		}, []string{`names ext_proc service "other", which is not in GrpcClients`}},
		{"per-route GRPC body mode", func(c *Config) {
			c.RouteConfig = withRoute(func(r *routev3.Route) {
				r.TypedPerFilterConfig = extProcPerRoute(overrides(&filterv3.ExtProcOverrides{
					ProcessingMode: &filterv3.ProcessingMode{RequestBodyMode: filterv3.ProcessingMode_GRPC},
				}))
			})
		}, []string{"body mode GRPC is not yet emulated"}},
		{"metadata command operator", func(c *Config) {
			c.RouteConfig = withRoute(func(r *routev3.Route) {
				r.TypedPerFilterConfig = extProcPerRoute(overrides(&filterv3.ExtProcOverrides{
					GrpcInitialMetadata: []*corev3.HeaderValue{metadataValue("x-request-id", "%REQ(x-request-id)%")},
				}))
			})
		}, []string{"command operators in metadata values are not yet emulated"}},
		{"duplicate domains", func(c *Config) {
			c.RouteConfig = &routev3.RouteConfiguration{VirtualHosts: []*routev3.VirtualHost{
				vhostNamed("a", "x.example.com", "*"), vhostNamed("b", "X.example.com", "*"),
			}}
		}, []string{"duplicate entry of domain x.example.com", "only a single wildcard domain"}},
		{"direct response too large", func(c *Config) {
			c.RouteConfig = &routev3.RouteConfiguration{VirtualHosts: []*routev3.VirtualHost{{
				Name: "vh", Domains: []string{"*"}, Routes: []*routev3.Route{directRoute("big", prefixMatch("/"), 200, strings.Repeat("x", 4097))},
			}}}
		}, []string{"maximum is 4096"}},
		{"PGV", func(c *Config) {
			c.RouteConfig = &routev3.RouteConfiguration{VirtualHosts: []*routev3.VirtualHost{{Name: "vh"}}}
		}, []string{"invalid RouteConfig"}},
		{"cluster with a path", func(c *Config) {
			c.Clusters["cluster_0"], _ = url.Parse("http://127.0.0.1:1/base")
		}, []string{"Clusters[cluster_0]"}},
		{"RouteName with RouteConfig", func(c *Config) { c.RouteName = "x" }, []string{"RouteName is the route's name"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := validConfig()
			u, _ := url.Parse("http://127.0.0.1:1")
			cfg.Clusters = map[string]*url.URL{"cluster_0": u}
			cfg.RouteConfig = integrationRoutes(nil)()
			if c.name != "Upstream and RouteConfig" {
				cfg.Upstream = nil
			}
			c.mutate(&cfg)
			_, err := New(cfg)
			for _, want := range c.want {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("New() error = %v, want it to mention %q", err, want)
				}
			}
		})
	}
	cfg := validConfig()
	u, _ := url.Parse("http://127.0.0.1:1")
	cfg.Upstream, cfg.RouteConfig, cfg.Clusters = nil, integrationRoutes(nil)(), map[string]*url.URL{"cluster_0": u}
	if _, err := New(cfg); err != nil {
		t.Errorf("the integration route table: %v", err)
	}
}
