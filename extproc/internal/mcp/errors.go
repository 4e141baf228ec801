package mcp

import (
	"encoding/json"
)

// ErrorResponse builds a JSON-RPC 2.0 error response for id (nil or empty
// means null, as JSON-RPC requires when the id could not be read). data, when
// non-nil, is marshalled into the error's data member.
func ErrorResponse(id json.RawMessage, code int, message string, data any) []byte {
	type rpcError struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Data    any    `json:"data,omitempty"`
	}
	type response struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Error   rpcError        `json:"error"`
	}
	if len(id) == 0 {
		id = json.RawMessage("null")
	}
	out, err := json.Marshal(response{JSONRPC: "2.0", ID: id, Error: rpcError{Code: code, Message: message, Data: data}})
	if err != nil {
		// Only data can fail to marshal; answer without it rather than not at all.
		out, _ = json.Marshal(response{JSONRPC: "2.0", ID: id, Error: rpcError{Code: code, Message: message}})
	}
	return out
}
