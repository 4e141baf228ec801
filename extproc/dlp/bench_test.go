package dlp

import (
	"fmt"
	"testing"

	"github.com/portcullis/portcullis/extproc/dlp/dlptest"
)

func BenchmarkScan(b *testing.B) {
	e, err := NewEngine(nil)
	if err != nil {
		b.Fatal(err)
	}
	for _, size := range []int{1 << 10, 8 << 10, 64 << 10, 1 << 20} {
		for _, kw := range []bool{false, true} {
			body := dlptest.JSONBody(size, kw)
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
