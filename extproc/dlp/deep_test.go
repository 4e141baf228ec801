package dlp

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/portcullis/portcullis/extproc/dlp/dlptest"
)

const testAWSKey = "AKIAQYLPMN5HFIQR7BWX"

func TestScanDeepFindsEncodedValues(t *testing.T) {
	e := testEngine(t)
	b64 := base64.StdEncoding.EncodeToString([]byte("aws_access_key_id = " + testAWSKey))
	b64url := base64.RawURLEncoding.EncodeToString([]byte("key " + testAWSKey + "??>"))
	cases := []struct {
		name, body string
		typ        string
		raw        string // the raw bytes the finding must cover
	}{
		{"plain", `{"k":"` + testAWSKey + `"}`, "aws-access-key-id", testAWSKey},
		{"unicode escape", `{"k":"\u0041\u004bIAQYLPMN5HFIQR7BWX"}`, "aws-access-key-id", `\u0041\u004bIAQYLPMN5HFIQR7BWX`},
		{"escaped slash", `{"u":"https:\/\/hooks.slack.com\/services\/T0000AAAA\/B0000BBBB\/abcdefghijklmnopqrstuvwx"}`, "slack-webhook-url",
			`hooks.slack.com\/services\/T0000AAAA\/B0000BBBB\/abcdefghijklmnopqrstuvwx`},
		{"surrogate pair before", `{"k":"\ud83d\ude00 ` + testAWSKey + `\n"}`, "aws-access-key-id", testAWSKey},
		{"percent", `{"u":"https://x.test/?k=%41KIAQYLPMN5HFIQR7BWX&z=1"}`, "aws-access-key-id", `%41KIAQYLPMN5HFIQR7BWX`},
		{"percent in plain text", `token=%41%4B%49%41QYLPMN5HFIQR7BWX`, "aws-access-key-id", `%41%4B%49%41QYLPMN5HFIQR7BWX`},
		{"base64", `{"b":"` + b64 + `"}`, "aws-access-key-id", b64},
		{"base64url", `{"b":"` + b64url + `"}`, "aws-access-key-id", b64url},
		{"base64 inside escaped string", `{"b":"x\n` + b64 + `"}`, "aws-access-key-id", b64},
		{"escape then card", `{"note":"card\u003a 4111 1111 1111 1111"}`, "credit-card", "4111 1111 1111 1111"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs := e.ScanDeep([]byte(c.body), nil)
			for _, f := range fs {
				if f.Type == c.typ {
					if got := c.body[f.Start:f.End]; got != c.raw {
						t.Fatalf("finding covers %q, want %q", got, c.raw)
					}
					return
				}
			}
			t.Fatalf("no %s in %v", c.typ, fs)
		})
	}
}

func TestScanDeepNegatives(t *testing.T) {
	e := testEngine(t)
	for _, body := range []string{
		// A base64 run whose decoding is binary is not scanned as text.
		`{"png":"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="}`,
		// Long identifiers, hex digests and words are not base64 text.
		`{"sha":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08","id":"averyLongCamelCaseIdentifierName"}`,
		// Escapes that decode to nothing sensitive.
		`{"t":"line\none\ttab \"quoted\" \\ back"}`,
		// Invalid escapes and a truncated %X.
		`{"t":"\uZZZZ \x %4 %"}`,
	} {
		if fs := e.ScanDeep([]byte(body), nil); len(fs) != 0 {
			t.Errorf("%s: unexpected %v", body, fs)
		}
	}
}

func TestScanDeepSortedUnique(t *testing.T) {
	e := testEngine(t)
	body := `{"a":"` + testAWSKey + `","b":"\u0041KIAQYLPMN5HFIQR7BWX","c":"` + testAWSKey + `\n"}`
	fs := e.ScanDeep([]byte(body), nil)
	if len(fs) != 3 {
		t.Fatalf("want 3 findings, got %v", fs)
	}
	for i := 1; i < len(fs); i++ {
		if fs[i].Start < fs[i-1].Start {
			t.Fatalf("unsorted: %v", fs)
		}
	}
}

func TestScanDeepPlainTextEqualsScan(t *testing.T) {
	e := testEngine(t)
	body := strings.Repeat(`{"name":"Alice","note":"call 4111 1111 1111 1111 or mail a@b.example.org"},`, 20)
	a := e.Scan([]byte(body), nil)
	b := e.ScanDeep([]byte(body), nil)
	if len(a) != len(b) {
		t.Fatalf("Scan %d findings, ScanDeep %d", len(a), len(b))
	}
}

func testEngine(t testing.TB) *Engine {
	t.Helper()
	e, err := NewEngine(nil)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// BenchmarkScanDeep is ScanDeep on the benchmark bodies, to compare with
// BenchmarkScan (the decoding passes' cost on bodies without encodings).
func BenchmarkScanDeep(b *testing.B) {
	e := testEngine(b)
	for _, kw := range []bool{false, true} {
		body := dlptest.JSONBody(64<<10, kw)
		b.Run(fmt.Sprintf("64KiB/keywords=%v", kw), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			var dst []Finding
			for b.Loop() {
				dst = e.ScanDeep(body, dst[:0])
			}
		})
	}
}
