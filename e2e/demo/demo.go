// Package demo is the scripted agent of `make demo`: an MCP client built
// with the official Go SDK that talks to a running stack through the gateway
// and shows, step by step, what Portcullis does to it.
package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Options configure a run.
type Options struct {
	// Endpoint is the persona endpoint, e.g. http://127.0.0.1:10000/p/support-agent/mcp.
	Endpoint string
	// Key is the agent's API key (sent as a bearer token).
	Key string
	// DenialsToBlock is how many denied calls the script makes to trip the
	// analytics deny-burst rule. Defaults to 6.
	DenialsToBlock int
	// VerdictTimeout bounds the wait for the verdict. Defaults to 60s.
	VerdictTimeout time.Duration
	// Out receives the narration.
	Out io.Writer
	// Audit, when set, is asked after the run for the audit trail of the
	// agent (see ClickHouseAudit); its answer is printed.
	Audit func(ctx context.Context) (string, error)
}

// Result is what the run observed.
type Result struct {
	Tools        []string
	AllowedCall  string
	DeniedError  string
	BlockedError string
	BlockedAfter time.Duration
	// Protected is the ticket as the upstream stored and returned it after
	// the agent commented with a credential and a card number.
	Protected string
}

type bearer struct{ key string }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.key)
	return http.DefaultTransport.RoundTrip(r)
}

// Run executes the script.
func Run(ctx context.Context, o Options) (*Result, error) {
	if o.DenialsToBlock == 0 {
		o.DenialsToBlock = 6
	}
	if o.VerdictTimeout == 0 {
		o.VerdictTimeout = 60 * time.Second
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	say := func(format string, a ...any) { fmt.Fprintf(o.Out, format+"\n", a...) }
	res := &Result{}

	client := mcp.NewClient(&mcp.Implementation{Name: "portcullis-demo-agent", Version: "1.0.0"}, nil)
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: o.Endpoint, HTTPClient: &http.Client{Transport: bearer{o.Key}}}, nil)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", o.Endpoint, err)
	}
	defer func() { _ = cs.Close() }()
	say("1. Connected to %s as an agent holding only a gateway key.", o.Endpoint)

	lt, err := cs.ListTools(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("tools/list: %w", err)
	}
	for _, t := range lt.Tools {
		res.Tools = append(res.Tools, t.Name)
	}
	sort.Strings(res.Tools)
	say("2. tools/list, narrowed to the persona: %s", strings.Join(res.Tools, ", "))
	say("   (the upstream offers search_tickets, get_ticket, add_comment, send_email, delete_ticket, export_report)")

	call, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "search_tickets", Arguments: map[string]any{"query": "vpn"}})
	if err != nil {
		return nil, fmt.Errorf("allowed call: %w", err)
	}
	if call.IsError {
		return nil, fmt.Errorf("allowed call returned a tool error: %+v", call.Content)
	}
	b, _ := json.Marshal(call.StructuredContent)
	res.AllowedCall = string(b)
	say("3. Allowed: tools/call search_tickets → %s", res.AllowedCall)
	say("   (the upstream demands a backend credential the agent never had: the gateway injected it)")

	comment := "customer pasted key AKIAQYLPMN5HFIQR7BWX and card 4111 1111 1111 1111"
	call, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "add_comment", Arguments: map[string]any{"id": "T-101", "comment": comment}})
	if err != nil {
		return nil, fmt.Errorf("add_comment: %w", err)
	}
	if call.IsError {
		return nil, fmt.Errorf("add_comment returned a tool error: %+v", call.Content)
	}
	b, _ = json.Marshal(call.StructuredContent)
	res.Protected = string(b)
	say("3b. Data protection: add_comment %q →", comment)
	say("   the upstream stored and returned %s", res.Protected)
	say("   (the persona's data policy redacts credentials and masks cards before the upstream sees them)")

	_, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "send_email", Arguments: map[string]any{"to": "someone@example.org", "subject": "tickets", "body": "..."}})
	if err == nil {
		return nil, errors.New("send_email was not refused")
	}
	res.DeniedError = err.Error()
	say("4. Denied: tools/call send_email → %s", res.DeniedError)

	say("5. The agent keeps trying tools outside its role (%d more denied calls)...", o.DenialsToBlock)
	for i := 0; i < o.DenialsToBlock; i++ {
		if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "delete_ticket", Arguments: map[string]any{"id": fmt.Sprintf("T-%d", 100+i)}}); err == nil {
			return nil, errors.New("delete_ticket was not refused")
		}
	}
	say("   Each decision went to Kafka; analytics stored it in ClickHouse and evaluates the deny-burst rule.")

	start := time.Now()
	deadline := start.Add(o.VerdictTimeout)
	for {
		_, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "get_ticket", Arguments: map[string]any{"id": "T-100"}})
		if err != nil && strings.Contains(err.Error(), "blocked by verdict") {
			res.BlockedError = err.Error()
			res.BlockedAfter = time.Since(start)
			break
		}
		if err != nil {
			return nil, fmt.Errorf("waiting for the verdict: unexpected error: %w", err)
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("no verdict came back within %s", o.VerdictTimeout)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
	say("6. Blocked: the next, otherwise allowed, tools/call get_ticket (verdict arrived after %s) →", res.BlockedAfter.Round(10*time.Millisecond))
	say("   %s", res.BlockedError)
	if o.Audit != nil {
		summary, err := o.Audit(ctx)
		if err != nil {
			say("7. Audit trail: not available (%v)", err)
		} else {
			say("7. Audit trail in ClickHouse: %s", summary)
		}
	}
	return res, nil
}
