package filter

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/portcullis/portcullis/extproc/internal/mcp"
)

// The evasion suite: request bodies and headers crafted so that a lenient
// or differently-built parser would see another method or tool than the
// one authorised. Authorisation must decide on what the upstream will
// execute, so each case either is refused (and the upstream never sees the
// body: the Action answers locally) or is allowed on the name the upstream
// decodes. The persona of testPolicy grants get_ticket and add_comment,
// forbids resources/read, and bodies are limited to 4096 bytes.

// evasion is one technique and the outcome the filter must produce.
type evasion struct {
	name    string
	body    string
	headers Headers // added to the POST's headers

	// status is the HTTP status of the local reply; 0 means allowed
	// (forwarded upstream).
	status int
	// code is the JSON-RPC error code of the refusal.
	code int
	// id is the id the refusal echoes, exactly as sent; "null" when the
	// request's id could not (or must not) be read.
	id string
	// msg is part of the refusal's message: a clear reason.
	msg string
	// method and tool are what the decision records: for allowed calls,
	// the decoded names the upstream will execute.
	method, tool string
	reason       Reason
}

// toolCall is a tools/call request body naming tool (inserted verbatim: it may
// hold JSON escapes).
func toolCall(id, tool string) string {
	return `{"jsonrpc":"2.0","id":` + id + `,"method":"tools/call","params":{"name":"` + tool + `","arguments":{"id":1}}}`
}

func runEvasions(t *testing.T, cases []evasion) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, _ := newEngine(t)
			x := e.NewExchange(StreamInfo{})
			if act := x.RequestHeaders(append(postHeaders(testKey), tc.headers...), false); act.Respond != nil {
				t.Fatalf("refused at headers: %s", act.Respond.Body)
			}
			act := x.RequestBody([]byte(tc.body), true)
			d := x.Finish()
			if tc.status == 0 {
				if act.Respond != nil {
					t.Fatalf("refused (%d), want allowed: %s", act.Respond.Status, act.Respond.Body)
				}
				if d.Outcome != OutcomeAllowed || d.Method != tc.method || d.Tool != tc.tool || d.Reason != tc.reason {
					t.Fatalf("decision method=%q tool=%q outcome=%d reason=%d; want method=%q tool=%q reason=%d",
						d.Method, d.Tool, d.Outcome, d.Reason, tc.method, tc.tool, tc.reason)
				}
				return
			}
			// Refused: the Action answers locally, so Envoy never forwards
			// the body (and no backend credential is set).
			if act.Respond == nil {
				t.Fatalf("allowed (method=%q tool=%q), want refused with %d/%d", d.Method, d.Tool, tc.status, tc.code)
			}
			if act.ReplaceBody || len(act.SetHeaders) != 0 {
				t.Errorf("refusal also mutates the request: %+v", act)
			}
			if act.Respond.Status != tc.status {
				t.Errorf("status %d, want %d (%s)", act.Respond.Status, tc.status, act.Respond.Body)
			}
			r := decodeError(t, act.Respond.Body)
			if r.Error.Code != tc.code {
				t.Errorf("code %d, want %d (%s)", r.Error.Code, tc.code, act.Respond.Body)
			}
			if string(r.ID) != tc.id {
				t.Errorf("id %s, want %s", r.ID, tc.id)
			}
			if !strings.Contains(r.Error.Message, tc.msg) {
				t.Errorf("message %q lacks %q", r.Error.Message, tc.msg)
			}
			if d.Outcome != OutcomeDenied || (tc.reason != 0 && d.Reason != tc.reason) {
				t.Errorf("decision outcome=%d reason=%d, want denied/%d", d.Outcome, d.Reason, tc.reason)
			}
			if tc.method != "" && (d.Method != tc.method || d.Tool != tc.tool) {
				t.Errorf("decision method=%q tool=%q, want %q %q", d.Method, d.Tool, tc.method, tc.tool)
			}
		})
	}
}

// Go's encoding/json keeps the last of duplicate members, some parsers the
// first: the filter cannot know which one the upstream executes, so
// duplicates are refused wherever they name what executes.
func TestEvasionDuplicateKeys(t *testing.T) {
	const malformed = 400
	runEvasions(t, []evasion{
		{name: "method first allowed last tools/call", body: `{"jsonrpc":"2.0","id":1,"method":"ping","method":"tools/call","params":{"name":"delete_all"}}`,
			status: malformed, code: mcp.CodeInvalidRequest, id: "null", msg: `duplicate member "method"`, reason: ReasonMalformedRequest},
		{name: "method duplicate spelled with an escape", body: `{"jsonrpc":"2.0","id":1,"method":"ping","m\u0065thod":"tools/call","params":{"name":"delete_all"}}`,
			status: malformed, code: mcp.CodeInvalidRequest, id: "null", msg: `duplicate member "method"`},
		{name: "name first granted last not", body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_ticket","name":"delete_all"}}`,
			status: malformed, code: mcp.CodeInvalidRequest, id: "null", msg: `duplicate member "name"`},
		{name: "name first not last granted", body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"delete_all","name":"get_ticket"}}`,
			status: malformed, code: mcp.CodeInvalidRequest, id: "null", msg: `duplicate member "name"`},
		{name: "params", body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_ticket"},"params":{"name":"delete_all"}}`,
			status: malformed, code: mcp.CodeInvalidRequest, id: "null", msg: `duplicate member "params"`},
		{name: "id", body: `{"jsonrpc":"2.0","id":1,"id":2,"method":"tools/call","params":{"name":"delete_all"}}`,
			status: malformed, code: mcp.CodeInvalidRequest, id: "null", msg: `duplicate member "id"`},
		{name: "jsonrpc", body: `{"jsonrpc":"1.0","jsonrpc":"2.0","id":1,"method":"ping"}`,
			status: malformed, code: mcp.CodeInvalidRequest, id: "null", msg: `duplicate member "jsonrpc"`},
		{name: "inside a batch element", body: `[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"get_ticket","name":"delete_all"}}]`,
			status: malformed, code: mcp.CodeInvalidRequest, id: "null", msg: `batch element 1: duplicate member "name"`},
		// Below params the upstream executes the same tool whichever
		// duplicate it keeps; the data policy scans the raw bytes, both
		// values included.
		{name: "in arguments allowed on the same tool", body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_ticket","arguments":{"id":1,"id":2}}}`,
			method: "tools/call", tool: "get_ticket", reason: ReasonToolGranted},
	})
}

// Go's encoding/json matches member names case-insensitively (with Unicode
// simple folding: "ſ" is "s", "K" is "k"); JavaScript does not. A member
// whose name differs from a JSON-RPC or tools/call member only by case is
// refused; tool names are granted with exact case.
func TestEvasionCaseVariants(t *testing.T) {
	runEvasions(t, []evasion{
		{name: "Method beside method", body: `{"jsonrpc":"2.0","id":1,"method":"ping","Method":"tools/call","params":{"name":"delete_all"}}`,
			status: 400, code: mcp.CodeInvalidRequest, id: "null", msg: `member "Method" differs from "method" only by case`},
		{name: "METHOD alone", body: `{"jsonrpc":"2.0","id":1,"METHOD":"tools/call","params":{"name":"delete_all"}}`,
			status: 400, code: mcp.CodeInvalidRequest, id: "null", msg: `differs from "method" only by case`},
		{name: "NAME beside name", body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_ticket","NAME":"delete_all"}}`,
			status: 400, code: mcp.CodeInvalidRequest, id: "null", msg: `member "NAME" differs from "name" only by case`},
		{name: "Name alone", body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"Name":"delete_all"}}`,
			status: 400, code: mcp.CodeInvalidRequest, id: "null", msg: `differs from "name" only by case`},
		{name: "Params beside params", body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_ticket"},"Params":{"name":"delete_all"}}`,
			status: 400, code: mcp.CodeInvalidRequest, id: "null", msg: `differs from "params" only by case`},
		{name: "params with long s folds to params in Go", body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_ticket"},"param\u017f":{"name":"delete_all"}}`,
			status: 400, code: mcp.CodeInvalidRequest, id: "null", msg: `differs from "params" only by case`},
		{name: "Arguments beside arguments", body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_ticket","arguments":{},"Arguments":{"id":2}}}`,
			status: 400, code: mcp.CodeInvalidRequest, id: "null", msg: `differs from "arguments" only by case`},
		{name: "ID", body: `{"jsonrpc":"2.0","ID":1,"method":"ping"}`,
			status: 400, code: mcp.CodeInvalidRequest, id: "null", msg: `differs from "id" only by case`},
		{name: "JSONRPC", body: `{"JSONRPC":"2.0","id":1,"method":"ping"}`,
			status: 400, code: mcp.CodeInvalidRequest, id: "null", msg: `differs from "jsonrpc" only by case`},
		{name: "tool name case differs", body: toolCall("3", "Get_Ticket"),
			status: 200, code: mcp.CodeForbidden, id: "3", msg: `tool "Get_Ticket" is not permitted`, method: "tools/call", tool: "Get_Ticket", reason: ReasonToolNotGranted},
		// Method values are case-sensitive in JSON-RPC; one that differs
		// from a method the filter governs only by case would escape tool
		// authorisation (or narrowing) at an upstream that dispatches
		// case-insensitively.
		{name: "method value Tools/Call", body: `{"jsonrpc":"2.0","id":1,"method":"Tools/Call","params":{"name":"delete_all"}}`,
			status: 400, code: mcp.CodeInvalidRequest, id: "null", msg: `differs from "tools/call" only by case`},
		{name: "method value TOOLS/LIST", body: `{"jsonrpc":"2.0","id":1,"method":"TOOLS/LIST"}`,
			status: 400, code: mcp.CodeInvalidRequest, id: "null", msg: `differs from "tools/list" only by case`},
		// Residual, documented: deny_methods match exactly, so a case
		// variant of a forbidden method passes as an unknown method. MCP
		// upstreams dispatch methods case-sensitively (go-sdk, TS SDK,
		// mcp-go) and answer -32601; closing this for case-insensitive
		// upstreams needs case-folded deny lists in the policy package.
		{name: "method value case variant of a forbidden method passes as unknown", body: `{"jsonrpc":"2.0","id":1,"method":"Resources/Read","params":{"uri":"x"}}`,
			method: "Resources/Read", reason: ReasonMethodPassthrough},
	})
}

// Escapes are decoded before authorisation: the upstream executes the
// decoded name, so that is the name granted or refused.
func TestEvasionUnicodeEscapes(t *testing.T) {
	runEvasions(t, []evasion{
		{name: "method and tool escaped granted", body: `{"jsonrpc":"2.0","id":1,"method":"tools\u002fcall","params":{"name":"get\u005fticket"}}`,
			method: "tools/call", tool: "get_ticket", reason: ReasonToolGranted},
		{name: "upper-case hex escape granted", body: `{"jsonrpc":"2.0","id":1,"method":"tools\u002Fcall","params":{"name":"get\u005Fticket"}}`,
			method: "tools/call", tool: "get_ticket", reason: ReasonToolGranted},
		{name: "escaped solidus granted", body: `{"jsonrpc":"2.0","id":1,"method":"tools\/call","params":{"name":"get_ticket"}}`,
			method: "tools/call", tool: "get_ticket", reason: ReasonToolGranted},
		{name: "every character escaped granted", body: `{"jsonrpc":"2.0","id":1,"method":"\u0074\u006f\u006f\u006c\u0073\u002f\u0063\u0061\u006c\u006c","params":{"name":"\u0067\u0065\u0074\u005f\u0074\u0069\u0063\u006b\u0065\u0074"}}`,
			method: "tools/call", tool: "get_ticket", reason: ReasonToolGranted},
		{name: "escaped member names granted", body: `{"j\u0073onrpc":"2.0","\u0069d":1,"m\u0065thod":"tools/call","p\u0061rams":{"n\u0061me":"get_ticket"}}`,
			method: "tools/call", tool: "get_ticket", reason: ReasonToolGranted},
		{name: "escaped tool not granted", body: toolCall("1", `delete\u005fall`),
			status: 200, code: mcp.CodeForbidden, id: "1", msg: `tool "delete_all" is not permitted`, method: "tools/call", tool: "delete_all", reason: ReasonToolNotGranted},
		{name: "escaped forbidden method", body: `{"jsonrpc":"2.0","id":1,"method":"resources\u002fread","params":{"uri":"file:///etc/passwd"}}`,
			status: 200, code: mcp.CodeForbidden, id: "1", msg: `method "resources/read" is not permitted`, method: "resources/read", reason: ReasonMethodForbidden},
		{name: "escaped jsonrpc version accepted", body: `{"jsonrpc":"\u0032.0","id":1,"method":"tools/call","params":{"name":"get_ticket"}}`,
			method: "tools/call", tool: "get_ticket", reason: ReasonToolGranted},
	})
}

// Tool names are granted by exact match: a name that looks like a granted
// one but is another string is not granted, whatever an upstream's
// normalisation would make of it.
func TestEvasionLookAlikeToolNames(t *testing.T) {
	notGranted := func(name, tool, decoded string) evasion {
		return evasion{name: name, body: toolCall("7", tool), status: 200, code: mcp.CodeForbidden, id: "7",
			msg: "is not permitted", method: "tools/call", tool: decoded, reason: ReasonToolNotGranted}
	}
	runEvasions(t, []evasion{
		notGranted("Cyrillic ie raw", "get_tick\u0435t", "get_tick\u0435t"),
		notGranted("Cyrillic ie escaped", `get_tick\u0435t`, "get_tick\u0435t"),
		notGranted("fullwidth", "ｇｅｔ＿ｔｉｃｋｅｔ", "ｇｅｔ＿ｔｉｃｋｅｔ"),
		notGranted("Kelvin sign", `get_tic\u212aet`, "get_tic\u212aet"),
		notGranted("zero-width joiner", `get_\u200dticket`, "get_\u200dticket"),
		notGranted("zero-width space trailing", "get_ticket\u200b", "get_ticket\u200b"),
		notGranted("combining accent", `get_ticke\u0301t`, "get_ticke\u0301t"),
		notGranted("BOM inside name escaped", `\ufeffget_ticket`, "\ufeffget_ticket"),
		notGranted("BOM inside name raw", "\ufeffget_ticket", "\ufeffget_ticket"),
		notGranted("trailing space", "get_ticket ", "get_ticket "),
		notGranted("NUL suffix", `get_ticket\u0000`, "get_ticket\x00"),
		notGranted("tab inside", `get_\tticket`, "get_\tticket"),
	})
}

// Only JSON's own whitespace may surround a body: anything else (a UTF-8
// BOM, form feed, NBSP, NEL) is not JSON to the upstream, so the filter does
// not read past it either.
func TestEvasionWhitespaceAndBOM(t *testing.T) {
	granted := toolCall("1", "get_ticket")
	runEvasions(t, []evasion{
		{name: "JSON whitespace around the body allowed", body: " \r\n\t" + granted + "\n\t \r\n", method: "tools/call", tool: "get_ticket", reason: ReasonToolGranted},
		{name: "JSON whitespace between tokens allowed", body: "{ \"jsonrpc\" :\n\"2.0\" ,\t\"id\" : 1 , \"method\" : \"tools/call\" , \"params\" : { \"name\" : \"get_ticket\" } }",
			method: "tools/call", tool: "get_ticket", reason: ReasonToolGranted},
		{name: "UTF-8 BOM before the body", body: "\ufeff" + granted, status: 400, code: mcp.CodeParseError, id: "null", msg: "not valid JSON"},
		{name: "UTF-8 BOM after the body", body: granted + "\ufeff", status: 400, code: mcp.CodeParseError, id: "null", msg: "not valid JSON"},
		{name: "form feed before the body", body: "\f" + granted, status: 400, code: mcp.CodeParseError, id: "null", msg: "not valid JSON"},
		{name: "vertical tab after the body", body: granted + "\v", status: 400, code: mcp.CodeParseError, id: "null", msg: "not valid JSON"},
		{name: "NBSP before the body", body: "\u00a0" + granted, status: 400, code: mcp.CodeParseError, id: "null", msg: "not valid JSON"},
		{name: "NEL after the body", body: granted + "\u0085", status: 400, code: mcp.CodeParseError, id: "null", msg: "not valid JSON"},
		{name: "NUL after the body", body: granted + "\x00", status: 400, code: mcp.CodeParseError, id: "null", msg: "not valid JSON"},
		{name: "second message after the body", body: granted + toolCall("2", "delete_all"), status: 400, code: mcp.CodeParseError, id: "null", msg: "not valid JSON"},
		{name: "whitespace only", body: " \n\t", status: 400, code: mcp.CodeParseError, id: "null", msg: "empty body"},
		// Method values are names, never padded: at an upstream that
		// trims, " tools/call" would be an unauthorised tools/call.
		{name: "method with leading space", body: `{"jsonrpc":"2.0","id":1,"method":" tools/call","params":{"name":"delete_all"}}`,
			status: 400, code: mcp.CodeInvalidRequest, id: "null", msg: `"method" must be printable ASCII without spaces`},
		{name: "method with trailing newline", body: `{"jsonrpc":"2.0","id":1,"method":"tools/call\n","params":{"name":"delete_all"}}`,
			status: 400, code: mcp.CodeInvalidRequest, id: "null", msg: `"method" must be printable ASCII without spaces`},
		{name: "method with BOM", body: `{"jsonrpc":"2.0","id":1,"method":"\ufefftools/call","params":{"name":"delete_all"}}`,
			status: 400, code: mcp.CodeInvalidRequest, id: "null", msg: `"method" must be printable ASCII without spaces`},
		{name: "method with zero-width space", body: `{"jsonrpc":"2.0","id":1,"method":"tools/\u200bcall","params":{"name":"delete_all"}}`,
			status: 400, code: mcp.CodeInvalidRequest, id: "null", msg: `"method" must be printable ASCII without spaces`},
		{name: "method with Cyrillic o", body: `{"jsonrpc":"2.0","id":1,"method":"t\u043eols/call","params":{"name":"delete_all"}}`,
			status: 400, code: mcp.CodeInvalidRequest, id: "null", msg: `"method" must be printable ASCII without spaces`},
		{name: "method fullwidth", body: `{"jsonrpc":"2.0","id":1,"method":"ｔｏｏｌｓ/ｃａｌｌ","params":{"name":"delete_all"}}`,
			status: 400, code: mcp.CodeInvalidRequest, id: "null", msg: `"method" must be printable ASCII without spaces`},
		{name: "empty method", body: `{"jsonrpc":"2.0","id":1,"method":""}`,
			status: 400, code: mcp.CodeInvalidRequest, id: "null", msg: `"method" must be printable ASCII without spaces`},
	})
}

// Batches: every element is inspected, and one refused element refuses the
// whole batch (nothing of it reaches the upstream), with 403 and a null id
// since no single request can be answered; the message names the element.
func TestEvasionBatches(t *testing.T) {
	granted, denied := toolCall("1", "get_ticket"), toolCall("2", "delete_all")
	many := "[" + strings.TrimSuffix(strings.Repeat(`{"jsonrpc":"2.0","method":"n"},`, 101), ",") + "]"
	runEvasions(t, []evasion{
		{name: "nested batch", body: "[[" + denied + "]]", status: 400, code: mcp.CodeInvalidRequest, id: "null", msg: "batch element 0: message is not a JSON object"},
		{name: "nested batch beside a granted call", body: "[" + granted + ",[" + denied + "]]", status: 400, code: mcp.CodeInvalidRequest, id: "null", msg: "batch element 1: message is not a JSON object"},
		{name: "triply nested batch", body: "[[[" + denied + "]]]", status: 400, code: mcp.CodeInvalidRequest, id: "null", msg: "message is not a JSON object"},
		{name: "empty batch", body: "[]", status: 400, code: mcp.CodeInvalidRequest, id: "null", msg: "empty batch"},
		{name: "empty nested batch", body: "[[]]", status: 400, code: mcp.CodeInvalidRequest, id: "null", msg: "message is not a JSON object"},
		{name: "batch of scalars", body: "[1,2]", status: 400, code: mcp.CodeInvalidRequest, id: "null", msg: "message is not a JSON object"},
		{name: "allowed then forbidden refused as a whole", body: "[" + granted + "," + denied + "]",
			status: 403, code: mcp.CodeForbidden, id: "null", msg: `tool "delete_all" is not permitted for persona "support" (batch element 1)`, method: "tools/call", tool: "delete_all", reason: ReasonToolNotGranted},
		{name: "forbidden then allowed refused as a whole", body: "[" + denied + "," + granted + "]",
			status: 403, code: mcp.CodeForbidden, id: "null", msg: "(batch element 0)", method: "tools/call", tool: "delete_all", reason: ReasonToolNotGranted},
		{name: "forbidden method inside a batch", body: "[" + granted + `,{"jsonrpc":"2.0","id":3,"method":"resources/read","params":{"uri":"x"}}]`,
			status: 403, code: mcp.CodeForbidden, id: "null", msg: `method "resources/read" is not permitted for persona "support" (batch element 1)`, reason: ReasonMethodForbidden},
		{name: "tools/list inside a batch", body: "[" + granted + `,{"jsonrpc":"2.0","id":3,"method":"tools/list"}]`,
			status: 403, code: mcp.CodeForbidden, id: "null", msg: "tools/list is not accepted inside a batch", reason: ReasonMethodForbidden},
		{name: "all granted allowed", body: "[" + granted + "," + toolCall("2", "add_comment") + "]", method: "batch", tool: "get_ticket", reason: ReasonToolGranted},
		{name: "over the batch limit", body: many, status: 400, code: mcp.CodeInvalidRequest, id: "null", msg: "batch of 101 messages exceeds the limit of 100"},
		{name: "Mcp-Method header on a batch", body: "[" + granted + "]", headers: Headers{{"mcp-method", "tools/call"}},
			status: 400, code: mcp.CodeHeaderMismatch, id: "null", msg: "cannot describe a batch"},
	})
}

// Size and depth limits are checked before any decoding, with the limit in
// the message.
func TestEvasionLimits(t *testing.T) {
	const limit = 4096 // testPolicy's max_body_bytes
	pad := func(n int) string {
		prefix := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_ticket","arguments":{"pad":"`
		suffix := `"}}}`
		return prefix + strings.Repeat("x", n-len(prefix)-len(suffix)) + suffix
	}
	nested := func(depth int) string { // depth counts the outer object
		return `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_ticket","arguments":{"a":` +
			strings.Repeat("[", depth-3) + strings.Repeat("]", depth-3) + `}}}`
	}
	runEvasions(t, []evasion{
		{name: "body at the limit allowed", body: pad(limit), method: "tools/call", tool: "get_ticket", reason: ReasonToolGranted},
		{name: "body one byte over the limit", body: pad(limit + 1), status: 413, code: mcp.CodeInvalidRequest, id: "null",
			msg: fmt.Sprintf("request body of %d bytes exceeds the limit of %d bytes", limit+1, limit), reason: ReasonBodyTooLarge},
		{name: "nesting at the limit allowed", body: nested(mcp.DefaultMaxDepth), method: "tools/call", tool: "get_ticket", reason: ReasonToolGranted},
		{name: "nesting one past the limit", body: nested(mcp.DefaultMaxDepth + 1), status: 400, code: mcp.CodeInvalidRequest, id: "null",
			msg: "JSON nested deeper than 64 levels", reason: ReasonMalformedRequest},
		{name: "deep nesting unbalanced", body: strings.Repeat("[", 2000), status: 400, code: mcp.CodeInvalidRequest, id: "null", msg: "JSON nested deeper than 64 levels"},
		{name: "deep nesting of objects", body: strings.Repeat(`{"a":`, 500) + "1" + strings.Repeat("}", 500), status: 400, code: mcp.CodeInvalidRequest, id: "null", msg: "JSON nested deeper than 64 levels"},
		{name: "brackets inside strings do not count", body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_ticket","arguments":{"q":"` + strings.Repeat("[{", 500) + `\"` + `"}}}`,
			method: "tools/call", tool: "get_ticket", reason: ReasonToolGranted},
	})
}

// Invalid UTF-8 is refused before anything is decoded (parsers replace it
// differently, or not at all). Lone surrogates are valid JSON escapes that
// decode to U+FFFD in Go: no such name is granted.
func TestEvasionInvalidUTF8(t *testing.T) {
	runEvasions(t, []evasion{
		{name: "in the tool name", body: toolCall("1", "get_ticket\xff"), status: 400, code: mcp.CodeParseError, id: "null", msg: "not valid UTF-8"},
		{name: "in the method", body: `{"jsonrpc":"2.0","id":1,"method":"tools/call` + "\xc3" + `","params":{"name":"get_ticket"}}`, status: 400, code: mcp.CodeParseError, id: "null", msg: "not valid UTF-8"},
		{name: "in a key", body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"na` + "\xfe" + `me":"delete_all","name":"get_ticket"}}`, status: 400, code: mcp.CodeParseError, id: "null", msg: "not valid UTF-8"},
		{name: "in an argument", body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_ticket","arguments":{"q":"` + "\x80" + `"}}}`, status: 400, code: mcp.CodeParseError, id: "null", msg: "not valid UTF-8"},
		{name: "overlong solidus", body: `{"jsonrpc":"2.0","id":1,"method":"tools` + "\xc0\xaf" + `call","params":{"name":"get_ticket"}}`, status: 400, code: mcp.CodeParseError, id: "null", msg: "not valid UTF-8"},
		{name: "encoded surrogate", body: toolCall("1", "get_ticket\xed\xa0\x80"), status: 400, code: mcp.CodeParseError, id: "null", msg: "not valid UTF-8"},
		{name: "truncated sequence at the end", body: toolCall("1", "get_ticket") + "\xe2\x82", status: 400, code: mcp.CodeParseError, id: "null", msg: "not valid UTF-8"},
		{name: "lone high surrogate escape in the tool name", body: toolCall("4", `get_ticket\ud800`), status: 200, code: mcp.CodeForbidden, id: "4",
			msg: "is not permitted", method: "tools/call", tool: "get_ticket\ufffd", reason: ReasonToolNotGranted},
		{name: "lone low surrogate escape as the tool name", body: toolCall("4", `\udc00`), status: 200, code: mcp.CodeForbidden, id: "4",
			msg: "is not permitted", method: "tools/call", tool: "\ufffd", reason: ReasonToolNotGranted},
		{name: "lone surrogate escape in the method", body: `{"jsonrpc":"2.0","id":1,"method":"tools/call\ud800","params":{"name":"delete_all"}}`,
			status: 400, code: mcp.CodeInvalidRequest, id: "null", msg: `"method" must be printable ASCII without spaces`},
		{name: "valid surrogate pair in an argument allowed", body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_ticket","arguments":{"q":"\ud83d\ude00"}}}`,
			method: "tools/call", tool: "get_ticket", reason: ReasonToolGranted},
	})
}

// Refusals answer the request's id exactly as sent (numbers are not
// re-formatted, escapes not decoded), with HTTP 200 so that MCP clients
// surface the error; an id that is not a string, number or null is a
// malformed request.
func TestEvasionIDs(t *testing.T) {
	refused := func(name, id string) evasion {
		return evasion{name: name, body: toolCall(id, "delete_all"), status: 200, code: mcp.CodeForbidden, id: id,
			msg: `tool "delete_all" is not permitted`, method: "tools/call", tool: "delete_all", reason: ReasonToolNotGranted}
	}
	runEvasions(t, []evasion{
		refused("id zero", "0"),
		refused("negative id", "-1"),
		refused("fractional id", "1.5"),
		refused("exponent id", "1e3"),
		refused("integer beyond float64", "123456789012345678901234567890"),
		refused("string id", `"abc"`),
		refused("empty string id", `""`),
		refused("escaped string id", `"\u0061"`),
		refused("null id", "null"),
		{name: "object id", body: toolCall("{}", "get_ticket"), status: 400, code: mcp.CodeInvalidRequest, id: "null", msg: `"id" must be a string, a number or null`},
		{name: "array id", body: toolCall("[1]", "get_ticket"), status: 400, code: mcp.CodeInvalidRequest, id: "null", msg: `"id" must be a string, a number or null`},
		{name: "boolean id", body: toolCall("true", "get_ticket"), status: 400, code: mcp.CodeInvalidRequest, id: "null", msg: `"id" must be a string, a number or null`},
		// Without an id the message is a notification: no tool name is read,
		// and a tools/call notification is never granted.
		{name: "tools/call as a notification", body: `{"jsonrpc":"2.0","method":"tools/call","params":{"name":"get_ticket"}}`,
			status: 403, code: mcp.CodeForbidden, id: "null", msg: "is not permitted", method: "tools/call", reason: ReasonToolNotGranted},
		{name: "id echoed in a header mismatch", body: toolCall(`"h-1"`, "get_ticket"), headers: Headers{{"mcp-method", "tools/list"}},
			status: 400, code: mcp.CodeHeaderMismatch, id: `"h-1"`, msg: "Mcp-Method header"},
	})
}

// Stateless MCP (2026-07-28) repeats the method and tool in the Mcp-Method
// and Mcp-Name headers. Routing layers may act on the headers, the
// upstream executes the body: a disagreement is refused (-32020, what MCP
// servers answer), never resolved either way.
func TestEvasionHeaderBodyMismatch(t *testing.T) {
	granted := toolCall("1", "get_ticket")
	mismatch := func(name, body string, h Headers, msg string) evasion {
		return evasion{name: name, body: body, headers: h, status: 400, code: mcp.CodeHeaderMismatch, id: "1", msg: msg, reason: ReasonMalformedRequest}
	}
	runEvasions(t, []evasion{
		{name: "headers agree allowed", body: granted, headers: Headers{{"mcp-method", "tools/call"}, {"mcp-name", "get_ticket"}},
			method: "tools/call", tool: "get_ticket", reason: ReasonToolGranted},
		{name: "headers agree with the escaped body allowed", body: toolCall("1", `get\u005fticket`), headers: Headers{{"mcp-method", "tools/call"}, {"mcp-name", "get_ticket"}},
			method: "tools/call", tool: "get_ticket", reason: ReasonToolGranted},
		mismatch("Mcp-Method other than the body's", granted, Headers{{"mcp-method", "tools/list"}}, `Mcp-Method header "tools/list" does not match the body's method "tools/call"`),
		mismatch("Mcp-Method case variant", granted, Headers{{"mcp-method", "Tools/Call"}}, "does not match the body's method"),
		mismatch("Mcp-Method padded", granted, Headers{{"mcp-method", "tools/call "}}, "does not match the body's method"),
		mismatch("Mcp-Name granted body not", toolCall("1", "delete_all"), Headers{{"mcp-method", "tools/call"}, {"mcp-name", "get_ticket"}},
			`Mcp-Name header "get_ticket" does not match the body's tool "delete_all"`),
		mismatch("Mcp-Name not granted body granted", granted, Headers{{"mcp-name", "delete_all"}}, "does not match the body's tool"),
		mismatch("Mcp-Name look-alike", granted, Headers{{"mcp-name", "get_tick\u0435t"}}, "does not match the body's tool"),
		// A repeated header is combined (RFC 9110 §5.3) before the
		// comparison: whichever copy a routing layer reads, both must
		// agree with the body.
		mismatch("Mcp-Method repeated with another value", granted, Headers{{"mcp-method", "tools/call"}, {"mcp-method", "tools/list"}}, "does not match the body's method"),
		mismatch("Mcp-Name repeated with another value", granted, Headers{{"mcp-name", "get_ticket"}, {"mcp-name", "delete_all"}}, "does not match the body's tool"),
		// 2026-07-28 bodies state their version in params._meta: the header
		// must say the same, read the way every server reads it.
		{name: "2026-07-28 header and _meta version agree", body: meta2026("2026-07-28"), headers: Headers{{"mcp-protocol-version", "2026-07-28"}, {"mcp-method", "tools/call"}, {"mcp-name", "get_ticket"}},
			method: "tools/call", tool: "get_ticket", reason: ReasonToolGranted},
		mismatch("version header other than the body's _meta", meta2026("2025-11-25"), Headers{{"mcp-protocol-version", "2026-07-28"}},
			`MCP-Protocol-Version header "2026-07-28" does not match the body's "2025-11-25"`),
		mismatch("version header repeated", meta2026("2026-07-28"), Headers{{"mcp-protocol-version", "2026-07-28"}, {"mcp-protocol-version", "2025-11-25"}},
			"does not match the body's"),
		mismatch("_meta version escaped differently is read decoded", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_ticket","_meta":{"io.modelcontextprotocol/protocolVersion":"2025-11-2\u0035"}}}`,
			Headers{{"mcp-protocol-version", "2026-07-28"}}, `does not match the body's "2025-11-25"`),
		mismatch("_meta version duplicated", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_ticket","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/protocolVersion":"2025-11-25"}}}`,
			Headers{{"mcp-protocol-version", "2026-07-28"}}, "cannot be read unambiguously"),
		mismatch("_meta version not a string", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_ticket","_meta":{"io.modelcontextprotocol/protocolVersion":20260728}}}`,
			Headers{{"mcp-protocol-version", "2026-07-28"}}, "cannot be read unambiguously"),
	})

	// The protocol version header does not enter authorisation: whatever
	// version the headers claim against the body, the same body is
	// granted or refused alike (the upstream answers a bad version with 400).
	for _, v := range []string{"", "2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28", "1999-01-01", "garbage"} {
		var h Headers
		if v != "" {
			h = Headers{{"mcp-protocol-version", v}}
		}
		runEvasions(t, []evasion{
			{name: "version " + v + " granted", body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_ticket","_meta":{"protocolVersion":"2024-11-05"}}}`, headers: h,
				method: "tools/call", tool: "get_ticket", reason: ReasonToolGranted},
			{name: "version " + v + " initialize with another version", body: `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-03-26","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}`, headers: h,
				method: "initialize", reason: ReasonMethodPassthrough},
			{name: "version " + v + " not granted", body: toolCall("1", "delete_all"), headers: h,
				status: 200, code: mcp.CodeForbidden, id: "1", msg: "is not permitted", method: "tools/call", tool: "delete_all", reason: ReasonToolNotGranted},
		})
	}
}

// meta2026 is a granted tools/call stating version v the 2026-07-28 way.
func meta2026(v string) string {
	return `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_ticket","arguments":{},"_meta":{"io.modelcontextprotocol/protocolVersion":"` + v + `"}}}`
}

// Bodies that are not strict JSON, or not JSON-RPC 2.0 requests of the
// expected shape, are refused: -32700 when the bytes are not JSON, -32600
// when the JSON is not an acceptable request.
func TestEvasionMalformedShapes(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte(toolCall("1", "delete_all")))
	_ = zw.Close()
	parse := func(name, body string) evasion {
		return evasion{name: name, body: body, status: 400, code: mcp.CodeParseError, id: "null", msg: "not valid JSON", reason: ReasonMalformedRequest}
	}
	invalid := func(name, body, msg string) evasion {
		return evasion{name: name, body: body, status: 400, code: mcp.CodeInvalidRequest, id: "null", msg: msg, reason: ReasonMalformedRequest}
	}
	runEvasions(t, []evasion{
		parse("line comment", "// hi\n"+toolCall("1", "get_ticket")),
		parse("block comment", `{"jsonrpc":"2.0",/* x */"id":1,"method":"tools/call","params":{"name":"get_ticket"}}`),
		parse("trailing comma in object", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_ticket",}}`),
		parse("trailing comma in batch", "["+toolCall("1", "get_ticket")+",]"),
		parse("single quotes", `{'jsonrpc':'2.0','id':1,'method':'tools/call','params':{'name':'get_ticket'}}`),
		parse("unquoted keys", `{jsonrpc:"2.0",id:1,method:"tools/call",params:{name:"get_ticket"}}`),
		parse("NaN id", `{"jsonrpc":"2.0","id":NaN,"method":"ping"}`),
		parse("hex id", `{"jsonrpc":"2.0","id":0x10,"method":"ping"}`),
		parse("leading-zero id", `{"jsonrpc":"2.0","id":01,"method":"ping"}`),
		parse("raw control character in a string", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"get_ticket\x01\"}}"),
		parse("invalid escape", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get\_ticket"}}`),
		parse("truncated", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_ticket"}`),
		{name: "gzip-compressed body", body: gz.String(), status: 400, code: mcp.CodeParseError, id: "null", msg: "not valid", reason: ReasonMalformedRequest},
		invalid("jsonrpc 1.0", `{"jsonrpc":"1.0","id":1,"method":"tools/call","params":{"name":"get_ticket"}}`, `"jsonrpc" must be "2.0"`),
		invalid("jsonrpc missing", `{"id":1,"method":"tools/call","params":{"name":"get_ticket"}}`, `"jsonrpc" must be "2.0"`),
		invalid("jsonrpc as a number", `{"jsonrpc":2.0,"id":1,"method":"ping"}`, `"jsonrpc" must be "2.0"`),
		invalid("jsonrpc padded", `{"jsonrpc":"2.0 ","id":1,"method":"ping"}`, `"jsonrpc" must be "2.0"`),
		invalid("method a number", `{"jsonrpc":"2.0","id":1,"method":1}`, `"method" must be a string`),
		invalid("method null", `{"jsonrpc":"2.0","id":1,"method":null}`, `"method" must be a string`),
		invalid("method and result", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"delete_all"},"result":{}}`, "cannot carry both a method and a result"),
		invalid("params an array", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":["delete_all"]}`, `tools/call "params" must be an object`),
		invalid("params a string", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":"delete_all"}`, `tools/call "params" must be an object`),
		invalid("params null", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":null}`, `tools/call "params" must be an object`),
		invalid("params missing", `{"jsonrpc":"2.0","id":1,"method":"tools/call"}`, `tools/call "params" must be an object`),
		invalid("tool name null", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":null}}`, `"params.name" must be a non-empty string`),
		invalid("tool name a number", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":1}}`, `"params.name" must be a non-empty string`),
		invalid("tool name an object", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":{"name":"get_ticket"}}}`, `"params.name" must be a non-empty string`),
		invalid("tool name an array", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":["get_ticket"]}}`, `"params.name" must be a non-empty string`),
		invalid("tool name empty", toolCall("1", ""), `"params.name" must be a non-empty string`),
		invalid("tool name missing", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"arguments":{}}}`, `"params.name" must be a non-empty string`),
		invalid("a JSON string", `"tools/call"`, "message is not a JSON object"),
		invalid("a JSON number", `1`, "message is not a JSON object"),
		// Other methods take params of any shape; the upstream validates.
		{name: "params an array for another method allowed", body: `{"jsonrpc":"2.0","id":1,"method":"ping","params":[]}`, method: "ping", reason: ReasonMethodPassthrough},
	})
}

// The decision and the refusal must not depend on anything but the bytes
// the upstream receives: an allowed body reaches the upstream unchanged.
func TestEvasionAllowedBodyForwardedUnchanged(t *testing.T) {
	e, _ := newEngine(t)
	body := []byte(`{"j\u0073onrpc":"2.0","id":1,"method":"tools\u002fcall","params":{"name":"get\u005fticket"}}`)
	x := e.NewExchange(StreamInfo{})
	x.RequestHeaders(postHeaders(testKey), false)
	act := x.RequestBody(body, true)
	if act.Respond != nil || act.ReplaceBody {
		t.Fatalf("got %+v", act)
	}
	var up struct {
		Method string `json:"method"`
		Params struct {
			Name string `json:"name"`
		} `json:"params"`
	}
	if err := json.Unmarshal(body, &up); err != nil || up.Method != "tools/call" || up.Params.Name != "get_ticket" {
		t.Fatalf("upstream view %+v %v", up, err)
	}
	if d := x.Finish(); d.Method != up.Method || d.Tool != up.Params.Name {
		t.Fatalf("decision %q %q, upstream %q %q", d.Method, d.Tool, up.Method, up.Params.Name)
	}
}
