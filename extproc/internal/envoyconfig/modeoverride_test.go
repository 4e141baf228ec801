package envoyconfig

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	"google.golang.org/protobuf/proto"
)

// This file checks allow_mode_override / allowed_override_modes the way Envoy applies them to a
// mode_override in the processor's response_headers reply (ext_proc.cc onReceiveMessage and
// effectiveModeOverride; docs/ENVOY_EXTPROC.md, "mode_override").

const (
	send       = extprocv3.ProcessingMode_SEND
	skip       = extprocv3.ProcessingMode_SKIP
	none       = extprocv3.ProcessingMode_NONE
	buffered   = extprocv3.ProcessingMode_BUFFERED
	streamed   = extprocv3.ProcessingMode_STREAMED
	partial    = extprocv3.ProcessingMode_BUFFERED_PARTIAL
	fullDuplex = extprocv3.ProcessingMode_FULL_DUPLEX_STREAMED
)

// acceptedOverrides are the mode_overrides the processor may send for a response, each of which
// Envoy must apply: JSON is buffered; SSE is streamed, or streamed full duplex, which needs the
// trailers (Envoy refuses a filter config with FULL_DUPLEX_STREAMED otherwise; it does not check
// an override, so the allow-list has to).
var acceptedOverrides = []*extprocv3.ProcessingMode{
	{ResponseBodyMode: buffered},
	{ResponseBodyMode: streamed},
	{ResponseBodyMode: fullDuplex, ResponseTrailerMode: send},
}

// refusedOverrides are mode_overrides Envoy must ignore, keeping the configured mode.
var refusedOverrides = []struct {
	why  string
	mode *extprocv3.ProcessingMode
}{
	{"FULL_DUPLEX_STREAMED without response_trailer_mode SEND", &extprocv3.ProcessingMode{ResponseBodyMode: fullDuplex}},
	{"response body NONE: the filter's default stays (STREAMED in production: still inspected)", &extprocv3.ProcessingMode{ResponseBodyMode: none}},
	{"BUFFERED_PARTIAL: later data would pass uninspected", &extprocv3.ProcessingMode{ResponseBodyMode: partial}},
	{"response headers SKIP", &extprocv3.ProcessingMode{ResponseHeaderMode: skip, ResponseBodyMode: streamed}},
	{"request body FULL_DUPLEX_STREAMED", &extprocv3.ProcessingMode{RequestBodyMode: fullDuplex, RequestTrailerMode: send, ResponseBodyMode: streamed}},
}

// overrideSemantics turns the processor's mode_override into the mode Envoy compares with
// allowed_override_modes.
type overrideSemantics struct {
	name  string
	apply func(override, filter *extprocv3.ProcessingMode) *extprocv3.ProcessingMode
}

var envoyOverrideSemantics = []overrideSemantics{
	{"current Envoy (effective mode)", effectiveOverride},
	{"older Envoy (raw override)", func(o, _ *extprocv3.ProcessingMode) *extprocv3.ProcessingMode { return o }},
}

// effectiveOverride mirrors Envoy's effectiveModeOverride: the override's header and trailer modes
// replace the filter's unless DEFAULT; both body modes are always replaced (unset = NONE).
func effectiveOverride(o, filter *extprocv3.ProcessingMode) *extprocv3.ProcessingMode {
	m := proto.CloneOf(filter)
	if m == nil {
		m = &extprocv3.ProcessingMode{}
	}
	if o.GetRequestHeaderMode() != extprocv3.ProcessingMode_DEFAULT {
		m.RequestHeaderMode = o.GetRequestHeaderMode()
	}
	if o.GetResponseHeaderMode() != extprocv3.ProcessingMode_DEFAULT {
		m.ResponseHeaderMode = o.GetResponseHeaderMode()
	}
	if o.GetRequestTrailerMode() != extprocv3.ProcessingMode_DEFAULT {
		m.RequestTrailerMode = o.GetRequestTrailerMode()
	}
	if o.GetResponseTrailerMode() != extprocv3.ProcessingMode_DEFAULT {
		m.ResponseTrailerMode = o.GetResponseTrailerMode()
	}
	m.RequestBodyMode = o.GetRequestBodyMode()
	m.ResponseBodyMode = o.GetResponseBodyMode()
	return m
}

// overrideAccepted reports whether Envoy applies override on a headers reply: allow_mode_override
// set, not send_body_without_waiting_for_header_response, no FULL_DUPLEX_STREAMED filter body
// mode, and the compared mode equal to an allowed entry field by field, request_header_mode
// ignored (an empty list allows anything).
func overrideAccepted(ep *extprocv3.ExternalProcessor, override *extprocv3.ProcessingMode, sem overrideSemantics) bool {
	pm := ep.GetProcessingMode()
	if !ep.GetAllowModeOverride() || ep.GetSendBodyWithoutWaitingForHeaderResponse() ||
		pm.GetRequestBodyMode() == fullDuplex || pm.GetResponseBodyMode() == fullDuplex {
		return false
	}
	if len(ep.GetAllowedOverrideModes()) == 0 {
		return true
	}
	m := sem.apply(override, pm)
	for _, a := range ep.GetAllowedOverrideModes() {
		if modeKey(a) == modeKey(m) {
			return true
		}
	}
	return false
}

// overrideProblems lists every way ep's mode override settings break the contract above; the
// positive tests require none, the negative tests a specific one.
func overrideProblems(ep *extprocv3.ExternalProcessor) []string {
	var out []string
	if !ep.GetAllowModeOverride() {
		out = append(out, "allow_mode_override = false, want true")
	}
	if len(ep.GetAllowedOverrideModes()) == 0 {
		out = append(out, "allowed_override_modes is empty: Envoy would apply any mode_override")
	}
	for i, a := range ep.GetAllowedOverrideModes() {
		if a.GetRequestBodyMode() == fullDuplex && a.GetRequestTrailerMode() != send {
			out = append(out, fmt.Sprintf("allowed_override_modes[%d] {%s}: request FULL_DUPLEX_STREAMED needs request_trailer_mode SEND", i, modeKey(a)))
		}
		if a.GetResponseBodyMode() == fullDuplex && a.GetResponseTrailerMode() != send {
			out = append(out, fmt.Sprintf("allowed_override_modes[%d] {%s}: response FULL_DUPLEX_STREAMED needs response_trailer_mode SEND", i, modeKey(a)))
		}
	}
	want := map[string]bool{}
	for _, sem := range envoyOverrideSemantics {
		for _, o := range acceptedOverrides {
			want[modeKey(sem.apply(o, ep.GetProcessingMode()))] = true
			if !overrideAccepted(ep, o, sem) {
				out = append(out, fmt.Sprintf("%s ignores mode_override {%s}, which the processor relies on", sem.name, modeKey(o)))
			}
		}
		for _, r := range refusedOverrides {
			if overrideAccepted(ep, r.mode, sem) {
				out = append(out, fmt.Sprintf("%s applies mode_override {%s}: %s", sem.name, modeKey(r.mode), r.why))
			}
		}
	}
	// Nothing beyond what the processor needs: both shapes of each accepted override.
	got := map[string]bool{}
	for _, a := range ep.GetAllowedOverrideModes() {
		got[modeKey(a)] = true
	}
	if len(ep.GetAllowedOverrideModes()) != len(want) || !mapsEqual(got, want) {
		out = append(out, fmt.Sprintf("allowed_override_modes = %v\nwant exactly (request_header_mode ignored) %v", sortedKeys(got), sortedKeys(want)))
	}
	return out
}

// modeKey renders the fields Envoy compares (all but request_header_mode).
func modeKey(m *extprocv3.ProcessingMode) string {
	return fmt.Sprintf("resp_hdr=%v req_body=%v resp_body=%v req_trl=%v resp_trl=%v",
		m.GetResponseHeaderMode(), m.GetRequestBodyMode(), m.GetResponseBodyMode(),
		m.GetRequestTrailerMode(), m.GetResponseTrailerMode())
}

func mapsEqual(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

func sortedKeys(m map[string]bool) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// TestOverrideCheckCatchesBadAllowLists proves overrideProblems has teeth: each case breaks the
// allow-list of envoy.yaml in one place.
func TestOverrideCheckCatchesBadAllowLists(t *testing.T) {
	orig := string(readEnvoyFile(t, "envoy.yaml"))
	for _, tc := range []struct {
		name, old, new, wantErr string
	}{
		{
			name:    "FULL_DUPLEX_STREAMED entry without response trailers",
			old:     "- {response_body_mode: FULL_DUPLEX_STREAMED, response_trailer_mode: SEND}",
			new:     "- {response_body_mode: FULL_DUPLEX_STREAMED}",
			wantErr: "applies mode_override {resp_hdr=DEFAULT req_body=NONE resp_body=FULL_DUPLEX_STREAMED req_trl=DEFAULT resp_trl=DEFAULT}: FULL_DUPLEX_STREAMED without response_trailer_mode SEND",
		},
		{
			name:    "FULL_DUPLEX_STREAMED effective entry with response trailers SKIP",
			old:     "response_body_mode: FULL_DUPLEX_STREAMED,\n                 request_trailer_mode: SKIP, response_trailer_mode: SEND}",
			new:     "response_body_mode: FULL_DUPLEX_STREAMED,\n                 request_trailer_mode: SKIP, response_trailer_mode: SKIP}",
			wantErr: "response FULL_DUPLEX_STREAMED needs response_trailer_mode SEND",
		},
		{
			name:    "STREAMED missing in the raw shape",
			old:     "              - {response_body_mode: STREAMED}\n",
			new:     "",
			wantErr: "older Envoy (raw override) ignores mode_override {resp_hdr=DEFAULT req_body=NONE resp_body=STREAMED",
		},
		{
			name:    "NONE allowed",
			old:     "              - {response_body_mode: STREAMED}\n",
			new:     "              - {response_body_mode: STREAMED}\n              - {response_body_mode: NONE}\n",
			wantErr: "response body NONE",
		},
		{
			name:    "overrides disabled",
			old:     "allow_mode_override: true",
			new:     "allow_mode_override: false",
			wantErr: "allow_mode_override = false",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if strings.Count(orig, tc.old) != 1 {
				t.Fatalf("envoy.yaml must contain %q exactly once to mutate it", tc.old)
			}
			b, err := Parse([]byte(strings.Replace(orig, tc.old, tc.new, 1)))
			if err != nil {
				t.Fatal(err)
			}
			problems := overrideProblems(extProcOf(t, hcmOf(t, onlyListener(t, b))))
			if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, tc.wantErr) }) {
				t.Errorf("no problem mentions %q; got:\n%s", tc.wantErr, strings.Join(problems, "\n"))
			}
		})
	}
}
