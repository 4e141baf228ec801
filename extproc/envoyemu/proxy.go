package envoyemu

import (
	"crypto/rand"
	"fmt"
	"maps"
	"net/http"
	"net/url"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
)

// Proxy is an http.Handler that runs every request through the emulated
// ext_proc filter and forwards it to the upstream. It is safe for concurrent
// use.
type Proxy struct {
	s         settings
	client    extprocv3.ExternalProcessorClient
	clients   map[string]extprocv3.ExternalProcessorClient
	upstream  *url.URL
	transport http.RoundTripper
	observer  func(Result)
	stats     counters
}

// New validates cfg and returns a Proxy. All configuration problems are
// reported together.
func New(cfg Config) (*Proxy, error) {
	s, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	transport := cfg.Transport
	if transport == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.DisableCompression = true
		transport = t
	}
	var upstream *url.URL
	if cfg.Upstream != nil {
		u := *cfg.Upstream
		upstream = &u
	}
	return &Proxy{
		s:         s,
		client:    cfg.Client,
		clients:   maps.Clone(cfg.GrpcClients),
		upstream:  upstream,
		transport: transport,
		observer:  cfg.Observer,
	}, nil
}

// Stats returns a snapshot of the proxy's counters.
func (p *Proxy) Stats() Stats { return p.stats.snapshot() }

// ServeHTTP proxies one request, playing Envoy's ext_proc client.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Like Envoy, read the request body while the response is being written.
	// Without this, Go's HTTP/1 server drains and closes the request body as
	// soon as response headers go out, under the upstream's feet. HTTP/2 is
	// always full duplex and reports ErrNotSupported. The body is then the
	// exchange's to settle before ServeHTTP returns (see downstream.go).
	_ = http.NewResponseController(w).EnableFullDuplex()
	ex := newExchange(p, w, r)
	defer ex.finish()
	ex.run()
}

// newRequestID returns a random (version 4) UUID, as Envoy's request-id
// extension generates.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
