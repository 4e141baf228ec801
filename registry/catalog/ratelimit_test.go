package catalog

import (
	"errors"
	"strings"
	"testing"
)

const rateServer = `servers:
  - name: a
    url: https://a.example.com
    owner: me
    environment: prod
    tools:
      - name: del
        description: Delete a thing.
        operation: delete
        rate_limit_per_hour: %s
`

func TestRateLimitPerHour(t *testing.T) {
	c, err := Parse(map[string][]byte{"s.yaml": []byte(strings.Replace(rateServer, "%s", "2", 1))})
	if err != nil {
		t.Fatal(err)
	}
	tl := c.Tool(ToolID{"a", "del"})
	if tl.RateLimitPerHour != 2 {
		t.Errorf("rate_limit_per_hour = %d, want 2", tl.RateLimitPerHour)
	}
	// The limit is policy, not definition: the pin ignores it.
	c0, err := Parse(map[string][]byte{"s.yaml": []byte(strings.Replace(rateServer, "%s", "0", 1))})
	if err != nil {
		t.Fatal(err)
	}
	if p0 := c0.Tool(ToolID{"a", "del"}).Pin; p0 != tl.Pin {
		t.Errorf("pin changed with the rate limit: %s vs %s", p0, tl.Pin)
	}
	if c0.Version() == c.Version() {
		t.Error("catalog version must change with the rate limit")
	}
	fp, err := c.Snapshot(nil).FilterPolicy(FilterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if lim := fp.Upstreams[0].ToolRateLimits; len(lim) != 1 || lim["del"] != 2 {
		t.Errorf("static filter policy tool_rate_limits = %v, want {del: 2}", lim)
	}

	for _, tc := range []struct{ val, want string }{
		{"-1", "s.yaml:10: servers[0].tools[0].rate_limit_per_hour: must be a non-negative integer"},
		{"lots", "s.yaml:10: servers[0].tools[0].rate_limit_per_hour: must be an integer, not a scalar (str)"},
		{"1.5", "s.yaml:10: servers[0].tools[0].rate_limit_per_hour: must be an integer, not a scalar (float)"},
		{"2000000000", "s.yaml:10: servers[0].tools[0].rate_limit_per_hour: must be at most 1073741824 calls per hour (0 means unlimited)"},
	} {
		_, err := Parse(map[string][]byte{"s.yaml": []byte(strings.Replace(rateServer, "%s", tc.val, 1))})
		var ve *ValidationError
		if !errors.As(err, &ve) || len(ve.Issues) != 1 || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("rate_limit_per_hour %s: got %v, want %s", tc.val, err, tc.want)
		}
	}

	// In code (the API): negative values are refused too.
	_, err = New([]*Server{{Name: "a", URL: "https://a.example.com", Owner: "me", Environment: Prod,
		Tools: []*Tool{{Name: "del", Description: "d", Operation: OpDelete, RateLimitPerHour: -3}}}}, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "servers[0].tools[0].rate_limit_per_hour: must be between 0 (unlimited)") {
		t.Errorf("New with a negative limit: %v", err)
	}
}
