package dlp

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
)

var testKnown = []KnownSecret{
	{Name: "backend", Value: "Bearer dev-backend-secret-4b1d"},
	{Name: "basic", Value: "Basic " + base64.StdEncoding.EncodeToString([]byte("svc-user:pa/ss<w>&rd\"x"))},
	{Name: "apikey", Value: "sk_live_51HcQ+9z/Xy=Tt"},
	{Name: "unicode", Value: "pässwörd-😀-long"},
}

func mustKnown(t testing.TB, s []KnownSecret) *KnownSecrets {
	t.Helper()
	k, err := NewKnownSecrets(s)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// covered reports whether some finding spans [start, end).
func covered(fs []Finding, start, end int) bool {
	for _, f := range fs {
		if f.Start <= start && end <= f.End {
			return true
		}
	}
	return false
}

func jsonString(s string, html bool) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(html)
	if err := enc.Encode(s); err != nil {
		panic(err)
	}
	out := strings.TrimSuffix(b.String(), "\n")
	return out[1 : len(out)-1]
}

// TestKnownSecretsForms builds each documented form with an independent
// encoder and checks it is found, exactly where it is, inside a JSON body.
func TestKnownSecretsForms(t *testing.T) {
	k := mustKnown(t, testKnown)
	up := "svc-user:pa/ss<w>&rd\"x"
	forms := map[string]string{
		"raw":              testKnown[0].Value,
		"credential":       "dev-backend-secret-4b1d",
		"basic-credential": strings.TrimPrefix(testKnown[1].Value, "Basic "),
		"basic-json-go":    jsonString(up, true),
		"basic-json-plain": jsonString(up, false),
		"basic-pass-json":  jsonString("pa/ss<w>&rd\"x", true),
		"basic-json-slash": strings.ReplaceAll(jsonString(up, false), "/", `\/`),
		"basic-json-u002f": strings.ReplaceAll(jsonString(up, true), "/", `\u002f`),
		"basic-json-upper": strings.ReplaceAll(strings.ReplaceAll(jsonString(up, true), `\u003c`, `\u003C`), `\u003e`, `\u003E`),
		"key-json-slash":   `sk_live_51HcQ+9z\/Xy=Tt`,
		"query":            url.QueryEscape(testKnown[0].Value),
		"path":             url.PathEscape(testKnown[0].Value),
		"query-key":        url.QueryEscape(testKnown[2].Value),
		"query-basic":      url.QueryEscape(up),
		"b64":              base64.StdEncoding.EncodeToString([]byte(testKnown[0].Value)),
		"b64-raw":          base64.RawStdEncoding.EncodeToString([]byte(testKnown[2].Value)),
		"b64url":           base64.URLEncoding.EncodeToString([]byte(testKnown[2].Value)),
		"b64url-raw":       base64.RawURLEncoding.EncodeToString([]byte("dev-backend-secret-4b1d")),
		"b64-of-basic":     base64.StdEncoding.EncodeToString([]byte(testKnown[1].Value)),
		"hex":              hex.EncodeToString([]byte(testKnown[2].Value)),
		"HEX":              strings.ToUpper(hex.EncodeToString([]byte(testKnown[0].Value))),
		"unicode-json":     `p\u00e4ssw\u00f6rd-\ud83d\ude00-long`,
		"unicode-JSON-all": `\u0070\u00E4\u0073\u0073\u0077\u00F6\u0072\u0064\u002D\uD83D\uDE00\u002D\u006C\u006F\u006E\u0067`,
		"all-escaped":      `\u0064\u0065\u0076\u002d\u0062\u0061\u0063\u006b\u0065\u006e\u0064\u002d\u0073\u0065\u0063\u0072\u0065\u0074\u002d\u0034\u0062\u0031\u0064`,
		"all-percent":      "%64%65%76%2D%62%61%63%6B%65%6E%64%2D%73%65%63%72%65%74%2D%34%62%31%64",
		"all-percent-low":  "%64%65%76%2d%62%61%63%6b%65%6e%64%2d%73%65%63%72%65%74%2d%34%62%31%64",
		"b64-json-slash":   strings.ReplaceAll(base64.StdEncoding.EncodeToString([]byte(testKnown[2].Value)), "/", `\/`),
		"b64-percent":      url.QueryEscape(base64.StdEncoding.EncodeToString([]byte(testKnown[2].Value))),
	}
	for name, form := range forms {
		t.Run(name, func(t *testing.T) {
			prefix := `{"jsonrpc":"2.0","result":{"content":[{"type":"text","text":"see `
			text := []byte(prefix + form + ` ok"}]}}`)
			fs := k.Scan(text, nil)
			if !covered(fs, len(prefix), len(prefix)+len(form)) {
				t.Fatalf("form %q not found: %v", form, fs)
			}
			for _, f := range fs {
				if f.Type != KnownSecretType || f.Start < len(prefix) || f.End > len(prefix)+len(form) {
					t.Errorf("finding %+v outside the form", f)
				}
			}
		})
	}
}

// TestKnownSecretsEveryForm checks every derived form positively and with
// one byte changed in its middle.
func TestKnownSecretsEveryForm(t *testing.T) {
	for _, set := range [][]KnownSecret{testKnown, append([]KnownSecret{{Name: "eight", Value: "s3cr3t!x"}}, testKnown...)} {
		testEveryForm(t, set)
	}
}

func testEveryForm(t *testing.T, set []KnownSecret) {
	k := mustKnown(t, set)
	t.Logf("%d forms, step %d", k.Len(), k.step)
	for _, p := range k.pats {
		text := []byte(`{"x":"` + p.text + `"}`)
		fs := k.ScanNamed(text, nil)
		ok := false
		for _, f := range fs {
			if f.Name == p.name && f.Start <= 6 && 6+len(p.text) <= f.End {
				ok = true
			}
		}
		if !ok {
			t.Errorf("%s %s form %q: not found (%v)", p.name, p.form, p.text, fs)
		}
		miss := bytes.Clone(text)
		miss[6+len(p.text)/2] ^= 0x01
		if fs := k.Scan(miss, nil); len(fs) > 0 {
			t.Errorf("%s %s near miss %q: found %v", p.name, p.form, miss, fs)
		}
	}
}

func TestKnownSecretsNearMiss(t *testing.T) {
	k := mustKnown(t, testKnown)
	for _, text := range []string{
		"Bearer dev-backend-secret-4b1e",
		"dev-backend-secret-4b1",
		"DEV-BACKEND-SECRET-4B1D", // case-sensitive
		"sk_live_51HcQ+9z/Xy=Tu",
		base64.StdEncoding.EncodeToString([]byte("dev-backend-secreT-4b1d")),
		hex.EncodeToString([]byte("dev-backend-secret-4b1c")),
		"svc-user:pa/ss<w>&rd",
		"Basic", "", "short",
	} {
		if fs := k.Scan([]byte(text), nil); len(fs) > 0 {
			t.Errorf("%q: unexpected %v", text, fs)
		}
	}
}

// TestKnownSecretsBase64Blob embeds each secret in larger base64 blobs at
// every alignment.
func TestKnownSecretsBase64Blob(t *testing.T) {
	k := mustKnown(t, testKnown)
	for _, s := range testKnown {
		for pre := 0; pre < 6; pre++ {
			for post := 0; post < 3; post++ {
				for _, e := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding} {
					raw := []byte(strings.Repeat("\x00\xff", 3)[:pre] + s.Value + strings.Repeat("\x7f", post))
					blob := e.EncodeToString(raw)
					text := []byte(`{"data":"` + blob + `"}`)
					fs := k.ScanNamed(text, nil)
					found := false
					for _, f := range fs {
						if f.Name == s.Name && f.Start >= 9 && f.End <= 9+len(blob) {
							// The finding lies within the encoding of the secret.
							lo, hi := 9+pre*8/6, 9+((pre+len(s.Value))*8+5)/6
							if f.End == 9+len(blob) {
								hi = f.End // full form with its padding
							}
							if f.Start < lo || f.End > hi {
								t.Errorf("%s pre=%d: finding %v outside [%d,%d)", s.Name, pre, f, lo, hi)
							}
							found = true
						}
					}
					if !found {
						t.Errorf("%s pre=%d post=%d: not found in %s", s.Name, pre, post, blob)
					}
				}
			}
		}
	}
}

func TestKnownSecretsOverlapAndNesting(t *testing.T) {
	k := mustKnown(t, []KnownSecret{
		{Name: "a", Value: "alpha-secret-1234"},
		{Name: "b", Value: "secret-1234-beta-xyz"},
		{Name: "c", Value: "Token cccccccccc"},
	})
	text := []byte("x alpha-secret-1234-beta-xyz y Token cccccccccc z cccccccccc")
	got := k.ScanNamed(text, nil)
	want := []KnownFinding{
		{Finding{KnownSecretType, 2, 19}, "a", formRaw},
		{Finding{KnownSecretType, 8, 28}, "b", formRaw},
		{Finding{KnownSecretType, 31, 47}, "c", formRaw},
		{Finding{KnownSecretType, 50, 60}, "c", formRaw},
	}
	if !slices.Equal(got, want) {
		t.Errorf("ScanNamed = %v, want %v", got, want)
	}
	fs := k.Scan(text, nil)
	wantF := []Finding{{KnownSecretType, 2, 19}, {KnownSecretType, 8, 28}, {KnownSecretType, 31, 47}, {KnownSecretType, 50, 60}}
	if !slices.Equal(fs, wantF) {
		t.Errorf("Scan = %v, want %v", fs, wantF)
	}
	// A secret nested in another secret's occurrence is still named.
	k2 := mustKnown(t, []KnownSecret{{Name: "outer", Value: "xx-inner-secret-xx"}, {Name: "inner", Value: "inner-secret"}})
	named := k2.ScanNamed([]byte("xx-inner-secret-xx"), nil)
	if len(named) != 2 || named[0].Name != "outer" || named[1].Name != "inner" {
		t.Errorf("nested: %v", named)
	}
	if fs := k2.Scan([]byte("xx-inner-secret-xx"), nil); len(fs) != 1 {
		t.Errorf("nested Scan: %v", fs)
	}
}

func TestKnownSecretsAppendsToDst(t *testing.T) {
	k := mustKnown(t, testKnown)
	dst := []Finding{{Type: "other", Start: 100, End: 200}}
	dst = k.Scan([]byte("zz dev-backend-secret-4b1d"), dst)
	if len(dst) != 2 || dst[0].Type != "other" || dst[1] != (Finding{KnownSecretType, 3, 26}) {
		t.Errorf("got %v", dst)
	}
}

func TestKnownSecretsTooShort(t *testing.T) {
	_, err := NewKnownSecrets([]KnownSecret{{Name: "ok", Value: "long-enough"}, {Name: "tiny", Value: "1234567"}, {Value: ""}})
	if err == nil || !strings.Contains(err.Error(), "tiny, #2") || strings.Contains(err.Error(), "1234567") {
		t.Fatalf("err = %v", err)
	}
	// A short credential part or password is dropped, not an error.
	k := mustKnown(t, []KnownSecret{{Name: "b", Value: "Basic " + base64.StdEncoding.EncodeToString([]byte("u:short"))}})
	for _, p := range k.pats {
		if strings.Contains(p.text, "short") {
			t.Errorf("short password matched as %q", p.text)
		}
	}
	empty := mustKnown(t, nil)
	if fs := empty.Scan([]byte("anything at all here"), nil); len(fs) != 0 {
		t.Errorf("empty: %v", fs)
	}
}

func TestKnownSecretsZeroAllocs(t *testing.T) {
	k := mustKnown(t, testKnown)
	text := []byte(`{"a":"Bearer dev-backend-secret-4b1d","b":"` + base64.StdEncoding.EncodeToString([]byte("sk_live_51HcQ+9z/Xy=Tt")) + `"}`)
	dst := make([]Finding, 0, 16)
	named := make([]KnownFinding, 0, 16)
	if n := testing.AllocsPerRun(100, func() {
		dst = k.Scan(text, dst[:0])
		named = k.ScanNamed(text, named[:0])
	}); n != 0 {
		t.Errorf("%v allocs per scan", n)
	}
	if len(dst) != 2 || len(named) != 2 {
		t.Errorf("findings %v %v", dst, named)
	}
}

// knownDecodesTo reports whether x is, after undoing one transport escaping
// (none, JSON, percent), one of the documented encodings of one of the
// secret's bases. It is the fuzz oracle, independent of knownForms' output.
func knownDecodesTo(x string, bases []string) bool {
	cands := []string{x}
	var js string
	if json.Unmarshal([]byte(`"`+x+`"`), &js) == nil {
		cands = append(cands, js)
	}
	if p, err := url.PathUnescape(x); err == nil {
		cands = append(cands, p)
	}
	if q, err := url.QueryUnescape(x); err == nil {
		cands = append(cands, q)
	}
	encs := []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding}
	for _, c := range cands {
		for _, b := range bases {
			if len(b) < MinKnownSecretLen {
				continue
			}
			if c == b {
				return true
			}
			if h, err := hex.DecodeString(c); err == nil && string(h) == b {
				return true
			}
			for _, e := range encs {
				if d, err := e.DecodeString(c); err == nil && string(d) == b {
					return true
				}
				for a := 0; a < 3; a++ {
					if len(c) >= MinKnownSecretLen && strings.Contains(e.EncodeToString([]byte(strings.Repeat("\x00", a)+b)), c) {
						return true
					}
				}
			}
		}
	}
	return false
}

func FuzzKnownSecrets(f *testing.F) {
	k := mustKnown(f, testKnown)
	f.Add([]byte(`{"a":"b"}`), uint16(0), uint16(0))
	f.Add([]byte(`{"token":"Bearer dev-backend-secret-4b1d"}`), uint16(3), uint16(10))
	f.Add([]byte("ZGV2LWJhY2tlbmQtc2VjcmV0LTRiMWQ="), uint16(40), uint16(5))
	f.Fuzz(func(t *testing.T, text []byte, pick, at uint16) {
		// Splice one form in so that findings are common.
		p := k.pats[int(pick)%len(k.pats)]
		pos := int(at) % (len(text) + 1)
		in := slices.Concat(text[:pos], []byte(p.text), text[pos:])
		fs := k.ScanNamed(in, nil)
		plain := k.Scan(in, nil)
		if !covered(plain, pos, pos+len(p.text)) {
			t.Fatalf("spliced %s form %q at %d not found: %v", p.form, p.text, pos, plain)
		}
		for i, f := range plain {
			if i > 0 && (f.Start < plain[i-1].Start || f.End <= plain[i-1].End) {
				t.Fatalf("unordered or nested findings %v", plain)
			}
		}
		for _, f := range fs {
			if f.Start < 0 || f.End > len(in) || f.End-f.Start < MinKnownSecretLen {
				t.Fatalf("bad range %v", f)
			}
			var bases []string
			for _, s := range testKnown {
				if s.Name == f.Name {
					bases = knownBases(s.Value)
				}
			}
			if x := string(in[f.Start:f.End]); !knownDecodesTo(x, bases) {
				t.Fatalf("finding %v %q does not decode to a form of %s", f, x, f.Name)
			}
			if !covered(plain, f.Start, f.End) {
				t.Fatalf("named finding %v missing from Scan %v", f, plain)
			}
		}
	})
}

func ExampleKnownSecrets() {
	k, err := NewKnownSecrets([]KnownSecret{{Name: "github-upstream", Value: "Bearer dev-backend-secret-4b1d"}})
	if err != nil {
		panic(err)
	}
	body := []byte(`{"echo":"ZGV2LWJhY2tlbmQtc2VjcmV0LTRiMWQ="}`)
	for _, f := range k.ScanNamed(body, nil) {
		fmt.Println(f.Name, f.Form, f.Start, f.End)
	}
	// Output: github-upstream base64 9 41
}
