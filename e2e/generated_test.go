package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/portcullis/portcullis/registry/openapi"
	"github.com/portcullis/portcullis/registry/openapi/mcpserver"
)

const (
	petstoreKey = "petstore-rest-key-7c1e55a2"
	petAgentKey = "pk_test_generated_9b3f1d7e"
)

// petstore is a REST server implementing the Swagger 2.0 Petstore that
// demands an API key and records what reached it.
type petstore struct {
	mu      sync.Mutex
	keys    []string // api_key header of every request
	authz   []string // Authorization header of every request
	created int
}

func (p *petstore) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.keys = append(p.keys, r.Header.Get("api_key"))
	p.authz = append(p.authz, r.Header.Get("Authorization"))
	p.mu.Unlock()
	if r.Header.Get("api_key") != petstoreKey {
		http.Error(w, `{"code":401,"message":"missing api key"}`, http.StatusUnauthorized)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/v1/pets":
		_, _ = io.WriteString(w, `[{"id":1,"name":"Rex","tag":"dog"},{"id":2,"name":"Tom","tag":"cat"}]`)
	case r.Method == http.MethodPost && r.URL.Path == "/v1/pets":
		p.mu.Lock()
		p.created++
		p.mu.Unlock()
		w.WriteHeader(http.StatusCreated)
	case r.Method == http.MethodGet && r.URL.Path == "/v1/pets/1":
		_, _ = io.WriteString(w, `{"id":1,"name":"Rex","tag":"dog"}`)
	default:
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"code":404,"message":"no such pet"}`)
	}
}

func waitTCP(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never accepted connections: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type agentAuth struct{ key string }

func (a agentAuth) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+a.key)
	return http.DefaultTransport.RoundTrip(r)
}

// TestGeneratedServerThroughFilter: a Swagger 2.0 document becomes an MCP
// server (registry/openapi) that calls a real REST server with its own
// credential; an agent reaches it only through the Envoy emulation and the
// filter, which narrow and authorise the generated tools like any other.
func TestGeneratedServerThroughFilter(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	rest := &petstore{}
	restSrv := httptest.NewServer(rest)
	defer restSrv.Close()

	res, err := openapi.Import(ctx, []string{"../third_party/corpora/openapi/oai__v2.0_petstore.json"}, openapi.Options{})
	if err != nil {
		t.Fatal(err)
	}
	gen, err := mcpserver.NewHandler(mcpserver.Config{Name: "petstore", Tools: res.Documents[0].Tools, BaseURL: restSrv.URL + "/v1",
		Credential: mcpserver.Credential{Header: "api_key", Value: petstoreKey}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	genSrv := httptest.NewServer(gen)
	defer genSrv.Close()

	dir := t.TempDir()
	policyPath := filepath.Join(dir, "policy.yaml")
	pol := fmt.Sprintf(`
environment: test
# envoy.yaml's persona routes name their upstream "helpdesk" (no shadow MCP).
upstreams: [{name: helpdesk}]
personas:
  - name: support-agent
    upstream: helpdesk
    tools: [listPets, showPetById]
agents:
  - {id: pet-bot, subject: carol, persona: support-agent, key_sha256: %s}
`, hashKey(petAgentKey))
	if err := os.WriteFile(policyPath, []byte(pol), 0o600); err != nil {
		t.Fatal(err)
	}
	gw := startGateway(t, []string{"-config", policyPath}, genSrv.URL, dir, "gen-1")
	defer gw.stop(t)
	gwAddr := gw.Addr

	client := mcp.NewClient(&mcp.Implementation{Name: "pet-agent", Version: "1"}, nil)
	cctx, ccancel := context.WithTimeout(ctx, 30*time.Second)
	defer ccancel()
	cs, err := client.Connect(cctx, &mcp.StreamableClientTransport{Endpoint: "http://" + gwAddr + "/p/support-agent/mcp",
		HTTPClient: &http.Client{Transport: agentAuth{petAgentKey}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()

	lt, err := cs.ListTools(cctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range lt.Tools {
		names = append(names, tool.Name)
	}
	slices.Sort(names)
	if strings.Join(names, ",") != "listPets,showPetById" {
		t.Fatalf("tools/list through the filter: %v (the generated server offers listPets, createPets, showPetById)", names)
	}

	call, err := cs.CallTool(cctx, &mcp.CallToolParams{Name: "listPets", Arguments: map[string]any{"limit": 10}})
	if err != nil || call.IsError {
		t.Fatalf("listPets: %v %+v", err, call)
	}
	b, _ := json.Marshal(call.StructuredContent)
	if !strings.Contains(string(b), `"Rex"`) {
		t.Fatalf("listPets returned %s", b)
	}
	call, err = cs.CallTool(cctx, &mcp.CallToolParams{Name: "showPetById", Arguments: map[string]any{"petId": "404"}})
	if err != nil || !call.IsError {
		t.Fatalf("a REST 404 must come back as a tool error: %v %+v", err, call)
	}
	if _, err := cs.CallTool(cctx, &mcp.CallToolParams{Name: "createPets", Arguments: map[string]any{}}); err == nil || !strings.Contains(err.Error(), "not permitted") {
		t.Fatalf("createPets outside the persona: %v", err)
	}

	rest.mu.Lock()
	defer rest.mu.Unlock()
	if len(rest.keys) != 2 || rest.created != 0 {
		t.Fatalf("REST server saw %d requests, %d creations; want 2 and 0", len(rest.keys), rest.created)
	}
	for i := range rest.keys {
		if rest.keys[i] != petstoreKey || strings.Contains(rest.authz[i], petAgentKey) {
			t.Fatalf("request %d: api_key %q, authorization %q", i, rest.keys[i], rest.authz[i])
		}
	}
	t.Logf("PROVED: Swagger 2.0 petstore → %d generated tools; through the Envoy emulation and the filter the agent saw %v, listPets returned %s, createPets was refused, and every REST call carried the generated server's key, never the agent's", len(res.Documents[0].Tools), names, b)
}
