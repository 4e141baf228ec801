package envoyemu

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
)

// The route table: the connection manager's route_config as Envoy's
// RouteMatcher (config_impl.cc) reads it. A virtual host is picked by the
// lower-cased :authority (exact domains, then the longest "*suffix", then the
// longest "prefix*", then "*"), then its first route whose path matcher
// matches the :path without query string and fragment. The ext_proc filter
// reads its ExtProcPerRoute from the chosen route's typed_per_filter_config
// (route configuration, then virtual host, then route: most specific wins);
// the router (forward.go) forwards to the route's cluster, rewriting the
// prefix, or answers direct_response routes and unmatched requests locally.

// maxDirectResponseBodySize is route_config's default
// max_direct_response_body_size_bytes.
const maxDirectResponseBodySize = 4096

// routeTable is a compiled RouteConfiguration.
type routeTable struct {
	// vhostHeader is the header whose value selects the virtual host
	// (":authority" unless vhost_header is set).
	vhostHeader string
	// ignorePort is ignore_port_in_host_matching.
	ignorePort bool
	exact      map[string]*virtualHost
	// suffixes and prefixes are the wildcard domains without their "*",
	// grouped by length, longest first (Envoy's longest wildcard match).
	suffixes, prefixes []wildcardDomains
	// catchAll is the virtual host with domain "*", if any.
	catchAll *virtualHost
	// perRoute is the route configuration's own ExtProcPerRoute, if any.
	perRoute *perRouteConfig
}

type wildcardDomains struct {
	length int
	hosts  map[string]*virtualHost
}

type virtualHost struct {
	name     string
	routes   []*route
	perRoute *perRouteConfig
}

// route is one Route: a path matcher and either a forward or a direct
// response.
type route struct {
	name     string
	vhost    *virtualHost
	match    pathMatcher
	forward  *forwardAction  // route action
	direct   *directResponse // direct_response action
	perRoute *perRouteConfig
}

// forwardAction is a RouteAction to a cluster.
type forwardAction struct {
	cluster  string
	upstream *url.URL
	// prefixRewrite replaces the matched part of :path in the router.
	prefixRewrite string
	// hostRewrite, when set, replaces :authority (host_rewrite_literal, or
	// the cluster URL's host for auto_host_rewrite).
	hostRewrite string
}

// directResponse is a DirectResponseAction.
type directResponse struct {
	status int
	body   []byte
}

type pathKind int

const (
	pathPrefix pathKind = iota
	pathExact
	pathSeparatedPrefix
	pathRegex
)

// pathMatcher is a RouteMatch path specifier with its case_sensitive flag.
type pathMatcher struct {
	kind       pathKind
	value      string
	re         *regexp.Regexp
	ignoreCase bool
}

// matches reports whether path (without query and fragment) matches, and
// the part of it that prefix_rewrite replaces: the configured prefix or
// path, or the whole path for a regex (Envoy's matched path).
func (m pathMatcher) matches(path string) (matched string, ok bool) {
	hasPrefix := func(s, prefix string) bool {
		if len(s) < len(prefix) {
			return false
		}
		if m.ignoreCase {
			return strings.EqualFold(s[:len(prefix)], prefix)
		}
		return s[:len(prefix)] == prefix
	}
	switch m.kind {
	case pathPrefix:
		return m.value, hasPrefix(path, m.value)
	case pathExact:
		return m.value, len(path) == len(m.value) && hasPrefix(path, m.value)
	case pathSeparatedPrefix:
		return m.value, hasPrefix(path, m.value) && (len(path) == len(m.value) || path[len(m.value)] == '/')
	default:
		return path, m.re.MatchString(path)
	}
}

// match picks the route for request headers h, as Envoy's route() does; nil
// when no virtual host or no route matches. matched is what prefix_rewrite
// replaces.
func (t *routeTable) match(h *headerMap) (r *route, matched string) {
	vh := t.virtualHost(h)
	if vh == nil {
		return nil, ""
	}
	path, _ := h.get(":path")
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	for _, r := range vh.routes {
		if matched, ok := r.match.matches(path); ok {
			return r, matched
		}
	}
	return nil, ""
}

// virtualHost mirrors RouteMatcher::findVirtualHost.
func (t *routeTable) virtualHost(h *headerMap) *virtualHost {
	if len(t.exact) == 0 && len(t.suffixes) == 0 && len(t.prefixes) == 0 {
		return t.catchAll
	}
	host, ok := h.get(t.vhostHeader)
	if !ok {
		return nil
	}
	if t.ignorePort {
		host = stripPort(host)
	}
	host = strings.ToLower(host)
	if vh, ok := t.exact[host]; ok {
		return vh
	}
	for _, w := range t.suffixes {
		// ">=": "*.foo.com" does not match ".foo.com".
		if w.length >= len(host) {
			continue
		}
		if vh, ok := w.hosts[host[len(host)-w.length:]]; ok {
			return vh
		}
	}
	for _, w := range t.prefixes {
		if w.length >= len(host) {
			continue
		}
		if vh, ok := w.hosts[host[:w.length]]; ok {
			return vh
		}
	}
	return t.catchAll
}

// stripPort removes a ":port" suffix (HeaderUtility::getPortStart: not inside
// an IPv6 literal's brackets).
func stripPort(host string) string {
	i := strings.LastIndexByte(host, ':')
	if i < 0 || strings.LastIndexByte(host, ']') > i {
		return host
	}
	return host[:i]
}

// routeCompiler collects the problems of one route configuration.
type routeCompiler struct {
	filterName string
	clusters   map[string]*url.URL
	clients    map[string]extprocv3.ExternalProcessorClient
	errs       []error
}

func (c *routeCompiler) fail(where, format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf("envoyemu: RouteConfig: %s: %s", where, fmt.Sprintf(format, args...)))
}

func (c *routeCompiler) notYet(where, what string) {
	c.fail(where, "%s is not yet emulated", what)
}

// newRouteTable compiles rc. clusters maps the cluster names routes forward
// to onto upstream base URLs; clients are the ext_proc services a per-route
// grpc_service may name; filterName keys the ext_proc filter's
// typed_per_filter_config.
func newRouteTable(rc *routev3.RouteConfiguration, clusters map[string]*url.URL, clients map[string]extprocv3.ExternalProcessorClient, filterName string) (*routeTable, error) {
	if err := rc.ValidateAll(); err != nil {
		return nil, fmt.Errorf("envoyemu: invalid RouteConfig: %w", err)
	}
	c := &routeCompiler{filterName: filterName, clusters: clusters, clients: clients}
	t := &routeTable{
		vhostHeader: ":authority",
		ignorePort:  rc.GetIgnorePortInHostMatching(),
		exact:       map[string]*virtualHost{},
	}
	if h := rc.GetVhostHeader(); h != "" {
		t.vhostHeader = strings.ToLower(h)
	}
	where := fmt.Sprintf("route_config %q", rc.GetName())
	c.unsupportedRouteConfig(where, rc)
	t.perRoute = c.perRoute(where, rc.GetTypedPerFilterConfig())
	maxBody := maxDirectResponseBodySize
	if v := rc.GetMaxDirectResponseBodySizeBytes(); v != nil {
		maxBody = int(v.GetValue())
	}
	suffixes, prefixes := map[int]map[string]*virtualHost{}, map[int]map[string]*virtualHost{}
	for _, vhpb := range rc.GetVirtualHosts() {
		vh := &virtualHost{name: vhpb.GetName()}
		vwhere := fmt.Sprintf("virtual host %q", vh.name)
		c.unsupportedVirtualHost(vwhere, vhpb)
		vh.perRoute = c.perRoute(vwhere, vhpb.GetTypedPerFilterConfig())
		for i, rpb := range vhpb.GetRoutes() {
			if r := c.route(fmt.Sprintf("%s route %d (%q)", vwhere, i, rpb.GetName()), rpb, maxBody); r != nil {
				r.vhost = vh
				vh.routes = append(vh.routes, r)
			}
		}
		for _, d := range vhpb.GetDomains() {
			domain := strings.ToLower(d)
			duplicate := false
			switch {
			case domain == "*":
				if t.catchAll != nil {
					c.fail(vwhere, "only a single wildcard domain is permitted")
				}
				t.catchAll = vh
			case strings.HasPrefix(domain, "*"):
				duplicate = addWildcard(suffixes, domain[1:], vh)
			case strings.HasSuffix(domain, "*"):
				duplicate = addWildcard(prefixes, domain[:len(domain)-1], vh)
			default:
				_, duplicate = t.exact[domain]
				t.exact[domain] = vh
			}
			if duplicate {
				c.fail(vwhere, "only unique values for domains are permitted, duplicate entry of domain %s", domain)
			}
		}
	}
	t.suffixes, t.prefixes = sortWildcards(suffixes), sortWildcards(prefixes)
	if err := errors.Join(c.errs...); err != nil {
		return nil, err
	}
	return t, nil
}

func addWildcard(m map[int]map[string]*virtualHost, key string, vh *virtualHost) (duplicate bool) {
	if m[len(key)] == nil {
		m[len(key)] = map[string]*virtualHost{}
	}
	_, duplicate = m[len(key)][key]
	m[len(key)][key] = vh
	return duplicate
}

func sortWildcards(m map[int]map[string]*virtualHost) []wildcardDomains {
	out := make([]wildcardDomains, 0, len(m))
	for n, hosts := range m {
		out = append(out, wildcardDomains{length: n, hosts: hosts})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].length > out[j].length })
	return out
}

// route compiles one Route; nil when it has problems (recorded).
func (c *routeCompiler) route(where string, rpb *routev3.Route, maxBody int) *route {
	n := len(c.errs)
	r := &route{name: rpb.GetName()}
	r.match = c.pathMatcher(where, rpb.GetMatch())
	c.refuse(where,
		feature{len(rpb.GetRequestHeadersToAdd()) > 0 || len(rpb.GetRequestHeadersToRemove()) > 0 ||
			len(rpb.GetResponseHeadersToAdd()) > 0 || len(rpb.GetResponseHeadersToRemove()) > 0,
			"header manipulation (request/response_headers_to_add/remove)"},
		feature{rpb.GetPerRequestBufferLimitBytes() != nil || rpb.GetRequestBodyBufferLimit() != nil, //nolint:staticcheck // refusing the deprecated field too
			"a per-route buffer limit"},
		feature{len(rpb.GetRouteSpecifiers()) > 0, "route_specifiers"},
	)
	switch a := rpb.GetAction().(type) {
	case *routev3.Route_Route:
		r.forward = c.forwardAction(where, a.Route)
	case *routev3.Route_DirectResponse:
		r.direct = c.directResponse(where, a.DirectResponse, maxBody)
	case *routev3.Route_Redirect:
		c.notYet(where, "redirect")
	default:
		c.notYet(where, fmt.Sprintf("route action %T", a))
	}
	r.perRoute = c.perRoute(where, rpb.GetTypedPerFilterConfig())
	if len(c.errs) > n {
		return nil
	}
	return r
}

func (c *routeCompiler) pathMatcher(where string, m *routev3.RouteMatch) pathMatcher {
	pm := pathMatcher{ignoreCase: m.GetCaseSensitive() != nil && !m.GetCaseSensitive().GetValue()}
	switch p := m.GetPathSpecifier().(type) {
	case *routev3.RouteMatch_Prefix:
		pm.kind, pm.value = pathPrefix, p.Prefix
	case *routev3.RouteMatch_Path:
		pm.kind, pm.value = pathExact, p.Path
	case *routev3.RouteMatch_PathSeparatedPrefix:
		pm.kind, pm.value = pathSeparatedPrefix, p.PathSeparatedPrefix
	case *routev3.RouteMatch_SafeRegex:
		re, err := compileFullMatch(p.SafeRegex)
		if err != nil {
			c.fail(where, "match.safe_regex: %v", err)
		}
		pm.kind, pm.re = pathRegex, re
	default:
		c.notYet(where, fmt.Sprintf("path specifier %T", p))
	}
	c.refuse(where,
		feature{len(m.GetHeaders()) > 0, "match.headers"},
		feature{len(m.GetQueryParameters()) > 0, "match.query_parameters"},
		feature{len(m.GetCookies()) > 0, "match.cookies"},
		feature{m.GetRuntimeFraction() != nil, "match.runtime_fraction"},
		feature{m.GetGrpc() != nil, "match.grpc"},
		feature{m.GetTlsContext() != nil, "match.tls_context"},
		feature{len(m.GetDynamicMetadata()) > 0, "match.dynamic_metadata"},
		feature{len(m.GetFilterState()) > 0, "match.filter_state"},
	)
	return pm
}

func (c *routeCompiler) forwardAction(where string, a *routev3.RouteAction) *forwardAction {
	fa := &forwardAction{prefixRewrite: a.GetPrefixRewrite()}
	switch cs := a.GetClusterSpecifier().(type) {
	case *routev3.RouteAction_Cluster:
		fa.cluster = cs.Cluster
		fa.upstream = c.clusters[cs.Cluster]
		if fa.upstream == nil {
			c.fail(where, "route: unknown cluster: %s (not in Clusters)", cs.Cluster)
		}
	default:
		c.notYet(where, fmt.Sprintf("cluster specifier %T", cs))
	}
	switch hr := a.GetHostRewriteSpecifier().(type) {
	case nil:
	case *routev3.RouteAction_HostRewriteLiteral:
		fa.hostRewrite = hr.HostRewriteLiteral
	case *routev3.RouteAction_AutoHostRewrite:
		if hr.AutoHostRewrite.GetValue() && fa.upstream != nil {
			fa.hostRewrite = fa.upstream.Host
		}
	default:
		c.notYet(where, fmt.Sprintf("host rewrite %T", hr))
	}
	c.refuse(where,
		feature{a.GetRegexRewrite() != nil, "route.regex_rewrite"},
		feature{a.GetPathRewritePolicy() != nil, "route.path_rewrite_policy"},
		feature{a.GetPathRewrite() != "", "route.path_rewrite"},
		feature{a.GetAppendXForwardedHost(), "route.append_x_forwarded_host"},
		feature{len(a.GetRequestMirrorPolicies()) > 0, "route.request_mirror_policies"},
	)
	return fa
}

func (c *routeCompiler) directResponse(where string, a *routev3.DirectResponseAction, maxBody int) *directResponse {
	dr := &directResponse{status: int(a.GetStatus())}
	if a.GetBodyFormat() != nil {
		c.notYet(where, "direct_response.body_format")
	}
	if b := a.GetBody(); b != nil {
		switch {
		case b.GetFilename() != "":
			body, err := os.ReadFile(b.GetFilename())
			if err != nil {
				c.fail(where, "direct_response.body: %v", err)
			}
			dr.body = body
		case b.GetInlineBytes() != nil:
			dr.body = b.GetInlineBytes()
		case b.GetInlineString() != "":
			dr.body = []byte(b.GetInlineString())
		case b.GetEnvironmentVariable() != "":
			c.notYet(where, "direct_response.body.environment_variable")
		}
	}
	if len(dr.body) > maxBody {
		c.fail(where, "direct_response body size is %d bytes; maximum is %d", len(dr.body), maxBody)
	}
	return dr
}

func (c *routeCompiler) unsupportedVirtualHost(where string, vh *routev3.VirtualHost) {
	c.refuse(where,
		feature{vh.GetMatcher() != nil, "matcher"},
		feature{vh.GetRequireTls() != routev3.VirtualHost_NONE, "require_tls"},
		feature{len(vh.GetRequestHeadersToAdd()) > 0 || len(vh.GetRequestHeadersToRemove()) > 0 ||
			len(vh.GetResponseHeadersToAdd()) > 0 || len(vh.GetResponseHeadersToRemove()) > 0,
			"header manipulation (request/response_headers_to_add/remove)"},
		feature{vh.GetIncludeRequestAttemptCount() || vh.GetIncludeAttemptCountInResponse() || vh.GetIncludeIsTimeoutRetryHeader(),
			"attempt count and retry headers"},
		feature{vh.GetPerRequestBufferLimitBytes() != nil || vh.GetRequestBodyBufferLimit() != nil, //nolint:staticcheck // refusing the deprecated field too
			"a per-virtual-host buffer limit"},
		feature{len(vh.GetRequestMirrorPolicies()) > 0, "request_mirror_policies"},
		feature{len(vh.GetRouteSpecifiers()) > 0, "route_specifiers"},
	)
}

func (c *routeCompiler) unsupportedRouteConfig(where string, rc *routev3.RouteConfiguration) {
	c.refuse(where,
		feature{rc.GetVhds() != nil, "vhds"},
		feature{len(rc.GetInternalOnlyHeaders()) > 0, "internal_only_headers"},
		feature{len(rc.GetRequestHeadersToAdd()) > 0 || len(rc.GetRequestHeadersToRemove()) > 0 ||
			len(rc.GetResponseHeadersToAdd()) > 0 || len(rc.GetResponseHeadersToRemove()) > 0,
			"header manipulation (request/response_headers_to_add/remove)"},
		feature{len(rc.GetClusterSpecifierPlugins()) > 0, "cluster_specifier_plugins"},
		feature{len(rc.GetRequestMirrorPolicies()) > 0, "request_mirror_policies"},
		feature{rc.GetIgnorePathParametersInPathMatching(), "ignore_path_parameters_in_path_matching"},
		feature{len(rc.GetRouteSpecifiers()) > 0, "route_specifiers"},
	)
}

// feature is a configuration feature that may be in use.
type feature struct {
	used bool
	name string
}

// refuse records every used feature as not yet emulated.
func (c *routeCompiler) refuse(where string, fs ...feature) {
	for _, f := range fs {
		if f.used {
			c.notYet(where, f.name)
		}
	}
}
