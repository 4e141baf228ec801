package envoyemu

import (
	"net/url"
	"strings"
	"testing"
	"time"

	mutationrulesv3 "github.com/envoyproxy/go-control-plane/envoy/config/common/mutation_rules/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	filterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	durationpb "google.golang.org/protobuf/types/known/durationpb"
)

func TestNewReportsAllProblems(t *testing.T) {
	_, err := New(Config{BufferLimit: -1})
	if err == nil {
		t.Fatal("New accepted an empty Config")
	}
	for _, want := range []string{"Client is required", "Upstream is required", "Filter is required", "BufferLimit -1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func validConfig() Config {
	u, _ := url.Parse("http://127.0.0.1:1/base")
	return Config{
		Filter:   &filterv3.ExternalProcessor{},
		Client:   extprocv3.NewExternalProcessorClient(nil),
		Upstream: u,
	}
}

func TestNewDefaults(t *testing.T) {
	p, err := New(validConfig())
	if err != nil {
		t.Fatal(err)
	}
	if p.s.messageTimeout != 200*time.Millisecond || p.s.bufferLimit != 1<<20 || p.s.statusOnError != 500 ||
		p.s.maxMessageTimeout != 0 || p.transport == nil ||
		p.s.paths != (pathSettings{escapedSlashes: hcmv3.HttpConnectionManager_KEEP_UNCHANGED}) {
		t.Errorf("defaults: %+v", p.s)
	}
	rm, sm := requestMode(p.s.mode), responseMode(p.s.mode)
	if !rm.sendHeaders || rm.body != filterv3.ProcessingMode_NONE || rm.sendTrailers ||
		!sm.sendHeaders || sm.body != filterv3.ProcessingMode_NONE || sm.sendTrailers {
		t.Errorf("default modes: request %+v response %+v", rm, sm)
	}
}

func TestNewRejects(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(c *Config)
		want   string
	}{
		{"non-http upstream", func(c *Config) { c.Upstream, _ = url.Parse("ftp://host/") }, "absolute http or https URL"},
		{"relative upstream", func(c *Config) { c.Upstream, _ = url.Parse("/path") }, "absolute http or https URL"},
		{"full duplex request without request trailers SEND", func(c *Config) {
			c.Filter.ProcessingMode = &filterv3.ProcessingMode{RequestBodyMode: filterv3.ProcessingMode_FULL_DUPLEX_STREAMED}
		}, "request_body_mode set to FULL_DUPLEX_STREAMED, then the request_trailer_mode has to be set to SEND"},
		{"full duplex response without response trailers SEND", func(c *Config) {
			c.Filter.ProcessingMode = &filterv3.ProcessingMode{ResponseBodyMode: filterv3.ProcessingMode_FULL_DUPLEX_STREAMED}
		}, "response_body_mode set to FULL_DUPLEX_STREAMED, then the response_trailer_mode has to be set to SEND"},
		{"grpc body mode", func(c *Config) {
			c.Filter.ProcessingMode = &filterv3.ProcessingMode{RequestBodyMode: filterv3.ProcessingMode_GRPC}
		}, "body mode GRPC is not yet emulated"},
		{"send body without waiting", func(c *Config) { c.Filter.SendBodyWithoutWaitingForHeaderResponse = true },
			"send_body_without_waiting_for_header_response is not yet emulated"},
		{"allow content length", func(c *Config) { c.Filter.AllowContentLengthHeader = true }, "allow_content_length_header"},
		{"bad regex", func(c *Config) {
			c.Filter.MutationRules = &mutationrulesv3.HeaderMutationRules{
				AllowExpression: &matcherv3.RegexMatcher{Regex: "x-(unclosed"}}
		}, "mutation_rules"},
		{"bad forward rule regex", func(c *Config) {
			c.Filter.ForwardRules = &filterv3.HeaderForwardingRules{AllowedHeaders: &matcherv3.ListStringMatcher{
				Patterns: []*matcherv3.StringMatcher{{MatchPattern: &matcherv3.StringMatcher_SafeRegex{
					SafeRegex: &matcherv3.RegexMatcher{Regex: "("}}}}}}
		}, "forward_rules.allowed_headers"},
		{"PGV: message timeout out of range", func(c *Config) {
			c.Filter.MessageTimeout = durationpb.New(2 * time.Hour)
		}, "invalid Filter"},
		{"header validation (UHV)", func(c *Config) {
			c.ConnectionManager = &hcmv3.HttpConnectionManager{TypedHeaderValidationConfig: &corev3.TypedExtensionConfig{Name: "uhv"}}
		}, "ConnectionManager.typed_header_validation_config is not yet emulated"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := validConfig()
			c.mutate(&cfg)
			_, err := New(cfg)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("New() error = %v, want it to mention %q", err, c.want)
			}
		})
	}
}

func TestNewAcceptsModes(t *testing.T) {
	cases := map[string]*filterv3.ExternalProcessor{
		"buffered partial": {ProcessingMode: &filterv3.ProcessingMode{
			RequestBodyMode: filterv3.ProcessingMode_BUFFERED_PARTIAL, ResponseBodyMode: filterv3.ProcessingMode_BUFFERED_PARTIAL}},
		"full duplex with trailers SEND": {ProcessingMode: &filterv3.ProcessingMode{
			RequestBodyMode: filterv3.ProcessingMode_FULL_DUPLEX_STREAMED, RequestTrailerMode: filterv3.ProcessingMode_SEND,
			ResponseBodyMode: filterv3.ProcessingMode_FULL_DUPLEX_STREAMED, ResponseTrailerMode: filterv3.ProcessingMode_SEND}},
		// Envoy 1.36+ forces fail-closed at run time instead of refusing.
		"full duplex with failure_mode_allow": {FailureModeAllow: true, ProcessingMode: &filterv3.ProcessingMode{
			RequestBodyMode: filterv3.ProcessingMode_FULL_DUPLEX_STREAMED, RequestTrailerMode: filterv3.ProcessingMode_SEND}},
		"trailers SEND": {ProcessingMode: &filterv3.ProcessingMode{
			RequestTrailerMode: filterv3.ProcessingMode_SEND, ResponseTrailerMode: filterv3.ProcessingMode_SEND}},
		"observability mode": {ObservabilityMode: true, DeferredCloseTimeout: durationpb.New(time.Second)},
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			cfg := validConfig()
			cfg.Filter = f
			p, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if f.GetObservabilityMode() && (!p.s.observability || p.s.deferredCloseTimeout != time.Second) {
				t.Errorf("settings %+v", p.s)
			}
		})
	}
	p, err := New(validConfig())
	if err != nil {
		t.Fatal(err)
	}
	if p.s.deferredCloseTimeout != DefaultDeferredCloseTimeout {
		t.Errorf("deferred close timeout %v", p.s.deferredCloseTimeout)
	}
}
