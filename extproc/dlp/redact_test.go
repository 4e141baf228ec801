package dlp

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

var testTokenKey = []byte("0123456789abcdef-tenant-a")

func testPlan(t testing.TB, e *Engine, p Policy) *Plan {
	t.Helper()
	pl, err := e.Plan(p, testTokenKey)
	if err != nil {
		t.Fatal(err)
	}
	return pl
}

func apply(t *testing.T, e *Engine, pl *Plan, body string, isJSON bool) Outcome {
	t.Helper()
	out, err := pl.Apply([]byte(body), e.ScanDeep([]byte(body), nil), isJSON)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestApplyActions(t *testing.T) {
	e := testEngine(t)
	body := `{"card":"4111 1111 1111 1111","key":"` + testAWSKey + `","n":4111111111111111,"note":"ok"}`
	cases := []struct {
		name string
		p    Policy
		want string
	}{
		{"allow", Policy{}, body},
		{"mask keeps 4", Policy{Default: Rule{Action: ActionMask}},
			`{"card":"**** **** **** 1111","key":"****************7BWX","n":"************1111","note":"ok"}`},
		{"mask keeps 2 for cards, redacts secrets", Policy{
			Categories: map[Category]Rule{CategorySecret: {Action: ActionRedact}},
			Types:      map[string]Rule{"credit-card": {Action: ActionMask, Keep: 2}}},
			`{"card":"**** **** **** **11","key":"[REDACTED:aws-access-key-id]","n":"**************11","note":"ok"}`},
		{"redact", Policy{Default: Rule{Action: ActionRedact}},
			`{"card":"[REDACTED:credit-card]","key":"[REDACTED:aws-access-key-id]","n":"[REDACTED:credit-card]","note":"ok"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := apply(t, e, testPlan(t, e, c.p), body, true)
			if string(out.Body) != c.want {
				t.Fatalf("got  %s\nwant %s", out.Body, c.want)
			}
			if out.Changed != (c.want != body) {
				t.Fatalf("Changed = %v", out.Changed)
			}
			if !json.Valid(out.Body) {
				t.Fatal("output is not JSON")
			}
		})
	}
}

func TestApplyTokeniseStablePerKey(t *testing.T) {
	e := testEngine(t)
	p := Policy{Default: Rule{Action: ActionTokenise}}
	a := apply(t, e, testPlan(t, e, p), `{"a":"4111 1111 1111 1111","b":"4111-1111-1111-1111"}`, true)
	var m map[string]string
	if err := json.Unmarshal(a.Body, &m); err != nil {
		t.Fatal(err)
	}
	if m["a"] != m["b"] || !strings.HasPrefix(m["a"], "[TOKEN:credit-card:") || len(m["a"]) != len("[TOKEN:credit-card:]")+16 {
		t.Fatalf("tokens %q %q: want equal typed tokens", m["a"], m["b"])
	}
	other, err := e.Plan(p, []byte("another-tenant-key-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := other.Apply([]byte(`{"a":"4111 1111 1111 1111"}`), e.Scan([]byte(`{"a":"4111 1111 1111 1111"}`), nil), true)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b.Body), m["a"]) {
		t.Fatal("two token keys gave the same token")
	}
}

func TestApplyBlock(t *testing.T) {
	e := testEngine(t)
	pl := testPlan(t, e, Policy{Default: Rule{Action: ActionRedact}, Categories: map[Category]Rule{CategorySecret: {Action: ActionBlock}}})
	body := `{"card":"4111 1111 1111 1111","key":"` + testAWSKey + `"}`
	out := apply(t, e, pl, body, true)
	if out.Blocked == nil || out.Blocked.Type != "aws-access-key-id" || string(out.Body) != body {
		t.Fatalf("got %+v", out)
	}
}

func TestApplyEscapedValue(t *testing.T) {
	e := testEngine(t)
	pl := testPlan(t, e, Policy{Default: Rule{Action: ActionMask}})
	// The escaped key is masked from its decoded value and re-escaped.
	out := apply(t, e, pl, `{"k":"\u0041KIAQYLPMN5HFIQR7BWX","q":"a\"b"}`, true)
	if string(out.Body) != `{"k":"****************7BWX","q":"a\"b"}` {
		t.Fatalf("got %s", out.Body)
	}
}

func TestApplyKeepsStructure(t *testing.T) {
	e := testEngine(t)
	pl := testPlan(t, e, Policy{Default: Rule{Action: ActionRedact}})
	body := `{"jsonrpc":"2.0","id":7,"result":{"content":[{"type":"text","text":"card 4111 1111 1111 1111, mail bob@corp.example.com, ssn 536-22-8725"}],"n":[4111111111111111,1]}}`
	out := apply(t, e, pl, body, true)
	var in, got any
	if err := json.Unmarshal([]byte(body), &in); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(out.Body, &got); err != nil {
		t.Fatalf("invalid JSON: %v\n%s", err, out.Body)
	}
	if !sameShape(in, got) {
		t.Fatalf("structure changed:\n%s\n%s", body, out.Body)
	}
	for _, leak := range []string{"4111", "bob@", "536-22"} {
		if strings.Contains(string(out.Body), leak) {
			t.Fatalf("%q survived: %s", leak, out.Body)
		}
	}
}

// sameShape compares two decoded JSON values: same objects and keys, same
// array lengths, every scalar still a scalar (a number may become a string).
func sameShape(a, b any) bool {
	switch a := a.(type) {
	case map[string]any:
		bm, ok := b.(map[string]any)
		if !ok || len(a) != len(bm) {
			return false
		}
		for k, v := range a {
			if w, ok := bm[k]; !ok || !sameShape(v, w) {
				return false
			}
		}
		return true
	case []any:
		ba, ok := b.([]any)
		if !ok || len(a) != len(ba) {
			return false
		}
		for i := range a {
			if !sameShape(a[i], ba[i]) {
				return false
			}
		}
		return true
	}
	switch b.(type) {
	case map[string]any, []any:
		return false
	}
	return true
}

func TestApplyPlainText(t *testing.T) {
	e := testEngine(t)
	pl := testPlan(t, e, Policy{Default: Rule{Action: ActionRedact}})
	out := apply(t, e, pl, "key="+testAWSKey+"\n", false)
	if string(out.Body) != "key=[REDACTED:aws-access-key-id]\n" {
		t.Fatalf("got %q", out.Body)
	}
}

func TestApplyUnredactable(t *testing.T) {
	e := testEngine(t)
	pl := testPlan(t, e, Policy{Default: Rule{Action: ActionRedact}})
	body := []byte(`{"a":1, "b":2}`)
	_, err := pl.Apply(body, []Finding{{Type: "credit-card", Start: 6, End: 10}}, true)
	if !errors.Is(err, ErrUnredactable) {
		t.Fatalf("err = %v", err)
	}
}

func TestPlanErrors(t *testing.T) {
	e := testEngine(t)
	_, err := e.Plan(Policy{
		Categories: map[Category]Rule{"finance": {Action: ActionRedact}},
		Types:      map[string]Rule{"credit-crad": {Action: ActionMask}, "jwt": {Action: ActionTokenise}},
	}, nil)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{`unknown data category "finance"`, `unknown detector type "credit-crad"`, "token key"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	pl := testPlan(t, e, Policy{Types: map[string]Rule{"jwt": {Action: ActionBlock}}})
	if pl.Rule("jwt").Action != ActionBlock || pl.Rule("email").Action != ActionAllow || pl.Passive() {
		t.Fatal("rules not resolved")
	}
	if !testPlan(t, e, Policy{}).Passive() {
		t.Fatal("empty policy is not passive")
	}
}

func TestParseAction(t *testing.T) {
	for s, want := range map[string]Action{"allow": ActionAllow, "log": ActionAllow, "Mask": ActionMask, "tokenize": ActionTokenise, "redact": ActionRedact, "block": ActionBlock} {
		if got, err := ParseAction(s); err != nil || got != want {
			t.Errorf("%s: %v %v", s, got, err)
		}
	}
	if _, err := ParseAction("drop"); err == nil {
		t.Error("drop accepted")
	}
}

func TestNormalise(t *testing.T) {
	for in, want := range map[string]string{"4111 1111-1111.1111": "4111111111111111", "gb82 west": "GB82WEST", "a@b.c": "a@b.c"} {
		if got := string(Normalise([]byte(in))); got != want {
			t.Errorf("%q → %q, want %q", in, got, want)
		}
	}
}

func FuzzRedactJSON(f *testing.F) {
	for _, s := range []string{
		`{"card":"4111 1111 1111 1111","n":4111111111111111}`,
		`{"k":"\u0041KIAQYLPMN5HFIQR7BWX"}`,
		`["QUtJQVFZTFBNTjVIRklRUjdCV1g=", "%41KIAQYLPMN5HFIQR7BWX"]`,
		`{"a":"x@y.example.org","b":[1,2,{"c":"078-05-1120"}]}`,
	} {
		f.Add([]byte(s))
	}
	e := testEngine(f)
	plans := []*Plan{
		testPlan(f, e, Policy{Default: Rule{Action: ActionRedact}}),
		testPlan(f, e, Policy{Default: Rule{Action: ActionMask}}),
		testPlan(f, e, Policy{Default: Rule{Action: ActionTokenise}}),
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fs := e.ScanDeep(body, nil)
		for _, pl := range plans {
			out, err := pl.Apply(body, fs, json.Valid(body))
			if err != nil {
				if !errors.Is(err, ErrUnredactable) {
					t.Fatal(err)
				}
				continue
			}
			if json.Valid(body) {
				if !json.Valid(out.Body) {
					t.Fatalf("valid JSON in, invalid out:\n%q\n%q", body, out.Body)
				}
				var a, b any
				_ = json.Unmarshal(body, &a)
				_ = json.Unmarshal(out.Body, &b)
				if !sameShape(a, b) {
					t.Fatalf("structure changed:\n%q\n%q", body, out.Body)
				}
			}
			if !out.Changed && !reflect.DeepEqual(out.Body, body) {
				t.Fatal("unchanged outcome with a different body")
			}
		}
	})
}
