package mcpserver_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/portcullis/portcullis/registry/openapi"
	"github.com/portcullis/portcullis/registry/openapi/mcpserver"
)

const apiKey = "backend-secret-42"

type pet struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	Tag  string `json:"tag,omitempty"`
}

// petstore is a REST server implementing the Petstore API; it demands the
// API key and records what it saw.
type petstore struct {
	mu      sync.Mutex
	pets    map[int64]pet
	next    int64
	calls   int
	keys    []string
	queries []string
}

func (p *petstore) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls++
	p.keys = append(p.keys, r.Header.Get("X-API-Key"))
	p.queries = append(p.queries, r.URL.RawQuery)
	if r.Header.Get("X-API-Key") != apiKey {
		http.Error(w, `{"code":401,"message":"missing api key"}`, http.StatusUnauthorized)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.URL.Path == "/api/pets" && r.Method == http.MethodGet:
		out := []pet{}
		tags := r.URL.Query()["tags"]
		for id := int64(1); id <= p.next; id++ {
			if pt, ok := p.pets[id]; ok && (len(tags) == 0 || slices.Contains(tags, pt.Tag)) {
				out = append(out, pt)
			}
		}
		_ = json.NewEncoder(w).Encode(out)
	case r.URL.Path == "/api/pets" && r.Method == http.MethodPost:
		var in pet
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Name == "" {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"code":400,"message":"bad pet"}`))
			return
		}
		p.next++
		in.ID = p.next
		p.pets[in.ID] = in
		_ = json.NewEncoder(w).Encode(in)
	case strings.HasPrefix(r.URL.Path, "/api/pets/"):
		id, _ := strconv.ParseInt(strings.TrimPrefix(r.URL.Path, "/api/pets/"), 10, 64)
		pt, ok := p.pets[id]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"code":404,"message":"pet not found"}`))
			return
		}
		if r.Method == http.MethodDelete {
			delete(p.pets, id)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		_ = json.NewEncoder(w).Encode(pt)
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

func TestEndToEndPetstore(t *testing.T) {
	ctx := context.Background()
	store := &petstore{pets: map[int64]pet{}}
	rest := httptest.NewServer(store)
	defer rest.Close()

	res, err := openapi.Import(ctx, []string{"../../../third_party/corpora/openapi/oai__v3.0_petstore-expanded.json"}, openapi.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h, err := mcpserver.NewHandler(mcpserver.Config{
		Tools:      res.Documents[0].Tools,
		BaseURL:    rest.URL + "/api",
		Credential: mcpserver.Credential{Header: "X-API-Key", Value: apiKey},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	mcpSrv := httptest.NewServer(h)
	defer mcpSrv.Close()

	client := mcp.NewClient(&mcp.Implementation{Name: "e2e", Version: "1"}, nil)
	sess, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: mcpSrv.URL}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()

	list, err := sess.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tl := range list.Tools {
		names = append(names, tl.Name)
	}
	slices.Sort(names)
	if want := []string{"addPet", "deletePet", "findPets", "find_pet_by_id"}; !slices.Equal(names, want) {
		t.Fatalf("tools = %v, want %v", names, want)
	}

	call := func(name string, args map[string]any) *mcp.CallToolResult {
		t.Helper()
		r, err := sess.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return r
	}
	text := func(r *mcp.CallToolResult) string {
		var b strings.Builder
		for _, c := range r.Content {
			if tc, ok := c.(*mcp.TextContent); ok {
				b.WriteString(tc.Text)
			}
		}
		return b.String()
	}

	r := call("addPet", map[string]any{"body": map[string]any{"name": "Rex", "tag": "dog"}})
	if r.IsError {
		t.Fatalf("addPet: %s", text(r))
	}
	sc, _ := r.StructuredContent.(map[string]any)
	if sc["name"] != "Rex" || sc["id"] != float64(1) {
		t.Fatalf("addPet structured = %#v", r.StructuredContent)
	}
	call("addPet", map[string]any{"body": map[string]any{"name": "Tom", "tag": "cat"}})

	r = call("findPets", map[string]any{"tags": []any{"dog"}, "limit": 10})
	if r.IsError || !strings.Contains(text(r), "Rex") || strings.Contains(text(r), "Tom") {
		t.Fatalf("findPets: %s", text(r))
	}
	if q := store.queries[len(store.queries)-1]; q != "limit=10&tags=dog" {
		t.Errorf("findPets query = %q", q)
	}

	r = call("find_pet_by_id", map[string]any{"id": 999})
	if !r.IsError || !strings.Contains(text(r), "404") || !strings.Contains(text(r), "pet not found") {
		t.Fatalf("missing pet: isError=%v %s", r.IsError, text(r))
	}

	r = call("deletePet", map[string]any{"id": 1})
	if r.IsError {
		t.Fatalf("deletePet: %s", text(r))
	}
	if _, ok := store.pets[1]; ok {
		t.Error("pet 1 not deleted")
	}

	before := store.calls
	r = call("find_pet_by_id", map[string]any{"id": "not-a-number"})
	if !r.IsError || !strings.Contains(text(r), "invalid arguments") {
		t.Fatalf("invalid args: isError=%v %s", r.IsError, text(r))
	}
	r = call("addPet", map[string]any{"body": map[string]any{"tag": "no name"}})
	if !r.IsError || store.calls != before {
		t.Fatalf("schema-invalid calls reached the REST server (%d calls) or passed: %s", store.calls-before, text(r))
	}

	for i, k := range store.keys {
		if k != apiKey {
			t.Errorf("REST call %d arrived with API key %q", i, k)
		}
	}
}

func TestCredentialParamHiddenAndOverwritten(t *testing.T) {
	ctx := context.Background()
	var gotKey string
	var gotQuery string
	rest := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotKey, gotQuery = r.Header.Get("api_key"), r.URL.RawQuery
		w.WriteHeader(http.StatusOK)
	}))
	defer rest.Close()
	// Swagger 2.0 petstore: deletePet takes an "api_key" header parameter.
	res, err := openapi.Import(ctx, []string{"../../../third_party/corpora/openapi/swagger-petstore__openapi.yaml"}, openapi.Options{Include: []string{"deletePet"}})
	if err != nil {
		t.Fatal(err)
	}
	tools := res.Documents[0].Tools
	if len(tools) != 1 {
		t.Fatalf("%d tools", len(tools))
	}
	if _, ok := tools[0].InputSchema["properties"].(map[string]any)["api_key"]; !ok {
		t.Fatal("test premise: deletePet has an api_key parameter")
	}
	srv, err := mcpserver.NewServer(mcpserver.Config{Tools: tools, BaseURL: rest.URL, Credential: mcpserver.Credential{Header: "api_key", Value: apiKey}})
	if err != nil {
		t.Fatal(err)
	}
	ct, st := mcp.NewInMemoryTransports()
	ss, err := srv.Connect(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ss.Close()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	list, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	schema, _ := json.Marshal(list.Tools[0].InputSchema)
	if strings.Contains(string(schema), "api_key") {
		t.Errorf("credential parameter still offered to the agent: %s", schema)
	}
	r, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: tools[0].Name, Arguments: map[string]any{"petId": 7, "api_key": "agent-chosen"}})
	if err != nil {
		t.Fatal(err)
	}
	if !r.IsError {
		t.Error("an agent-supplied credential argument was accepted")
	}
	r, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: tools[0].Name, Arguments: map[string]any{"petId": 7}})
	if err != nil || r.IsError {
		t.Fatalf("call: %v %+v", err, r)
	}
	if gotKey != apiKey || gotQuery != "" {
		t.Errorf("REST got key %q query %q", gotKey, gotQuery)
	}
}

func TestResponseLimitAndQueryCredential(t *testing.T) {
	ctx := context.Background()
	var gotQuery string
	rest := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotQuery = r.URL.RawQuery
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`[` + strings.Repeat(`{"id":1},`, 500) + `{"id":2}]`))
	}))
	defer rest.Close()
	res, err := openapi.Import(ctx, []string{"../../../third_party/corpora/openapi/oai-learn__petstore.yaml"}, openapi.Options{Include: []string{"listPets"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		limit   int64
		isError bool
	}{{100, true}, {1 << 20, false}} {
		srv, err := mcpserver.NewServer(mcpserver.Config{Tools: res.Documents[0].Tools, BaseURL: rest.URL,
			Credential: mcpserver.Credential{Query: "key", Value: "q-secret"}, MaxResponseBytes: tc.limit})
		if err != nil {
			t.Fatal(err)
		}
		ct, st := mcp.NewInMemoryTransports()
		ss, _ := srv.Connect(ctx, st, nil)
		cs, err := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil).Connect(ctx, ct, nil)
		if err != nil {
			t.Fatal(err)
		}
		r, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "listPets", Arguments: map[string]any{"limit": 5}})
		if err != nil {
			t.Fatal(err)
		}
		if r.IsError != tc.isError {
			t.Errorf("limit %d: isError = %v", tc.limit, r.IsError)
		}
		if !tc.isError {
			if items, _ := r.StructuredContent.(map[string]any)["result"].([]any); len(items) != 501 {
				t.Errorf("structured result has %d items", len(items))
			}
		}
		if gotQuery != "key=q-secret&limit=5" {
			t.Errorf("query = %q", gotQuery)
		}
		cs.Close()
		ss.Close()
	}
}
