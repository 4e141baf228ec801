package dlp

import (
	"slices"
	"testing"
)

// FuzzEngineScan holds the whole engine (keyword windows, digit scanners,
// e-mail scanner) to the Scan contract on arbitrary bytes: no panic; every
// finding a non-empty range inside the text, of a type the engine lists;
// findings sorted by (Start, End, Type) without duplicates; the same result
// on a second scan and when appended to a non-empty dst; and the same
// findings, shifted, after a neutral "\n\n" prefix. The last holds because
// windows are placed relative to keyword hits and clipped only at the text's
// ends, and a newline is a boundary to every pattern (\b, tok) and scanner
// just as the start of the text is; a detector whose reported range takes
// in the byte before the value would break it.
func FuzzEngineScan(f *testing.F) {
	f.Add([]byte{}) // the other seeds are in testdata/fuzz/FuzzEngineScan
	e, err := NewEngine(nil)
	if err != nil {
		f.Fatal(err)
	}
	types := map[string]bool{}
	for _, typ := range e.Types() {
		types[typ] = true
	}
	sentinel := Finding{Type: "sentinel", Start: -1, End: -1}
	f.Fuzz(func(t *testing.T, text []byte) {
		orig := slices.Clone(text)
		got := e.Scan(text, nil)
		if string(text) != string(orig) {
			t.Fatalf("Scan modified its input: %q → %q", orig, text)
		}
		for i, fd := range got {
			if fd.Start < 0 || fd.Start >= fd.End || fd.End > len(text) {
				t.Fatalf("finding %+v out of range [0,%d] in %q", fd, len(text), text)
			}
			if !types[fd.Type] {
				t.Fatalf("finding %+v of a type not in Types() in %q", fd, text)
			}
			if i > 0 && !findingBefore(got[i-1], fd) {
				t.Fatalf("findings %+v, %+v not sorted by (Start, End, Type) or duplicated in %q", got[i-1], fd, text)
			}
		}
		if again := e.Scan(text, nil); !slices.Equal(got, again) {
			t.Fatalf("two scans differ on %q:\n%v\n%v", text, got, again)
		}
		appended := e.Scan(text, []Finding{sentinel})
		if len(appended) == 0 || appended[0] != sentinel || !slices.Equal(appended[1:], got) {
			t.Fatalf("Scan with a non-empty dst on %q: %v, want [sentinel] + %v", text, appended, got)
		}

		const prefix = "\n\n"
		var shifted []Finding
		for _, fd := range e.Scan(append([]byte(prefix), text...), nil) {
			if fd.Start >= len(prefix) {
				shifted = append(shifted, Finding{Type: fd.Type, Start: fd.Start - len(prefix), End: fd.End - len(prefix)})
			}
		}
		if !slices.Equal(got, shifted) {
			t.Fatalf("%q: findings change behind a %q prefix:\n%v\n%v", text, prefix, got, shifted)
		}
	})
}

// findingBefore orders findings as Scan documents: by Start, End, then Type.
func findingBefore(a, b Finding) bool {
	if a.Start != b.Start {
		return a.Start < b.Start
	}
	if a.End != b.End {
		return a.End < b.End
	}
	return a.Type < b.Type
}
