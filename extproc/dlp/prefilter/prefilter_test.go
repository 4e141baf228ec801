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

// naiveFind is Find's reference: keywords by naive search, trigger bytes by
// their definition, ordered as a single left-to-right walk reports them.
func naiveFind(keywords []string, tr Triggers, text []byte) []Match {
	type ordered struct {
		at, kind int // completing byte; keywords before a trigger
		m        Match
	}
	var all []ordered
	for _, h := range naive(keywords, text) {
		all = append(all, ordered{h.start + len(keywords[h.id]) - 1, 0, Match{h.id, h.start}})
	}
	in := func(set []byte, c byte) bool { return bytes.IndexByte(set, c) >= 0 }
	for i, c := range text {
		if in(tr.Anywhere, c) || in(tr.Start, c) && (i == 0 || !in(tr.Word, text[i-1])) {
			all = append(all, ordered{i, 1, Match{Trigger, i}})
		}
	}
	sort.SliceStable(all, func(i, j int) bool {
		x, y := all[i], all[j]
		if x.at != y.at {
			return x.at < y.at
		}
		if x.kind != y.kind {
			return x.kind < y.kind
		}
		if x.m.Start != y.m.Start {
			return x.m.Start < y.m.Start
		}
		return x.m.Keyword < y.m.Keyword
	})
	out := []Match{}
	for _, o := range all {
		out = append(out, o.m)
	}
	return out
}

var dlpTriggers = Triggers{
	Start:    []byte("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
	Word:     []byte("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_"),
	Anywhere: []byte("@"),
}

func TestFindMatchesNaive(t *testing.T) {
	keywords := []string{"he", "she", "his", "hers", "AKIA", "token", "ghp_", "sk-ant-", "Token", "a", "aa", "9x", "@b"}
	a, err := NewWithTriggers(keywords, dlpTriggers)
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	for i := 0; body.Len() < 8<<10; i++ {
		fmt.Fprintf(&body, `{"ushers":"x%d","api_TOKEN":"AKIAIOSFODNN7EXAMPLE","gh":"ghp_abc","k":"sk-ant-api03-xyz","aaa":1,"m":"a@b.c 9x"},`, i)
	}
	for _, n := range []int{0, 1, 20, 100, 1000, body.Len()} {
		text := body.Bytes()[:n]
		want := naiveFind(keywords, dlpTriggers, text)
		var s Scratch
		if got := a.Find(text, []Match{}, &s); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("len %d: Find\n got  %v\n want %v", n, got, want)
		}
		if n >= max(a.maxLen, 1)+streams {
			if got := a.interleaved(text, []Match{}, &s); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("len %d: interleaved\n got  %v\n want %v", n, got, want)
			}
		}
	}
}

// FuzzFind holds Find, in both its single and its interleaved walk, to the
// naive reference; the trigger sets are fuzzed too ("start|word|anywhere").
func FuzzFind(f *testing.F) {
	f.Add("abc|bc|c", "09AZ|09AZaz_|@", []byte("xabcabcx 12 a1 @ Abc"))
	f.Add("ToKeN|oke|ssn|date of birth", "0123456789|abcdefghijklmnopqrstuvwxyz|", []byte("TOKEN token tOkEn 078-05-1120 date of birth: 1990-01-01"))
	f.Fuzz(func(t *testing.T, kw, trig string, text []byte) {
		var keywords []string
		for _, k := range strings.Split(kw, "|") {
			if k != "" && len(keywords) < 20 {
				keywords = append(keywords, k)
			}
		}
		var tr Triggers
		if sets := strings.SplitN(trig, "|", 3); len(sets) == 3 {
			tr = Triggers{Start: []byte(sets[0]), Word: []byte(sets[1]), Anywhere: []byte(sets[2])}
		}
		a, err := NewWithTriggers(keywords, tr)
		if err != nil {
			return
		}
		want := naiveFind(keywords, tr, text)
		var s Scratch
		if got := a.Find(text, []Match{}, &s); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("keywords %q triggers %q text %q: Find\n got  %v\n want %v", keywords, trig, text, got, want)
		}
		if len(text) >= max(a.maxLen, 1)+streams {
			if got := a.interleaved(text, []Match{}, &s); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("keywords %q triggers %q text %q: interleaved\n got  %v\n want %v", keywords, trig, text, got, want)
			}
		}
	})
}
