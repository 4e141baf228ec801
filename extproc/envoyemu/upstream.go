package envoyemu

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// upstreamBody is the request body to send upstream; a nil r means none.
// trailer, when not nil, becomes the upstream request's Trailer: it is empty
// when the request starts and filled as r reaches its end (see requestBody).
type upstreamBody struct {
	r       io.Reader
	trailer http.Header
}

func bytesBody(b []byte) upstreamBody { return upstreamBody{r: bytes.NewReader(b)} }

// forward sends the processed request upstream. ok is false when a local
// reply was sent instead of a response arriving.
func (ex *exchange) forward(body upstreamBody) (resp *http.Response, ok bool) {
	fa, ok := ex.routeRequest()
	if !ok {
		return nil, false
	}
	ctx, cancel := context.WithCancel(ex.ctx)
	ex.onFinish(cancel)
	// A local reply decided while the upstream is busy (e.g. an
	// ImmediateResponse to a STREAMED request chunk) aborts the upstream
	// request, as Envoy resets it.
	go func() {
		select {
		case <-ex.done:
			if ex.pendingReply() != nil {
				cancel()
			}
		case <-ctx.Done():
		}
	}()

	out, err := ex.upstreamRequest(ctx, fa, body)
	if err != nil {
		ex.writeLocalReply(&localReply{
			status:  http.StatusBadRequest,
			body:    []byte("Bad Request"),
			details: "envoyemu_invalid_upstream_request",
		})
		return nil, false
	}
	resp, err = ex.p.transport.RoundTrip(out)
	if resp != nil {
		ex.onFinish(func() { _ = resp.Body.Close() })
	}
	if lr := ex.pendingReply(); lr != nil {
		ex.writeLocalReply(lr)
		return nil, false
	}
	if err != nil {
		if ex.ctx.Err() != nil {
			return nil, false // the downstream request went away
		}
		ex.writeLocalReply(&localReply{
			status:  http.StatusServiceUnavailable,
			body:    []byte("upstream connect error or disconnect/reset before headers. reset reason: connection failure"),
			details: "upstream_reset_before_response_started{connection_failure}",
		})
		return nil, false
	}
	return resp, true
}

// upstreamRequest builds the upstream request from the processed request
// headers. With a route (fa not nil) it goes to the route's cluster with
// :path and :authority as they are, as Envoy's router sends them; without a
// route table it follows httputil.ReverseProxy SetURL semantics: scheme and
// host from Config.Upstream, paths joined, queries merged, Host rewritten.
func (ex *exchange) upstreamRequest(ctx context.Context, fa *forwardAction, body upstreamBody) (*http.Request, error) {
	h := ex.reqHeaders
	method, _ := h.get(":method")
	path, _ := h.get(":path")
	reqURL, err := url.ParseRequestURI(path)
	if err != nil {
		return nil, err
	}
	u := ex.upstreamURL(fa, reqURL)
	host := u.Host
	if fa != nil {
		host, _ = h.get(":authority")
	}

	hdr := h.httpHeader()
	hdr.Del("Host")
	hdr.Del("Content-Length")
	if _, ok := hdr["User-Agent"]; !ok {
		hdr["User-Agent"] = []string{""} // keep Go from adding its own
	}
	out := &http.Request{
		Method:     method,
		URL:        &u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     hdr,
		Host:       host,
		Trailer:    body.trailer,
	}
	cl := h.contentLength()
	switch {
	case body.r == nil:
		out.ContentLength = 0
	case cl == 0:
		out.Body, out.ContentLength = http.NoBody, 0
	case cl > 0:
		out.Body, out.ContentLength = io.NopCloser(body.r), cl
	default:
		out.Body, out.ContentLength = io.NopCloser(body.r), -1
	}
	if rc, ok := body.r.(io.ReadCloser); ok && out.Body != http.NoBody && out.Body != nil {
		out.Body = rc
	}
	return out.WithContext(ctx), nil
}

// joinURLPath joins the upstream path and the request path like
// httputil.ReverseProxy does.
func joinURLPath(a, b *url.URL) (path, rawpath string) {
	if a.RawPath == "" && b.RawPath == "" {
		return singleJoiningSlash(a.Path, b.Path), ""
	}
	apath := a.EscapedPath()
	bpath := b.EscapedPath()
	aslash := strings.HasSuffix(apath, "/")
	bslash := strings.HasPrefix(bpath, "/")
	switch {
	case aslash && bslash:
		return a.Path + b.Path[1:], apath + bpath[1:]
	case !aslash && !bslash:
		return a.Path + "/" + b.Path, apath + "/" + bpath
	}
	return a.Path + b.Path, apath + bpath
}

func singleJoiningSlash(a, b string) string {
	aslash := strings.HasSuffix(a, "/")
	bslash := strings.HasPrefix(b, "/")
	switch {
	case aslash && bslash:
		return a + b[1:]
	case !aslash && !bslash:
		return a + "/" + b
	}
	return a + b
}
