package envoyemu

import (
	"net/http"
	"strings"
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	filterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	wrapperspb "google.golang.org/protobuf/types/known/wrapperspb"
)

const (
	keepUnchanged       = hcmv3.HttpConnectionManager_KEEP_UNCHANGED
	rejectRequest       = hcmv3.HttpConnectionManager_REJECT_REQUEST
	unescapeAndRedirect = hcmv3.HttpConnectionManager_UNESCAPE_AND_REDIRECT
	unescapeAndForward  = hcmv3.HttpConnectionManager_UNESCAPE_AND_FORWARD
)

// TestConnectionManagerUtilityMaybeNormalizePath mirrors the
// maybeNormalizePath tests of Envoy's
// test/common/http/conn_manager_utility_test.cc (ConnectionManagerUtilityTest,
// each case named after its test; the fixture's defaults are normalize_path
// and merge_slashes off, KEEP_UNCHANGED).
func TestConnectionManagerUtilityMaybeNormalizePath(t *testing.T) {
	type settings = pathSettings
	keep := settings{escapedSlashes: keepUnchanged}
	normalize := settings{normalize: true, escapedSlashes: keepUnchanged}
	for _, c := range []struct {
		name       string
		ps         settings
		path, want string
		action     normalizePathAction
	}{
		{"SanitizeEmptyPath", keep, "", "", pathContinue},
		{"SanitizePathDefaultOff", keep, "/xyz/../a", "/xyz/../a", pathContinue},
		{"SanitizePathNormalPath", normalize, "/xyz", "/xyz", pathContinue},
		{"SanitizePathRelativePAth", normalize, "/xyz/../abc", "/abc", pathContinue},
		{"MergeSlashesDefaultOff", normalize, "/xyz///abc", "/xyz///abc", pathContinue},
		{"MergeSlashes", settings{normalize: true, mergeSlashes: true, escapedSlashes: keepUnchanged},
			"/xyz///abc", "/xyz/abc", pathContinue},
		{"MergeSlashesWithoutNormalization", settings{mergeSlashes: true, escapedSlashes: keepUnchanged},
			"/xyz/..//abc", "/xyz/../abc", pathContinue},
		{"KeepEscapedSlashesWhenConfigured", keep, "/xyz%2fabc%5Cqrt", "/xyz%2fabc%5Cqrt", pathContinue},
		{"RejectIfEscapedSlashesPresentAndConfiguredToReject/%2F", settings{escapedSlashes: rejectRequest},
			"/xyz%2F..//abc", "", pathReject},
		{"RejectIfEscapedSlashesPresentAndConfiguredToReject/%5c", settings{escapedSlashes: rejectRequest},
			"/xyz%5c..//abc", "", pathReject},
		{"RejectIfEscapedSlashesNotPresentAndConfiguredToReject", settings{escapedSlashes: rejectRequest},
			"/xyz%EA/abc", "/xyz%EA/abc", pathContinue},
		{"RedirectIfEscapedSlashesPresentAndConfiguredToRedirect", settings{escapedSlashes: unescapeAndRedirect},
			"/xyz%2F../%5cabc", `/xyz/../\abc`, pathRedirect},
		{"ContinueIfEscapedSlashesNotFoundAndConfiguredToRedirect", settings{escapedSlashes: unescapeAndRedirect},
			"/xyz%30..//abc", "/xyz%30..//abc", pathContinue},
		{"ContinueIfEscapedSlashesPresentAndConfiguredToUnescape", settings{escapedSlashes: unescapeAndForward},
			"/xyz%2F../%5Cabc", `/xyz/../\abc`, pathContinue},
		// Chromium URL path normalization converts \ to /.
		{"UnescapeSlashesAndChromiumNormalization", settings{normalize: true, escapedSlashes: unescapeAndForward},
			"/xyz%2f../%5Cabc", "//abc", pathContinue},
		// %00 is an invalid sequence in URL path and causes path
		// normalization to fail.
		{"UnescapeSlashesRedirectAndChromiumNormalizationFailure", settings{normalize: true, escapedSlashes: unescapeAndRedirect},
			"/xyz%2f../%5Cabc%00", "", pathReject},
		// Envoy does not merge back slashes.
		{"UnescapeAndMergeSlashes", settings{mergeSlashes: true, escapedSlashes: unescapeAndRedirect},
			"/xyz%2f/..//abc%5C%5c", `/xyz/../abc\\`, pathRedirect},
		{"AllNormalizations", settings{normalize: true, mergeSlashes: true, escapedSlashes: unescapeAndForward},
			"/xyz%2f..%5c/%2Fabc", "/abc", pathContinue},
		{"RedirectAfterAllOtherNormalizations", settings{normalize: true, mergeSlashes: true, escapedSlashes: unescapeAndRedirect},
			"/xyz%2f..%5c/%2Fabc", "/abc", pathRedirect},
		{"RejectPathWithFragmentByDefault/fragment", keep, "/foo/bar#boom", "", pathReject},
		{"RejectPathWithFragmentByDefault/just_fragment", keep, "#boom", "", pathReject},
		// Percent encoded # should not cause rejection.
		{"RejectPathWithFragmentByDefault/percent_23", keep, "/foo/bar/../%23boom", "/foo/bar/../%23boom", pathContinue},
		// With normalization enabled the %23 should not be decoded.
		{"RejectPathWithFragmentByDefault/percent_23_normalized", normalize, "/foo/bar/../%23boom", "/foo/%23boom", pathContinue},
		// Not Envoy's cases: the query string is never changed, a fragment is
		// refused whatever the configuration, escaped slashes in the query
		// are not looked at.
		{"QueryUntouched", settings{normalize: true, mergeSlashes: true, escapedSlashes: rejectRequest},
			"/a//./b/../c?x=/../%2F//%41#", "", pathReject},
		{"QueryUntouchedNoFragment", settings{normalize: true, mergeSlashes: true, escapedSlashes: rejectRequest},
			"/a//./b/../%41c?x=/../%2F//%41", "/a/Ac?x=/../%2F//%41", pathContinue},
		{"FragmentWithEverythingOn", settings{normalize: true, mergeSlashes: true, escapedSlashes: unescapeAndForward},
			"/a#b", "", pathReject},
		// Slashes are merged after normalisation, which turns '\' into '/'.
		{"MergeAfterNormalization", settings{normalize: true, mergeSlashes: true, escapedSlashes: keepUnchanged},
			`/a\/b\c`, "/a/b/c", pathContinue},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, action := c.ps.maybeNormalizePath(c.path)
			if action != c.action || (action != pathReject && got != c.want) {
				t.Errorf("maybeNormalizePath(%q) = %q, %d; want %q, %d", c.path, got, action, c.want, c.action)
			}
		})
	}
}

// TestNewPathSettings: unset fields take Envoy's defaults; the connection
// manager settings that change the request before routing and are not
// emulated are refused.
func TestNewPathSettings(t *testing.T) {
	ps, err := newPathSettings(nil)
	if err != nil || ps != (pathSettings{escapedSlashes: keepUnchanged}) {
		t.Errorf("nil: %+v, %v", ps, err)
	}
	ps, err = newPathSettings(&hcmv3.HttpConnectionManager{})
	if err != nil || ps != (pathSettings{escapedSlashes: keepUnchanged}) {
		t.Errorf("IMPLEMENTATION_SPECIFIC_DEFAULT: %+v, %v", ps, err)
	}
	ps, err = newPathSettings(&hcmv3.HttpConnectionManager{
		NormalizePath: wrapperspb.Bool(true), MergeSlashes: true, PathWithEscapedSlashesAction: rejectRequest,
	})
	if err != nil || ps != (pathSettings{normalize: true, mergeSlashes: true, escapedSlashes: rejectRequest}) {
		t.Errorf("envoy.yaml's: %+v, %v", ps, err)
	}
	_, err = newPathSettings(&hcmv3.HttpConnectionManager{
		PathWithEscapedSlashesAction: 9,
		PathNormalizationOptions:     &hcmv3.HttpConnectionManager_PathNormalizationOptions{},
		StripPortMode:                &hcmv3.HttpConnectionManager_StripAnyHostPort{StripAnyHostPort: true},
		StripTrailingHostDot:         true,
	})
	for _, want := range []string{"path_with_escaped_slashes_action 9", "path_normalization_options", "strip_port_mode", "strip_trailing_host_dot"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not mention %s", err, want)
		}
	}
}

// envoyYAMLPaths is envoy/envoy.yaml's path handling.
func envoyYAMLPaths() *hcmv3.HttpConnectionManager {
	return &hcmv3.HttpConnectionManager{
		NormalizePath: wrapperspb.Bool(true), MergeSlashes: true, PathWithEscapedSlashesAction: rejectRequest,
	}
}

// personaRoutes are envoy/envoy.yaml's routes in small: /p/a/mcp and
// /p/b/mcp to cluster_0 rewritten to /mcp, a default-deny 404 for the rest.
func personaRoutes() *routev3.RouteConfiguration {
	separated := func(p string) *routev3.RouteMatch {
		return &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_PathSeparatedPrefix{PathSeparatedPrefix: p}}
	}
	return integrationRoutes(func(vh *routev3.VirtualHost) {
		vh.Routes = []*routev3.Route{
			clusterRoute("persona-a", separated("/p/a/mcp"), "/mcp"),
			clusterRoute("persona-b", separated("/p/b/mcp"), "/mcp"),
			directRoute("default-deny", prefixMatch("/"), 404, ""),
		}
	})()
}

// rawGet sends "GET target HTTP/1.1" exactly as written.
func rawGet(h *harness, target string, header ...string) response {
	h.t.Helper()
	extra := ""
	for _, l := range header {
		extra += l + "\r\n"
	}
	return h.doRaw("GET " + target + " HTTP/1.1\r\nHost: example.test\r\n" + extra + "Connection: close\r\n\r\n")
}

// TestPathNormalizationBeforeRouting runs requests through a proxy
// configured like envoy/envoy.yaml: the route is picked from, the processor
// sees, and the router rewrites the normalised :path; rejected paths are
// answered by the connection manager before any filter or route.
func TestPathNormalizationBeforeRouting(t *testing.T) {
	for _, c := range []struct {
		name, target string
		// route and processorPath are the route the request took and the
		// :path the processor saw ("" route: no exchange with the processor,
		// rejected by the connection manager).
		route, processorPath, upstreamPath, originalPath string
	}{
		{"dot-dot into another persona", "/p/a/../b/mcp", "persona-b", "/p/b/mcp", "/mcp", "/p/b/mcp"},
		{"escaped dot-dot", "/p/a/%2e%2E/b/mcp", "persona-b", "/p/b/mcp", "/mcp", "/p/b/mcp"},
		{"dot segments and an escaped unreserved character", "/p/./a/x/../mc%70", "persona-a", "/p/a/mcp", "/mcp", "/p/a/mcp"},
		{"backslash dot-dot", `/p/a/..\b/mcp`, "persona-b", "/p/b/mcp", "/mcp", "/p/b/mcp"},
		{"merged slashes", "//p//a///mcp", "persona-a", "/p/a/mcp", "/mcp", "/p/a/mcp"},
		{"dot-dot parameters", "/p/b/..;x=1/a/mcp", "persona-a", "/p/a/mcp", "/mcp", "/p/a/mcp"},
		{"query untouched", "/p/a/./mcp/?q=/../%2F//x", "persona-a", "/p/a/mcp/?q=/../%2F//x", "/mcp/", "/p/a/mcp/"},
		{"above the root", "/../../p/a/mcp", "persona-a", "/p/a/mcp", "/mcp", "/p/a/mcp"},
		{"dot-dot out of the persona", "/p/a/mcp/../../b", "default-deny", "/p/b", "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, harnessOptions{routes: personaRoutes(), connMgr: envoyYAMLPaths(), script: func(s *procStream) error {
				m := s.expect("request_headers")
				if got := headerValue(m.GetRequestHeaders().GetHeaders(), ":path"); got != c.processorPath {
					s.t.Errorf(":path sent to the processor = %q, want %q", got, c.processorPath)
				}
				if got := m.GetAttributes()[attributesKey].GetFields()["request.path"].GetStringValue(); got != c.processorPath {
					s.t.Errorf("request.path attribute = %q, want %q", got, c.processorPath)
				}
				s.send(requestHeadersReply(nil))
				return continueAll(s)
			}, filter: pathAttributeFilter()})
			res := rawGet(h, c.target)
			r := h.result()
			if r.RouteName != c.route || r.Path != c.target {
				t.Errorf("result route %q path %q, want route %q path %q", r.RouteName, r.Path, c.route, c.target)
			}
			if c.upstreamPath == "" {
				expectStatus(t, res, 404)
				expectNoUpstream(t, h)
				return
			}
			expectStatus(t, res, 200)
			up := oneUpstream(t, h)
			if got := up.Path + query(up.RawQuery); got != c.upstreamPath+query(queryOf(c.processorPath)) {
				t.Errorf("upstream path %q, want %q", got, c.upstreamPath+query(queryOf(c.processorPath)))
			}
			if got := up.Header.Get("X-Envoy-Original-Path"); got != c.originalPath+query(queryOf(c.processorPath)) {
				t.Errorf("x-envoy-original-path = %q, want %q", got, c.originalPath)
			}
		})
	}
}

// pathAttributeFilter is baseFilter sending the request.path attribute.
func pathAttributeFilter() *filterv3.ExternalProcessor {
	f := baseFilter()
	f.RequestAttributes = []string{"request.path"}
	return f
}

func query(q string) string {
	if q == "" {
		return ""
	}
	return "?" + q
}

func queryOf(path string) string {
	_, q := splitQuery(path)
	return strings.TrimPrefix(q, "?")
}

// TestPathRejectedByConnectionManager: the connection manager answers these
// requests itself, before routing and before the ext_proc filter (no stream
// is opened, nothing reaches the upstream), with Envoy's status, details and
// counters.
func TestPathRejectedByConnectionManager(t *testing.T) {
	for _, c := range []struct {
		name    string
		connMgr *hcmv3.HttpConnectionManager
		target  string
		header  []string
		status  int
		details string
		// location is the redirect's Location header.
		location string
		stats    Stats
	}{
		{name: "escaped slash, REJECT_REQUEST", connMgr: envoyYAMLPaths(), target: "/p/a%2Fmcp",
			status: 400, details: "path_normalization_failed", stats: Stats{FailedPathNormalization: 1}},
		{name: "escaped backslash, REJECT_REQUEST", connMgr: envoyYAMLPaths(), target: "/p/a/mcp%5c..%5C..%5Cb/mcp",
			status: 400, details: "path_normalization_failed", stats: Stats{FailedPathNormalization: 1}},
		{name: "escaped NUL", connMgr: envoyYAMLPaths(), target: "/p/a/mcp%00",
			status: 400, details: "path_normalization_failed", stats: Stats{FailedPathNormalization: 1}},
		{name: "fragment, default configuration", target: "/p/a/mcp#x",
			status: 400, details: "path_normalization_failed", stats: Stats{FailedPathNormalization: 1}},
		{name: "asterisk form", target: "*",
			status: 404, details: "absolute_path_rejected", stats: Stats{NonRelativePath: 1}},
		{name: "UNESCAPE_AND_REDIRECT", target: "/p/a%2F..%2Fb%2fmcp?q=%2F",
			connMgr: &hcmv3.HttpConnectionManager{NormalizePath: wrapperspb.Bool(true), PathWithEscapedSlashesAction: unescapeAndRedirect},
			status:  307, details: "path_normalization_failed", location: "/p/b/mcp?q=%2F",
			stats: Stats{RedirectedWithNormalizedPath: 1}},
		{name: "UNESCAPE_AND_REDIRECT, gRPC", target: "/p/a%2Fmcp", header: []string{"Content-Type: application/grpc+proto"},
			connMgr: &hcmv3.HttpConnectionManager{PathWithEscapedSlashesAction: unescapeAndRedirect},
			status:  400, details: "path_normalization_failed", stats: Stats{FailedPathNormalization: 1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, harnessOptions{routes: personaRoutes(), connMgr: c.connMgr, script: continueAll})
			res := rawGet(h, c.target, c.header...)
			expectStatus(t, res, c.status)
			if res.body != "" || res.header.Get("Location") != c.location {
				t.Errorf("body %q, Location %q; want none, %q", res.body, res.header.Get("Location"), c.location)
			}
			if r := h.result(); !r.LocalReply || r.Details != c.details || r.RouteName != "" {
				t.Errorf("result = %+v, want a local reply with details %s and no route", r, c.details)
			}
			expectNoUpstream(t, h)
			if n := h.proc.streamCount(); n != 0 {
				t.Errorf("%d ext_proc streams opened, want none", n)
			}
			st := h.proxy.Stats()
			got := Stats{NonRelativePath: st.NonRelativePath, FailedPathNormalization: st.FailedPathNormalization,
				RedirectedWithNormalizedPath: st.RedirectedWithNormalizedPath}
			if got != c.stats || st.LocalReplies != 1 || st.NoRoute != 0 {
				t.Errorf("stats = %+v", st)
			}
		})
	}
}

// TestPathGrpcContentType mirrors Grpc::Common::hasGrpcContentType, which
// turns a redirect into a 400.
func TestPathGrpcContentType(t *testing.T) {
	for ct, want := range map[string]bool{
		"application/grpc": true, "application/grpc+proto": true, "application/grpc-web": false,
		"application/grpc;x": false, "application/json": false, "": false,
	} {
		h := &headerMap{}
		if ct != "" {
			h.add("content-type", ct)
		}
		if got := hasGrpcContentType(h); got != want {
			t.Errorf("%q: %v, want %v", ct, got, want)
		}
	}
}

// TestPathNotNormalizedByDefault: without path settings (Envoy's defaults)
// the route and the processor get :path as the client sent it.
func TestPathNotNormalizedByDefault(t *testing.T) {
	h := newHarness(t, harnessOptions{routes: personaRoutes(), script: func(s *procStream) error {
		m := s.expect("request_headers")
		if got := headerValue(m.GetRequestHeaders().GetHeaders(), ":path"); got != "//p/a/../b/mcp|%2F" {
			s.t.Errorf(":path = %q", got)
		}
		s.send(requestHeadersReply(nil))
		return continueAll(s)
	}})
	res := rawGet(h, "//p/a/../b/mcp|%2F")
	expectStatus(t, res, http.StatusNotFound)
	if r := h.result(); r.RouteName != "default-deny" {
		t.Errorf("route = %q", r.RouteName)
	}
}
