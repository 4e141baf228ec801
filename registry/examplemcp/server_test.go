package examplemcp

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

type bearer struct{ token string }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

func TestServerRequiresBackendToken(t *testing.T) {
	srv := httptest.NewServer(Handler(HandlerOptions{BackendToken: "s3cret"}))
	defer srv.Close()
	resp, err := http.Post(srv.URL, "application/json", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("no token: status %d", resp.StatusCode)
	}
	ctx := context.Background()
	c := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil)
	if _, err := c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: srv.URL, HTTPClient: &http.Client{Transport: bearer{"wrong"}}}, nil); err == nil {
		t.Fatal("wrong token accepted")
	}
	for _, jsonResp := range []bool{false, true} {
		srv := httptest.NewServer(Handler(HandlerOptions{BackendToken: "s3cret", JSONResponse: jsonResp}))
		cs, err := c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: srv.URL, HTTPClient: &http.Client{Transport: bearer{"s3cret"}}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		lt, err := cs.ListTools(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, tl := range lt.Tools {
			names = append(names, tl.Name)
		}
		sort.Strings(names)
		want := append([]string(nil), ToolNames...)
		sort.Strings(want)
		if strings.Join(names, ",") != strings.Join(want, ",") {
			t.Fatalf("tools %v, want %v", names, want)
		}
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "search_tickets", Arguments: map[string]any{"query": "vpn"}})
		if err != nil || res.IsError {
			t.Fatalf("search: %v %+v", err, res)
		}
		b, _ := json.Marshal(res.StructuredContent)
		if !strings.Contains(string(b), "T-103") || strings.Contains(string(b), "T-100") {
			t.Fatalf("search result %s", b)
		}
		cs.Close()
		srv.Close()
	}
}
