// Package examplemcp is the example upstream MCP server of the local stack: a
// small help-desk API (tickets, comments, email, reports) built with the
// official Go MCP SDK. It stands in for the servers the registry will serve
// or register, and it demands a backend credential, so a request only
// succeeds if the gateway injected it.
package examplemcp

import (
	"context"
	"crypto/subtle"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Ticket is a help-desk ticket.
type Ticket struct {
	ID       string   `json:"id"`
	Subject  string   `json:"subject"`
	Status   string   `json:"status"`
	Comments []string `json:"comments,omitempty"`
}

type desk struct {
	mu      sync.Mutex
	tickets map[string]*Ticket
	outbox  []string
}

func newDesk() *desk {
	d := &desk{tickets: map[string]*Ticket{}}
	for i, s := range []string{"Cannot log in", "Invoice is wrong", "Feature request: dark mode", "VPN drops every hour"} {
		id := fmt.Sprintf("T-%d", 100+i)
		d.tickets[id] = &Ticket{ID: id, Subject: s, Status: "open"}
	}
	return d
}

// ToolNames are the tools the server offers.
var ToolNames = []string{"search_tickets", "get_ticket", "add_comment", "send_email", "delete_ticket", "export_report"}

// NewServer returns the example MCP server with its tools registered.
func NewServer() *mcp.Server {
	d := newDesk()
	s := mcp.NewServer(&mcp.Implementation{Name: "portcullis-example-helpdesk", Version: "1.0.0"}, nil)

	type searchIn struct {
		Query string `json:"query" jsonschema:"words to look for in ticket subjects"`
	}
	type searchOut struct {
		Tickets []Ticket `json:"tickets"`
	}
	mcp.AddTool(s, &mcp.Tool{Name: "search_tickets", Description: "Search support tickets by subject."},
		func(_ context.Context, _ *mcp.CallToolRequest, in searchIn) (*mcp.CallToolResult, searchOut, error) {
			d.mu.Lock()
			defer d.mu.Unlock()
			var out searchOut
			for _, t := range d.tickets {
				if strings.Contains(strings.ToLower(t.Subject), strings.ToLower(in.Query)) {
					out.Tickets = append(out.Tickets, *t)
				}
			}
			sort.Slice(out.Tickets, func(i, j int) bool { return out.Tickets[i].ID < out.Tickets[j].ID })
			return nil, out, nil
		})

	type idIn struct {
		ID string `json:"id" jsonschema:"ticket id such as T-100"`
	}
	mcp.AddTool(s, &mcp.Tool{Name: "get_ticket", Description: "Read one support ticket."},
		func(_ context.Context, _ *mcp.CallToolRequest, in idIn) (*mcp.CallToolResult, Ticket, error) {
			d.mu.Lock()
			defer d.mu.Unlock()
			t, ok := d.tickets[in.ID]
			if !ok {
				return nil, Ticket{}, fmt.Errorf("no ticket %q", in.ID)
			}
			return nil, *t, nil
		})

	type commentIn struct {
		ID      string `json:"id"`
		Comment string `json:"comment"`
	}
	mcp.AddTool(s, &mcp.Tool{Name: "add_comment", Description: "Add a comment to a support ticket."},
		func(_ context.Context, _ *mcp.CallToolRequest, in commentIn) (*mcp.CallToolResult, Ticket, error) {
			d.mu.Lock()
			defer d.mu.Unlock()
			t, ok := d.tickets[in.ID]
			if !ok {
				return nil, Ticket{}, fmt.Errorf("no ticket %q", in.ID)
			}
			t.Comments = append(t.Comments, in.Comment)
			return nil, *t, nil
		})

	type emailIn struct {
		To      string `json:"to"`
		Subject string `json:"subject"`
		Body    string `json:"body"`
	}
	type emailOut struct {
		Queued int `json:"queued"`
	}
	mcp.AddTool(s, &mcp.Tool{Name: "send_email", Description: "Send an email to anyone."},
		func(_ context.Context, _ *mcp.CallToolRequest, in emailIn) (*mcp.CallToolResult, emailOut, error) {
			d.mu.Lock()
			defer d.mu.Unlock()
			d.outbox = append(d.outbox, in.To)
			return nil, emailOut{Queued: len(d.outbox)}, nil
		})

	mcp.AddTool(s, &mcp.Tool{Name: "delete_ticket", Description: "Delete a support ticket permanently."},
		func(_ context.Context, _ *mcp.CallToolRequest, in idIn) (*mcp.CallToolResult, struct {
			Deleted bool `json:"deleted"`
		}, error) {
			d.mu.Lock()
			defer d.mu.Unlock()
			_, ok := d.tickets[in.ID]
			delete(d.tickets, in.ID)
			return nil, struct {
				Deleted bool `json:"deleted"`
			}{ok}, nil
		})

	type reportOut struct {
		Open  int    `json:"open"`
		Total int    `json:"total"`
		At    string `json:"at"`
	}
	mcp.AddTool(s, &mcp.Tool{Name: "export_report", Description: "Export ticket statistics."},
		func(_ context.Context, _ *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, reportOut, error) {
			d.mu.Lock()
			defer d.mu.Unlock()
			out := reportOut{Total: len(d.tickets), At: time.Now().UTC().Format(time.RFC3339)}
			for _, t := range d.tickets {
				if t.Status == "open" {
					out.Open++
				}
			}
			return nil, out, nil
		})
	return s
}

// HandlerOptions configure Handler.
type HandlerOptions struct {
	// BackendToken, when set, is the bearer token every request must carry
	// (the credential the gateway injects). Empty disables the check.
	BackendToken string
	// JSONResponse makes the server answer POSTs with application/json
	// instead of text/event-stream.
	JSONResponse bool
}

// Handler serves NewServer over Streamable HTTP at any path.
func Handler(opts HandlerOptions) http.Handler {
	return serve(NewServer(), opts)
}

// serve is Handler for srv.
func serve(srv *mcp.Server, opts HandlerOptions) http.Handler {
	h := http.Handler(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv },
		&mcp.StreamableHTTPOptions{JSONResponse: opts.JSONResponse}))
	if opts.BackendToken != "" {
		want := []byte(opts.BackendToken)
		verify := func(_ context.Context, token string, _ *http.Request) (*auth.TokenInfo, error) {
			if subtle.ConstantTimeCompare([]byte(token), want) != 1 {
				return nil, auth.ErrInvalidToken
			}
			return &auth.TokenInfo{Expiration: time.Now().Add(time.Hour)}, nil
		}
		h = auth.RequireBearerToken(verify, nil)(h)
	}
	return h
}
