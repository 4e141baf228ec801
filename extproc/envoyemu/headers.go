package envoyemu

import (
	"net/http"
	"sort"
	"strconv"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
)

// headerEntry is one header line; keys are lower-case.
type headerEntry struct {
	key, value string
}

// headerMap is an ordered, multi-valued header map like Envoy's HeaderMap:
// pseudo-headers are ordinary entries, and every value of a repeated header
// is its own entry.
type headerMap struct {
	entries []headerEntry
}

// get returns the first value of key.
func (h *headerMap) get(key string) (string, bool) {
	for _, e := range h.entries {
		if e.key == key {
			return e.value, true
		}
	}
	return "", false
}

// values returns every value of key in order.
func (h *headerMap) values(key string) []string {
	var out []string
	for _, e := range h.entries {
		if e.key == key {
			out = append(out, e.value)
		}
	}
	return out
}

func (h *headerMap) has(key string) bool {
	_, ok := h.get(key)
	return ok
}

// add appends an entry.
func (h *headerMap) add(key, value string) {
	h.entries = append(h.entries, headerEntry{key: key, value: value})
}

// set overwrites: the first entry of key takes value, the others go; a
// missing key is appended.
func (h *headerMap) set(key, value string) {
	out := h.entries[:0]
	found := false
	for _, e := range h.entries {
		if e.key != key {
			out = append(out, e)
			continue
		}
		if !found {
			found = true
			out = append(out, headerEntry{key: key, value: value})
		}
	}
	h.entries = out
	if !found {
		h.add(key, value)
	}
}

// remove deletes every entry of key.
func (h *headerMap) remove(key string) {
	out := h.entries[:0]
	for _, e := range h.entries {
		if e.key != key {
			out = append(out, e)
		}
	}
	h.entries = out
}

// byteSize is the sum of key and value lengths, as Envoy's byteSize.
func (h *headerMap) byteSize() int {
	n := 0
	for _, e := range h.entries {
		n += len(e.key) + len(e.value)
	}
	return n
}

// toProto renders the entries allowed by fwd with values in raw_value.
func (h *headerMap) toProto(fwd *headerForwarder) *corev3.HeaderMap {
	out := &corev3.HeaderMap{}
	for _, e := range h.entries {
		if !fwd.canForward(e.key) {
			continue
		}
		out.Headers = append(out.Headers, &corev3.HeaderValue{Key: e.key, RawValue: []byte(e.value)})
	}
	return out
}

// httpHeader renders the regular (non-pseudo) entries as an http.Header.
func (h *headerMap) httpHeader() http.Header {
	out := make(http.Header, len(h.entries))
	for _, e := range h.entries {
		if isPseudo(e.key) {
			continue
		}
		k := http.CanonicalHeaderKey(e.key)
		out[k] = append(out[k], e.value)
	}
	return out
}

// contentLength returns the parsed content-length, or -1 when absent or
// unparsable.
func (h *headerMap) contentLength() int64 {
	v, ok := h.get("content-length")
	if !ok {
		return -1
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return -1
	}
	return n
}

func isPseudo(key string) bool { return strings.HasPrefix(key, ":") }

// hopByHop are connection-specific headers a proxy never forwards.
var hopByHop = []string{
	"connection", "proxy-connection", "keep-alive", "transfer-encoding", "upgrade", "te", "trailer",
}

// appendRegular appends the headers of hdr, minus hop-by-hop ones, with
// lower-case keys in sorted key order (Go maps have no order to preserve).
func (h *headerMap) appendRegular(hdr http.Header) {
	skip := map[string]bool{}
	for _, k := range hopByHop {
		skip[k] = true
	}
	for _, v := range hdr.Values("Connection") {
		for _, token := range strings.Split(v, ",") {
			if t := strings.ToLower(strings.TrimSpace(token)); t != "" {
				skip[t] = true
			}
		}
	}
	keys := make([]string, 0, len(hdr))
	for k := range hdr {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		lk := strings.ToLower(k)
		if skip[lk] || isPseudo(lk) || lk == "host" {
			continue
		}
		for _, v := range hdr[k] {
			h.add(lk, v)
		}
	}
}

// requestPath is :path as Envoy's codecs give it to the connection manager:
// the request target as the client sent it (Go's RequestURI), not Go's
// re-encoding of it (r.URL.RequestURI() escapes what Go would, e.g. '#' or
// '|'). An absolute-form HTTP/1 target ("GET http://host/p HTTP/1.1"), whose
// path and query Envoy's codec keeps (allow_absolute_url), and "*" take
// Go's parsed form.
func requestPath(r *http.Request) string {
	if strings.HasPrefix(r.RequestURI, "/") {
		return r.RequestURI
	}
	return r.URL.RequestURI()
}

// requestHeaderMap builds the request headers as Envoy's filters see them:
// pseudo-headers first, then the request's headers, then what the connection
// manager adds (x-forwarded-for, x-forwarded-proto, x-request-id).
func requestHeaderMap(r *http.Request, newRequestID func() string) *headerMap {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	h := &headerMap{}
	h.add(":method", r.Method)
	h.add(":path", requestPath(r))
	h.add(":scheme", scheme)
	h.add(":authority", r.Host)
	h.appendRegular(r.Header)
	if ip := clientIP(r); ip != "" {
		if prior := h.values("x-forwarded-for"); len(prior) > 0 {
			h.set("x-forwarded-for", strings.Join(append(prior, ip), ", "))
		} else {
			h.add("x-forwarded-for", ip)
		}
	}
	h.set("x-forwarded-proto", scheme)
	if !h.has("x-request-id") {
		h.add("x-request-id", newRequestID())
	}
	return h
}

// responseHeaderMap builds the response headers: :status, then the response's
// headers minus hop-by-hop ones.
func responseHeaderMap(resp *http.Response) *headerMap {
	h := &headerMap{}
	h.add(":status", strconv.Itoa(resp.StatusCode))
	h.appendRegular(resp.Header)
	return h
}

// clientIP is the host part of the request's remote address.
func clientIP(r *http.Request) string {
	addr := r.RemoteAddr
	if i := strings.LastIndexByte(addr, ':'); i >= 0 {
		addr = addr[:i]
	}
	return strings.TrimSuffix(strings.TrimPrefix(addr, "["), "]")
}
