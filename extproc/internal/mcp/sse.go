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
}

// Feed appends chunk and returns the complete events now available, in
// order, each including its terminating blank line. The returned slices are
// valid until the next call.
func (s *SSESplitter) Feed(chunk []byte) [][]byte {
	s.buf = append(s.buf, chunk...)
	var events [][]byte
	eventStart := 0
	for s.scan < len(s.buf) {
		i := bytes.IndexAny(s.buf[s.scan:], "\r\n")
		if i < 0 {
			s.scan = len(s.buf)
			break
		}
		end := s.scan + i
		termLen := 1
		if s.buf[end] == '\r' {
			if end+1 == len(s.buf) {
				// A lone CR at the end: it may be the first half of CRLF.
				s.scan = end
				break
			}
			if s.buf[end+1] == '\n' {
				termLen = 2
			}
		}
		next := end + termLen
		if end == s.lineStart { // empty line: the event ends here
			events = append(events, s.buf[eventStart:next])
			eventStart = next
		}
		s.scan, s.lineStart = next, next
	}
	if eventStart > 0 {
		// Keep the events valid for the caller: the tail is copied into a new
		// buffer instead of shifting the old one.
		rest := make([]byte, len(s.buf)-eventStart, max(len(s.buf)-eventStart, 512))
		copy(rest, s.buf[eventStart:])
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
	for _, line := range eventLines(event) {
		name, value := field(line)
		if name != "data" {
			continue
		}
		if ok {
			data = append(data, '\n')
		}
		data = append(data, value...)
		ok = true
	}
	return data, ok
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

// eventLines splits an event into its non-empty lines (terminators removed).
func eventLines(event []byte) [][]byte {
	var lines [][]byte
	for len(event) > 0 {
		i := bytes.IndexAny(event, "\r\n")
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
	typ := "message"
	for _, line := range eventLines(event) {
		if name, value := field(line); name == "event" {
			typ = string(value)
		}
	}
	return typ
}
