package registryfeed

import (
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/portcullis/portcullis/extproc/internal/policy"
	registryv1 "github.com/portcullis/portcullis/proto/gen/go/portcullis/registry/v1"
)

type recorder struct{ p atomic.Pointer[policy.Policy] }

func (r *recorder) SetPolicy(p *policy.Policy) { r.p.Store(p) }

func snap(version string) *registryv1.PolicySnapshot {
	return &registryv1.PolicySnapshot{Environment: "prod", Version: version, Revision: 3,
		Upstreams: []*registryv1.SnapshotUpstream{{Name: "u"}},
		Personas:  []*registryv1.SnapshotPersona{{Name: "p", Grants: []*registryv1.UpstreamGrant{{Upstream: "u", Tools: []string{"t"}}}}},
		Agents:    []*registryv1.Agent{{Id: "a", Persona: "p", KeySha256: policy.HashKey("k")}}}
}

func TestApplyRejectsAndCaches(t *testing.T) {
	cache := filepath.Join(t.TempDir(), "sub", "snap.json")
	var r recorder
	f, err := New("http://registry.invalid", &r, Options{CacheFile: cache})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Apply(snap("sha256:1")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-f.Ready():
	default:
		t.Fatal("not ready after a snapshot")
	}
	if st := f.Status(); st.Version != "sha256:1" || st.Revision != 3 || st.Source != SourceRegistry || r.p.Load().Version != "sha256:1" {
		t.Fatalf("status %+v, policy version %q", st, r.p.Load().Version)
	}
	bad := snap("sha256:2")
	bad.Agents[0].Persona = "ghost"
	if err := f.Apply(bad); err == nil || !strings.Contains(err.Error(), "ghost") {
		t.Fatalf("non-compiling snapshot: %v", err)
	}
	other := snap("sha256:3")
	other.Environment = "preprod"
	if err := f.Apply(other); err == nil || !strings.Contains(err.Error(), `snapshot of environment "preprod"`) {
		t.Fatalf("other environment: %v", err)
	}
	if f.Status().Version != "sha256:1" || r.p.Load().Version != "sha256:1" {
		t.Fatal("a rejected snapshot replaced the policy")
	}
	if fi, err := os.Stat(cache); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("cache %v %v", fi, err)
	}

	// A new feed (a restarted filter) starts from the cache.
	var r2 recorder
	f2, _ := New("http://registry.invalid", &r2, Options{CacheFile: cache})
	if err := f2.LoadCache(); err != nil {
		t.Fatal(err)
	}
	if st := f2.Status(); st.Version != "sha256:1" || st.Source != SourceCache || r2.p.Load().Version != "sha256:1" {
		t.Fatalf("from cache: %+v", st)
	}
	// The registry's word wins over the cache, whatever the order.
	if err := f2.Apply(snap("sha256:4")); err != nil {
		t.Fatal(err)
	}
	if err := f2.LoadCache(); err != nil || f2.Status().Version != "sha256:4" {
		t.Fatalf("cache after registry: %v %+v", err, f2.Status())
	}

	f3, _ := New("http://registry.invalid", &recorder{}, Options{CacheFile: filepath.Join(t.TempDir(), "none.json")})
	if err := f3.LoadCache(); err == nil {
		t.Fatal("missing cache loaded")
	}
	if err := os.WriteFile(cache, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	f4, _ := New("http://registry.invalid", &recorder{}, Options{CacheFile: cache})
	if err := f4.LoadCache(); err == nil {
		t.Fatal("corrupt cache loaded")
	}
}

func TestNewValidates(t *testing.T) {
	if _, err := New("", &recorder{}, Options{}); err == nil {
		t.Fatal("empty URL accepted")
	}
	if _, err := New("http://r", nil, Options{}); err == nil {
		t.Fatal("nil target accepted")
	}
	f, err := New("http://r", &recorder{}, Options{MinBackoff: 5e9, MaxBackoff: 1})
	if err != nil || f.opts.Environment != DefaultEnvironment || f.opts.MaxBackoff != f.opts.MinBackoff {
		t.Fatalf("defaults %+v %v", f.opts, err)
	}
}
