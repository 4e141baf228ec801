package filter

import (
	"bytes"
	"encoding/json"
	"sync"
	"testing"

	"github.com/portcullis/portcullis/extproc/internal/mcp"
	"github.com/portcullis/portcullis/extproc/internal/policy"
)

// FuzzUnsolicitedStreamNarrowing: an upstream's event stream on a GET (the
// stream a Last-Event-ID replay or the legacy transport delivers results
// on), cut into chunks anywhere. Whatever it sends, no event that reaches the
// agent is read — by an exact-key client or by a case-insensitive one (Go's
// encoding/json) — as a result listing a tool the persona lacks.
func FuzzUnsolicitedStreamNarrowing(f *testing.F) {
	for _, s := range []string{
		"data: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"tools\":[{\"name\":\"get_ticket\"},{\"name\":\"delete_all\"}]}}\n\n",
		"id: 4\ndata: {\"jsonrpc\":\"2.0\",\"id\":\"a\",\"result\":{\"Tools\":[{\"name\":\"delete_all\"}]}}\n\n",
		"data: {\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{\"tools\":[],\"Tools\":[{\"name\":\"delete_all\"}]}}\n\n",
		"data: {\"jsonrpc\":\"2.0\",\"id\":1,\"Result\":{\"tools\":[{\"name\":\"delete_all\"}]}}\r\n\r\n",
		"data: {\"jsonrpc\":\"2.0\",\"id\":1,\n" + "data: \"result\":{\"toolſ\":[{\"name\":\"delete_all\"}]}}\n\n",
		"data: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"\\u0074ools\":[{\"name\":\"delete_all\"}]}}\n\n",
		": comment\n\nretry: 10\n\nevent: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/tools/list_changed\"}\n\n",
	} {
		f.Add([]byte(s), []byte{7, 3, 200})
	}
	var (
		once sync.Once
		p    *policy.Policy
	)
	f.Fuzz(func(t *testing.T, stream, cuts []byte) {
		once.Do(func() { p = testPolicy(t) })
		x := NewEngine(p, Options{}).NewExchange(StreamInfo{})
		if act := x.RequestHeaders(Headers{{":method", "GET"}, {":path", "/mcp"}, {"authorization", "Bearer " + testKey}}, true); act.Respond != nil {
			t.Fatalf("GET refused: %s", act.Respond.Body)
		}
		x.ResponseHeaders(Headers{{":status", "200"}, {"content-type", "text/event-stream"}}, false)
		var out []byte
		for i, off := 0, 0; off < len(stream) || i == 0; i++ {
			n := len(stream) - off
			if len(cuts) > 0 {
				n = min(int(cuts[i%len(cuts)])%97+1, n)
			}
			chunk := stream[off : off+n]
			off += n
			eos := off >= len(stream)
			act := x.ResponseBody(bytes.Clone(chunk), eos)
			if act.Respond != nil {
				return
			}
			if act.ReplaceBody {
				out = append(out, act.Body...)
			} else {
				out = append(out, chunk...)
			}
			if eos {
				break
			}
		}
		var sp mcp.SSESplitter
		events := sp.Feed(out)
		if rest := sp.Flush(); len(rest) > 0 {
			events = append(events, rest)
		}
		persona := p.Persona("support")
		for _, ev := range events {
			data, ok := mcp.EventData(ev)
			if !ok {
				continue
			}
			for _, name := range lenientToolNames(data) {
				if !persona.Grants(name) {
					t.Fatalf("tool %q reached the agent in %q (stream %q)", name, data, stream)
				}
			}
		}
	})
}

// lenientToolNames reads data as the most lenient client would: Go's
// encoding/json (case-insensitive member names, last duplicate wins) and an
// exact-key map; it returns every tool name either view finds in a result.
func lenientToolNames(data []byte) []string {
	var names []string
	var ci struct {
		Result struct {
			Tools []struct {
				Name string `json:"name"`
			} `json:"tools"`
		} `json:"result"`
	}
	if json.Unmarshal(data, &ci) == nil {
		for _, tl := range ci.Result.Tools {
			names = append(names, tl.Name)
		}
	}
	var exact map[string]json.RawMessage
	if json.Unmarshal(data, &exact) == nil {
		var result map[string]json.RawMessage
		if json.Unmarshal(exact["result"], &result) == nil {
			var tools []map[string]json.RawMessage
			if json.Unmarshal(result["tools"], &tools) == nil {
				for _, tl := range tools {
					var n string
					if json.Unmarshal(tl["name"], &n) == nil || len(tl["name"]) == 0 {
						names = append(names, n)
					}
				}
			}
		}
	}
	return names
}
