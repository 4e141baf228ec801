package filter

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/portcullis/portcullis/extproc/dlp"
	"github.com/portcullis/portcullis/extproc/internal/policy"
)

const (
	dataKey      = "data-agent-key"
	devKey       = "dev-agent-key"
	backendToken = "backend-token-5f7c2a9e"
	awsKeyID     = "AKIAQYLPMN5HFIQR7BWX"
	card         = "4111 1111 1111 1111"
)

func dataPolicy(t *testing.T, extra string) *policy.Policy {
	t.Helper()
	doc := fmt.Sprintf(`
environment: test
upstreams:
  - name: tickets
    environment: prod
    credential: {header: authorization, value: "Bearer %s"}
    sink_tools: [send_email]
  - name: sandbox
    environment: dev
personas:
  - name: support
    upstream: tickets
    tools: [get_ticket, add_comment, send_email]
    data_policy: strict
  - name: tester
    upstream: sandbox
    tools: [run]
    data_policy: strict
agents:
  - {id: agent-1, subject: alice, persona: support, key_sha256: %s}
  - {id: agent-3, subject: alice, persona: tester, key_sha256: %s}
data_protection:
  token_key: "tenant-token-key-0123456789"
  policies:
    - name: strict
      default: allow
      categories: {secret: redact}
      types:
        credit-card: {action: mask, keep: 4}
        us-ssn: block
      flows: {external_sinks: block, prod_to_dev: block}
%s`, backendToken, policy.HashKey(dataKey), policy.HashKey(devKey), extra)
	p, err := policy.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func dataEngine(t *testing.T) *Engine {
	c := &clock{t: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	return NewEngine(dataPolicy(t, ""), Options{Now: c.now})
}

func callBody(tool, args string) []byte {
	return []byte(`{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"` + tool + `","arguments":` + args + `}}`)
}

// send runs a tools/call through an exchange and returns the body action.
func send(t *testing.T, e *Engine, key string, body []byte) (*Exchange, Action) {
	t.Helper()
	x := e.NewExchange(StreamInfo{})
	if a := x.RequestHeaders(postHeaders(key), false); a.Respond != nil {
		t.Fatalf("headers refused: %s", a.Respond.Body)
	}
	return x, x.RequestBody(body, true)
}

func respondJSON(t *testing.T, x *Exchange, body string) []byte {
	t.Helper()
	if a := x.ResponseHeaders(Headers{{":status", "200"}, {"content-type", "application/json"}}, false); a.ResponseBodyMode != BodyModeBuffered {
		t.Fatalf("JSON response not buffered: %+v", a)
	}
	a := x.ResponseBody([]byte(body), true)
	if !a.ReplaceBody {
		return []byte(body)
	}
	if cl := a.SetHeaders.Get("content-length"); cl != fmt.Sprint(len(a.Body)) {
		t.Fatalf("content-length %q for %d bytes", cl, len(a.Body))
	}
	return a.Body
}

func findingOf(d Decision, typ string, dir Direction) (Finding, bool) {
	for _, f := range d.Findings {
		if f.Type == typ && f.Direction == dir {
			return f, true
		}
	}
	return Finding{}, false
}

func TestRequestSecretsRedactedBeforeUpstream(t *testing.T) {
	e := dataEngine(t)
	for name, args := range map[string]string{
		"plain":          `{"note":"use ` + awsKeyID + `"}`,
		"unicode-escape": `{"note":"use \u0041KIAQYLPMN5HFIQR7BWX"}`,
		"base64":         `{"blob":"` + base64.StdEncoding.EncodeToString([]byte("aws key "+awsKeyID)) + `"}`,
	} {
		t.Run(name, func(t *testing.T) {
			x, a := send(t, e, dataKey, callBody("add_comment", args))
			if a.Respond != nil || !a.ReplaceBody {
				t.Fatalf("want a rewritten body, got %+v", a)
			}
			if strings.Contains(string(a.Body), "QYLPMN5HFIQR7BWX") || !strings.Contains(string(a.Body), "[REDACTED:aws-access-key-id]") || !json.Valid(a.Body) {
				t.Fatalf("forwarded %s", a.Body)
			}
			if a.SetHeaders.Get("content-length") != fmt.Sprint(len(a.Body)) || a.SetHeaders.Get("authorization") != "Bearer "+backendToken {
				t.Fatalf("headers %v", a.SetHeaders)
			}
			d := x.Finish()
			if f, ok := findingOf(d, "aws-access-key-id", DirectionRequest); !ok || f.Action != dlp.ActionRedact || f.Count != 1 {
				t.Fatalf("findings %+v", d.Findings)
			}
			if d.Outcome != OutcomeAllowed {
				t.Fatalf("outcome %v", d.Outcome)
			}
		})
	}
}

func TestRequestBlockedByDataPolicy(t *testing.T) {
	e := dataEngine(t)
	x, a := send(t, e, dataKey, callBody("add_comment", `{"note":"ssn 536-22-8725"}`))
	if a.Respond == nil {
		t.Fatal("request with a blocked type forwarded")
	}
	r := decodeError(t, a.Respond.Body)
	if r.Error.Code != CodeSensitiveData || string(r.ID) != "9" || !strings.Contains(r.Error.Message, "us-ssn") || strings.Contains(string(a.Respond.Body), "536-22") {
		t.Fatalf("refusal %s", a.Respond.Body)
	}
	d := x.Finish()
	if d.Outcome != OutcomeDenied || d.Reason != ReasonSensitiveData {
		t.Fatalf("decision %v %v", d.Outcome, d.Reason)
	}
	if f, ok := findingOf(d, "us-ssn", DirectionRequest); !ok || f.Action != dlp.ActionBlock {
		t.Fatalf("findings %+v", d.Findings)
	}
}

func TestResponseMaskedAndKnownSecretRedacted(t *testing.T) {
	e := dataEngine(t)
	x, a := send(t, e, dataKey, callBody("get_ticket", `{"id":"T-1"}`))
	if a.Respond != nil {
		t.Fatalf("refused: %s", a.Respond.Body)
	}
	leak := base64.StdEncoding.EncodeToString([]byte("token=" + backendToken + ";"))
	resp := `{"jsonrpc":"2.0","id":9,"result":{"content":[{"type":"text","text":"card ` + card + `, debug ` + leak + `, auth Bearer ` + backendToken + `"}]}}`
	out := respondJSON(t, x, resp)
	if !json.Valid(out) || strings.Contains(string(out), "4111 1111") || !strings.Contains(string(out), "**** **** **** 1111") {
		t.Fatalf("response %s", out)
	}
	if strings.Contains(string(out), backendToken) || strings.Contains(string(out), leak) {
		t.Fatalf("backend credential reached the agent: %s", out)
	}
	d := x.Finish()
	if f, ok := findingOf(d, "credit-card", DirectionResponse); !ok || f.Action != dlp.ActionMask {
		t.Fatalf("findings %+v", d.Findings)
	}
	if f, ok := findingOf(d, dlp.KnownSecretType, DirectionResponse); !ok || f.Action != dlp.ActionRedact {
		t.Fatalf("findings %+v", d.Findings)
	}
}

func TestResponseSSERedactedAtAnyChunking(t *testing.T) {
	e := dataEngine(t)
	stream := ": prime\n\n" +
		"event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progress\":1}}\n\n" +
		"data: {\"jsonrpc\":\"2.0\",\"id\":9,\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"key " + awsKeyID + " card " + card + "\"}]}}\n\n"
	for cut := 1; cut < len(stream); cut++ {
		x, _ := send(t, e, dataKey, callBody("get_ticket", `{"id":"T-1"}`))
		if a := x.ResponseHeaders(Headers{{":status", "200"}, {"content-type", "text/event-stream"}}, false); a.ResponseBodyMode != BodyModeStreamed {
			t.Fatal("SSE not streamed")
		}
		var out []byte
		for _, part := range [][]byte{[]byte(stream[:cut]), []byte(stream[cut:])} {
			a := x.ResponseBody(part, len(out) > 0 || cut == len(stream))
			if a.ReplaceBody {
				out = append(out, a.Body...)
			} else {
				out = append(out, part...)
			}
		}
		a := x.ResponseBody(nil, true)
		if a.ReplaceBody {
			out = append(out, a.Body...)
		}
		s := string(out)
		if strings.Contains(s, "QYLPMN5HFIQR7BWX") || strings.Contains(s, "4111 1111") || !strings.Contains(s, "[REDACTED:aws-access-key-id]") || !strings.Contains(s, "notifications/progress") {
			t.Fatalf("cut %d: %q", cut, s)
		}
	}
}

func TestFlowToExternalSinkBlocked(t *testing.T) {
	e := dataEngine(t)
	// The ticket shows a card (masked for the agent, but the agent may
	// have it from elsewhere) and an IBAN.
	x, _ := send(t, e, dataKey, callBody("get_ticket", `{"id":"T-1"}`))
	respondJSON(t, x, `{"jsonrpc":"2.0","id":9,"result":{"content":[{"type":"text","text":"refund to GB82 WEST 1234 5698 7654 32, card `+card+`"}]}}`)
	x.Finish()

	// Quoting it in a comment on the same server is fine.
	x, a := send(t, e, dataKey, callBody("add_comment", `{"note":"refunded GB82WEST12345698765432"}`))
	if a.Respond != nil {
		t.Fatalf("comment refused: %s", a.Respond.Body)
	}
	x.Finish()
	// Mailing it out is not, in whatever spacing.
	x, a = send(t, e, dataKey, callBody("send_email", `{"to":"bob@example.net","body":"IBAN GB82WEST12345698765432"}`))
	if a.Respond == nil {
		t.Fatal("value from a tool response sent to an external sink")
	}
	r := decodeError(t, a.Respond.Body)
	if r.Error.Code != CodeDataFlow || !strings.Contains(r.Error.Message, `"get_ticket"`) || !strings.Contains(r.Error.Message, "iban") {
		t.Fatalf("refusal %s", a.Respond.Body)
	}
	if d := x.Finish(); d.Reason != ReasonDataFlow || d.Outcome != OutcomeDenied {
		t.Fatalf("decision %v %v", d.Outcome, d.Reason)
	}
	// A value never seen in a response may be mailed.
	_, a = send(t, e, dataKey, callBody("send_email", `{"to":"bob@example.net","body":"IBAN DE89 3704 0044 0532 0130 00"}`))
	if a.Respond != nil {
		t.Fatalf("unrelated value refused: %s", a.Respond.Body)
	}
}

func TestFlowProdToDevBlockedAcrossAgentsOfOneSubject(t *testing.T) {
	e := dataEngine(t)
	x, _ := send(t, e, dataKey, callBody("get_ticket", `{"id":"T-1"}`))
	respondJSON(t, x, `{"jsonrpc":"2.0","id":9,"result":{"content":[{"type":"text","text":"refund to GB82 WEST 1234 5698 7654 32"}]}}`)
	x.Finish()
	// agent-3 acts for the same subject on a dev server.
	x, a := send(t, e, devKey, callBody("run", `{"input":"GB82WEST12345698765432"}`))
	if a.Respond == nil {
		t.Fatal("production value reached a development server")
	}
	if r := decodeError(t, a.Respond.Body); r.Error.Code != CodeDataFlow || !strings.Contains(r.Error.Message, "production") {
		t.Fatalf("refusal %s", a.Respond.Body)
	}
	x.Finish()
}

func TestDataPolicyConfigErrors(t *testing.T) {
	for extra, want := range map[string]string{
		"    - {name: bad, types: {credit-crad: mask}}\n":                   `unknown detector type "credit-crad"`,
		"    - {name: bad, categories: {finance: redact}}\n":                `unknown data category "finance"`,
		"    - {name: bad, default: shred}\n":                               `data_protection.policies[1].default: unknown action "shred"`,
		"    - {name: bad, types: {known-secret: allow}}\n":                 "cannot be allowed",
		"    - {name: bad, flows: {external_sinks: maybe}}\n":               "flows.external_sinks",
		"    - {name: strict}\n":                                            `duplicate data policy "strict"`,
		"    - {name: bad, types: {credit-card: {action: mask, kep: 2}}}\n": "kep",
	} {
		doc := fmt.Sprintf(`
upstreams: [{name: u}]
personas: [{name: p, upstream: u, tools: [], data_policy: nope}]
agents: []
data_protection:
  policies:
    - {name: strict}
%s`, extra)
		_, err := policy.Parse([]byte(doc))
		// A document that does not decode is reported alone.
		decodes := !strings.Contains(extra, "kep")
		if err == nil || !strings.Contains(err.Error(), want) || decodes && !strings.Contains(err.Error(), `unknown data policy "nope"`) {
			t.Errorf("%s: error %v, want %q", strings.TrimSpace(extra), err, want)
		}
	}
}

// A panic inside the detection engine (a bug) fails the exchange closed; it
// never takes the filter down.
func TestScanPanicFailsClosed(t *testing.T) {
	e := dataEngine(t)
	boom, err := dlp.NewEngine([]*dlp.Detector{{ID: "boom", Keywords: []string{"boom"}, Pattern: regexp.MustCompile(`boom`),
		Validate: func([]byte) bool { panic("validator bug") }}})
	if err != nil {
		t.Fatal(err)
	}
	e.dlp = boom
	x, a := send(t, e, dataKey, callBody("add_comment", `{"note":"boom"}`))
	if a.Respond == nil || a.Respond.Status != 500 {
		t.Fatalf("request not refused: %+v", a)
	}
	if d := x.Finish(); d.Outcome != OutcomeError || d.Reason != ReasonInternalError {
		t.Fatalf("decision %v %v", d.Outcome, d.Reason)
	}
	x, a = send(t, e, dataKey, callBody("get_ticket", `{"id":"T-1"}`))
	if a.Respond != nil {
		t.Fatalf("clean request refused: %s", a.Respond.Body)
	}
	out := respondJSON(t, x, `{"jsonrpc":"2.0","id":9,"result":{"content":[{"type":"text","text":"boom"}]}}`)
	if r := decodeError(t, out); r.Error.Code != -32603 || strings.Contains(string(out), "boom") {
		t.Fatalf("response %s", out)
	}
}

// The backend credential hidden by a mix of escapes in a response is still
// the gateway's own secret: found and redacted.
func TestKnownSecretBehindMixedEscapes(t *testing.T) {
	e := dataEngine(t)
	x, _ := send(t, e, dataKey, callBody("get_ticket", `{"id":"T-1"}`))
	mixed := strings.Replace(backendToken, "t", `\u0074`, 2) // "backend-\u0074oken-5f7c2a9e"
	out := respondJSON(t, x, `{"jsonrpc":"2.0","id":9,"result":{"content":[{"type":"text","text":"cfg `+mixed+` end"}]}}`)
	var m struct {
		Result struct {
			Content []struct{ Text string } `json:"content"`
		} `json:"result"`
	}
	if err := json.Unmarshal(out, &m); err != nil || len(m.Result.Content) != 1 {
		t.Fatalf("response %s: %v", out, err)
	}
	if got := m.Result.Content[0].Text; strings.Contains(got, backendToken) || !strings.Contains(got, "[REDACTED:known-secret]") {
		t.Fatalf("agent reads %q", got)
	}
}
