package dlp

import (
	"strings"
	"testing"
)

func scanTypes(t *testing.T, e *Engine, text string) []string {
	t.Helper()
	var out []string
	for _, f := range e.Scan([]byte(text), nil) {
		if f.Start < 0 || f.End > len(text) || f.Start >= f.End {
			t.Fatalf("bad span %+v in %q", f, text)
		}
		out = append(out, f.Type+"="+text[f.Start:f.End])
	}
	return out
}

func TestDetectors(t *testing.T) {
	e, err := NewEngine(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, text string
		want       []string
	}{
		{"aws in JSON", `{"key":"AKIALALEMEL33243OLIB"}`, []string{"aws-access-key-id=AKIALALEMEL33243OLIB"}},
		{"aws documentation placeholder", `{"key":"AKIAIOSFODNN7EXAMPLE"}`, nil},
		{"placeholder run", `ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx`, nil},
		{"openai (keyword inside the value)", `k = "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"`, []string{"openai-api-key=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"}},
		{"aws too short", `AKIAIOSFODNN7EXAMPL`, nil},
		{"aws inside identifier", `xAKIAIOSFODNN7EXAMPLEx`, nil},
		{"github", `token: ghp_kw4mm23obdi90ax0u3jz5erfomi2kwm7pqiq`, []string{"github-token=ghp_kw4mm23obdi90ax0u3jz5erfomi2kwm7pqiq"}},
		{"github too long", `ghp_kw4mm23obdi90ax0u3jz5erfomi2kwm7pqiqX`, nil},
		{"anthropic", `k="sk-ant-api03-abc123xyz-456def789ghij-klmnopqrstuvwx-3456yza789bcde-1234fghijklmnopby56aaaogaopaaaabc123xyzAA"`,
			[]string{"anthropic-api-key=sk-ant-api03-abc123xyz-456def789ghij-klmnopqrstuvwx-3456yza789bcde-1234fghijklmnopby56aaaogaopaaaabc123xyzAA"}},
		{"slack bot", "xoxb-781236542736-2364535789652-GkwFDQoHqzXDVsC6GzqYUypD", []string{"slack-token=xoxb-781236542736-2364535789652-GkwFDQoHqzXDVsC6GzqYUypD"}},
		{"email", `mail bob.smith+tag@mail.example.co.uk now`, []string{"email=bob.smith+tag@mail.example.co.uk"}},
		{"not email", `@home and a@b and x@y.c and "@@" and a@-b.com`, nil},
		{"email in JSON", `{"owner":"user7@example.org","x":1}`, []string{"email=user7@example.org"}},
		{"email trailing dot", `write to ops@corp.example.com.`, []string{"email=ops@corp.example.com"}},
		{"card visa spaced", `card 4111 1111 1111 1111.`, []string{"credit-card=4111 1111 1111 1111"}},
		{"card bad luhn", `4111 1111 1111 1112`, nil},
		{"card amex", `"pan":"378282246310005"`, []string{"credit-card=378282246310005"}},
		{"card in longer number", `43784111111111111111`, nil},
		{"ssn", `SSN 078-05-1123 on file`, []string{"us-ssn=078-05-1123"}},
		{"ssn invalid area", `SSN 666-05-1123`, nil},
		{"ssn bare digits", `078051123`, nil},
		{"jwt", `Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U`,
			[]string{"jwt=eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"}},
		{"private key", "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\nVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n-----END RSA PRIVATE KEY-----",
			[]string{"private-key=-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\nVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n-----END RSA PRIVATE KEY-----"}},
		{"iban spaced", `IBAN: GB82 WEST 1234 5698 7654 32.`, []string{"iban=GB82 WEST 1234 5698 7654 32"}},
		{"iban compact", `"iban":"DE89370400440532013000"`, []string{"iban=DE89370400440532013000"}},
		{"iban bad checksum", `DE89370400440532013001`, nil},
		{"ipv4", `from 203.0.113.7, then 10.1.2.3.`, []string{"ipv4-address=203.0.113.7", "ipv4-address=10.1.2.3"}},
		{"not ipv4", `version 1.2.3.4.5 and 256.1.1.1 and 1.2.3`, nil},
		{"clean", `{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"T-100: Cannot log in"}]}}`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := scanTypes(t, e, tc.text)
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Fatalf("got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestTypesAndCatalogueValid(t *testing.T) {
	e, err := NewEngine(nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(e.Types()); n < 30 {
		t.Fatalf("%d types", n)
	}
	if _, err := NewEngine([]*Detector{{ID: "x"}}); err == nil {
		t.Fatal("detector without keywords/pattern accepted")
	}
}

func FuzzScan(f *testing.F) {
	f.Add([]byte(`{"k":"AKIAIOSFODNN7EXAMPLE","c":"4111 1111 1111 1111","e":"a@b.io"}`))
	e, err := NewEngine(nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		prev := -1
		for _, fd := range e.Scan(text, nil) {
			if fd.Start < 0 || fd.End > len(text) || fd.Start >= fd.End || fd.Start < prev {
				t.Fatalf("bad or unordered finding %+v in %q", fd, text)
			}
			prev = fd.Start
		}
	})
}
