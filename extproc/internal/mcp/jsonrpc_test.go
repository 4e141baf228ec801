package mcp

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestParseBody(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		wantKind Kind
		method   string
		tool     string
		id       string
	}{
		{"tools/call", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"x":1}}}`, KindRequest, "tools/call", "echo", "1"},
		{"id zero", `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{}}`, KindRequest, "initialize", "", "0"},
		{"string id", `{"jsonrpc":"2.0","id":"abc","method":"tools/list"}`, KindRequest, "tools/list", "", `"abc"`},
		{"notification", `{"jsonrpc":"2.0","method":"notifications/initialized"}`, KindNotification, "notifications/initialized", "", ""},
		{"client response", `{"jsonrpc":"2.0","id":7,"result":{}}`, KindResponse, "", "", "7"},
		{"unicode escaped names", `{"jsonrpc":"2.0","id":1,"method":"tools\u002fcall","params":{"name":"\u0065cho"}}`, KindRequest, "tools/call", "echo", "1"},
		{"leading whitespace", " \n\t{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n", KindRequest, "ping", "", "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := ParseBody([]byte(tt.body), Limits{})
			if err != nil {
				t.Fatalf("ParseBody: %v", err)
			}
			if b.Batch || len(b.Messages) != 1 {
				t.Fatalf("got batch=%v n=%d, want one message", b.Batch, len(b.Messages))
			}
			m := b.Messages[0]
			if m.Kind != tt.wantKind || m.Method != tt.method || m.Tool != tt.tool || string(m.ID) != tt.id {
				t.Errorf("got kind=%d method=%q tool=%q id=%s; want kind=%d method=%q tool=%q id=%s", m.Kind, m.Method, m.Tool, m.ID, tt.wantKind, tt.method, tt.tool, tt.id)
			}
		})
	}
}

func TestParseBodyBatch(t *testing.T) {
	b, err := ParseBody([]byte(`[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a"}},{"jsonrpc":"2.0","method":"notifications/x"}]`), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if !b.Batch || len(b.Messages) != 2 || b.Messages[0].Tool != "a" || b.Messages[1].Kind != KindNotification {
		t.Fatalf("unexpected batch parse: %+v", b)
	}
}

func TestParseBodyRejects(t *testing.T) {
	deep := strings.Repeat("[", 100) + strings.Repeat("]", 100)
	tests := []struct {
		name string
		body string
		code int
	}{
		{"not json", `{"jsonrpc":`, CodeParseError},
		{"empty", ``, CodeParseError},
		{"invalid utf8", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"to\xffols/call\"}", CodeParseError},
		{"not an object", `"hello"`, CodeInvalidRequest},
		{"wrong version", `{"jsonrpc":"1.0","id":1,"method":"ping"}`, CodeInvalidRequest},
		{"no method", `{"jsonrpc":"2.0","id":1}`, CodeInvalidRequest},
		{"duplicate method", `{"jsonrpc":"2.0","id":1,"method":"ping","method":"tools/call","params":{"name":"x"}}`, CodeInvalidRequest},
		{"case variant method", `{"jsonrpc":"2.0","id":1,"method":"ping","Method":"tools/call"}`, CodeInvalidRequest},
		{"duplicate tool name", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ok","name":"evil"}}`, CodeInvalidRequest},
		{"case variant tool name", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ok","NAME":"evil"}}`, CodeInvalidRequest},
		{"tools/call without name", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{}}`, CodeInvalidRequest},
		{"tools/call params array", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":["x"]}`, CodeInvalidRequest},
		{"object id", `{"jsonrpc":"2.0","id":{},"method":"ping"}`, CodeInvalidRequest},
		{"empty batch", `[]`, CodeInvalidRequest},
		{"too deep", deep, CodeInvalidRequest},
		{"result and error", `{"jsonrpc":"2.0","id":1,"result":{},"error":{}}`, CodeInvalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseBody([]byte(tt.body), Limits{})
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("got %v, want a *ParseError", err)
			}
			if pe.Code != tt.code {
				t.Errorf("code %d (%s), want %d", pe.Code, pe.Reason, tt.code)
			}
		})
	}
}

func TestParseBodyBatchLimit(t *testing.T) {
	msg := `{"jsonrpc":"2.0","method":"n"}`
	body := "[" + strings.TrimSuffix(strings.Repeat(msg+",", 3), ",") + "]"
	if _, err := ParseBody([]byte(body), Limits{MaxBatch: 2}); err == nil {
		t.Fatal("batch over the limit accepted")
	}
	if _, err := ParseBody([]byte(body), Limits{MaxBatch: 3}); err != nil {
		t.Fatalf("batch at the limit refused: %v", err)
	}
}

func TestErrorResponse(t *testing.T) {
	got := ErrorResponse(nil, CodeForbidden, "no", map[string]string{"verdict_id": "v1"})
	var r struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Error   struct {
			Code    int               `json:"code"`
			Message string            `json:"message"`
			Data    map[string]string `json:"data"`
		} `json:"error"`
	}
	if err := json.Unmarshal(got, &r); err != nil {
		t.Fatal(err)
	}
	if r.JSONRPC != "2.0" || string(r.ID) != "null" || r.Error.Code != CodeForbidden || r.Error.Message != "no" || r.Error.Data["verdict_id"] != "v1" {
		t.Fatalf("unexpected error response %s", got)
	}
	if got := ErrorResponse(json.RawMessage(`"x"`), 1, "m", nil); !strings.HasPrefix(string(got), `{"jsonrpc":"2.0","id":"x"`) {
		t.Fatalf("id not echoed: %s", got)
	}
}

func FuzzParseBody(f *testing.F) {
	for _, s := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"}}`,
		`[{"jsonrpc":"2.0","id":1,"method":"tools/list"}]`,
		`{"jsonrpc":"2.0","id":"a","result":{"tools":[]}}`,
		`{"jsonrpc":"2.0","id":1,"method":"ping","Method":"x"}`,
		"\xef\xbb\xbf{}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := ParseBody(body, Limits{})
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *ParseError", err)
			}
			return
		}
		if !json.Valid(body) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
		for _, m := range b.Messages {
			if m.Method == MethodToolsCall && m.Kind == KindRequest && m.Tool == "" {
				t.Fatalf("tools/call accepted without a tool name: %q", body)
			}
		}
	})
}
