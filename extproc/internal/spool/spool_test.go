package spool

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func payload(seq uint64) []byte { return []byte(fmt.Sprintf("record-%d", seq)) }

func appendN(t *testing.T, s *Spool, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		if _, err := s.Append(payload); err != nil {
			t.Fatal(err)
		}
	}
}

func readAll(t *testing.T, s *Spool, n int) []Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var out []Record
	for len(out) < n {
		recs, err := s.Read(ctx, 7)
		if err != nil {
			t.Fatalf("read after %d records: %v", len(out), err)
		}
		out = append(out, recs...)
	}
	return out
}

func checkSeq(t *testing.T, recs []Record, from uint64) {
	t.Helper()
	for i, r := range recs {
		want := from + uint64(i)
		if r.Seq != want || string(r.Payload) != string(payload(want)) {
			t.Fatalf("record %d: seq %d payload %q, want seq %d", i, r.Seq, r.Payload, want)
		}
	}
}

func TestAppendReadAckAcrossSegments(t *testing.T) {
	s, err := Open(t.TempDir(), Options{SegmentBytes: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	appendN(t, s, 50)
	recs := readAll(t, s, 50)
	checkSeq(t, recs, 1)
	if st := s.Stats(); st.Segments < 5 {
		t.Fatalf("expected several segments, got %d", st.Segments)
	}
	if err := s.Ack(50); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Segments != 1 || st.Acked != 50 {
		t.Fatalf("after ack: %+v", st)
	}
}

func TestReopenReplaysUnacked(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{SegmentBytes: 200})
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, s, 30)
	readAll(t, s, 30)
	if err := s.Ack(12); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(dir, Options{SegmentBytes: 200})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	recs := readAll(t, s2, 18)
	checkSeq(t, recs, 13)
	// Sequence numbers continue after a restart.
	seq, err := s2.Append(payload)
	if err != nil || seq != 31 {
		t.Fatalf("next seq %d (%v), want 31", seq, err)
	}
}

func TestRewindRedelivers(t *testing.T) {
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	appendN(t, s, 10)
	readAll(t, s, 10)
	if err := s.Ack(4); err != nil {
		t.Fatal(err)
	}
	s.Rewind()
	checkSeq(t, readAll(t, s, 6), 5)
}

func TestTornTailTruncated(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, s, 5)
	s.Close()
	segs, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	f, err := os.OpenFile(segs[len(segs)-1], os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte{0, 0, 0, 9, 1, 2}) // half a header: a crash mid-write
	f.Close()
	s2, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	checkSeq(t, readAll(t, s2, 5), 1)
	if seq, err := s2.Append(payload); err != nil || seq != 6 {
		t.Fatalf("append after recovery: seq %d err %v", seq, err)
	}
	checkSeq(t, readAll(t, s2, 1), 6)
}

func TestFullRefuses(t *testing.T) {
	s, err := Open(t.TempDir(), Options{MaxBytes: 200, SegmentBytes: 50})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for s.Admit() == nil {
		appendN(t, s, 1)
	}
	if !errors.Is(s.Admit(), ErrFull) {
		t.Fatal("spool never reported full")
	}
	// Work admitted before the spool filled still gets its record...
	appendN(t, s, 3)
	// ...up to the hard limit of twice MaxBytes.
	var hard bool
	for i := 0; i < 100 && !hard; i++ {
		if _, err := s.Append(payload); errors.Is(err, ErrFull) {
			hard = true
		}
	}
	if !hard {
		t.Fatal("no hard limit")
	}
	n := s.Stats().NextSeq - 1
	readAll(t, s, int(n))
	if err := s.Ack(n); err != nil {
		t.Fatal(err)
	}
	if err := s.Admit(); err != nil {
		t.Fatalf("still full after ack: %v", err)
	}
}

func TestReadWaitsForAppend(t *testing.T) {
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got := make(chan []Record, 1)
	go func() {
		recs, _ := s.Read(context.Background(), 10)
		got <- recs
	}()
	time.Sleep(20 * time.Millisecond)
	appendN(t, s, 1)
	select {
	case recs := <-got:
		checkSeq(t, recs, 1)
	case <-time.After(5 * time.Second):
		t.Fatal("reader not woken")
	}
}

func TestShortWriteLeavesNoTornRecord(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, s, 1)
	// Simulate a failed write: the file is closed under the spool.
	s.active.Close()
	if _, err := s.Append(payload); err == nil {
		t.Fatal("write to a closed file succeeded")
	}
	f, err := os.OpenFile(s.segments[len(s.segments)-1].path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	s.active = f
	appendN(t, s, 2)
	checkSeq(t, readAll(t, s, 3), 1)
	s.Close()
	s2, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	checkSeq(t, readAll(t, s2, 3), 1)
}

func TestSegmentBoundedByMaxBytes(t *testing.T) {
	s, err := Open(t.TempDir(), Options{MaxBytes: 4096, SegmentBytes: 8 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// With a broker one record behind, admission must not fail while the
	// real backlog is a single record.
	refused := 0
	for i := 1; i <= 200; i++ {
		if s.Admit() != nil {
			refused++
		}
		appendN(t, s, 1)
		readAll(t, s, 1)
		if i > 1 {
			if err := s.Ack(uint64(i - 1)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if refused != 0 {
		t.Fatalf("%d of 200 admissions refused with a one-record backlog", refused)
	}
}
