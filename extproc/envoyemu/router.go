package envoyemu

import (
	"net/http"
	"net/url"

	filterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
)

// Routing around the ext_proc filter. The connection manager picks the
// route from the request headers before any filter runs; the ext_proc
// filter takes its per-route settings from that route once; a reply that
// clears the route cache makes the router pick the route again from the
// mutated headers; the router then forwards, answers a direct_response, or
// sends 404 when no route matches.

// startRouting picks the request's route from its (connection-manager
// processed) headers and applies the route's ExtProcPerRoute. Without a
// route table the exchange takes the filter configuration as it is.
func (ex *exchange) startRouting() {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	var pr *perRouteConfig
	if t := ex.p.s.routes; t != nil {
		ex.setRouteLocked(t.match(ex.reqHeaders))
		if ex.route != nil {
			pr = t.perRouteOf(ex.route)
		}
	} else {
		ex.routeName = ex.p.s.routeName
	}
	ex.applyPerRoute(pr)
}

func (ex *exchange) setRouteLocked(r *route, matched string) {
	ex.route, ex.matched = r, matched
	ex.routeName = ""
	if r != nil {
		ex.routeName = r.name
	}
}

// clearRouteCache mirrors DecodingProcessorState::clearRouteCache for a
// request-direction reply: only a reply with a header mutation can clear
// the cache, and route_cache_action decides whether it does.
func (ex *exchange) clearRouteCache(d *direction, cr *extprocv3.CommonResponse) {
	if !d.isRequest() {
		return
	}
	asked := cr.GetClearRouteCache()
	if cr.GetHeaderMutation() == nil {
		if asked {
			ex.p.stats.clearRouteCacheIgnored.Add(1)
		}
		return
	}
	switch ex.p.s.routeCacheAction {
	case filterv3.ExternalProcessor_CLEAR:
	case filterv3.ExternalProcessor_RETAIN:
		if asked {
			ex.p.stats.clearRouteCacheDisabled.Add(1)
		}
		return
	default:
		if !asked {
			return
		}
	}
	ex.mu.Lock()
	ex.routeCleared = true
	ex.mu.Unlock()
}

// routeRequest is the router's decodeHeaders, run once the ext_proc filter
// let the request headers go: it picks the route again if the cache was
// cleared, answers with a local reply when no route matches (404, Envoy's
// NR) or the route is a direct_response, and otherwise applies the route's
// prefix_rewrite and host rewrite to the request headers. It returns the
// upstream to forward to; ok is false when a local reply was sent. Without a
// route table every request goes to Config.Upstream.
func (ex *exchange) routeRequest() (fa *forwardAction, ok bool) {
	t := ex.p.s.routes
	if t == nil {
		return nil, true
	}
	ex.mu.Lock()
	if ex.routeCleared {
		ex.routeCleared = false
		ex.setRouteLocked(t.match(ex.reqHeaders))
	}
	r, matched := ex.route, ex.matched
	switch {
	case r == nil:
		ex.mu.Unlock()
		ex.p.stats.noRoute.Add(1)
		ex.writeLocalReply(&localReply{status: http.StatusNotFound, details: "route_not_found"})
		return nil, false
	case r.direct != nil:
		ex.mu.Unlock()
		ex.p.stats.directResponses.Add(1)
		ex.writeLocalReply(&localReply{status: r.direct.status, body: r.direct.body, details: "direct_response"})
		return nil, false
	}
	fa = r.forward
	h := ex.reqHeaders
	if fa.prefixRewrite != "" {
		// finalizePathHeader: the matched length is replaced whatever the
		// path has become since the route was picked.
		path, _ := h.get(":path")
		h.set("x-envoy-original-path", path)
		h.set(":path", fa.prefixRewrite+path[min(len(matched), len(path)):])
	}
	if fa.hostRewrite != "" {
		h.set(":authority", fa.hostRewrite)
	}
	ex.mu.Unlock()
	return fa, true
}

// upstreamURL is where the request goes: with a route table the cluster's
// scheme and host with :path as it is, otherwise Config.Upstream joined with
// :path (httputil.ReverseProxy SetURL semantics).
func (ex *exchange) upstreamURL(fa *forwardAction, reqURL *url.URL) url.URL {
	if fa != nil {
		return url.URL{Scheme: fa.upstream.Scheme, Host: fa.upstream.Host,
			Path: reqURL.Path, RawPath: reqURL.RawPath, RawQuery: reqURL.RawQuery}
	}
	target := ex.p.upstream
	u := *target
	u.Path, u.RawPath = joinURLPath(target, reqURL)
	switch {
	case target.RawQuery == "" || reqURL.RawQuery == "":
		u.RawQuery = target.RawQuery + reqURL.RawQuery
	default:
		u.RawQuery = target.RawQuery + "&" + reqURL.RawQuery
	}
	return u
}
