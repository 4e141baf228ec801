package server_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portcullis/portcullis/registry/catalog"
	"github.com/portcullis/portcullis/registry/server"
)

func TestStoreImportAndReopen(t *testing.T) {
	dir := exampleDir(t)
	want, err := catalog.LoadDir(filepath.Join(dir, "preprod"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := server.OpenStore(dir, server.StoreOptions{KeepRevisions: 2})
	if err != nil {
		t.Fatal(err)
	}
	pre := s.Current("preprod")
	if pre.Revision != 1 || pre.Catalog.Version() != want.Version() {
		t.Fatalf("imported revision %d version %s, want 1 %s", pre.Revision, pre.Catalog.Version(), want.Version())
	}
	if fi, err := os.Lstat(filepath.Join(dir, "preprod")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("preprod is not a link: %v", err)
	}
	// The environment directory is still a plain catalog directory to read.
	if c, err := catalog.LoadDir(filepath.Join(dir, "preprod")); err != nil || c.Version() != want.Version() {
		t.Fatalf("LoadDir through the link: %v", err)
	}
	for i := range 3 {
		if _, err := s.Update("preprod", "", "test", "edit", func(files map[string][]byte) error {
			files["settings.yaml"] = []byte("settings:\n  limits: {max_batch: " + string(rune('1'+i)) + "}\n")
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	// A crash left a temporary directory and a complete revision that never
	// became current.
	if err := os.MkdirAll(filepath.Join(dir, ".revisions", "preprod", ".tmp-123", "servers"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, ".revisions", "preprod", "00000009"), 0o755); err != nil {
		t.Fatal(err)
	}
	s2, err := server.OpenStore(dir, server.StoreOptions{KeepRevisions: 2})
	if err != nil {
		t.Fatal(err)
	}
	cur := s2.Current("preprod")
	if cur.Revision != 4 || cur.Catalog.Settings().MaxBatch != 3 {
		t.Fatalf("reopened at revision %d, settings %+v", cur.Revision, cur.Catalog.Settings())
	}
	next, err := s2.Update("preprod", cur.Version, "test", "edit", func(files map[string][]byte) error {
		delete(files, "settings.yaml")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if next.Revision != 10 {
		t.Fatalf("next revision %d, want 10 (never reuse a number on disk)", next.Revision)
	}
	ents, _ := os.ReadDir(filepath.Join(dir, ".revisions", "preprod"))
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if strings.Contains(strings.Join(names, " "), "00000001") {
		t.Fatalf("old revisions not pruned: %v", names)
	}
	// A no-op write makes no revision.
	same, err := s2.Update("preprod", "", "test", "noop", func(map[string][]byte) error { return nil })
	if err != nil || same.Revision != next.Revision {
		t.Fatalf("no-op write: %v %v", same, err)
	}
	// prod started empty.
	if p := s2.Current("prod"); len(p.Catalog.Servers()) != 0 || p.Revision != 1 {
		t.Fatalf("prod = %+v", p)
	}
}

func TestStoreRefusesInvalidDirectory(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "prod"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "prod", "a.yaml"), []byte("servers:\n  - name: x\n    url: nope\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := server.OpenStore(dir, server.StoreOptions{})
	if err == nil || !strings.Contains(err.Error(), "a.yaml:3: servers[0].url") {
		t.Fatalf("err = %v", err)
	}
}
