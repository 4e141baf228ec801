package server

import "fmt"

// SSEMode is how the server asks Envoy to deliver an event-stream
// (text/event-stream) response body, by mode_override on the response
// headers reply. Both modes hold back only an incomplete event, so memory
// per stream is bounded by the largest event, not by the stream.
type SSEMode uint8

const (
	// SSEStreamed asks for STREAMED: Envoy sends each chunk and forwards
	// nothing of it until the server's reply, which replaces the chunk. One
	// round trip per chunk, each under Envoy's message_timeout. The default.
	SSEStreamed SSEMode = iota
	// SSEFullDuplex asks for FULL_DUPLEX_STREAMED with response trailers
	// SEND: Envoy hands every chunk over without waiting and forwards only
	// what the server sends back in streamed_response replies, so the server
	// re-chunks on event boundaries; there is no per-message timer (the
	// connection manager's stream_idle_timeout governs). The bootstrap must
	// list the override in allowed_override_modes (envoy/*.yaml do).
	SSEFullDuplex
)

// String returns the mode's flag spelling.
func (m SSEMode) String() string {
	switch m {
	case SSEStreamed:
		return "streamed"
	case SSEFullDuplex:
		return "full-duplex"
	}
	return fmt.Sprintf("SSEMode(%d)", uint8(m))
}

// ParseSSEMode parses a flag value: "streamed" or "full-duplex".
func ParseSSEMode(s string) (SSEMode, error) {
	switch s {
	case "streamed":
		return SSEStreamed, nil
	case "full-duplex":
		return SSEFullDuplex, nil
	}
	return 0, fmt.Errorf("SSE mode %q is not streamed or full-duplex", s)
}
