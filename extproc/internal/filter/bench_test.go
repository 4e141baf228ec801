package filter

import (
	"testing"
)

// BenchmarkExchangeToolsCall is the policy core's share of one allowed
// tools/call: authenticate, authorise, choose the response mode, count the
// response bytes, build the decision.
func BenchmarkExchangeToolsCall(b *testing.B) {
	e := NewEngine(testPolicy(&testing.T{}), Options{})
	headers := postHeaders(testKey)
	body := []byte(`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"get_ticket","arguments":{"id":"T-100","verbose":true}}}`)
	respHeaders := Headers{{":status", "200"}, {"content-type", "application/json"}}
	resp := []byte(`{"jsonrpc":"2.0","id":7,"result":{"content":[{"type":"text","text":"T-100: Cannot log in"}],"isError":false}}`)
	b.ReportAllocs()
	for b.Loop() {
		x := e.NewExchange(StreamInfo{ClientAddress: "10.0.0.1:4000"})
		x.RequestHeaders(headers, false)
		if act := x.RequestBody(body, true); act.Respond != nil {
			b.Fatal("refused")
		}
		x.ResponseHeaders(respHeaders, false)
		x.ResponseBody(resp, true)
		if d := x.Finish(); d.Outcome != OutcomeAllowed {
			b.Fatal(d.Outcome)
		}
	}
}

// BenchmarkExchangeToolsListSSE narrows a 40-tool tools/list answer streamed
// as SSE in 512-byte chunks.
func BenchmarkExchangeToolsListSSE(b *testing.B) {
	e := NewEngine(testPolicy(&testing.T{}), Options{})
	headers := postHeaders(testKey)
	tools := ""
	for i := 0; i < 40; i++ {
		if i > 0 {
			tools += ","
		}
		name := "tool_" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		if i == 3 {
			name = "get_ticket"
		}
		tools += `{"name":"` + name + `","description":"does things with tickets and more","inputSchema":{"type":"object","properties":{"id":{"type":"string"}}}}`
	}
	stream := []byte("event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":\"L1\",\"result\":{\"tools\":[" + tools + "]}}\n\n")
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	for b.Loop() {
		x := e.NewExchange(StreamInfo{})
		x.RequestHeaders(headers, false)
		x.RequestBody([]byte(`{"jsonrpc":"2.0","id":"L1","method":"tools/list"}`), true)
		x.ResponseHeaders(Headers{{":status", "200"}, {"content-type", "text/event-stream"}}, false)
		for i := 0; i < len(stream); i += 512 {
			x.ResponseBody(stream[i:min(i+512, len(stream))], false)
		}
		x.ResponseBody(nil, true)
		x.Finish()
	}
}
