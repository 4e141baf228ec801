package filter

import (
	"testing"

	"github.com/portcullis/portcullis/extproc/internal/policy"
)

func TestOriginAndHostChecks(t *testing.T) {
	p := testPolicy(t)
	withOrigins, err := policy.Parse([]byte(`
upstreams: [{name: tickets}]
personas: [{name: support, upstream: tickets, tools: [get_ticket]}]
agents: [{id: agent-1, persona: support, key_sha256: ` + policy.HashKey(testKey) + `}]
limits: {allowed_origins: ["https://Console.Example.com:443", "http://10.0.0.5:8080"]}
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		pol       *policy.Policy
		local     string
		authority string
		origins   []string
		want      int // 0: passes the check
	}{
		{"loopback listener, loopback host", p, "127.0.0.1:10000", "127.0.0.1:10000", nil, 0},
		{"loopback listener, localhost host", p, "127.0.0.1:10000", "localhost:10000", nil, 0},
		{"loopback listener, rebound host", p, "127.0.0.1:10000", "evil.example.com", nil, 403},
		{"loopback listener, rebound host and origin", p, "127.0.0.1:10000", "evil.example.com", []string{"http://evil.example.com"}, 403},
		{"loopback listener, loopback origin", p, "[::1]:10000", "[::1]:10000", []string{"http://localhost:3000"}, 0},
		{"loopback listener, foreign origin", p, "127.0.0.1:10000", "127.0.0.1:10000", []string{"https://evil.example.com"}, 403},
		{"loopback listener, null origin", p, "127.0.0.1:10000", "127.0.0.1:10000", []string{"null"}, 403},
		{"two origins", p, "127.0.0.1:10000", "127.0.0.1:10000", []string{"http://localhost", "http://localhost"}, 403},
		{"public listener, any host, no origin", p, "10.0.0.5:443", "mcp.example.com", nil, 0},
		{"public listener, loopback origin", p, "10.0.0.5:443", "mcp.example.com", []string{"http://localhost"}, 403},
		{"no listener attribute, foreign origin", p, "", "mcp.example.com", []string{"https://evil.example.com"}, 403},
		{"allowed origin (normalised)", withOrigins, "10.0.0.5:443", "mcp.example.com", []string{"https://console.example.com"}, 0},
		{"allowed origin with port", withOrigins, "10.0.0.5:443", "mcp.example.com", []string{"http://10.0.0.5:8080"}, 0},
		{"origin on another port", withOrigins, "10.0.0.5:443", "mcp.example.com", []string{"http://10.0.0.5:8081"}, 403},
	} {
		e := NewEngine(tc.pol, Options{})
		x := e.NewExchange(StreamInfo{LocalAddress: tc.local})
		h := Headers{{":method", "POST"}, {":path", "/mcp"}, {":authority", tc.authority}, {"authorization", "Bearer " + testKey}}
		for _, o := range tc.origins {
			h = append(h, Header{"origin", o})
		}
		act := x.RequestHeaders(h, false)
		got := 0
		if act.Respond != nil {
			got = act.Respond.Status
		}
		if got != tc.want {
			t.Errorf("%s: status %d, want %d (%+v)", tc.name, got, tc.want, act.Respond)
			continue
		}
		if tc.want != 0 {
			if d := x.Finish(); d.Reason != ReasonOriginRefused || d.Outcome != OutcomeDenied {
				t.Errorf("%s: decision %v/%v", tc.name, d.Outcome, d.Reason)
			}
		}
	}
}

func TestAllowedOriginsValidated(t *testing.T) {
	for _, bad := range []string{"console.example.com", "https://console.example.com/path", "ftp://x", "https://user@x", "https://x?q"} {
		_, err := policy.Parse([]byte(`
upstreams: [{name: tickets}]
personas: [{name: support, upstream: tickets, tools: [get_ticket]}]
agents: []
limits: {allowed_origins: ["` + bad + `"]}
`))
		if err == nil {
			t.Errorf("allowed origin %q accepted", bad)
		}
	}
}

func TestRequireRoutePersona(t *testing.T) {
	e := NewEngine(testPolicy(t), Options{RequireRoutePersona: true})
	for _, tc := range []struct {
		name string
		info StreamInfo
		key  string
		want int
	}{
		{"default-deny route, no key", StreamInfo{}, "", 404},
		{"default-deny route, valid key", StreamInfo{}, testKey, 404},
		{"persona route", StreamInfo{RoutePersona: "support"}, testKey, 0},
	} {
		x := e.NewExchange(tc.info)
		act := x.RequestHeaders(postHeaders(tc.key), false)
		got := 0
		if act.Respond != nil {
			got = act.Respond.Status
		}
		if got != tc.want {
			t.Errorf("%s: status %d, want %d", tc.name, got, tc.want)
			continue
		}
		if tc.want == 404 {
			if d := x.Finish(); d.Reason != ReasonNoRoute || d.Outcome != OutcomeDenied {
				t.Errorf("%s: decision %v/%v", tc.name, d.Outcome, d.Reason)
			}
		}
	}
	// Off (the zero Options): requests without route metadata are served.
	x := NewEngine(testPolicy(t), Options{}).NewExchange(StreamInfo{})
	if act := x.RequestHeaders(postHeaders(testKey), false); act.Respond != nil {
		t.Fatalf("without RequireRoutePersona: %+v", act.Respond)
	}
}
