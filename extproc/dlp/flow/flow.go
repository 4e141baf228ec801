// Package flow tracks sensitive values across the tool calls of a session so
// that policy can stop a value read from one tool from being sent to
// another: to a tool tagged as an external sink, or from a production
// upstream into a development one. It only tracks and matches; the filter
// decides.
//
// Values are never stored: a Tracker keeps keyed fingerprints (HMAC-SHA256,
// truncated to 16 bytes) with where each was seen. Memory is bounded by
// Options.MaxSessions and Options.MaxPerSession, entries expire after
// Options.TTL, and all methods are safe for concurrent use.
package flow

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"strings"
	"sync"
	"time"
)

// Source is where a value was seen.
type Source struct {
	Server string // upstream name
	Env    string // environment label of the upstream ("prod", "dev")
	Tool   string // tool whose response held the value
	Type   string // detector type id ("credit-card")
}

// Fingerprint identifies a normalised value under a Tracker's key.
type Fingerprint [16]byte

// String is the fingerprint in hex, for logs and tests.
func (f Fingerprint) String() string { return hex.EncodeToString(f[:]) }

// Options configure a Tracker. Zero values are the documented defaults.
type Options struct {
	// Key is the HMAC key; required, at least MinKeyLen bytes. Fingerprints
	// from trackers with different keys never match.
	Key []byte
	// MaxSessions bounds the sessions tracked; the least recently used are
	// dropped beyond it. Defaults to 4096.
	MaxSessions int
	// MaxPerSession bounds the values tracked per session; the least
	// recently observed are dropped beyond it. Defaults to 256.
	MaxPerSession int
	// TTL is how long a value (and an idle session) is remembered after it
	// was last observed. Defaults to 1 hour.
	TTL time.Duration
	// Now is the clock. Defaults to time.Now.
	Now func() time.Time
}

// Defaults and limits.
const (
	MinKeyLen            = 16
	DefaultMaxSessions   = 4096
	DefaultMaxPerSession = 256
	DefaultTTL           = time.Hour
	// MaxSourcesPerValue bounds the distinct sources kept per value; the
	// oldest is dropped beyond it.
	MaxSourcesPerValue = 4
)

// maxShards is the number of independently locked parts sessions are
// spread over (fewer when MaxSessions is small, so that eviction stays
// close to a global LRU).
const maxShards = 32

// Tracker remembers fingerprints per session. Memory is at most about
// MaxSessions × MaxPerSession × 200 bytes (≈210 MB at the defaults; size the
// limits for the deployment), usually far less.
type Tracker struct {
	key    []byte
	ttl    time.Duration
	now    func() time.Time
	perSes int
	shards []shard
	macs   sync.Pool // *fpState
}

type fpState struct {
	mac hash.Hash
	buf []byte
	sum []byte
}

// New returns a Tracker. A missing or short key is an error.
func New(o Options) (*Tracker, error) {
	var errs []error
	if len(o.Key) < MinKeyLen {
		errs = append(errs, errors.New("flow: key must be at least 16 bytes"))
	}
	if o.MaxSessions < 0 || o.MaxPerSession < 0 || o.TTL < 0 {
		errs = append(errs, errors.New("flow: negative limit"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if o.MaxSessions == 0 {
		o.MaxSessions = DefaultMaxSessions
	}
	if o.MaxPerSession == 0 {
		o.MaxPerSession = DefaultMaxPerSession
	}
	if o.TTL == 0 {
		o.TTL = DefaultTTL
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	t := &Tracker{key: append([]byte(nil), o.Key...), ttl: o.TTL, now: o.Now, perSes: o.MaxPerSession}
	n := 1
	for n < maxShards && n*2*64 <= o.MaxSessions {
		n *= 2
	}
	t.shards = make([]shard, n)
	for i := range t.shards {
		s := &t.shards[i]
		s.max = o.MaxSessions / n
		if i < o.MaxSessions%n {
			s.max++
		}
		s.sessions = map[string]*session{}
		s.lru.prev, s.lru.next = &s.lru, &s.lru
	}
	t.macs.New = func() any {
		return &fpState{mac: hmac.New(sha256.New, t.key), sum: make([]byte, 0, sha256.Size)}
	}
	return t, nil
}

// Fingerprint returns the keyed fingerprint of a value found by detector
// type typ. The value is normalised first so that one value written in
// different layouts has one fingerprint: for digit-shaped types (payment
// cards, SSNs, IBANs, phone numbers, any type id containing "card", "ssn",
// "iban", "phone", "account" or "routing") and for any value made only of
// digits and the separators space, tab, '-', '.', '/', '(', ')', '+' (with
// at least one digit), separators are removed and ASCII letters
// upper-cased; other values are taken byte for byte. The type otherwise
// plays no part: one value found by two detectors has one fingerprint.
func (t *Tracker) Fingerprint(typ string, value []byte) Fingerprint {
	st := t.macs.Get().(*fpState)
	st.mac.Reset()
	if digitShaped(typ) || digitsWithSeparators(value) {
		st.buf = normaliseDigits(st.buf[:0], value)
		st.mac.Write(st.buf)
	} else {
		st.mac.Write(value)
	}
	st.sum = st.mac.Sum(st.sum[:0])
	var f Fingerprint
	copy(f[:], st.sum)
	if cap(st.buf) <= 4096 {
		t.macs.Put(st)
	}
	return f
}

var digitTypeWords = []string{"card", "ssn", "iban", "phone", "account", "routing"}

func digitShaped(typ string) bool {
	for _, w := range digitTypeWords {
		if strings.Contains(typ, w) {
			return true
		}
	}
	return false
}

func isSeparator(c byte) bool {
	switch c {
	case ' ', '\t', '-', '.', '/', '(', ')', '+':
		return true
	}
	return false
}

func digitsWithSeparators(v []byte) bool {
	digit := false
	for _, c := range v {
		switch {
		case '0' <= c && c <= '9':
			digit = true
		case !isSeparator(c):
			return false
		}
	}
	return digit
}

func normaliseDigits(dst, v []byte) []byte {
	for _, c := range v {
		switch {
		case isSeparator(c):
		case 'a' <= c && c <= 'z':
			dst = append(dst, c-'a'+'A')
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// Observe records that the values with fingerprints fps were seen in the
// session at src. Observing a value again refreshes its expiry and adds src
// to its sources (see Sources).
func (t *Tracker) Observe(session string, src Source, fps ...Fingerprint) {
	if len(fps) == 0 {
		return
	}
	now := t.now()
	sh := t.shard(session)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	// Drop a couple of idle sessions from the old end, so that expired
	// sessions do not wait for the size bound.
	for i := 0; i < 2 && sh.lru.prev != &sh.lru && now.Sub(sh.lru.prev.at) >= t.ttl; i++ {
		sh.drop(sh.lru.prev)
	}
	s := sh.get(session, now, t.ttl)
	if s == nil {
		s = sh.add(session, t.perSes)
	}
	s.at = now
	sh.touch(s)
	for _, fp := range fps {
		s.observe(fp, src, now, t.ttl, t.perSes)
	}
}

// Lookup returns the source a value was most recently seen at in the
// session, and whether it was seen (and has not expired).
func (t *Tracker) Lookup(session string, fp Fingerprint) (Source, bool) {
	var one [1]Source
	got := t.Sources(session, fp, one[:0])
	if len(got) == 0 {
		return Source{}, false
	}
	return got[0], true
}

// Sources appends to dst the distinct sources (at most MaxSourcesPerValue)
// a value was seen at in the session, most recent first: policy can then
// ask whether any of them was a production upstream.
func (t *Tracker) Sources(session string, fp Fingerprint, dst []Source) []Source {
	now := t.now()
	sh := t.shard(session)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	s := sh.get(session, now, t.ttl)
	if s == nil {
		return dst
	}
	sh.touch(s)
	i, ok := s.index[fp]
	if !ok {
		return dst
	}
	e := &s.entries[i]
	if now.Sub(e.at) >= t.ttl {
		s.remove(i)
		return dst
	}
	for j := len(e.srcs) - 1; j >= 0; j-- {
		dst = append(dst, e.srcs[j])
	}
	return dst
}

// Forget drops a session (when it ends).
func (t *Tracker) Forget(session string) {
	sh := t.shard(session)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if s, ok := sh.sessions[session]; ok {
		sh.drop(s)
	}
}

// Len is the number of sessions tracked, expired ones not yet dropped
// included.
func (t *Tracker) Len() int {
	n := 0
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		n += len(sh.sessions)
		sh.mu.Unlock()
	}
	return n
}

func (t *Tracker) shard(session string) *shard {
	if len(t.shards) == 1 {
		return &t.shards[0]
	}
	// FNV-1a.
	h := uint32(2166136261)
	for i := 0; i < len(session); i++ {
		h ^= uint32(session[i])
		h *= 16777619
	}
	return &t.shards[h&uint32(len(t.shards)-1)]
}

// shard holds some sessions in LRU order (lru.next is the most recent).
type shard struct {
	mu       sync.Mutex
	max      int
	sessions map[string]*session
	lru      session // sentinel
}

type session struct {
	id         string
	at         time.Time // last observed
	prev, next *session

	// entries is a doubly linked list in slice form, head the least
	// recently observed; free lists unused slots.
	entries    []entry
	index      map[Fingerprint]int32
	head, tail int32
	free       int32
}

type entry struct {
	fp         Fingerprint
	at         time.Time
	srcs       []Source // oldest first, distinct, at most MaxSourcesPerValue
	prev, next int32    // -1 ends
}

// get returns the live session or nil, dropping it if it expired.
func (sh *shard) get(id string, now time.Time, ttl time.Duration) *session {
	s, ok := sh.sessions[id]
	if !ok {
		return nil
	}
	if now.Sub(s.at) >= ttl {
		sh.drop(s)
		return nil
	}
	return s
}

func (sh *shard) add(id string, perSes int) *session {
	for len(sh.sessions) >= sh.max && sh.lru.prev != &sh.lru {
		sh.drop(sh.lru.prev)
	}
	s := &session{id: id, index: make(map[Fingerprint]int32, min(perSes, 16)), head: -1, tail: -1, free: -1}
	sh.sessions[id] = s
	s.prev, s.next = &sh.lru, sh.lru.next
	s.prev.next, s.next.prev = s, s
	return s
}

func (sh *shard) touch(s *session) {
	s.prev.next, s.next.prev = s.next, s.prev
	s.prev, s.next = &sh.lru, sh.lru.next
	s.prev.next, s.next.prev = s, s
}

func (sh *shard) drop(s *session) {
	s.prev.next, s.next.prev = s.next, s.prev
	s.prev, s.next = nil, nil
	delete(sh.sessions, s.id)
}

func (s *session) observe(fp Fingerprint, src Source, now time.Time, ttl time.Duration, max int) {
	// Expire from the old end; the list is in observation order.
	for s.head >= 0 && now.Sub(s.entries[s.head].at) >= ttl {
		s.remove(s.head)
	}
	if i, ok := s.index[fp]; ok {
		e := &s.entries[i]
		e.at = now
		e.srcs = addSource(e.srcs, src)
		s.unlink(i)
		s.pushBack(i)
		return
	}
	if len(s.index) >= max {
		s.remove(s.head)
	}
	var i int32
	if s.free >= 0 {
		i = s.free
		s.free = s.entries[i].next
	} else {
		s.entries = append(s.entries, entry{})
		i = int32(len(s.entries) - 1)
	}
	e := &s.entries[i]
	*e = entry{fp: fp, at: now, srcs: append(e.srcs[:0], src)}
	s.index[fp] = i
	s.pushBack(i)
}

func addSource(srcs []Source, src Source) []Source {
	for j, x := range srcs {
		if x == src {
			// Move to the newest end.
			copy(srcs[j:], srcs[j+1:])
			srcs[len(srcs)-1] = src
			return srcs
		}
	}
	if len(srcs) >= MaxSourcesPerValue {
		copy(srcs, srcs[1:])
		srcs = srcs[:len(srcs)-1]
	}
	return append(srcs, src)
}

func (s *session) remove(i int32) {
	s.unlink(i)
	e := &s.entries[i]
	delete(s.index, e.fp)
	srcs := e.srcs[:0]
	clear(e.srcs)
	*e = entry{srcs: srcs, next: s.free, prev: -1}
	s.free = i
}

func (s *session) unlink(i int32) {
	e := &s.entries[i]
	if e.prev >= 0 {
		s.entries[e.prev].next = e.next
	} else {
		s.head = e.next
	}
	if e.next >= 0 {
		s.entries[e.next].prev = e.prev
	} else {
		s.tail = e.prev
	}
	e.prev, e.next = -1, -1
}

func (s *session) pushBack(i int32) {
	e := &s.entries[i]
	e.prev, e.next = s.tail, -1
	if s.tail >= 0 {
		s.entries[s.tail].next = i
	} else {
		s.head = i
	}
	s.tail = i
}
