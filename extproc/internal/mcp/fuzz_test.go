package mcp

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

// The seed corpora of these targets are committed under testdata/fuzz/;
// run one with, for example,
//
//	go test -run '^$' -fuzz '^FuzzParseBodyUpstreamView$' -fuzztime 60s ./internal/mcp/
//
// and commit any failing input it writes there as a regression case.

// goView is a JSON-RPC message as an upstream built on encoding/json reads
// it: member names matched case-insensitively, the last duplicate wins.
type goView struct {
	ID     json.RawMessage `json:"id"`
	Method *string         `json:"method"`
	Params json.RawMessage `json:"params"`
}

type goParams struct {
	Name *string `json:"name"`
}

// exactView reads a message as JavaScript's JSON.parse does: member names
// matched exactly.
func exactView(raw []byte) (method, tool *string, ok bool) {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return nil, nil, false
	}
	str := func(v json.RawMessage) *string {
		var s string
		if len(v) == 0 || v[0] != '"' || json.Unmarshal(v, &s) != nil {
			return nil
		}
		return &s
	}
	method = str(m["method"])
	var p map[string]json.RawMessage
	if json.Unmarshal(m["params"], &p) == nil {
		tool = str(p["name"])
	}
	return method, tool, true
}

// FuzzParseBodyUpstreamView checks that ParseBody never panics, fails only
// with a *ParseError, and that a body it accepts is read by encoding/json
// (the upstream's parser) as the same messages: same method, same tool,
// same id. ParseBody refuses duplicate and case-variant members where they
// decide what executes, so both the case-insensitive Go view and the exact
// JavaScript view must agree with it.
func FuzzParseBodyUpstreamView(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := ParseBody(body, Limits{})
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || (pe.Code != CodeParseError && pe.Code != CodeInvalidRequest) || pe.Reason == "" {
				t.Fatalf("error %#v is not a coded *ParseError", err)
			}
			return
		}
		if !json.Valid(body) {
			t.Fatalf("accepted a body the upstream cannot parse: %q", body)
		}
		if len(b.Messages) == 0 {
			t.Fatalf("accepted %q without a message", body)
		}
		var raws []json.RawMessage
		if b.Batch {
			if err := json.Unmarshal(body, &raws); err != nil {
				t.Fatalf("accepted batch %q: %v", body, err)
			}
		} else {
			raws = []json.RawMessage{body}
		}
		if len(raws) != len(b.Messages) {
			t.Fatalf("%q: %d messages, encoding/json reads %d", body, len(b.Messages), len(raws))
		}
		for i, m := range b.Messages {
			var g goView
			if err := json.Unmarshal(raws[i], &g); err != nil {
				continue // not comparable; the upstream refuses it
			}
			gm := ""
			if g.Method != nil {
				gm = *g.Method
			}
			if gm != m.Method {
				t.Fatalf("%q: method %q, encoding/json reads %q", body, m.Method, gm)
			}
			em, et, ok := exactView(raws[i])
			if !ok {
				t.Fatalf("%q: element %d is not an object", body, i)
			}
			if (em == nil) != (m.Kind == KindResponse) || (em != nil && *em != m.Method) {
				t.Fatalf("%q: method %q kind %d, exact view reads %v", body, m.Method, m.Kind, em)
			}
			if m.Kind != KindResponse && !bytes.Equal(m.ID, g.ID) {
				t.Fatalf("%q: id %s, encoding/json reads %s", body, m.ID, g.ID)
			}
			if m.Kind == KindRequest && m.Method == MethodToolsCall {
				var gp goParams
				if err := json.Unmarshal(g.Params, &gp); err != nil || gp.Name == nil || *gp.Name != m.Tool {
					t.Fatalf("%q: tool %q, encoding/json reads %v (%v)", body, m.Tool, gp.Name, err)
				}
				if et == nil || *et != m.Tool {
					t.Fatalf("%q: tool %q, exact view reads %v", body, m.Tool, et)
				}
			}
			if m.Kind != KindResponse {
				for _, r := range m.Method {
					if r <= ' ' || r > '~' {
						t.Fatalf("%q: accepted method %q", body, m.Method)
					}
				}
			}
		}
	})
}

// referenceEvents splits a whole stream into events by the SSE rules (a
// line ends at CRLF, LF or CR; an empty line ends the event), keeping back
// the incomplete tail and a CR at the very end (it may begin a CRLF).
func referenceEvents(stream []byte) (events [][]byte, rest []byte) {
	start, lineStart := 0, 0
	for i := 0; i < len(stream); i++ {
		c := stream[i]
		if c != '\r' && c != '\n' {
			continue
		}
		if c == '\r' && i+1 == len(stream) {
			break
		}
		next := i + 1
		if c == '\r' && stream[i+1] == '\n' {
			next++
		}
		if i == lineStart {
			events = append(events, stream[start:next])
			start = next
		}
		lineStart = next
		i = next - 1
	}
	return events, stream[start:]
}

// FuzzSSESplitterChunking feeds a stream in the chunking that cuts
// describes (each byte a chunk length, 0 an empty chunk) and checks that
// the events are those of the whole stream, that the splitter holds back
// exactly the bytes of the incomplete event after every chunk, and that its
// buffer stays proportional to them.
func FuzzSSESplitterChunking(f *testing.F) {
	f.Fuzz(func(t *testing.T, stream, cuts []byte) {
		wantEvents, wantRest := referenceEvents(stream)

		var whole SSESplitter
		var wholeEvents [][]byte
		for _, ev := range whole.Feed(bytes.Clone(stream)) {
			wholeEvents = append(wholeEvents, bytes.Clone(ev))
		}
		if got := whole.Flush(); !bytes.Equal(got, wantRest) {
			t.Fatalf("whole: rest %q, want %q", got, wantRest)
		}
		if !equalEvents(wholeEvents, wantEvents) {
			t.Fatalf("whole: events %q, want %q", wholeEvents, wantEvents)
		}

		var s SSESplitter
		var got [][]byte
		fed, emitted := 0, 0
		for i, off := 0, 0; off < len(stream); i++ {
			n := len(stream) - off
			if len(cuts) > 0 && i < 4*len(stream)+len(cuts) {
				n = min(int(cuts[i%len(cuts)])%64, n)
			}
			chunk := bytes.Clone(stream[off : off+n])
			off += n
			fed += n
			for _, ev := range s.Feed(chunk) {
				got = append(got, bytes.Clone(ev))
				emitted += len(ev)
			}
			if s.Pending() != fed-emitted {
				t.Fatalf("after %d bytes: %d pending, the incomplete event has %d", fed, s.Pending(), fed-emitted)
			}
			if c := cap(s.buf); c > 4*s.Pending()+16<<10 {
				t.Fatalf("after %d bytes: buffer of %d bytes holds %d pending", fed, c, s.Pending())
			}
		}
		if rest := s.Flush(); !bytes.Equal(rest, wantRest) {
			t.Fatalf("chunked %v: rest %q, want %q", cuts, rest, wantRest)
		}
		if s.Pending() != 0 {
			t.Fatalf("%d bytes pending after Flush", s.Pending())
		}
		if !equalEvents(got, wantEvents) {
			t.Fatalf("chunked %v: events %q, want %q", cuts, got, wantEvents)
		}
		for _, ev := range got {
			data, ok := EventData(ev)
			if ok {
				// Rewriting the data keeps it: what the filter forwards
				// decodes to what it inspected.
				if back, _ := EventData(ReplaceEventData(ev, data)); !bytes.Equal(back, data) {
					t.Fatalf("event %q: data %q round-trips to %q", ev, data, back)
				}
			}
		}
	})
}

func equalEvents(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}
