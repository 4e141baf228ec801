package mcp

import (
	"bytes"
)

// SSESplitter reassembles text/event-stream events from body chunks whose
// boundaries are unrelated to event boundaries. It holds back only the bytes
// of the one incomplete event, so memory per stream is O(event).
type SSESplitter struct {
	buf []byte
	// scan is where line scanning resumes in buf; lineStart is the start of
	// the line being scanned. Both are relative to buf.
	scan, lineStart int
	// spare is the buffer the next tail is copied into (buffers alternate,
	// so that the events of one call stay valid until the next), events is
	// the reused result slice.
	spare  []byte
	events [][]byte
}

// Feed appends chunk and returns the complete events now available, in
// order, each including its terminating blank line. The returned slices are
// valid until the next call (they may point into chunk).
func (s *SSESplitter) Feed(chunk []byte) [][]byte {
	buf := chunk
	if len(s.buf) > 0 {
		s.buf = append(s.buf, chunk...)
		buf = s.buf
	}
	events := s.events[:0]
	eventStart := 0
	for s.scan < len(buf) {
		i := indexEOL(buf[s.scan:])
		if i < 0 {
			s.scan = len(buf)
			break
		}
		end := s.scan + i
		termLen := 1
		if buf[end] == '\r' {
			if end+1 == len(buf) {
				// A lone CR at the end: it may be the first half of CRLF.
				s.scan = end
				break
			}
			if buf[end+1] == '\n' {
				termLen = 2
			}
		}
		next := end + termLen
		if end == s.lineStart { // empty line: the event ends here
			events = append(events, buf[eventStart:next])
			eventStart = next
		}
		s.scan, s.lineStart = next, next
	}
	s.events = events
	if eventStart > 0 || len(s.buf) == 0 {
		// Keep the tail (an incomplete event) in the other buffer, so that
		// the events returned, which may point into the current one, stay
		// valid for the caller.
		// buf and spare never share an array.
		rest := append(s.spare[:0], buf[eventStart:]...)
		s.spare = s.buf[:0]
		if cap(s.spare) > 64<<10 {
			s.spare = nil // after a large event: do not keep its buffer
		}
		s.buf = rest
		s.scan -= eventStart
		s.lineStart -= eventStart
	}
	return events
}

// Pending is the number of bytes held back (an incomplete event).
func (s *SSESplitter) Pending() int { return len(s.buf) }

// Flush returns the held-back bytes (an event without its terminating blank
// line, at the end of the stream) and resets the splitter.
func (s *SSESplitter) Flush() []byte {
	rest := s.buf
	*s = SSESplitter{}
	return rest
}

// EventData returns the event's data: the values of its data lines joined by
// "\n", per the SSE specification. ok is false when the event has no data
// line (comments, priming events that carry only an id, retry).
func EventData(event []byte) (data []byte, ok bool) {
	lines := 0
	eachLine(event, func(line []byte) {
		name, value := field(line)
		if name != "data" {
			return
		}
		lines++
		switch lines {
		case 1:
			data = value // one data line: no copy
		case 2:
			data = append(append(append(make([]byte, 0, len(data)+1+len(value)), data...), '\n'), value...)
		default:
			data = append(append(data, '\n'), value...)
		}
	})
	return data, lines > 0
}

// ReplaceEventData rewrites event so that its data is data, keeping every
// other line (id, event, retry, comments) in place. The data lines are
// written where the first data line was; the event ends with a blank line.
func ReplaceEventData(event, data []byte) []byte {
	out := make([]byte, 0, len(event)+len(data))
	wrote := false
	for _, line := range eventLines(event) {
		name, _ := field(line)
		if name != "data" {
			out = append(out, line...)
			out = append(out, '\n')
			continue
		}
		if wrote {
			continue
		}
		wrote = true
		for _, l := range bytes.Split(data, []byte("\n")) {
			out = append(out, "data: "...)
			out = append(out, bytes.TrimSuffix(l, []byte("\r"))...)
			out = append(out, '\n')
		}
	}
	return append(out, '\n')
}

// eachLine calls fn with each non-empty line of event (terminators
// removed), without allocating.
func eachLine(event []byte, fn func(line []byte)) {
	for len(event) > 0 {
		i := indexEOL(event)
		if i < 0 {
			fn(event)
			return
		}
		if i > 0 {
			fn(event[:i])
		}
		n := 1
		if event[i] == '\r' && i+1 < len(event) && event[i+1] == '\n' {
			n = 2
		}
		event = event[i+n:]
	}
}

// eventLines splits an event into its non-empty lines (terminators removed).
func eventLines(event []byte) [][]byte {
	var lines [][]byte
	for len(event) > 0 {
		i := indexEOL(event)
		if i < 0 {
			lines = append(lines, event)
			break
		}
		if i > 0 {
			lines = append(lines, event[:i])
		}
		n := 1
		if event[i] == '\r' && i+1 < len(event) && event[i+1] == '\n' {
			n = 2
		}
		event = event[i+n:]
	}
	return lines
}

// field splits an SSE line into its field name and value ("data: x" →
// "data", "x"; a single leading space of the value is dropped).
func field(line []byte) (name string, value []byte) {
	i := bytes.IndexByte(line, ':')
	if i < 0 {
		return string(line), nil
	}
	value = line[i+1:]
	if len(value) > 0 && value[0] == ' ' {
		value = value[1:]
	}
	return string(line[:i]), value
}

// EventType returns the value of the event's "event" field ("message" when
// it has none, as the SSE specification defaults it).
func EventType(event []byte) string {
	typ := []byte("message")
	eachLine(event, func(line []byte) {
		if name, value := field(line); name == "event" {
			typ = value
		}
	})
	return string(typ)
}

// indexEOL returns the index of the first CR or LF in b, or -1: two
// vectorised byte searches instead of bytes.IndexAny's byte loop.
func indexEOL(b []byte) int {
	n := bytes.IndexByte(b, '\n')
	head := b
	if n >= 0 {
		head = b[:n]
	}
	if r := bytes.IndexByte(head, '\r'); r >= 0 {
		return r
	}
	return n
}
