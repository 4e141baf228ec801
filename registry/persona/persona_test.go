package persona

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/portcullis/portcullis/registry/catalog"
)

func ids(ss ...string) []catalog.ToolID {
	var out []catalog.ToolID
	for _, s := range ss {
		id, err := catalog.ParseToolID(s)
		if err != nil {
			panic(err)
		}
		out = append(out, id)
	}
	return out
}

func TestCompileExplainsEveryTool(t *testing.T) {
	cat := loadExample(t)
	prof, err := Compile("reads and comments on support tickets, drafts replies, never sends email, no billing data", cat, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := prof.Tools(), ids("helpdesk/add_comment", "helpdesk/get_ticket", "helpdesk/search_tickets"); !reflect.DeepEqual(got, want) {
		t.Fatalf("granted %v, want %v", got, want)
	}
	if len(prof.Granted)+len(prof.Excluded) != len(cat.Tools()) {
		t.Fatalf("%d granted + %d excluded != %d tools", len(prof.Granted), len(prof.Excluded), len(cat.Tools()))
	}
	for _, g := range prof.Granted {
		if len(g.Reasons) == 0 || g.Reasons[0].Phrase == "" || g.Reasons[0].Matched == "" {
			t.Errorf("%s granted without a reason: %+v", g.Tool, g.Reasons)
		}
	}
	wantKinds := map[string]ExclusionKind{
		"helpdesk/send_email":     Negated,
		"billing/get_invoice":     DataObjectExcluded,
		"billing/refund_payment":  DataObjectExcluded,
		"helpdesk/delete_ticket":  OperationNotRequested,
		"forge/delete_repository": NotRequested,
	}
	for s, kind := range wantKinds {
		e, ok := prof.Exclusion(ids(s)[0])
		if !ok || e.Kind != kind || e.Reason == "" {
			t.Errorf("%s: exclusion %+v, want kind %s", s, e, kind)
		}
	}
	if e, _ := prof.Exclusion(ids("helpdesk/send_email")[0]); !strings.Contains(e.Phrase, "never sends email") {
		t.Errorf("send_email exclusion names phrase %q", e.Phrase)
	}
	if got := strings.Join(prof.Skills, ","); got != "ticket-commenting,ticket-reading" {
		t.Errorf("skills %s", got)
	}
	p := prof.Persona("support-agent", cat)
	if len(p.AddTools) != 0 || len(p.Skills) != 2 {
		t.Errorf("persona %+v", p)
	}
}

// A negated capability is never granted, even when another phrase asks for
// it explicitly or through a broad grant.
func TestNegationWins(t *testing.T) {
	cat := loadExample(t)
	tests := []struct {
		desc  string
		never []string
		grant []string
	}{
		{"sends email to customers; never sends email", []string{"helpdesk/send_email"}, nil},
		{"full access to the help desk except deleting tickets", []string{"helpdesk/delete_ticket"}, []string{"helpdesk/add_comment"}},
		{"manages everything, but never touches billing", []string{"billing/get_invoice", "billing/refund_payment"}, nil},
		{"read-only access to everything; deletes tickets", []string{"helpdesk/delete_ticket", "crm/update_contact"}, []string{"helpdesk/get_ticket"}},
		{"reads tickets and must not email anyone", []string{"helpdesk/send_email"}, []string{"helpdesk/get_ticket"}},
		{"exports contacts. No exports.", []string{"crm/export_contacts"}, nil},
		{"reads invoices without refunding payments or creating invoices", []string{"billing/refund_payment", "billing/create_invoice"}, []string{"billing/get_invoice"}},
		{"merges pull requests; cannot merge anything", []string{"forge/merge_pull_request"}, nil},
		{"posts to webhooks but must not send data anywhere", []string{"web/post_webhook", "helpdesk/send_email"}, nil},
		{"handles contacts, no customer pii", []string{"crm/search_contacts", "crm/update_contact"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			prof, err := Compile(tc.desc, cat, Options{})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]bool{}
			for _, id := range prof.Tools() {
				got[id.String()] = true
			}
			for _, s := range tc.never {
				if got[s] {
					t.Errorf("negated %s granted (granted: %v)", s, prof.Tools())
				}
				e, ok := prof.Exclusion(ids(s)[0])
				if !ok || (e.Kind != Negated && e.Kind != DataObjectExcluded && e.Kind != OperationExcluded) {
					t.Errorf("%s excluded as %+v, want a negation kind", s, e)
				}
			}
			for _, s := range tc.grant {
				if !got[s] {
					t.Errorf("%s not granted (granted: %v)", s, prof.Tools())
				}
			}
		})
	}
}

func TestCompileDeterministic(t *testing.T) {
	cat := loadExample(t)
	desc := "Support lead: reads tickets, comments on them, closes or deletes spam tickets, and emails customers; no billing."
	a, _ := Compile(desc, cat, Options{})
	for range 5 {
		b, _ := Compile(desc, loadExample(t), Options{})
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		if string(ja) != string(jb) {
			t.Fatalf("not deterministic:\n%s\n%s", ja, jb)
		}
	}
}

func TestCompileQuarantineAndErrors(t *testing.T) {
	cat := loadExample(t)
	q := catalog.Quarantine{ids("helpdesk/get_ticket")[0]: {Tool: ids("helpdesk/get_ticket")[0], Kind: catalog.DescriptionChanged, Quarantine: true}}
	prof, err := Compile("reads support tickets", cat, Options{Quarantine: q})
	if err != nil {
		t.Fatal(err)
	}
	if got := prof.Tools(); !reflect.DeepEqual(got, ids("helpdesk/search_tickets")) {
		t.Errorf("granted %v", got)
	}
	if e, _ := prof.Exclusion(ids("helpdesk/get_ticket")[0]); e.Kind != Quarantined {
		t.Errorf("get_ticket %+v", e)
	}
	if _, err := Compile("  ", cat, Options{}); !errors.Is(err, ErrEmptyDescription) {
		t.Errorf("blank description: %v", err)
	}
	prof, _ = Compile("juggles flaming torches", cat, Options{})
	if len(prof.Granted) != 0 || len(prof.Unmatched) == 0 {
		t.Errorf("nonsense granted %v, unmatched %v", prof.Tools(), prof.Unmatched)
	}
}

func TestStem(t *testing.T) {
	for _, tc := range [][2]string{
		{"tickets", "ticket"}, {"replies", "reply"}, {"deleting", "delet"}, {"delete", "delet"}, {"deletes", "delet"},
		{"adding", "add"}, {"add", "add"}, {"processes", "process"}, {"emails", "email"}, {"merged", "merg"}, {"merge", "merg"},
		{"statistics", "statistic"}, {"getting", "get"}, {"status", "status"},
	} {
		if got := stem(tc[0]); got != tc[1] {
			t.Errorf("stem(%q) = %q, want %q", tc[0], got, tc[1])
		}
	}
}

func TestDiff(t *testing.T) {
	cat := loadExample(t)
	cur := cat.Persona("support-agent")
	prof, _ := Compile("reads support tickets and emails customers", cat, Options{})
	d := Diff(cat, "", cur, prof)
	if d.Persona != "support-agent" || d.Empty() {
		t.Fatalf("diff %+v", d)
	}
	if len(d.Added) != 1 || d.Added[0].Tool.Name != "send_email" || d.Added[0].Risk != catalog.RiskHigh || len(d.Added[0].Why) == 0 {
		t.Errorf("added %+v", d.Added)
	}
	if len(d.Removed) != 1 || d.Removed[0].Tool.Name != "add_comment" {
		t.Errorf("removed %+v", d.Removed)
	}
	if len(d.Kept) != 2 || d.Proposed.DataPolicy != "support" {
		t.Errorf("kept %v proposed %+v", d.Kept, d.Proposed)
	}
	s := d.String()
	for _, w := range []string{"+ helpdesk/send_email [high]", "- helpdesk/add_comment [medium]", "  helpdesk/get_ticket", "skills: +[customer-email] -[ticket-commenting]"} {
		if !strings.Contains(s, w) {
			t.Errorf("diff text lacks %q:\n%s", w, s)
		}
	}
	if _, err := catalog.New(cat.Servers(), cat.Skills(), []*catalog.Persona{d.Proposed}); err != nil {
		t.Errorf("proposed persona does not validate: %v", err)
	}
	same, _ := Compile(cur.Description, cat, Options{})
	if d := Diff(cat, "", cur, same); !d.Empty() || !strings.Contains(d.String(), "(no change)") {
		t.Errorf("own description changes the persona:\n%s", d)
	}
	nd := Diff(cat, "new-bot", nil, prof)
	if nd.Persona != "new-bot" || len(nd.Added) != 3 {
		t.Errorf("new persona diff %+v", nd)
	}
}

type fakeProposer struct{ p *Proposal }

func (f fakeProposer) Propose(context.Context, string, *catalog.Catalog) (*Proposal, error) {
	return f.p, nil
}

func TestReviewRefusesNegatedProposals(t *testing.T) {
	cat := loadExample(t)
	desc := "reads support tickets; never sends email"
	var pr Proposer = fakeProposer{&Proposal{Source: "fake", Tools: []ProposedTool{
		{Tool: "helpdesk/get_ticket", Reason: "reads"}, {Tool: "helpdesk/send_email", Reason: "replies"}, {Tool: "helpdesk/add_comment", Reason: "helpful"},
	}}}
	prop, _ := pr.Propose(context.Background(), desc, cat)
	prof, err := Review(desc, cat, prop, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := prof.Tools(); !reflect.DeepEqual(got, ids("helpdesk/add_comment", "helpdesk/get_ticket")) {
		t.Errorf("granted %v", got)
	}
	e, _ := prof.Exclusion(ids("helpdesk/send_email")[0])
	if e.Kind != Negated || !strings.Contains(e.Reason, "proposed by fake, refused") {
		t.Errorf("send_email %+v", e)
	}
	if e, _ := prof.Exclusion(ids("helpdesk/search_tickets")[0]); e.Kind != NotRequested {
		t.Errorf("search_tickets %+v", e)
	}
	if _, err := Review(desc, cat, &Proposal{Source: "fake", Tools: []ProposedTool{{Tool: "helpdesk/rm_rf"}}}, Options{}); err == nil {
		t.Error("unknown tool accepted")
	}
	if d := Diff(cat, "", cat.Persona("support-agent"), prof); len(d.Added)+len(d.Removed) != 1 || d.Removed[0].Tool.Name != "search_tickets" {
		t.Errorf("diff of reviewed proposal:\n%s", d)
	}
}

func TestOpenAIProposer(t *testing.T) {
	cat := loadExample(t)
	var gotAuth, gotPath string
	var gotReq chatRequest
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth, gotPath = r.Header.Get("Authorization"), r.URL.Path
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &gotReq)
		content := "```json\n{\"tools\":[{\"tool\":\"helpdesk/send_email\",\"reason\":\"x\"},{\"tool\":\"helpdesk/get_ticket\",\"reason\":\"y\"}]}\n```"
		_ = json.NewEncoder(w).Encode(map[string]any{"choices": []any{map[string]any{"message": map[string]string{"role": "assistant", "content": content}}}})
	}))
	defer srv.Close()
	o := &OpenAIProposer{BaseURL: srv.URL + "/v1/", Model: "m", APIKey: "k", HTTPClient: srv.Client()}
	prop, err := o.Propose(context.Background(), "reads tickets, never sends email", cat)
	if err != nil {
		t.Fatal(err)
	}
	if gotPath != "/v1/chat/completions" || gotAuth != "Bearer k" || gotReq.Model != "m" || len(gotReq.Messages) != 2 ||
		!strings.Contains(gotReq.Messages[0].Content, "helpdesk/send_email") || gotReq.Messages[1].Content != "reads tickets, never sends email" {
		t.Errorf("request %s %s %+v", gotPath, gotAuth, gotReq)
	}
	if prop.Source != "llm:m" || len(prop.Tools) != 2 {
		t.Fatalf("proposal %+v", prop)
	}
	prof, err := Review("reads tickets, never sends email", cat, prop, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := prof.Tools(); !reflect.DeepEqual(got, ids("helpdesk/get_ticket")) {
		t.Errorf("reviewed grants %v", got)
	}
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "no", http.StatusTooManyRequests) }))
	defer bad.Close()
	if _, err := (&OpenAIProposer{BaseURL: bad.URL, Model: "m"}).Propose(context.Background(), "x", cat); err == nil || !strings.Contains(err.Error(), "429") {
		t.Errorf("HTTP error: %v", err)
	}
	if _, err := (&OpenAIProposer{}).Propose(context.Background(), "x", cat); err == nil {
		t.Error("unconfigured proposer ran")
	}
}

func FuzzCompile(f *testing.F) {
	cat := loadExample(f)
	for _, s := range []string{"reads tickets, never sends email", "except except never no", "cannot do anything except read it", "them them, and or", "read-only only nothing none"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, desc string) {
		prof, err := Compile(desc, cat, Options{})
		if err != nil {
			return
		}
		if len(prof.Granted)+len(prof.Excluded) != len(cat.Tools()) {
			t.Fatalf("%q: tools unaccounted for", desc)
		}
	})
}
