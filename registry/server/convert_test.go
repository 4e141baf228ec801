package server

import (
	"testing"

	"gopkg.in/yaml.v3"

	registryv1 "github.com/portcullis/portcullis/proto/gen/go/portcullis/registry/v1"
	"github.com/portcullis/portcullis/registry/catalog"
)

const rateLimitedServer = `servers:
  - name: petstore
    url: https://petstore.example.com/mcp
    owner: me
    environment: prod
    tools:
      - name: delete_pet
        description: Delete a pet.
        operation: delete
        rate_limit_per_hour: 2
      - name: get_pet
        description: Get a pet.
        operation: read
`

// The per-tool rate limit survives catalog → proto → catalog YAML and lands
// in the snapshot's upstream; unlimited tools have no entry.
func TestConvertRateLimits(t *testing.T) {
	cat, err := catalog.Parse(map[string][]byte{"servers/petstore.yaml": []byte(rateLimitedServer)})
	if err != nil {
		t.Fatal(err)
	}
	sp := serverProto(cat.Server("petstore"))
	got := map[string]int32{}
	for _, tl := range sp.GetTools() {
		got[tl.GetName()] = tl.GetRateLimitPerHour()
	}
	if got["delete_pet"] != 2 || got["get_pet"] != 0 {
		t.Errorf("proto tools' rate limits %v, want delete_pet 2, get_pet 0", got)
	}

	// Back through the YAML the API writes: same limits, same pins.
	b, err := yaml.Marshal(map[string]any{"servers": []yServer{serverYAML(sp)}})
	if err != nil {
		t.Fatal(err)
	}
	back, err := catalog.Parse(map[string][]byte{"servers/petstore.yaml": b})
	if err != nil {
		t.Fatalf("re-reading the written YAML: %v\n%s", err, b)
	}
	for _, tl := range cat.Server("petstore").Tools {
		bt := back.Tool(tl.ID())
		if bt.RateLimitPerHour != tl.RateLimitPerHour || bt.Pin != tl.Pin {
			t.Errorf("%s: round trip gave %d/h pin %s, want %d/h pin %s", tl.Name, bt.RateLimitPerHour, bt.Pin, tl.RateLimitPerHour, tl.Pin)
		}
	}
	if back.Version() != cat.Version() {
		t.Errorf("round trip changed the catalog version")
	}

	snap := snapshotProto(&State{Env: "prod", Version: "v", Catalog: cat})
	var up *registryv1.SnapshotUpstream
	for _, u := range snap.GetUpstreams() {
		if u.GetName() == "petstore" {
			up = u
		}
	}
	if up == nil {
		t.Fatal("petstore upstream missing from the snapshot")
	}
	if lim := up.GetToolRateLimitsPerHour(); len(lim) != 1 || lim["delete_pet"] != 2 {
		t.Errorf("snapshot tool_rate_limits_per_hour = %v, want {delete_pet: 2}", lim)
	}
}
