package filter

import (
	"runtime"
	"strconv"
	"strings"
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

// BenchmarkSSEProtect streams a 10 MiB tool result as 1 KiB SSE events
// (one in 16 carrying an AWS key id and a card number) in 16 KiB chunks
// through the data policy (redact secrets, mask cards). It reports
// throughput and, as peak-heap-MiB, the largest live heap (above what the
// benchmark itself holds) sampled each MiB: O(event), not O(stream).
func BenchmarkSSEProtect(b *testing.B) {
	e := NewEngine(dataPolicy(&testing.T{}, ""), Options{})
	const total, eventSize, chunk = 10 << 20, 1 << 10, 16 << 10
	var stream []byte
	for i := 0; len(stream) < total; i++ {
		text := "ticket history line " + strconv.Itoa(i) + " nothing to see here"
		if i%16 == 0 {
			text = "key " + awsKeyID + " card " + card
		}
		ev := `data: {"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":1,"message":"` + text + `","pad":"`
		pad := eventSize - len(ev) - len(`"}}`+"\n\n")
		stream = append(stream, ev...)
		stream = append(stream, strings.Repeat("x", max(pad, 0))...)
		stream = append(stream, `"}}`+"\n\n"...)
	}
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	var peak uint64
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	for b.Loop() {
		x, _ := send(&testing.T{}, e, dataKey, callBody("get_ticket", `{"id":"T-1"}`))
		x.ResponseHeaders(Headers{{":status", "200"}, {"content-type", "text/event-stream"}}, false)
		redacted := 0
		for i := 0; i < len(stream); i += chunk {
			a := x.ResponseBody(stream[i:min(i+chunk, len(stream))], false)
			redacted += strings.Count(string(a.Body), "[REDACTED:aws-access-key-id]")
			if i%(1<<20) == 0 {
				// Live heap mid-stream (after a collection, untimed).
				b.StopTimer()
				runtime.GC()
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapAlloc-min(base, ms.HeapAlloc))
				b.StartTimer()
			}
		}
		x.ResponseBody(nil, true)
		if d := x.Finish(); redacted == 0 || d.Outcome != OutcomeAllowed {
			b.Fatalf("redacted %d, outcome %v", redacted, d.Outcome)
		}
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}
