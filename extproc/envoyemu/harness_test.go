package envoyemu

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	filterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/test/bufconn"
	durationpb "google.golang.org/protobuf/types/known/durationpb"
	wrapperspb "google.golang.org/protobuf/types/known/wrapperspb"
)

// waitTimeout bounds every wait in the tests.
const waitTimeout = 10 * time.Second

// procServer is an in-process ext_proc server whose behaviour each test
// scripts; it records every stream.
type procServer struct {
	extprocv3.UnimplementedExternalProcessorServer
	t      *testing.T
	script func(s *procStream) error

	mu      sync.Mutex
	streams []*procStream
	opened  chan struct{}
}

func (p *procServer) Process(stream extprocv3.ExternalProcessor_ProcessServer) error {
	md, _ := metadata.FromIncomingContext(stream.Context())
	s := &procStream{t: p.t, grpc: stream, md: md, done: make(chan struct{})}
	p.mu.Lock()
	p.streams = append(p.streams, s)
	p.mu.Unlock()
	p.opened <- struct{}{}
	defer close(s.done)
	return p.script(s)
}

// stream waits for the i-th stream to have been opened and for its script to
// have returned.
func (p *procServer) stream(t *testing.T, i int) *procStream {
	t.Helper()
	deadline := time.After(waitTimeout)
	for {
		p.mu.Lock()
		n := len(p.streams)
		p.mu.Unlock()
		if n > i {
			break
		}
		select {
		case <-p.opened:
		case <-deadline:
			t.Fatalf("ext_proc stream %d never opened", i)
		}
	}
	p.mu.Lock()
	s := p.streams[i]
	p.mu.Unlock()
	select {
	case <-s.done:
	case <-time.After(waitTimeout):
		t.Fatalf("ext_proc stream %d never ended", i)
	}
	return s
}

func (p *procServer) streamCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.streams)
}

// procStream is the server side of one Process stream.
type procStream struct {
	t    *testing.T
	grpc extprocv3.ExternalProcessor_ProcessServer
	md   metadata.MD // the stream's initial metadata
	done chan struct{}

	mu   sync.Mutex
	msgs []*extprocv3.ProcessingRequest
	end  error // the error that ended receiving: io.EOF or the cancellation
}

// recv returns the next message, or nil once the client ended the stream.
func (s *procStream) recv() *extprocv3.ProcessingRequest {
	m, err := s.grpc.Recv()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.end = err
		return nil
	}
	s.msgs = append(s.msgs, m)
	return m
}

// expect receives the next message and checks its kind.
func (s *procStream) expect(kind string) *extprocv3.ProcessingRequest {
	m := s.recv()
	if m == nil {
		s.t.Errorf("ext_proc server: stream ended, want a %s message", kind)
		return nil
	}
	if got := msgKind(m); got != kind {
		s.t.Errorf("ext_proc server: got %s, want %s", describe(m), kind)
	}
	return m
}

func (s *procStream) send(r *extprocv3.ProcessingResponse) {
	if err := s.grpc.Send(r); err != nil {
		s.t.Logf("ext_proc server: send: %v", err)
	}
}

// drain receives until the client ends the stream.
func (s *procStream) drain() {
	for s.recv() != nil {
	}
}

func (s *procStream) messages() []*extprocv3.ProcessingRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*extprocv3.ProcessingRequest(nil), s.msgs...)
}

func (s *procStream) endErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.end
}

// seenRequest is what the upstream received.
type seenRequest struct {
	Method, Path, RawQuery, Host string
	Header                       http.Header
	Body                         string
	ContentLength                int64
	TransferEncoding             []string
	Trailer                      http.Header
}

// harness wires downstream client -> Proxy -> upstream, with the Proxy
// talking to a procServer over an in-memory gRPC connection.
type harness struct {
	t        *testing.T
	proxy    *Proxy
	front    *httptest.Server
	upstream *httptest.Server
	proc     *procServer
	proc1    *procServer // ext_proc_server_1, when harnessOptions.script1 is set
	client   *http.Client
	results  chan Result

	mu   sync.Mutex
	seen []seenRequest
}

type harnessOptions struct {
	filter      *filterv3.ExternalProcessor
	bufferLimit int
	routeName   string
	http2       bool             // serve the proxy over TLS with HTTP/2
	upstream    http.HandlerFunc // after the request was recorded; nil: defaultUpstream
	// rawUpstream, when set, replaces upstream and sees the request as it
	// arrives (nothing is recorded).
	rawUpstream http.HandlerFunc
	script      func(s *procStream) error
	// routes, when set, is the RouteConfig; its routes reach the upstream as
	// cluster "cluster_0". Config.Upstream is then unset. The processors are
	// "ext_proc_server_0" (the filter's, script) and, when script1 is set,
	// "ext_proc_server_1" in GrpcClients.
	routes  *routev3.RouteConfiguration
	script1 func(s *procStream) error
	// connMgr is Config.ConnectionManager.
	connMgr *hcmv3.HttpConnectionManager
}

const upstreamText = "hello from upstream"

func defaultUpstream(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	_, _ = io.WriteString(w, upstreamText)
}

func newHarness(t *testing.T, o harnessOptions) *harness {
	t.Helper()
	h := &harness{t: t, results: make(chan Result, 16)}

	up := o.upstream
	if up == nil {
		up = defaultUpstream
	}
	record := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.seen = append(h.seen, seenRequest{
			Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Host: r.Host,
			Header: r.Header.Clone(), Body: string(body),
			ContentLength: r.ContentLength, TransferEncoding: r.TransferEncoding,
			Trailer: r.Trailer.Clone(),
		})
		h.mu.Unlock()
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		up(w, r)
	})
	if o.rawUpstream != nil {
		record = o.rawUpstream
	}
	h.upstream = httptest.NewServer(record)
	t.Cleanup(h.upstream.Close)

	var conn grpc.ClientConnInterface
	h.proc, conn = startProcServer(t, o.script)
	clients := map[string]extprocv3.ExternalProcessorClient{
		"ext_proc_server_0": extprocv3.NewExternalProcessorClient(conn),
	}
	if o.script1 != nil {
		h.proc1, conn = startProcServer(t, o.script1)
		clients["ext_proc_server_1"] = extprocv3.NewExternalProcessorClient(conn)
	}

	filter := o.filter
	if filter == nil {
		filter = baseFilter()
	}
	upURL, _ := url.Parse(h.upstream.URL)
	cfg := Config{
		Filter:      filter,
		Client:      clients["ext_proc_server_0"],
		Upstream:    upURL,
		BufferLimit: o.bufferLimit,
		RouteName:   o.routeName,
		Observer:    func(r Result) { h.results <- r },

		ConnectionManager: o.connMgr,
	}
	if o.routes != nil {
		cfg.Upstream = nil
		cfg.RouteConfig = o.routes
		cfg.Clusters = map[string]*url.URL{"cluster_0": upURL}
		cfg.GrpcClients = clients
	}
	var err error
	h.proxy, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if o.http2 {
		h.front = httptest.NewUnstartedServer(h.proxy)
		h.front.EnableHTTP2 = true
		h.front.StartTLS()
		h.client = h.front.Client()
		h.client.Transport.(*http.Transport).DisableCompression = true
	} else {
		h.front = httptest.NewServer(h.proxy)
		h.client = &http.Client{Transport: &http.Transport{DisableCompression: true}}
	}
	t.Cleanup(h.front.Close)
	t.Cleanup(h.client.CloseIdleConnections)
	return h
}

// startProcServer serves a procServer running script on an in-memory gRPC
// connection.
func startProcServer(t *testing.T, script func(s *procStream) error) (*procServer, *grpc.ClientConn) {
	t.Helper()
	p := &procServer{t: t, script: script, opened: make(chan struct{}, 64)}
	lis := bufconn.Listen(1 << 20)
	srv := grpc.NewServer()
	extprocv3.RegisterExternalProcessorServer(srv, p)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient("passthrough:///bufconn",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return p, conn
}

// baseFilter is Envoy's default filter config with a generous message timeout.
func baseFilter() *filterv3.ExternalProcessor {
	return &filterv3.ExternalProcessor{MessageTimeout: durationpb.New(waitTimeout)}
}

// response is what the downstream client got.
type response struct {
	status           int
	header           http.Header
	body             string
	bodyErr          error
	contentLength    int64
	transferEncoding []string
	trailer          http.Header
}

// newRequest builds a downstream request without Go's default User-Agent.
func (h *harness) newRequest(method, path, body string) *http.Request {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, h.front.URL+path, r)
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("User-Agent", "")
	return req
}

func (h *harness) do(req *http.Request) response {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	resp, err := h.client.Do(req.WithContext(ctx))
	if err != nil {
		h.t.Fatalf("downstream request: %v", err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	return response{
		status: resp.StatusCode, header: resp.Header, body: string(body), bodyErr: err,
		contentLength: resp.ContentLength, transferEncoding: resp.TransferEncoding, trailer: resp.Trailer,
	}
}

// doRaw writes a raw HTTP/1.1 request (to control framing exactly).
func (h *harness) doRaw(raw string) response {
	h.t.Helper()
	conn, err := net.DialTimeout("tcp", h.front.Listener.Addr().String(), waitTimeout)
	if err != nil {
		h.t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	_ = conn.SetDeadline(time.Now().Add(waitTimeout))
	if _, err := io.WriteString(conn, raw); err != nil {
		h.t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		h.t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: string(body), bodyErr: err,
		contentLength: resp.ContentLength, transferEncoding: resp.TransferEncoding, trailer: resp.Trailer}
}

func (h *harness) upstreamRequests() []seenRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]seenRequest(nil), h.seen...)
}

// result waits for the Observer report of the (single) exchange.
func (h *harness) result() Result {
	h.t.Helper()
	select {
	case r := <-h.results:
		return r
	case <-time.After(waitTimeout):
		h.t.Fatal("no Result reported")
		return Result{}
	}
}

// msgKind names a message's oneof.
func msgKind(m *extprocv3.ProcessingRequest) string {
	switch m.GetRequest().(type) {
	case *extprocv3.ProcessingRequest_RequestHeaders:
		return "request_headers"
	case *extprocv3.ProcessingRequest_ResponseHeaders:
		return "response_headers"
	case *extprocv3.ProcessingRequest_RequestBody:
		return "request_body"
	case *extprocv3.ProcessingRequest_ResponseBody:
		return "response_body"
	case *extprocv3.ProcessingRequest_RequestTrailers:
		return "request_trailers"
	case *extprocv3.ProcessingRequest_ResponseTrailers:
		return "response_trailers"
	}
	return "unknown"
}

// describe renders a message compactly: kind, body (or its size) and eos.
func describe(m *extprocv3.ProcessingRequest) string {
	switch r := m.GetRequest().(type) {
	case *extprocv3.ProcessingRequest_RequestHeaders:
		return fmt.Sprintf("request_headers(eos=%t)", r.RequestHeaders.GetEndOfStream())
	case *extprocv3.ProcessingRequest_ResponseHeaders:
		return fmt.Sprintf("response_headers(eos=%t)", r.ResponseHeaders.GetEndOfStream())
	case *extprocv3.ProcessingRequest_RequestBody:
		return fmt.Sprintf("request_body(%s,eos=%t)", bodyDesc(r.RequestBody.GetBody()), r.RequestBody.GetEndOfStream())
	case *extprocv3.ProcessingRequest_ResponseBody:
		return fmt.Sprintf("response_body(%s,eos=%t)", bodyDesc(r.ResponseBody.GetBody()), r.ResponseBody.GetEndOfStream())
	case *extprocv3.ProcessingRequest_RequestTrailers:
		return fmt.Sprintf("request_trailers%q", headerPairs(r.RequestTrailers.GetTrailers()))
	case *extprocv3.ProcessingRequest_ResponseTrailers:
		return fmt.Sprintf("response_trailers%q", headerPairs(r.ResponseTrailers.GetTrailers()))
	}
	return msgKind(m)
}

func bodyDesc(b []byte) string {
	if len(b) > 40 {
		return fmt.Sprintf("%dB", len(b))
	}
	return fmt.Sprintf("%q", b)
}

func describeAll(ms []*extprocv3.ProcessingRequest) []string {
	out := make([]string, 0, len(ms))
	for _, m := range ms {
		out = append(out, describe(m))
	}
	return out
}

// headerPairs lists a header map as key/value pairs, in order.
func headerPairs(hm *corev3.HeaderMap) [][2]string {
	var out [][2]string
	for _, h := range hm.GetHeaders() {
		out = append(out, [2]string{h.GetKey(), string(h.GetRawValue())})
	}
	return out
}

func headerOf(hm *corev3.HeaderMap, key string) (string, bool) {
	for _, h := range hm.GetHeaders() {
		if h.GetKey() == key {
			return string(h.GetRawValue()), true
		}
	}
	return "", false
}

// Reply builders.

func setHeader(key, value string) *corev3.HeaderValueOption {
	return &corev3.HeaderValueOption{Header: &corev3.HeaderValue{Key: key, RawValue: []byte(value)}}
}

func appendHeader(key, value string) *corev3.HeaderValueOption {
	o := setHeader(key, value)
	o.Append = wrapperspb.Bool(true) //nolint:staticcheck // the field Envoy's ext_proc reads
	return o
}

func headerMutation(set []*corev3.HeaderValueOption, remove ...string) *extprocv3.HeaderMutation {
	return &extprocv3.HeaderMutation{SetHeaders: set, RemoveHeaders: remove}
}

func replaceBody(b string) *extprocv3.BodyMutation {
	return &extprocv3.BodyMutation{Mutation: &extprocv3.BodyMutation_Body{Body: []byte(b)}}
}

func requestHeadersReply(cr *extprocv3.CommonResponse) *extprocv3.ProcessingResponse {
	return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_RequestHeaders{
		RequestHeaders: &extprocv3.HeadersResponse{Response: cr}}}
}

func responseHeadersReply(cr *extprocv3.CommonResponse) *extprocv3.ProcessingResponse {
	return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ResponseHeaders{
		ResponseHeaders: &extprocv3.HeadersResponse{Response: cr}}}
}

func requestBodyReply(cr *extprocv3.CommonResponse) *extprocv3.ProcessingResponse {
	return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_RequestBody{
		RequestBody: &extprocv3.BodyResponse{Response: cr}}}
}

func responseBodyReply(cr *extprocv3.CommonResponse) *extprocv3.ProcessingResponse {
	return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ResponseBody{
		ResponseBody: &extprocv3.BodyResponse{Response: cr}}}
}

func immediateResponse(code typev3.StatusCode, body, details string, headers ...*corev3.HeaderValueOption) *extprocv3.ProcessingResponse {
	ir := &extprocv3.ImmediateResponse{Status: &typev3.HttpStatus{Code: code}, Body: []byte(body), Details: details}
	if len(headers) > 0 {
		ir.Headers = headerMutation(headers)
	}
	return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ImmediateResponse{ImmediateResponse: ir}}
}

// continueAll answers every message with an empty CONTINUE until the end.
func continueAll(s *procStream) error {
	for {
		m := s.recv()
		if m == nil {
			return nil
		}
		if r := continueReply(m); r != nil {
			s.send(r)
		}
	}
}
