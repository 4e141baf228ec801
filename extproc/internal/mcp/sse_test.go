package mcp

import (
	"bytes"
	"strings"
	"testing"
)

func TestSSESplitterEveryBoundary(t *testing.T) {
	stream := "id: 1\ndata: {\"a\":1}\n\n: comment\n\nevent: message\r\ndata: x\r\ndata: y\r\n\r\ndata: z\r\rid: 9\n\n"
	want := []string{"id: 1\ndata: {\"a\":1}\n\n", ": comment\n\n", "event: message\r\ndata: x\r\ndata: y\r\n\r\n", "data: z\r\r", "id: 9\n\n"}
	// Split the stream at every pair of positions: the events must come out
	// the same whatever the chunking.
	for i := 0; i <= len(stream); i++ {
		for j := i; j <= len(stream); j++ {
			var s SSESplitter
			var got []string
			for _, chunk := range []string{stream[:i], stream[i:j], stream[j:]} {
				for _, ev := range s.Feed([]byte(chunk)) {
					got = append(got, string(ev))
				}
			}
			if s.Pending() != 0 {
				t.Fatalf("split %d/%d: %d bytes pending", i, j, s.Pending())
			}
			if strings.Join(got, "|") != strings.Join(want, "|") {
				t.Fatalf("split %d/%d: got %q want %q", i, j, got, want)
			}
		}
	}
}

func TestSSESplitterHoldsOnlyIncompleteEvent(t *testing.T) {
	var s SSESplitter
	evs := s.Feed([]byte("data: a\n\ndata: partial"))
	if len(evs) != 1 || s.Pending() != len("data: partial") {
		t.Fatalf("events=%d pending=%d", len(evs), s.Pending())
	}
	if rest := s.Flush(); string(rest) != "data: partial" || s.Pending() != 0 {
		t.Fatalf("flush %q", rest)
	}
}

func TestEventData(t *testing.T) {
	data, ok := EventData([]byte("id: 1\ndata: a\ndata:b\nevent: message\n\n"))
	if !ok || string(data) != "a\nb" {
		t.Fatalf("got %q %v", data, ok)
	}
	if _, ok := EventData([]byte("id: 5\n\n")); ok {
		t.Fatal("priming event reported data")
	}
}

func TestReplaceEventData(t *testing.T) {
	got := ReplaceEventData([]byte("event: message\r\nid: 4\r\ndata: old1\r\ndata: old2\r\n\r\n"), []byte("{\n\"x\":1}"))
	want := "event: message\nid: 4\ndata: {\ndata: \"x\":1}\n\n"
	if string(got) != want {
		t.Fatalf("got %q want %q", got, want)
	}
	data, _ := EventData(got)
	if !bytes.Equal(data, []byte("{\n\"x\":1}")) {
		t.Fatalf("round trip %q", data)
	}
}

func FuzzSSESplitter(f *testing.F) {
	f.Add([]byte("data: a\n\ndata: b\r\n\r\n"), uint8(3))
	f.Add([]byte("id: 1\r\rdata: x\n\n"), uint8(1))
	f.Fuzz(func(t *testing.T, stream []byte, step uint8) {
		n := int(step%16) + 1
		var s SSESplitter
		var out []byte
		for i := 0; i < len(stream); i += n {
			for _, ev := range s.Feed(stream[i:min(i+n, len(stream))]) {
				out = append(out, ev...)
			}
		}
		out = append(out, s.Flush()...)
		if !bytes.Equal(out, stream) {
			t.Fatalf("bytes lost or reordered: got %q want %q", out, stream)
		}
	})
}
