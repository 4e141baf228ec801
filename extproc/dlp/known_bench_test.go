package dlp

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
)

// knownBenchSecrets are 20 secrets in the shapes upstream credentials take.
func knownBenchSecrets() []KnownSecret {
	r := rand.New(rand.NewPCG(1, 2))
	const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	rnd := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = alnum[r.IntN(len(alnum))]
		}
		return string(b)
	}
	var s []KnownSecret
	for i := 0; i < 20; i++ {
		var v string
		switch i % 4 {
		case 0:
			v = "Bearer " + rnd(32)
		case 1:
			v = "Basic " + rnd(24) + "=="
		case 2:
			v = "sk_live_" + rnd(40)
		default:
			v = "Token " + rnd(20) + "/" + rnd(8)
		}
		s = append(s, KnownSecret{Name: fmt.Sprintf("upstream-%d", i), Value: v})
	}
	return s
}

// knownBenchBody is 64 KiB of clean JSON-RPC tool output: prose, ids,
// numbers, timestamps and a little base64.
func knownBenchBody() []byte {
	r := rand.New(rand.NewPCG(3, 4))
	words := []string{"the", "request", "server", "returned", "status", "user", "account", "repository",
		"issue", "commit", "branch", "message", "deploy", "pipeline", "error", "warning", "config", "value"}
	var b bytes.Buffer
	b.WriteString(`{"jsonrpc":"2.0","id":7,"result":{"content":[`)
	for i := 0; b.Len() < 64<<10-200; i++ {
		fmt.Fprintf(&b, `{"type":"text","id":"%08x-%04x-4%03x-a%03x-%012x","created_at":"2025-0%d-1%dT12:%02d:00Z","count":%d,"text":"`,
			r.Uint32(), r.IntN(1<<16), r.IntN(1<<12), r.IntN(1<<12), r.Int64N(1<<48), 1+i%9, i%10, i%60, r.IntN(100000))
		for j := 0; j < 20; j++ {
			b.WriteString(words[r.IntN(len(words))])
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, `","sha":"%040x","blob":"aGVsbG8gd29ybGQgdGhpcyBpcyBub3QgYSBzZWNyZXQ="},`, r.Uint64())
	}
	b.WriteString(`{"type":"text","text":"end"}]}}`)
	return b.Bytes()
}

func BenchmarkKnownSecrets(b *testing.B) {
	k, err := NewKnownSecrets(knownBenchSecrets())
	if err != nil {
		b.Fatal(err)
	}
	body := knownBenchBody()
	dst := make([]Finding, 0, 16)
	if fs := k.Scan(body, nil); len(fs) != 0 {
		b.Fatalf("clean body has findings: %v", fs)
	}
	b.Logf("%d forms, %d KiB body", k.Len(), len(body)>>10)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		dst = k.Scan(body, dst[:0])
	}
}

// BenchmarkKnownSecretsShortForm is the worst case: one 8-byte secret
// forces a window check at every position.
func BenchmarkKnownSecretsShortForm(b *testing.B) {
	k, err := NewKnownSecrets(append(knownBenchSecrets(), KnownSecret{Name: "short", Value: "s3cr3t!x"}))
	if err != nil {
		b.Fatal(err)
	}
	body := knownBenchBody()
	dst := make([]Finding, 0, 16)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		dst = k.Scan(body, dst[:0])
	}
}

func BenchmarkNewKnownSecrets(b *testing.B) {
	s := knownBenchSecrets()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewKnownSecrets(s); err != nil {
			b.Fatal(err)
		}
	}
}
