package dlp

import (
	"bytes"
	"fmt"
	"testing"
)

// jsonBody builds a JSON body of about size bytes; with keywords its field
// names carry token/key/secret/access (gitleaks' worst case: 57 ms at 64 KiB),
// and one value in 50 is a real-format secret.
func jsonBody(size int, keywords bool) []byte {
	var b bytes.Buffer
	b.WriteString(`{"items":[`)
	for i := 0; b.Len() < size; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		name := "description"
		if keywords {
			name = "access_token_secret_key"
		}
		value := fmt.Sprintf("value number %d with some ordinary words in it", i)
		if keywords && i%50 == 0 {
			value = "ghp_kw4mm23obdi90ax0u3jz5erfomi2kwm7pqiq"
		}
		fmt.Fprintf(&b, `{"id":%d,"%s":"%s","owner":"user%d@example.org"}`, i, name, value, i)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

func BenchmarkScan(b *testing.B) {
	e, err := NewEngine(nil)
	if err != nil {
		b.Fatal(err)
	}
	for _, size := range []int{1 << 10, 8 << 10, 64 << 10, 1 << 20} {
		for _, kw := range []bool{false, true} {
			body := jsonBody(size, kw)
			b.Run(fmt.Sprintf("%dKiB/keywords=%v", size>>10, kw), func(b *testing.B) {
				b.SetBytes(int64(len(body)))
				b.ReportAllocs()
				var dst []Finding
				for b.Loop() {
					dst = e.Scan(body, dst[:0])
				}
				if len(dst) == 0 {
					b.Fatal("no findings")
				}
			})
		}
	}
}
