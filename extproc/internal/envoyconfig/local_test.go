package envoyconfig

import (
	"path/filepath"
	"testing"
)

func TestLoadLocal(t *testing.T) {
	l, err := LoadLocal(filepath.Join(envoyDir, "envoy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if l.Listen != "127.0.0.1:10000" || l.BufferLimit != 1<<20 || l.ExtProc == nil || !l.ExtProc.GetAllowModeOverride() {
		t.Fatalf("unexpected %+v", l)
	}
	if len(l.Routes) != 2 {
		t.Fatalf("routes %+v", l.Routes)
	}
	r := l.Routes[0]
	if r.Prefix != "/p/support-agent/mcp" || r.PrefixRewrite != "/mcp" || r.Metadata[personaMetadataKey] != "support-agent" || r.Metadata[upstreamMetadataKey] != exampleUpstream {
		t.Fatalf("route %+v", r)
	}
}
