// Package spool is a durable, bounded, append-only local queue of records
// with sequence numbers. The filter writes every decision here before it is
// produced to Kafka, so a broker outage delays decisions but never loses them:
// they are delivered in order when the broker returns, across restarts.
//
// On disk: segment files "<first-seq>.seg" holding records
// [len uint32][crc32c uint32][seq uint64][payload], and a "cursor" file with
// the last acknowledged sequence number. Writes go straight to the file (no
// user-space buffer), so a record survives a process crash as soon as Append
// returns; Sync (called periodically by the owner) makes it survive a machine
// crash. A torn record at the tail after a crash is truncated on Open.
package spool

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// ErrFull is returned by Admit when the unacknowledged records exceed
// Options.MaxBytes, and by Append only past the hard limit of twice that:
// records of exchanges admitted before the spool filled are still kept.
var ErrFull = errors.New("spool: full")

// ErrClosed is returned after Close.
var ErrClosed = errors.New("spool: closed")

const headerLen = 16

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// Options configure a spool.
type Options struct {
	// MaxBytes bounds the unacknowledged data: past it Admit refuses new
	// work. Append keeps accepting records up to twice MaxBytes, so work
	// admitted earlier keeps its record. Defaults to 256 MiB.
	MaxBytes int64
	// SegmentBytes is the size after which a new segment file is started.
	// Defaults to 8 MiB, and is at most MaxBytes/4 (pending bytes are
	// counted per segment, so a smaller segment keeps the count close).
	SegmentBytes int64
	// MaxRecordBytes bounds one record. Defaults to 64 KiB (well under
	// Kafka's default 1 MB record batch).
	MaxRecordBytes int
}

// Record is one spooled record.
type Record struct {
	Seq     uint64
	Payload []byte
}

type segment struct {
	first uint64 // first sequence number
	last  uint64 // last sequence number written (first-1 when empty)
	size  int64
	path  string
}

// Spool is safe for concurrent use by one or more appenders and one reader.
type Spool struct {
	dir  string
	opts Options

	mu       sync.Mutex
	cond     chan struct{} // closed and replaced when records are appended
	closed   bool
	segments []*segment // ordered; the last one is active
	active   *os.File
	nextSeq  uint64
	acked    uint64
	pending  int64 // bytes not yet acknowledged

	// reader state (one reader)
	rseg  int // index into segments of the segment being read
	rfile *os.File
	rpos  int64
	rseq  uint64 // last sequence handed out by Read
}

// Open opens (or creates) the spool in dir and recovers its state.
func Open(dir string, opts Options) (*Spool, error) {
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = 256 << 20
	}
	if opts.SegmentBytes <= 0 {
		opts.SegmentBytes = 8 << 20
	}
	if opts.MaxRecordBytes <= 0 {
		opts.MaxRecordBytes = 64 << 10
	}
	if limit := max(opts.MaxBytes/4, 1); opts.SegmentBytes > limit {
		opts.SegmentBytes = limit
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	s := &Spool{dir: dir, opts: opts, cond: make(chan struct{})}
	acked, err := readCursor(filepath.Join(dir, "cursor"))
	if err != nil {
		return nil, err
	}
	s.acked = acked
	names, err := filepath.Glob(filepath.Join(dir, "*.seg"))
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		first, err := strconv.ParseUint(strings.TrimSuffix(filepath.Base(n), ".seg"), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("spool: unexpected file %s", n)
		}
		s.segments = append(s.segments, &segment{first: first, path: n})
	}
	sort.Slice(s.segments, func(i, j int) bool { return s.segments[i].first < s.segments[j].first })
	s.nextSeq = acked + 1
	for i, seg := range s.segments {
		last, size, err := scanSegment(seg.path, seg.first, i == len(s.segments)-1)
		if err != nil {
			return nil, err
		}
		seg.last, seg.size = last, size
		if last >= seg.first && last+1 > s.nextSeq {
			s.nextSeq = last + 1
		}
	}
	// Drop fully acknowledged segments, count what is pending.
	s.dropAcked()
	for _, seg := range s.segments {
		s.pending += seg.size
	}
	if err := s.openActive(); err != nil {
		return nil, err
	}
	s.rseq = s.acked
	return s, nil
}

// scanSegment validates a segment and returns its last sequence number and
// valid size. A torn or corrupt tail of the last segment is truncated.
func scanSegment(path string, first uint64, isLast bool) (last uint64, size int64, err error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	last = first - 1
	var hdr [headerLen]byte
	var pos int64
	for {
		if _, err := io.ReadFull(f, hdr[:]); err != nil {
			break
		}
		n := binary.BigEndian.Uint32(hdr[0:4])
		crc := binary.BigEndian.Uint32(hdr[4:8])
		seq := binary.BigEndian.Uint64(hdr[8:16])
		payload := make([]byte, n)
		if _, err := io.ReadFull(f, payload); err != nil {
			break
		}
		if crc32.Checksum(payload, crcTable) != crc || seq != last+1 {
			break
		}
		last = seq
		pos += headerLen + int64(n)
	}
	st, err := f.Stat()
	if err != nil {
		return 0, 0, err
	}
	if st.Size() != pos {
		if !isLast {
			return 0, 0, fmt.Errorf("spool: segment %s is corrupt at offset %d", path, pos)
		}
		if err := f.Truncate(pos); err != nil {
			return 0, 0, err
		}
	}
	return last, pos, nil
}

func (s *Spool) openActive() error {
	if len(s.segments) == 0 || s.segments[len(s.segments)-1].size >= s.opts.SegmentBytes {
		seg := &segment{first: s.nextSeq, last: s.nextSeq - 1, path: filepath.Join(s.dir, fmt.Sprintf("%020d.seg", s.nextSeq))}
		s.segments = append(s.segments, seg)
	}
	seg := s.segments[len(s.segments)-1]
	f, err := os.OpenFile(seg.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	if s.active != nil {
		_ = s.active.Sync()
		_ = s.active.Close()
	}
	s.active = f
	return nil
}

// Admit reports ErrFull when the spool cannot take more records.
func (s *Spool) Admit() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if s.pending >= s.opts.MaxBytes {
		return ErrFull
	}
	return nil
}

// Append writes one record whose payload build makes from the sequence
// number assigned to it, and returns that number.
func (s *Spool) Append(build func(seq uint64) []byte) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, ErrClosed
	}
	if s.pending >= 2*s.opts.MaxBytes {
		return 0, ErrFull
	}
	seq := s.nextSeq
	payload := build(seq)
	if len(payload) > s.opts.MaxRecordBytes {
		return 0, fmt.Errorf("spool: record of %d bytes exceeds the limit of %d", len(payload), s.opts.MaxRecordBytes)
	}
	buf := make([]byte, headerLen+len(payload))
	binary.BigEndian.PutUint32(buf[0:4], uint32(len(payload)))
	binary.BigEndian.PutUint32(buf[4:8], crc32.Checksum(payload, crcTable))
	binary.BigEndian.PutUint64(buf[8:16], seq)
	copy(buf[headerLen:], payload)
	seg := s.segments[len(s.segments)-1]
	if _, err := s.active.Write(buf); err != nil {
		// A short write must not leave a torn record for later records to
		// follow: cut the segment back to its last whole record.
		if terr := s.active.Truncate(seg.size); terr != nil {
			return 0, fmt.Errorf("spool: write: %w (and truncating the torn record failed: %w)", err, terr)
		}
		return 0, fmt.Errorf("spool: write: %w", err)
	}
	seg.last = seq
	seg.size += int64(len(buf))
	s.pending += int64(len(buf))
	s.nextSeq++
	if seg.size >= s.opts.SegmentBytes {
		if err := s.openActive(); err != nil {
			return seq, err
		}
	}
	close(s.cond)
	s.cond = make(chan struct{})
	return seq, nil
}

// Sync flushes appended records to stable storage.
func (s *Spool) Sync() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	return s.active.Sync()
}

// Read returns up to max records after the last one Read returned, waiting
// until at least one is available or ctx is done.
func (s *Spool) Read(ctx context.Context, max int) ([]Record, error) {
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return nil, ErrClosed
		}
		if s.rseq+1 < s.nextSeq {
			recs, err := s.readLocked(max)
			s.mu.Unlock()
			return recs, err
		}
		wait := s.cond
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-wait:
		}
	}
}

// Rewind makes the next Read start again after the last acknowledged record
// (used after a failed delivery).
func (s *Spool) Rewind() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closeReader()
	s.rseq = s.acked
}

func (s *Spool) closeReader() {
	if s.rfile != nil {
		_ = s.rfile.Close()
		s.rfile = nil
	}
}

func (s *Spool) readLocked(max int) ([]Record, error) {
	var out []Record
	for len(out) < max && s.rseq+1 < s.nextSeq {
		want := s.rseq + 1
		if s.rfile == nil {
			// Find the segment holding want and seek to it.
			idx := -1
			for i, seg := range s.segments {
				if want >= seg.first && want <= seg.last {
					idx = i
					break
				}
			}
			if idx < 0 {
				return out, fmt.Errorf("spool: record %d not found", want)
			}
			f, err := os.Open(s.segments[idx].path)
			if err != nil {
				return out, err
			}
			s.rfile, s.rseg, s.rpos = f, idx, 0
		}
		seg := s.segments[s.rseg]
		if want > seg.last {
			s.closeReader()
			continue
		}
		var hdr [headerLen]byte
		if _, err := s.rfile.ReadAt(hdr[:], s.rpos); err != nil {
			return out, fmt.Errorf("spool: read %s: %w", seg.path, err)
		}
		n := binary.BigEndian.Uint32(hdr[0:4])
		seq := binary.BigEndian.Uint64(hdr[8:16])
		payload := make([]byte, n)
		if _, err := s.rfile.ReadAt(payload, s.rpos+headerLen); err != nil {
			return out, fmt.Errorf("spool: read %s: %w", seg.path, err)
		}
		s.rpos += headerLen + int64(n)
		if seq < want {
			continue // skipping already acknowledged records of this segment
		}
		if seq != want || crc32.Checksum(payload, crcTable) != binary.BigEndian.Uint32(hdr[4:8]) {
			return out, fmt.Errorf("spool: corrupt record in %s (want seq %d, got %d)", seg.path, want, seq)
		}
		out = append(out, Record{Seq: seq, Payload: payload})
		s.rseq = seq
	}
	return out, nil
}

// Ack marks every record up to and including seq as delivered; the cursor is
// persisted and fully delivered segments are deleted.
func (s *Spool) Ack(seq uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if seq <= s.acked {
		return nil
	}
	s.acked = seq
	if err := writeCursor(filepath.Join(s.dir, "cursor"), seq); err != nil {
		return err
	}
	s.dropAcked()
	return nil
}

// dropAcked deletes segments whose records are all acknowledged, except the
// active one, and recomputes pending bytes.
func (s *Spool) dropAcked() {
	kept := s.segments[:0]
	for i, seg := range s.segments {
		isActive := i == len(s.segments)-1
		if !isActive && seg.last <= s.acked {
			if s.rfile != nil && s.rseg == i {
				s.closeReader()
			}
			_ = os.Remove(seg.path)
			continue
		}
		kept = append(kept, seg)
	}
	if len(kept) != len(s.segments) && s.rfile != nil {
		// Segment indexes shifted; reopen lazily.
		s.closeReader()
		s.rseq = max(s.rseq, s.acked)
	}
	s.segments = kept
	var pending int64
	for _, seg := range s.segments {
		if seg.last > s.acked {
			pending += seg.size // approximate: whole segments
		}
	}
	s.pending = pending
}

// Stats are point-in-time counters.
type Stats struct {
	NextSeq      uint64
	Acked        uint64
	PendingBytes int64
	Segments     int
}

// Stats returns the spool's counters.
func (s *Spool) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{NextSeq: s.nextSeq, Acked: s.acked, PendingBytes: s.pending, Segments: len(s.segments)}
}

// Close syncs and closes the spool.
func (s *Spool) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	close(s.cond)
	s.closeReader()
	err := s.active.Sync()
	return errors.Join(err, s.active.Close())
}

func readCursor(path string) (uint64, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("spool: bad cursor file %s", path)
	}
	return v, nil
}

func writeCursor(path string, seq uint64) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(strconv.FormatUint(seq, 10)+"\n"), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
