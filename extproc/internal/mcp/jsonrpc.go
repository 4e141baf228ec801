// Package mcp parses and rewrites the MCP (JSON-RPC 2.0) messages the filter
// sees on the wire: request bodies, application/json responses and
// text/event-stream events. It works on bytes and imports no transport types.
package mcp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// JSON-RPC 2.0 error codes used by the filter. The -3200x codes are in the
// range JSON-RPC reserves for implementation-defined server errors.
const (
	CodeParseError     = -32700 // invalid JSON
	CodeInvalidRequest = -32600 // valid JSON, not a valid JSON-RPC request
	CodeForbidden      = -32001 // the persona does not grant the tool or method
	CodeBlocked        = -32002 // a block verdict is in force
	CodeThrottled      = -32003 // a throttle verdict's rate is exceeded
	CodeUnauthorized   = -32004 // no or unknown credential
	// CodeHeaderMismatch is what MCP servers answer (protocol 2026-07-28)
	// when the Mcp-Method/Mcp-Name headers disagree with the body.
	CodeHeaderMismatch = -32020
)

// Well-known method names.
const (
	MethodToolsCall = "tools/call"
	MethodToolsList = "tools/list"
)

// Kind classifies one JSON-RPC message.
type Kind uint8

const (
	KindRequest      Kind = iota + 1 // method and id
	KindNotification                 // method, no id
	KindResponse                     // result or error, id, no method
)

// Message is one JSON-RPC message, reduced to what policy decides on.
type Message struct {
	Kind   Kind
	ID     json.RawMessage // raw id as sent (number or string); nil for notifications
	Method string
	// Tool is params.name for tools/call requests.
	Tool   string
	Params json.RawMessage
	Result json.RawMessage
}

// Body is a parsed request body: one message or a batch.
type Body struct {
	Batch    bool
	Messages []Message
}

// ParseError reports why a body is not acceptable JSON-RPC, with the JSON-RPC
// code to answer with. Its message never quotes the offending values.
type ParseError struct {
	Code   int
	Reason string
}

func (e *ParseError) Error() string { return e.Reason }

// Limits bound the parser's work on untrusted input.
type Limits struct {
	// MaxDepth is the deepest nesting of arrays/objects accepted.
	// Zero means DefaultMaxDepth.
	MaxDepth int
	// MaxBatch is the largest batch accepted. Zero means DefaultMaxBatch.
	MaxBatch int
}

// Defaults for Limits.
const (
	DefaultMaxDepth = 64
	DefaultMaxBatch = 100
)

// ParseBody parses a POSTed JSON-RPC body. It is strict where a lenient parse
// would let the filter and the upstream disagree about what will execute:
// invalid UTF-8, duplicate keys and keys that differ from a JSON-RPC member
// name only by case (Go's encoding/json matches those case-insensitively) are
// refused.
func ParseBody(body []byte, lim Limits) (Body, error) {
	if lim.MaxDepth == 0 {
		lim.MaxDepth = DefaultMaxDepth
	}
	if lim.MaxBatch == 0 {
		lim.MaxBatch = DefaultMaxBatch
	}
	if !utf8.Valid(body) {
		return Body{}, &ParseError{Code: CodeParseError, Reason: "body is not valid UTF-8"}
	}
	// Only JSON's own whitespace: bytes.TrimSpace would also drop a form
	// feed, NBSP or NEL, which make the body invalid JSON to the upstream.
	trimmed := bytes.Trim(body, jsonSpace)
	if len(trimmed) == 0 {
		return Body{}, &ParseError{Code: CodeParseError, Reason: "empty body"}
	}
	if err := checkDepth(trimmed, lim.MaxDepth); err != nil {
		return Body{}, err
	}
	if !json.Valid(trimmed) {
		return Body{}, &ParseError{Code: CodeParseError, Reason: "body is not valid JSON"}
	}
	if trimmed[0] == '[' {
		var elems []json.RawMessage
		if err := json.Unmarshal(trimmed, &elems); err != nil {
			return Body{}, &ParseError{Code: CodeParseError, Reason: "body is not valid JSON"}
		}
		if len(elems) == 0 {
			return Body{}, &ParseError{Code: CodeInvalidRequest, Reason: "empty batch"}
		}
		if len(elems) > lim.MaxBatch {
			return Body{}, &ParseError{Code: CodeInvalidRequest, Reason: fmt.Sprintf("batch of %d messages exceeds the limit of %d", len(elems), lim.MaxBatch)}
		}
		out := Body{Batch: true, Messages: make([]Message, 0, len(elems))}
		for i, e := range elems {
			m, err := parseRequest(e)
			if err != nil {
				var pe *ParseError
				if errors.As(err, &pe) {
					pe.Reason = fmt.Sprintf("batch element %d: %s", i, pe.Reason)
				}
				return Body{}, err
			}
			out.Messages = append(out.Messages, m)
		}
		return out, nil
	}
	m, err := parseRequest(trimmed)
	if err != nil {
		return Body{}, err
	}
	return Body{Messages: []Message{m}}, nil
}

// jsonSpace is the whitespace JSON allows around values (RFC 8259 §2).
const jsonSpace = " \t\r\n"

// governedMethods are the methods the filter authorises or rewrites
// beyond the persona's method list.
var governedMethods = []string{MethodToolsCall, MethodToolsList}

// parseRequest parses one message of a request body. Its method, when it
// has one, must be a plain name: printable ASCII without spaces (every MCP
// method is), and not a case variant of a method the filter governs. A
// padded, invisible, look-alike or case-varied "tools/call" would
// otherwise pass as an unknown method and be executed, unauthorised, by an
// upstream that trims, normalises or folds case when it dispatches.
func parseRequest(raw []byte) (Message, error) {
	m, err := parseMessage(raw)
	if err != nil || m.Kind == KindResponse {
		return m, err
	}
	if m.Method == "" || strings.IndexFunc(m.Method, func(r rune) bool { return r <= ' ' || r > '~' }) >= 0 {
		return Message{}, &ParseError{Code: CodeInvalidRequest, Reason: `"method" must be printable ASCII without spaces`}
	}
	for _, g := range governedMethods {
		if m.Method != g && strings.EqualFold(m.Method, g) {
			return Message{}, &ParseError{Code: CodeInvalidRequest, Reason: fmt.Sprintf("method %q differs from %q only by case", m.Method, g)}
		}
	}
	return m, nil
}

// ParseMessage parses one JSON-RPC message (used for SSE event data and
// application/json responses).
func ParseMessage(raw []byte) (Message, error) {
	if !utf8.Valid(raw) {
		return Message{}, &ParseError{Code: CodeParseError, Reason: "message is not valid UTF-8"}
	}
	if !json.Valid(raw) {
		return Message{}, &ParseError{Code: CodeParseError, Reason: "message is not valid JSON"}
	}
	return parseMessage(bytes.TrimSpace(raw))
}

var memberNames = []string{"jsonrpc", "id", "method", "params", "result", "error"}

func parseMessage(raw []byte) (Message, error) {
	if len(raw) == 0 || raw[0] != '{' {
		return Message{}, &ParseError{Code: CodeInvalidRequest, Reason: "message is not a JSON object"}
	}
	members, err := objectMembers(raw, memberNames)
	if err != nil {
		return Message{}, err
	}
	var version string
	if v, ok := members["jsonrpc"]; !ok || json.Unmarshal(v, &version) != nil || version != "2.0" {
		return Message{}, &ParseError{Code: CodeInvalidRequest, Reason: `"jsonrpc" must be "2.0"`}
	}
	var m Message
	if id, ok := members["id"]; ok {
		if !validID(id) {
			return Message{}, &ParseError{Code: CodeInvalidRequest, Reason: `"id" must be a string, a number or null`}
		}
		m.ID = id
	}
	method, hasMethod := members["method"]
	_, hasResult := members["result"]
	_, hasError := members["error"]
	switch {
	case hasMethod:
		// json.Unmarshal takes null for a string without an error.
		if method[0] != '"' || json.Unmarshal(method, &m.Method) != nil {
			return Message{}, &ParseError{Code: CodeInvalidRequest, Reason: `"method" must be a string`}
		}
		if hasResult || hasError {
			return Message{}, &ParseError{Code: CodeInvalidRequest, Reason: "a message cannot carry both a method and a result or error"}
		}
		m.Kind = KindNotification
		if m.ID != nil {
			m.Kind = KindRequest
		}
		m.Params = members["params"]
		if m.Kind == KindRequest && m.Method == MethodToolsCall {
			tool, err := toolName(m.Params)
			if err != nil {
				return Message{}, err
			}
			m.Tool = tool
		}
	case hasResult || hasError:
		if hasResult && hasError {
			return Message{}, &ParseError{Code: CodeInvalidRequest, Reason: "a response cannot carry both result and error"}
		}
		if m.ID == nil {
			return Message{}, &ParseError{Code: CodeInvalidRequest, Reason: "a response must carry an id"}
		}
		m.Kind = KindResponse
		m.Result = members["result"]
	default:
		return Message{}, &ParseError{Code: CodeInvalidRequest, Reason: `message has neither "method" nor "result"/"error"`}
	}
	return m, nil
}

func toolName(params json.RawMessage) (string, error) {
	if len(params) == 0 || params[0] != '{' {
		return "", &ParseError{Code: CodeInvalidRequest, Reason: `tools/call "params" must be an object`}
	}
	members, err := objectMembers(params, []string{"name", "arguments", "_meta"})
	if err != nil {
		return "", err
	}
	var name string
	if v, ok := members["name"]; !ok || json.Unmarshal(v, &name) != nil || name == "" {
		return "", &ParseError{Code: CodeInvalidRequest, Reason: `tools/call "params.name" must be a non-empty string`}
	}
	return name, nil
}

// objectMembers returns the members of a JSON object (already known to be
// valid JSON). It refuses duplicate keys and keys that equal one of known
// only case-insensitively.
func objectMembers(raw []byte, known []string) (map[string]json.RawMessage, error) {
	out := make(map[string]json.RawMessage, 4)
	var bad error
	err := eachMember(raw, func(key string, val []byte) bool {
		if _, dup := out[key]; dup {
			bad = &ParseError{Code: CodeInvalidRequest, Reason: fmt.Sprintf("duplicate member %q", truncate(key))}
			return false
		}
		for _, k := range known {
			if key != k && strings.EqualFold(key, k) {
				bad = &ParseError{Code: CodeInvalidRequest, Reason: fmt.Sprintf("member %q differs from %q only by case", truncate(key), k)}
				return false
			}
		}
		out[key] = val
		return true
	})
	if err != nil {
		return nil, &ParseError{Code: CodeParseError, Reason: "invalid JSON object"}
	}
	if bad != nil {
		return nil, bad
	}
	return out, nil
}

func validID(id json.RawMessage) bool {
	if len(id) == 0 {
		return false
	}
	switch id[0] {
	case '"', 'n', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return true
	}
	return false
}

// checkDepth refuses JSON nested deeper than max without allocating.
func checkDepth(b []byte, max int) error {
	depth := 0
	inString := false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			depth++
			if depth > max {
				return &ParseError{Code: CodeInvalidRequest, Reason: fmt.Sprintf("JSON nested deeper than %d levels", max)}
			}
		case '}', ']':
			depth--
		}
	}
	return nil
}

func truncate(s string) string {
	if len(s) > 32 {
		return s[:32] + "…"
	}
	return s
}

// MetaProtocolVersionKey is where protocol 2026-07-28 requests carry their
// protocol version in the body (params._meta).
const MetaProtocolVersionKey = "io.modelcontextprotocol/protocolVersion"

// MetaProtocolVersion returns params._meta's protocol version. ok is false
// when the body states none; ambiguous is true when it cannot be read the
// way every server would (duplicate or case-variant members, not a string).
func MetaProtocolVersion(params json.RawMessage) (version string, ok, ambiguous bool) {
	if len(params) == 0 {
		return "", false, false
	}
	members, err := objectMembers(params, []string{"_meta"})
	if err != nil {
		return "", false, true
	}
	meta, found := members["_meta"]
	if !found {
		return "", false, false
	}
	metaMembers, err := objectMembers(meta, []string{MetaProtocolVersionKey})
	if err != nil {
		return "", false, true
	}
	raw, found := metaMembers[MetaProtocolVersionKey]
	if !found {
		return "", false, false
	}
	if json.Unmarshal(raw, &version) != nil {
		return "", false, true
	}
	return version, true, false
}
