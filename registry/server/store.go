package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/portcullis/portcullis/registry/catalog"
)

// Environments are the policy sets the registry keeps, in promotion order.
var Environments = []string{EnvPreprod, EnvProd}

// Environment names.
const (
	EnvPreprod = "preprod"
	EnvProd    = "prod"
)

// DefaultKeepRevisions is StoreOptions.KeepRevisions' default.
const DefaultKeepRevisions = 50

// StoreOptions configure OpenStore. The zero value is ready to use.
type StoreOptions struct {
	// KeepRevisions is how many revisions per environment stay on disk
	// (the current one always does). Defaults to DefaultKeepRevisions.
	KeepRevisions int
	// Now is the clock. Defaults to time.Now.
	Now func() time.Time
}

// State is one immutable revision of an environment's policy set.
type State struct {
	Env      string
	Revision uint64
	// Version is the content hash of the policy set (its snapshot version):
	// equal content, equal version.
	Version string
	Created time.Time
	Catalog *catalog.Catalog
	// Files are the YAML files of the revision, by slash-separated path
	// relative to the environment directory.
	Files map[string][]byte
}

// Store is the registry's source of truth: one catalog directory per
// environment, DIR/<env>, written only as whole revisions.
//
// DIR/<env> is a symbolic link to DIR/.revisions/<env>/<revision>. A write
// builds the complete new revision in a temporary directory, fsyncs it,
// renames it to its revision number and then atomically replaces the link
// (a new link renamed over the old one). A crash at any point leaves either
// the old or the new revision current, never a mix. Revision numbers only
// grow: the next is one more than the highest on disk, so they survive
// restarts. On first start a plain directory DIR/<env> (e.g. a GitOps
// checkout) is moved into the store as its first revision and replaced by
// the link; a missing one starts empty.
type Store struct {
	dir  string
	opts StoreOptions

	mu      sync.Mutex // serialises writes; guards cur and changed
	cur     map[string]*State
	changed map[string]chan struct{}
}

const (
	revisionsDir = ".revisions"
	metaFile     = ".revision.json"
)

type revisionMeta struct {
	Revision uint64    `json:"revision"`
	Version  string    `json:"version"`
	Created  time.Time `json:"created"`
	Author   string    `json:"author,omitempty"`
	Action   string    `json:"action,omitempty"`
}

// OpenStore opens (creating when needed) the store in dir and loads the
// current revision of every environment. A revision that does not validate
// is an error naming file, line and field.
func OpenStore(dir string, opts StoreOptions) (*Store, error) {
	if opts.KeepRevisions <= 0 {
		opts.KeepRevisions = DefaultKeepRevisions
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Store{dir: dir, opts: opts, cur: map[string]*State{}, changed: map[string]chan struct{}{}}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	for _, env := range Environments {
		st, err := s.open(env)
		if err != nil {
			return nil, fmt.Errorf("environment %s: %w", env, err)
		}
		s.cur[env] = st
		s.changed[env] = make(chan struct{})
	}
	return s, nil
}

func (s *Store) revDir(env string) string { return filepath.Join(s.dir, revisionsDir, env) }

func revName(rev uint64) string { return fmt.Sprintf("%08d", rev) }

// revisions lists the complete revisions of env on disk, ascending.
func (s *Store) revisions(env string) ([]uint64, error) {
	ents, err := os.ReadDir(s.revDir(env))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []uint64
	for _, e := range ents {
		if n, err := strconv.ParseUint(e.Name(), 10, 64); err == nil && e.IsDir() {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out, nil
}

func (s *Store) open(env string) (*State, error) {
	link := filepath.Join(s.dir, env)
	if err := os.MkdirAll(s.revDir(env), 0o755); err != nil {
		return nil, err
	}
	revs, err := s.revisions(env)
	if err != nil {
		return nil, err
	}
	next := uint64(1)
	if len(revs) > 0 {
		next = revs[len(revs)-1] + 1
	}
	fi, err := os.Lstat(link)
	switch {
	case err == nil && fi.Mode()&fs.ModeSymlink != 0:
		target, err := os.Readlink(link)
		if err != nil {
			return nil, err
		}
		rev, err := strconv.ParseUint(path.Base(filepath.ToSlash(target)), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: link target %q is not a revision", link, target)
		}
		return s.load(env, rev)
	case err == nil && fi.IsDir():
		// Import a plain directory as the next revision.
		if err := os.Rename(link, filepath.Join(s.revDir(env), revName(next))); err != nil {
			return nil, err
		}
		if err := s.point(env, next); err != nil {
			return nil, err
		}
		return s.load(env, next)
	case err == nil:
		return nil, fmt.Errorf("%s is neither a directory nor a link", link)
	case !errors.Is(err, fs.ErrNotExist):
		return nil, err
	case len(revs) > 0:
		// A crash between import and link: the newest revision is current.
		if err := s.point(env, revs[len(revs)-1]); err != nil {
			return nil, err
		}
		return s.load(env, revs[len(revs)-1])
	default:
		st := &State{Env: env, Revision: next, Files: map[string][]byte{}, Created: s.opts.Now().UTC()}
		if err := s.write(st, "", "init"); err != nil {
			return nil, err
		}
		return s.load(env, next)
	}
}

// load reads and validates revision rev of env.
func (s *Store) load(env string, rev uint64) (*State, error) {
	root := filepath.Join(s.revDir(env), revName(rev))
	files := map[string][]byte{}
	err := fs.WalkDir(os.DirFS(root), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		base := path.Base(p)
		if p != "." && strings.HasPrefix(base, ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() || (!strings.HasSuffix(base, ".yaml") && !strings.HasSuffix(base, ".yml")) {
			return nil
		}
		b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(p)))
		if err != nil {
			return err
		}
		if len(b) > catalog.MaxFileSize {
			return fmt.Errorf("%s: file larger than %d bytes", p, catalog.MaxFileSize)
		}
		files[p] = b
		return nil
	})
	if err != nil {
		return nil, err
	}
	cat, err := catalog.Parse(files)
	if err != nil {
		return nil, err
	}
	st := &State{Env: env, Revision: rev, Catalog: cat, Files: files, Version: cat.Snapshot(nil).Version}
	var meta revisionMeta
	if b, err := os.ReadFile(filepath.Join(root, metaFile)); err == nil && json.Unmarshal(b, &meta) == nil {
		st.Created = meta.Created
	} else if fi, err := os.Stat(root); err == nil {
		st.Created = fi.ModTime().UTC()
	}
	return st, nil
}

// write stores st.Files as revision st.Revision of st.Env (not yet current).
func (s *Store) write(st *State, author, action string) error {
	tmp, err := os.MkdirTemp(s.revDir(st.Env), ".tmp-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(tmp) }() // a no-op once renamed
	for _, name := range slices.Sorted(maps.Keys(st.Files)) {
		p := filepath.Join(tmp, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := writeFileSync(p, st.Files[name]); err != nil {
			return err
		}
	}
	meta, _ := json.MarshalIndent(revisionMeta{Revision: st.Revision, Version: st.Version, Created: st.Created, Author: author, Action: action}, "", "  ")
	if err := writeFileSync(filepath.Join(tmp, metaFile), append(meta, '\n')); err != nil {
		return err
	}
	if err := syncDir(tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(s.revDir(st.Env), revName(st.Revision))); err != nil {
		return err
	}
	if err := syncDir(s.revDir(st.Env)); err != nil {
		return err
	}
	return s.point(st.Env, st.Revision)
}

// point atomically makes rev the current revision of env.
func (s *Store) point(env string, rev uint64) error {
	tmp := filepath.Join(s.dir, "."+env+".link")
	_ = os.Remove(tmp)
	if err := os.Symlink(filepath.Join(revisionsDir, env, revName(rev)), tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(s.dir, env)); err != nil {
		return err
	}
	return syncDir(s.dir)
}

func writeFileSync(p string, b []byte) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// Current returns the current state of env, or nil for an unknown
// environment.
func (s *Store) Current(env string) *State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur[env]
}

// Watch returns the current state of env and a channel closed when it is
// replaced.
func (s *Store) Watch(env string) (*State, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur[env], s.changed[env]
}

// ConflictError is returned when a write's expected version is not the
// environment's current version.
type ConflictError struct {
	Env      string
	Expected string
	Current  string
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("%s is at version %s, not the expected %s: re-read and retry", e.Env, e.Current, e.Expected)
}

// Update applies edit to a copy of env's files and, when the result
// validates, stores it as the next revision. expectedVersion, when not
// empty, must be the current version (else *ConflictError). An edit that
// changes nothing returns the current state without a new revision. A
// validation failure is a *catalog.ValidationError and changes nothing.
func (s *Store) Update(env, expectedVersion, author, action string, edit func(files map[string][]byte) error) (*State, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.cur[env]
	if cur == nil {
		return nil, fmt.Errorf("unknown environment %q", env)
	}
	if expectedVersion != "" && expectedVersion != cur.Version {
		return nil, &ConflictError{Env: env, Expected: expectedVersion, Current: cur.Version}
	}
	files := maps.Clone(cur.Files)
	if err := edit(files); err != nil {
		return nil, err
	}
	cat, err := catalog.Parse(files)
	if err != nil {
		return nil, err
	}
	if maps.EqualFunc(files, cur.Files, func(a, b []byte) bool { return string(a) == string(b) }) {
		return cur, nil
	}
	revs, err := s.revisions(env)
	if err != nil {
		return nil, err
	}
	next := cur.Revision + 1
	if len(revs) > 0 && revs[len(revs)-1] >= next {
		next = revs[len(revs)-1] + 1
	}
	st := &State{Env: env, Revision: next, Version: cat.Snapshot(nil).Version, Created: s.opts.Now().UTC(), Catalog: cat, Files: files}
	if err := s.write(st, author, action); err != nil {
		return nil, fmt.Errorf("writing revision %d of %s: %w", next, env, err)
	}
	s.cur[env] = st
	close(s.changed[env])
	s.changed[env] = make(chan struct{})
	s.prune(env, revs)
	return st, nil
}

// prune removes the oldest revisions beyond KeepRevisions; failures only
// leave extra history behind.
func (s *Store) prune(env string, revs []uint64) {
	keep := s.opts.KeepRevisions - 1 // plus the one just written
	if len(revs) <= keep {
		return
	}
	cur := s.cur[env].Revision
	for _, r := range revs[:len(revs)-keep] {
		if r != cur {
			_ = os.RemoveAll(filepath.Join(s.revDir(env), revName(r)))
		}
	}
}

// Dir is the registry directory.
func (s *Store) Dir() string { return s.dir }
