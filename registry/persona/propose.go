package persona

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/portcullis/portcullis/registry/catalog"
)

// Proposal is a proposer's suggested tool grants for a description.
type Proposal struct {
	// Source names the proposer (e.g. "llm:gpt-4o-mini").
	Source string         `json:"source"`
	Tools  []ProposedTool `json:"tools"`
}

// ProposedTool is one suggested grant.
type ProposedTool struct {
	Tool   string `json:"tool"` // "server/tool"
	Reason string `json:"reason"`
}

// Proposer suggests grants for a role description. Proposals are never
// applied directly: Review validates them against the catalog and the
// description's negations, and Diff shows the result to an editor.
type Proposer interface {
	Propose(ctx context.Context, desc string, cat *catalog.Catalog) (*Proposal, error)
}

// Review turns a proposal into a profile under the same rules as Compile:
// unknown tools are rejected, quarantined tools withheld, and a tool the
// description negates is never granted, whatever the proposer says. Tools
// the proposer left out are excluded (default deny); their exclusion keeps
// the deterministic compiler's reason when it has one.
func Review(desc string, cat *catalog.Catalog, prop *Proposal, opts Options) (*Profile, error) {
	if prop == nil {
		return nil, errors.New("persona: nil proposal")
	}
	base, err := Compile(desc, cat, opts)
	if err != nil {
		return nil, err
	}
	proposed := map[catalog.ToolID]string{}
	var bad []string
	for _, pt := range prop.Tools {
		id, err := catalog.ParseToolID(pt.Tool)
		if err != nil || cat.Tool(id) == nil {
			bad = append(bad, pt.Tool)
			continue
		}
		proposed[id] = pt.Reason
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("persona: proposal from %s names unknown tools: %s", prop.Source, strings.Join(bad, ", "))
	}
	out := &Profile{Description: desc, CatalogVersion: cat.Version(), Granted: []Grant{}, Excluded: []Exclusion{}, Unmatched: base.Unmatched}
	for _, t := range cat.Tools() {
		id := t.ID()
		ex, excluded := base.Exclusion(id)
		why, asked := proposed[id]
		switch {
		case excluded && (ex.Kind == Negated || ex.Kind == DataObjectExcluded || ex.Kind == OperationExcluded || ex.Kind == Quarantined):
			if asked {
				ex.Reason += fmt.Sprintf(" (proposed by %s, refused)", prop.Source)
			}
			out.Excluded = append(out.Excluded, ex)
		case asked:
			out.Granted = append(out.Granted, Grant{Tool: id, Operation: t.Operation, Risk: t.Risk,
				Reasons: []Reason{{Phrase: desc, Action: string(t.Operation), Object: t.Name, Matched: why, Source: prop.Source}}})
		case excluded:
			out.Excluded = append(out.Excluded, ex)
		default:
			out.Excluded = append(out.Excluded, Exclusion{Tool: id, Kind: NotRequested,
				Reason: fmt.Sprintf("not proposed by %s (the lexical compiler would grant it)", prop.Source)})
		}
	}
	out.Skills = coveredSkills(cat, out.Tools())
	return out, nil
}

// OpenAIProposer asks an OpenAI-compatible chat-completions endpoint for a
// proposal. It is off unless constructed; nothing in this package calls it
// implicitly and no test needs a real endpoint.
type OpenAIProposer struct {
	// BaseURL is the API root, e.g. "https://api.openai.com/v1" or a local
	// server's "http://127.0.0.1:8000/v1". Required.
	BaseURL string
	// Model is the model name. Required.
	Model string
	// APIKey is sent as a bearer token when non-empty. The caller reads it
	// from its own configuration; this type never reads the environment.
	APIKey string
	// HTTPClient defaults to http.DefaultClient.
	HTTPClient *http.Client
}

const systemPrompt = `You assign least-privilege tool grants to an AI agent from a role description.
Only choose tools from the catalog given. Never grant a tool the description forbids.
Answer with JSON only: {"tools":[{"tool":"server/tool","reason":"short reason"}]}`

type chatRequest struct {
	Model          string            `json:"model"`
	Messages       []chatMessage     `json:"messages"`
	Temperature    float64           `json:"temperature"`
	ResponseFormat map[string]string `json:"response_format,omitempty"`
}

type chatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Propose implements Proposer.
func (o *OpenAIProposer) Propose(ctx context.Context, desc string, cat *catalog.Catalog) (*Proposal, error) {
	if o.BaseURL == "" || o.Model == "" {
		return nil, errors.New("persona: OpenAIProposer needs BaseURL and Model")
	}
	type toolInfo struct {
		Tool        string   `json:"tool"`
		Description string   `json:"description"`
		Operation   string   `json:"operation"`
		DataObjects []string `json:"data_objects,omitempty"`
	}
	var tools []toolInfo
	for _, t := range cat.Tools() {
		tools = append(tools, toolInfo{t.ID().String(), t.Description, string(t.Operation), t.DataObjects})
	}
	catJSON, err := json.Marshal(tools)
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(chatRequest{
		Model: o.Model,
		Messages: []chatMessage{
			{Role: "system", Content: systemPrompt + "\nCatalog: " + string(catJSON)},
			{Role: "user", Content: desc},
		},
		ResponseFormat: map[string]string{"type": "json_object"},
	})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(o.BaseURL, "/")+"/chat/completions", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if o.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+o.APIKey)
	}
	hc := o.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("persona: proposer: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("persona: proposer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("persona: proposer: HTTP %d", resp.StatusCode)
	}
	var cr struct {
		Choices []struct {
			Message chatMessage `json:"message"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(raw, &cr); err != nil || len(cr.Choices) == 0 {
		return nil, errors.New("persona: proposer: malformed chat completion")
	}
	content := strings.TrimSpace(cr.Choices[0].Message.Content)
	content = strings.TrimPrefix(strings.TrimSuffix(strings.TrimPrefix(content, "```json"), "```"), "```")
	var p Proposal
	if err := json.Unmarshal([]byte(strings.TrimSpace(content)), &p); err != nil {
		return nil, fmt.Errorf("persona: proposer: answer is not the expected JSON: %w", err)
	}
	p.Source = "llm:" + o.Model
	slices.SortFunc(p.Tools, func(a, b ProposedTool) int { return strings.Compare(a.Tool, b.Tool) })
	return &p, nil
}
