package envoyconfig

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/durationpb"
)

// The Istio resources in envoy/ are decoded into mirrors of the parts of Istio's API they use
// (networking.istio.io: EnvoyFilter, Gateway, VirtualService) with exact field names, and their
// values are checked against the rules Istio's validation applies to those fields. This does not
// replace `istioctl validate -f`, which we cannot run here. The Envoy values inside the EnvoyFilter
// are validated like a bootstrap: protojson, then ValidateAll on every message, each Any unpacked.

type istioMeta struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
}

var dns1123Label = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// checkHead checks apiVersion, kind and metadata.
func checkHead(apiVersion, kind, wantKind string, m istioMeta, versions ...string) []string {
	var errs []string
	if !slices.Contains(versions, apiVersion) || kind != wantKind {
		errs = append(errs, fmt.Sprintf("apiVersion/kind = %s/%s, want one of %v / %s", apiVersion, kind, versions, wantKind))
	}
	if !dns1123Label.MatchString(m.Name) && !strings.Contains(m.Name, ".") {
		errs = append(errs, fmt.Sprintf("metadata.name %q is not a DNS-1123 name", m.Name))
	}
	if !dns1123Label.MatchString(m.Namespace) {
		errs = append(errs, fmt.Sprintf("metadata.namespace %q is not a DNS-1123 label", m.Namespace))
	}
	return errs
}

func oneOf(what, v string, allowed ...string) []string {
	if slices.Contains(allowed, v) {
		return nil
	}
	return []string{fmt.Sprintf("%s = %q, want one of %v", what, v, allowed)}
}

// --- EnvoyFilter -----------------------------------------------------------------------------

// envoyFilter mirrors networking.istio.io/v1alpha3 EnvoyFilter as far as
// envoy/istio-envoyfilter.yaml uses it.
type envoyFilter struct {
	APIVersion string    `json:"apiVersion"`
	Kind       string    `json:"kind"`
	Metadata   istioMeta `json:"metadata"`
	Spec       struct {
		WorkloadSelector struct {
			Labels map[string]string `json:"labels"`
		} `json:"workloadSelector"`
		ConfigPatches []envoyConfigPatch `json:"configPatches"`
	} `json:"spec"`
}

type envoyConfigPatch struct {
	ApplyTo string `json:"applyTo"`
	Match   struct {
		Context  string `json:"context"`
		Listener *struct {
			FilterChain struct {
				Sni    string `json:"sni"`
				Filter struct {
					Name      string `json:"name"`
					SubFilter struct {
						Name string `json:"name"`
					} `json:"subFilter"`
				} `json:"filter"`
			} `json:"filterChain"`
		} `json:"listener"`
		RouteConfiguration *struct {
			Vhost struct {
				Name  string `json:"name"`
				Route struct {
					Name string `json:"name"`
				} `json:"route"`
			} `json:"vhost"`
		} `json:"routeConfiguration"`
	} `json:"match"`
	Patch struct {
		Operation string          `json:"operation"`
		Value     json.RawMessage `json:"value"`
	} `json:"patch"`
}

// parsedEnvoyFilter is the EnvoyFilter with its Envoy values decoded and validated.
type parsedEnvoyFilter struct {
	doc      envoyFilter
	filter   *extprocv3.ExternalProcessor          // from the HTTP_FILTER patch
	personas map[string]*extprocv3.ExtProcPerRoute // route name -> per-route config
}

// decodeEnvoyFilter decodes one EnvoyFilter document (JSON) strictly and every patch value into
// the Envoy message it patches, validating each (Anys unpacked). A document it cannot decode is
// an error; the validation problems are returned, so the negative tests can use it.
func decodeEnvoyFilter(doc []byte) (*parsedEnvoyFilter, []string, error) {
	p := &parsedEnvoyFilter{personas: map[string]*extprocv3.ExtProcPerRoute{}}
	if errs := decodeStrict(doc, &p.doc); len(errs) > 0 {
		return nil, nil, fmt.Errorf("EnvoyFilter: %s", strings.Join(errs, "; "))
	}
	errs := checkHead(p.doc.APIVersion, p.doc.Kind, "EnvoyFilter", p.doc.Metadata, "networking.istio.io/v1alpha3")
	strict := protojson.UnmarshalOptions{DiscardUnknown: false}
	for i, cp := range p.doc.Spec.ConfigPatches {
		where := fmt.Sprintf("configPatches[%d] (%s)", i, cp.ApplyTo)
		errs = append(errs, oneOf(where+": match.context", cp.Match.Context, "ANY", "SIDECAR_INBOUND", "SIDECAR_OUTBOUND", "GATEWAY", "WAYPOINT")...)
		errs = append(errs, oneOf(where+": patch.operation", cp.Patch.Operation,
			"MERGE", "ADD", "REMOVE", "INSERT_BEFORE", "INSERT_AFTER", "INSERT_FIRST", "REPLACE")...)
		switch cp.ApplyTo {
		case "HTTP_FILTER":
			// The value is a whole HttpFilter: validated as one.
			hf := &hcmv3.HttpFilter{}
			if err := strict.Unmarshal(cp.Patch.Value, hf); err != nil {
				return nil, nil, fmt.Errorf("%s: value: %w", where, err)
			}
			for _, e := range validateTree(hf).errs {
				errs = append(errs, where+": "+e)
			}
			ep := &extprocv3.ExternalProcessor{}
			if err := hf.GetTypedConfig().UnmarshalTo(ep); err != nil {
				return nil, nil, fmt.Errorf("%s: typed_config: %w", where, err)
			}
			if p.filter != nil {
				return nil, nil, fmt.Errorf("%s: more than one HTTP_FILTER patch", where)
			}
			p.filter = ep
		case "HTTP_ROUTE":
			// The value is a partial Route merged into Istio's; only its Anys are validated,
			// since a partial Route lacks the required match/action.
			r := &routev3.Route{}
			if err := strict.Unmarshal(cp.Patch.Value, r); err != nil {
				return nil, nil, fmt.Errorf("%s: value: %w", where, err)
			}
			if len(r.GetTypedPerFilterConfig()) == 0 {
				return nil, nil, fmt.Errorf("%s: value has no typed_per_filter_config", where)
			}
			for name, a := range r.GetTypedPerFilterConfig() {
				for _, e := range validateTree(a).errs {
					errs = append(errs, fmt.Sprintf("%s: typed_per_filter_config[%q]: %s", where, name, e))
				}
			}
			if a, ok := r.GetTypedPerFilterConfig()[extProcFilterName]; ok {
				pr := &extprocv3.ExtProcPerRoute{}
				if err := a.UnmarshalTo(pr); err != nil {
					return nil, nil, fmt.Errorf("%s: %w", where, err)
				}
				if cp.Match.RouteConfiguration != nil {
					p.personas[cp.Match.RouteConfiguration.Vhost.Route.Name] = pr
				}
			}
		default:
			return nil, nil, fmt.Errorf("%s: unexpected applyTo", where)
		}
	}
	sort.Strings(errs)
	return p, errs, nil
}

// loadEnvoyFilter decodes envoy/istio-envoyfilter.yaml, failing the test on any problem.
func loadEnvoyFilter(t *testing.T) *parsedEnvoyFilter {
	t.Helper()
	docs := documentsOf(t, "istio-envoyfilter.yaml")
	if len(docs) != 1 {
		t.Fatalf("istio-envoyfilter.yaml: %d documents, want 1", len(docs))
	}
	p, errs, err := decodeEnvoyFilter(docs[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range errs {
		t.Error(e)
	}
	if t.Failed() {
		t.FailNow()
	}
	if p.filter == nil {
		t.Fatal("no HTTP_FILTER patch")
	}
	return p
}

func TestIstioEnvoyFilter(t *testing.T) {
	p := loadEnvoyFilter(t)
	d := p.doc
	if d.Metadata.Namespace != "istio-system" || d.Spec.WorkloadSelector.Labels["istio"] != "ingressgateway" {
		t.Errorf("want namespace istio-system with selector istio=ingressgateway, got %s %v", d.Metadata.Namespace, d.Spec.WorkloadSelector.Labels)
	}

	routeNames := map[string]bool{}
	for i, cp := range d.Spec.ConfigPatches {
		if cp.Match.Context != "GATEWAY" {
			t.Errorf("configPatches[%d]: match.context = %q, want GATEWAY", i, cp.Match.Context)
		}
		switch cp.ApplyTo {
		case "HTTP_FILTER":
			l := cp.Match.Listener
			if cp.Patch.Operation != "INSERT_BEFORE" || l == nil ||
				l.FilterChain.Filter.Name != hcmFilterName || l.FilterChain.Filter.SubFilter.Name != routerFilterName {
				t.Errorf("configPatches[%d]: want INSERT_BEFORE %s in %s", i, routerFilterName, hcmFilterName)
			}
			if l != nil && l.FilterChain.Sni == "" {
				t.Errorf("configPatches[%d]: match.listener.filterChain.sni unset: every host on the gateway would be governed", i)
			}
			var hf struct {
				Name string `json:"name"`
			}
			if err := json.Unmarshal(cp.Patch.Value, &hf); err != nil || hf.Name != extProcFilterName {
				t.Errorf("configPatches[%d]: filter name = %q, want %s", i, hf.Name, extProcFilterName)
			}
		case "HTTP_ROUTE":
			if cp.Patch.Operation != "MERGE" || cp.Match.RouteConfiguration == nil || cp.Match.RouteConfiguration.Vhost.Route.Name == "" {
				t.Errorf("configPatches[%d]: want MERGE into a route matched by name", i)
				continue
			}
			routeNames[cp.Match.RouteConfiguration.Vhost.Route.Name] = true
		}
	}

	checkExtProc(t, p.filter, "outbound|9002||portcullis-extproc.portcullis-system.svc.cluster.local", extprocv3.ProcessingMode_STREAMED)
	for _, persona := range examplePersonas {
		name := "persona-" + persona
		if !routeNames[name] {
			t.Errorf("no HTTP_ROUTE patch for route %s", name)
			continue
		}
		checkPersonaOverride(t, p.personas[name], persona)
	}
}

func TestIstioEnvoyFilterValidatorCatchesInvalidValues(t *testing.T) {
	orig := string(readEnvoyFile(t, "istio-envoyfilter.yaml"))
	for _, tc := range []struct {
		name, old, new string
		wantDecodeErr  bool
		wantErr        string
	}{
		{name: "negative message_timeout in HTTP_FILTER value", old: "message_timeout: 1s", new: "message_timeout: -1s", wantErr: "MessageTimeout"},
		{name: "empty metadata key in HTTP_ROUTE value", old: "- key: x-portcullis-persona\n                value: support-agent", new: "- key: \"\"\n                value: support-agent", wantErr: "Key"},
		{name: "unknown patch operation", old: "operation: INSERT_BEFORE", new: "operation: INSERT_BEFOR", wantErr: "patch.operation"},
		{name: "misspelt EnvoyFilter key", old: "subFilter:", new: "subFiltr:", wantDecodeErr: true},
		{name: "wrong-case EnvoyFilter key", old: "workloadSelector:", new: "workloadselector:", wantDecodeErr: true},
		{name: "misspelt Envoy field in patch value", old: "allow_mode_override: true", new: "allow_mode_overide: true", wantDecodeErr: true},
		{name: "unresolvable @type in patch value", old: "v3.ExtProcPerRoute\n            overrides:\n              grpc_initial_metadata:\n              - key: x-portcullis-persona\n                value: support-agent", new: "v3.ExtProcPerRouteX\n            overrides:\n              grpc_initial_metadata:\n              - key: x-portcullis-persona\n                value: support-agent", wantDecodeErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if strings.Count(orig, tc.old) != 1 {
				t.Fatalf("istio-envoyfilter.yaml must contain %q exactly once to mutate it", tc.old)
			}
			docs, err := documentsJSON([]byte(strings.Replace(orig, tc.old, tc.new, 1)))
			if err != nil {
				t.Fatal(err)
			}
			_, errs, err := decodeEnvoyFilter(docs[0])
			if tc.wantDecodeErr {
				if err == nil {
					t.Fatal("decode succeeded, want an error")
				}
				t.Logf("rejected as expected: %v", err)
				return
			}
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !slices.ContainsFunc(errs, func(e string) bool { return strings.Contains(e, tc.wantErr) }) {
				t.Errorf("no error mentions %q; got:\n%s", tc.wantErr, strings.Join(errs, "\n"))
			}
		})
	}
}

// --- Gateway and VirtualService --------------------------------------------------------------

// istioGateway mirrors networking.istio.io/v1 Gateway as far as envoy/istio-gateway.yaml uses it.
type istioGateway struct {
	APIVersion string    `json:"apiVersion"`
	Kind       string    `json:"kind"`
	Metadata   istioMeta `json:"metadata"`
	Spec       struct {
		Selector map[string]string `json:"selector"`
		Servers  []struct {
			Port struct {
				Number   uint32 `json:"number"`
				Name     string `json:"name"`
				Protocol string `json:"protocol"`
			} `json:"port"`
			Hosts []string `json:"hosts"`
			TLS   *struct {
				Mode               string `json:"mode"`
				CredentialName     string `json:"credentialName"`
				MinProtocolVersion string `json:"minProtocolVersion"`
			} `json:"tls"`
		} `json:"servers"`
	} `json:"spec"`
}

var istioNetworkingVersions = []string{"networking.istio.io/v1", "networking.istio.io/v1beta1", "networking.istio.io/v1alpha3"}

func decodeGateway(doc []byte) (*istioGateway, []string) {
	g := &istioGateway{}
	if errs := decodeStrict(doc, g); len(errs) > 0 {
		return nil, errs
	}
	errs := checkHead(g.APIVersion, g.Kind, "Gateway", g.Metadata, istioNetworkingVersions...)
	if len(g.Spec.Selector) == 0 {
		errs = append(errs, "spec.selector is empty")
	}
	if len(g.Spec.Servers) == 0 {
		errs = append(errs, "spec.servers is empty")
	}
	for i, s := range g.Spec.Servers {
		where := fmt.Sprintf("spec.servers[%d]", i)
		if s.Port.Number == 0 || s.Port.Number > 65535 || s.Port.Name == "" {
			errs = append(errs, fmt.Sprintf("%s.port = %d %q, want a number 1..65535 and a name", where, s.Port.Number, s.Port.Name))
		}
		errs = append(errs, oneOf(where+".port.protocol", s.Port.Protocol, "HTTP", "HTTPS", "GRPC", "HTTP2", "MONGO", "TCP", "TLS")...)
		if len(s.Hosts) == 0 || slices.Contains(s.Hosts, "") {
			errs = append(errs, where+".hosts: want at least one, none empty")
		}
		if s.Port.Protocol == "HTTPS" && s.TLS == nil {
			errs = append(errs, where+": HTTPS needs tls")
		}
		if s.TLS != nil {
			errs = append(errs, oneOf(where+".tls.mode", s.TLS.Mode, "PASSTHROUGH", "SIMPLE", "MUTUAL", "AUTO_PASSTHROUGH", "ISTIO_MUTUAL", "OPTIONAL_MUTUAL")...)
			if (s.TLS.Mode == "SIMPLE" || s.TLS.Mode == "MUTUAL") && s.TLS.CredentialName == "" {
				errs = append(errs, where+".tls: SIMPLE/MUTUAL needs credentialName")
			}
			if s.TLS.MinProtocolVersion != "" {
				errs = append(errs, oneOf(where+".tls.minProtocolVersion", s.TLS.MinProtocolVersion, "TLS_AUTO", "TLSV1_0", "TLSV1_1", "TLSV1_2", "TLSV1_3")...)
			}
		}
	}
	return g, errs
}

// istioVirtualService mirrors networking.istio.io/v1 VirtualService as far as
// envoy/istio-gateway.yaml uses it.
type istioVirtualService struct {
	APIVersion string    `json:"apiVersion"`
	Kind       string    `json:"kind"`
	Metadata   istioMeta `json:"metadata"`
	Spec       struct {
		Hosts    []string         `json:"hosts"`
		Gateways []string         `json:"gateways"`
		HTTP     []istioHTTPRoute `json:"http"`
	} `json:"spec"`
}

type istioHTTPRoute struct {
	Name  string `json:"name"`
	Match []struct {
		Name string            `json:"name"`
		URI  *istioStringMatch `json:"uri"`
	} `json:"match"`
	Rewrite *struct {
		URI string `json:"uri"`
	} `json:"rewrite"`
	Route []struct {
		Destination struct {
			Host string `json:"host"`
			Port *struct {
				Number uint32 `json:"number"`
			} `json:"port"`
		} `json:"destination"`
		Weight int32 `json:"weight"`
	} `json:"route"`
	Timeout        *string `json:"timeout"`
	DirectResponse *struct {
		Status uint32 `json:"status"`
	} `json:"directResponse"`
}

type istioStringMatch struct {
	Exact  string `json:"exact"`
	Prefix string `json:"prefix"`
	Regex  string `json:"regex"`
}

// istioDuration parses a duration the way Istio's API does (protobuf JSON: "0s", "1.5s").
func istioDuration(s string) (*durationpb.Duration, error) {
	d := &durationpb.Duration{}
	q, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	if err := protojson.Unmarshal(q, d); err != nil {
		return nil, err
	}
	return d, nil
}

func decodeVirtualService(doc []byte) (*istioVirtualService, []string) {
	vs := &istioVirtualService{}
	if errs := decodeStrict(doc, vs); len(errs) > 0 {
		return nil, errs
	}
	errs := checkHead(vs.APIVersion, vs.Kind, "VirtualService", vs.Metadata, istioNetworkingVersions...)
	if len(vs.Spec.Hosts) == 0 {
		errs = append(errs, "spec.hosts is empty")
	}
	if len(vs.Spec.HTTP) == 0 {
		errs = append(errs, "spec.http is empty")
	}
	for i, r := range vs.Spec.HTTP {
		where := fmt.Sprintf("spec.http[%d] (%s)", i, r.Name)
		if (len(r.Route) > 0) == (r.DirectResponse != nil) {
			errs = append(errs, where+": want exactly one of route and directResponse")
		}
		for j, m := range r.Match {
			if u := m.URI; u != nil {
				set := 0
				for _, s := range []string{u.Exact, u.Prefix, u.Regex} {
					if s != "" {
						set++
					}
				}
				if set != 1 {
					errs = append(errs, fmt.Sprintf("%s.match[%d].uri: want exactly one of exact, prefix, regex", where, j))
				}
			}
		}
		for j, d := range r.Route {
			if d.Destination.Host == "" || (d.Destination.Port != nil && (d.Destination.Port.Number == 0 || d.Destination.Port.Number > 65535)) {
				errs = append(errs, fmt.Sprintf("%s.route[%d].destination: want a host and a port 1..65535", where, j))
			}
			if d.Weight < 0 || d.Weight > 100 {
				errs = append(errs, fmt.Sprintf("%s.route[%d].weight = %d, want 0..100", where, j, d.Weight))
			}
		}
		if r.Timeout != nil {
			if d, err := istioDuration(*r.Timeout); err != nil {
				errs = append(errs, fmt.Sprintf("%s.timeout %q: %v", where, *r.Timeout, err))
			} else if d.AsDuration() < 0 {
				errs = append(errs, fmt.Sprintf("%s.timeout %q is negative", where, *r.Timeout))
			}
		}
		if dr := r.DirectResponse; dr != nil && (dr.Status < 200 || dr.Status > 599) {
			errs = append(errs, fmt.Sprintf("%s.directResponse.status = %d, want 200..599", where, dr.Status))
		}
	}
	return vs, errs
}

// loadIstioGateway decodes envoy/istio-gateway.yaml: a Gateway, then a VirtualService.
func loadIstioGateway(t *testing.T) (*istioGateway, *istioVirtualService) {
	t.Helper()
	docs := documentsOf(t, "istio-gateway.yaml")
	if len(docs) != 2 {
		t.Fatalf("istio-gateway.yaml: %d documents, want 2 (Gateway, VirtualService)", len(docs))
	}
	g, gerrs := decodeGateway(docs[0])
	vs, verrs := decodeVirtualService(docs[1])
	for _, e := range append(gerrs, verrs...) {
		t.Error(e)
	}
	if t.Failed() {
		t.FailNow()
	}
	return g, vs
}

// TestIstioGateway checks the routes the EnvoyFilter governs: one per persona with `timeout: 0s`,
// names matching the EnvoyFilter's per-route patches, on the host the filter chain match names.
func TestIstioGateway(t *testing.T) {
	g, vs := loadIstioGateway(t)
	ef := loadEnvoyFilter(t)

	if ef.doc.Metadata.Namespace != g.Metadata.Namespace || !mapsEqualStr(ef.doc.Spec.WorkloadSelector.Labels, g.Spec.Selector) {
		t.Errorf("Gateway %s selector %v, EnvoyFilter %s workloadSelector %v: want the same gateway workload",
			g.Metadata.Namespace, g.Spec.Selector, ef.doc.Metadata.Namespace, ef.doc.Spec.WorkloadSelector.Labels)
	}
	if len(g.Spec.Servers) != 1 {
		t.Fatalf("Gateway: want exactly one server, got %d", len(g.Spec.Servers))
	}
	srv := g.Spec.Servers[0]
	if srv.Port.Protocol != "HTTPS" || srv.TLS == nil || srv.TLS.Mode != "SIMPLE" {
		t.Errorf("Gateway server: want HTTPS terminated at the gateway (tls SIMPLE), got %s %+v", srv.Port.Protocol, srv.TLS)
	}
	for _, cp := range ef.doc.Spec.ConfigPatches {
		if l := cp.Match.Listener; l != nil && !slices.Equal(srv.Hosts, []string{l.FilterChain.Sni}) {
			t.Errorf("EnvoyFilter filterChain.sni = %q, want the Gateway's host %v", l.FilterChain.Sni, srv.Hosts)
		}
	}

	if want := g.Metadata.Namespace + "/" + g.Metadata.Name; !slices.Equal(vs.Spec.Gateways, []string{want}) {
		t.Errorf("VirtualService gateways = %v, want [%s]", vs.Spec.Gateways, want)
	}
	if !slices.Equal(vs.Spec.Hosts, srv.Hosts) {
		t.Errorf("VirtualService hosts = %v, want the Gateway's %v", vs.Spec.Hosts, srv.Hosts)
	}

	routes := map[string]istioHTTPRoute{}
	for _, r := range vs.Spec.HTTP {
		if r.Name == "" {
			t.Errorf("VirtualService route without a name: %+v (the processor receives it as xds.route_name)", r)
		}
		routes[r.Name] = r
	}
	for _, p := range examplePersonas {
		name := "persona-" + p
		r, ok := routes[name]
		if !ok {
			t.Errorf("no VirtualService route %s", name)
			continue
		}
		if len(r.Match) != 1 || r.Match[0].Name != "" || r.Match[0].URI == nil || *r.Match[0].URI != (istioStringMatch{Exact: "/p/" + p + "/mcp"}) {
			t.Errorf("%s: match = %+v, want one unnamed uri exact /p/%s/mcp (a match name would change the Envoy route name)", name, r.Match, p)
		}
		if r.Rewrite == nil || r.Rewrite.URI != "/mcp" {
			t.Errorf("%s: rewrite = %+v, want uri /mcp", name, r.Rewrite)
		}
		if len(r.Route) != 1 {
			t.Errorf("%s: want one destination, got %d", name, len(r.Route))
		}
		if r.Timeout == nil {
			t.Errorf("%s: timeout unset, want explicit 0s (streams)", name)
		} else if d, err := istioDuration(*r.Timeout); err != nil || d.AsDuration() != 0 {
			t.Errorf("%s: timeout = %q, want 0s (streams)", name, *r.Timeout)
		}
	}
	last := vs.Spec.HTTP[len(vs.Spec.HTTP)-1]
	if last.Name != "default-deny" || len(last.Match) != 0 || last.DirectResponse == nil || last.DirectResponse.Status != 404 {
		t.Errorf("last VirtualService route = %+v, want default-deny: no match, directResponse 404", last)
	}

	for name := range ef.personas {
		if _, ok := routes[name]; !ok {
			t.Errorf("EnvoyFilter patches route %s, which the VirtualService does not define", name)
		}
	}
}

func mapsEqualStr(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

func TestIstioGatewayValidatorCatchesInvalidValues(t *testing.T) {
	orig := string(readEnvoyFile(t, "istio-gateway.yaml"))
	for _, tc := range []struct {
		name, old, new, wantErr string
	}{
		{"timeout without unit", "    timeout: 0s\n  - name: persona-reporting-agent", "    timeout: 0\n  - name: persona-reporting-agent", "timeout"},
		{"negative timeout", "    timeout: 0s\n  - name: persona-reporting-agent", "    timeout: -1s\n  - name: persona-reporting-agent", "negative"},
		{"unknown tls mode", "mode: SIMPLE", "mode: SIMPLY", "tls.mode"},
		{"wrong-case field", "credentialName:", "credentialname:", "unknown field"},
		{"misspelt field", "rewrite: {uri: /mcp}\n    route:\n    - destination:\n        host: helpdesk-mcp.mcp-servers.svc.cluster.local\n        port: {number: 8080}\n    timeout: 0s\n  - name: persona-reporting-agent",
			"rewrit: {uri: /mcp}\n    route:\n    - destination:\n        host: helpdesk-mcp.mcp-servers.svc.cluster.local\n        port: {number: 8080}\n    timeout: 0s\n  - name: persona-reporting-agent", "rewrit"},
		{"port out of range", "port: {number: 8080}\n    timeout: 0s\n  - name: persona-reporting-agent", "port: {number: 80800}\n    timeout: 0s\n  - name: persona-reporting-agent", "destination"},
		{"route and directResponse", "directResponse: {status: 404}", "directResponse: {status: 404}\n    route: [{destination: {host: x}}]", "exactly one of route and directResponse"},
		{"status as a string", "directResponse: {status: 404}", "directResponse: {status: \"404\"}", "status"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if strings.Count(orig, tc.old) != 1 {
				t.Fatalf("istio-gateway.yaml must contain %q exactly once to mutate it", tc.old)
			}
			_, problems := validateFile([]byte(strings.Replace(orig, tc.old, tc.new, 1)))
			if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, tc.wantErr) }) {
				t.Errorf("no problem mentions %q; got:\n%s", tc.wantErr, strings.Join(problems, "\n"))
			}
		})
	}
}
