package prefilter

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"testing"
)

type hit struct{ id, start int }

func naive(keywords []string, text []byte) []hit {
	asciiLower := func(b []byte) []byte {
		out := make([]byte, len(b))
		for i, c := range b {
			out[i] = fold(c)
		}
		return out
	}
	lower := asciiLower(text)
	var out []hit
	for id, k := range keywords {
		kk := asciiLower([]byte(k))
		for i := 0; i+len(kk) <= len(lower); i++ {
			if bytes.Equal(lower[i:i+len(kk)], kk) {
				out = append(out, hit{id, i})
			}
		}
	}
	sortHits(out)
	return out
}

func sortHits(h []hit) {
	sort.Slice(h, func(i, j int) bool {
		if h[i].start != h[j].start {
			return h[i].start < h[j].start
		}
		return h[i].id < h[j].id
	})
}

func scanAll(a *Automaton, text []byte) []hit {
	var out []hit
	a.Scan(text, func(id, start int) bool { out = append(out, hit{id, start}); return true })
	sortHits(out)
	return out
}

func TestScanMatchesNaive(t *testing.T) {
	keywords := []string{"he", "she", "his", "hers", "AKIA", "token", "ghp_", "sk-ant-", "Token", "a", "aa"}
	a, err := New(keywords)
	if err != nil {
		t.Fatal(err)
	}
	text := []byte(`{"ushers":"x","api_TOKEN":"AKIAIOSFODNN7EXAMPLE","gh":"ghp_abc","k":"sk-ant-api03-xyz","aaa":1}`)
	got, want := scanAll(a, text), naive(keywords, text)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got  %v\nwant %v", got, want)
	}
}

func TestStopEarly(t *testing.T) {
	a, _ := New([]string{"x"})
	n := 0
	a.Scan([]byte("xxxxx"), func(int, int) bool { n++; return n < 2 })
	if n != 2 {
		t.Fatalf("scan went on after false: %d calls", n)
	}
}

func TestNewRejects(t *testing.T) {
	if _, err := New([]string{"ok", ""}); err == nil {
		t.Fatal("empty keyword accepted")
	}
}

func FuzzScan(f *testing.F) {
	f.Add("abc|bc|c", []byte("xabcabcx"))
	f.Add("ToKeN|oke", []byte("TOKEN token tOkEn"))
	f.Fuzz(func(t *testing.T, kw string, text []byte) {
		var keywords []string
		for _, k := range strings.Split(kw, "|") {
			if k != "" && len(keywords) < 20 {
				keywords = append(keywords, k)
			}
		}
		if len(keywords) == 0 {
			return
		}
		a, err := New(keywords)
		if err != nil {
			return
		}
		got, want := scanAll(a, text), naive(keywords, text)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("keywords %q text %q: got %v want %v", keywords, text, got, want)
		}
	})
}

// BenchmarkScan64KB runs 200 keywords (the size of a secrets catalogue's
// keyword set) over a 64 KiB JSON body whose field names are full of them.
func BenchmarkScan64KB(b *testing.B) {
	var keywords []string
	for i := 0; i < 200; i++ {
		keywords = append(keywords, fmt.Sprintf("kw%03d_", i))
	}
	keywords = append(keywords, "token", "secret", "key", "access", "password", "akia", "ghp_", "xoxb-")
	a, err := New(keywords)
	if err != nil {
		b.Fatal(err)
	}
	var body bytes.Buffer
	body.WriteString("{")
	for i := 0; body.Len() < 64<<10; i++ {
		fmt.Fprintf(&body, `"access_token_%d":"c2VjcmV0LXZhbHVlLW51bWJlci0%d","secret_key_%d":"value %d",`, i, i, i, i)
	}
	body.WriteString(`"end":0}`)
	text := body.Bytes()
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	hits := 0
	for b.Loop() {
		a.Scan(text, func(int, int) bool { hits++; return true })
	}
	if hits == 0 {
		b.Fatal("no hits")
	}
}
