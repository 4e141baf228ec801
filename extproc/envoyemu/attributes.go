package envoyemu

import (
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"

	structpb "google.golang.org/protobuf/types/known/structpb"
)

// attributesKey is the ProcessingRequest.attributes key Envoy uses.
const attributesKey = "envoy.filters.http.ext_proc"

// SupportedAttributes lists the request_attributes/response_attributes names
// the emulation can evaluate. Envoy evaluates any CEL expression; names
// outside this list are treated like unavailable attributes: omitted.
func SupportedAttributes() []string { return slices.Clone(supportedAttributes) }

var supportedAttributes = []string{
	"source.address", "source.port", "destination.address", "destination.port",
	"request.path", "request.url_path", "request.host", "request.scheme", "request.method",
	"request.headers", "request.referer", "request.useragent", "request.id", "request.protocol",
	"response.code", "response.headers",
	"xds.route_name",
}

// attributesLocked returns the attributes for d's first message, nil after
// that or when none are configured (Envoy's addAttributes).
func (ex *exchange) attributesLocked(d *direction) map[string]*structpb.Struct {
	names := ex.p.s.responseAttributes
	if d.isRequest() {
		names = ex.p.s.requestAttributes
	}
	if len(names) == 0 || d.sentAttributes {
		return nil
	}
	d.sentAttributes = true
	fields := map[string]*structpb.Value{}
	for _, name := range names {
		if v, ok := ex.attribute(name); ok {
			fields[name] = v
		}
	}
	return map[string]*structpb.Struct{attributesKey: {Fields: fields}}
}

// attribute evaluates one attribute; ok is false when it is unavailable.
func (ex *exchange) attribute(name string) (*structpb.Value, bool) {
	str := func(s string, ok bool) (*structpb.Value, bool) {
		if !ok {
			return nil, false
		}
		return structpb.NewStringValue(s), true
	}
	req := ex.reqHeaders
	switch name {
	case "source.address":
		return str(ex.r.RemoteAddr, ex.r.RemoteAddr != "")
	case "source.port":
		return port(ex.r.RemoteAddr)
	case "destination.address":
		addr, ok := ex.r.Context().Value(http.LocalAddrContextKey).(net.Addr)
		if !ok {
			return nil, false
		}
		return structpb.NewStringValue(addr.String()), true
	case "destination.port":
		addr, ok := ex.r.Context().Value(http.LocalAddrContextKey).(net.Addr)
		if !ok {
			return nil, false
		}
		return port(addr.String())
	case "request.path":
		return str(req.get(":path"))
	case "request.url_path":
		p, ok := req.get(":path")
		if i := strings.IndexByte(p, '?'); i >= 0 {
			p = p[:i]
		}
		return str(p, ok)
	case "request.host":
		return str(req.get(":authority"))
	case "request.scheme":
		return str(req.get(":scheme"))
	case "request.method":
		return str(req.get(":method"))
	case "request.headers":
		return headersValue(req), true
	case "request.referer":
		return str(req.get("referer"))
	case "request.useragent":
		return str(req.get("user-agent"))
	case "request.id":
		return str(req.get("x-request-id"))
	case "request.protocol":
		return str(ex.r.Proto, true)
	case "response.code":
		if ex.respHeaders == nil {
			return nil, false
		}
		code, ok := ex.respHeaders.get(":status")
		n, err := strconv.Atoi(code)
		if !ok || err != nil {
			return nil, false
		}
		return structpb.NewNumberValue(float64(n)), true
	case "response.headers":
		if ex.respHeaders == nil {
			return nil, false
		}
		return headersValue(ex.respHeaders), true
	case "xds.route_name":
		return str(ex.routeName, ex.routeName != "")
	}
	return nil, false
}

func port(hostport string) (*structpb.Value, bool) {
	_, p, err := net.SplitHostPort(hostport)
	if err != nil {
		return nil, false
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		return nil, false
	}
	return structpb.NewNumberValue(float64(n)), true
}

// headersValue renders a header map as a CEL map value: repeated headers are
// joined with commas.
func headersValue(h *headerMap) *structpb.Value {
	fields := map[string]*structpb.Value{}
	for _, e := range h.entries {
		if prior, ok := fields[e.key]; ok {
			fields[e.key] = structpb.NewStringValue(prior.GetStringValue() + "," + e.value)
			continue
		}
		fields[e.key] = structpb.NewStringValue(e.value)
	}
	return structpb.NewStructValue(&structpb.Struct{Fields: fields})
}
