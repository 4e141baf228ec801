package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	registryv1 "github.com/portcullis/portcullis/proto/gen/go/portcullis/registry/v1"
	"github.com/portcullis/portcullis/proto/gen/go/portcullis/registry/v1/registryv1connect"
	"github.com/portcullis/portcullis/registry/server"
)

func postJSON(t *testing.T, url, token, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("status %d, body %s: %v", resp.StatusCode, raw, err)
	}
	return resp.StatusCode, out
}

// A curl-style JSON POST, as in the README.
func TestJSONOverHTTP(t *testing.T) {
	r := startRegistry(t, exampleDir(t))
	url := r.URL + registryv1connect.RegistryServiceListServersProcedure
	code, body := postJSON(t, url, auditorToken, `{"environment":"preprod"}`)
	if code != http.StatusOK {
		t.Fatalf("status %d: %v", code, body)
	}
	srvs, _ := body["servers"].([]any)
	if len(srvs) != 5 || srvs[3].(map[string]any)["name"] != "helpdesk" {
		t.Fatalf("servers = %v", srvs)
	}
	if v, _ := body["version"].(string); !strings.HasPrefix(v, "sha256:") {
		t.Fatalf("version = %v", body["version"])
	}
	code, body = postJSON(t, url, "", `{"environment":"preprod"}`)
	if code != http.StatusUnauthorized || body["code"] != "unauthenticated" {
		t.Fatalf("unauthenticated: %d %v", code, body)
	}
	// A write in JSON, with a validation error naming file and field.
	code, body = postJSON(t, r.URL+registryv1connect.RegistryServicePutAgentProcedure, editorToken,
		`{"environment":"preprod","agent":{"id":"bot","persona":"nobody","keySha256":"`+server.HashToken("k")+`"}}`)
	if code != http.StatusBadRequest || body["code"] != "invalid_argument" ||
		!strings.Contains(body["message"].(string), "agents/bot.yaml:2: agents[0].persona: unknown persona \"nobody\"") {
		t.Fatalf("invalid agent: %d %v", code, body)
	}
}

func TestBinaryAndGRPCClients(t *testing.T) {
	r := startRegistry(t, exampleDir(t))
	ctx := context.Background()
	c := client(r, editorToken)
	before, err := c.ListPersonas(ctx, connect.NewRequest(&registryv1.ListPersonasRequest{Environment: "preprod"}))
	if err != nil {
		t.Fatal(err)
	}
	put, err := c.PutPersona(ctx, connect.NewRequest(&registryv1.PutPersonaRequest{Environment: "preprod",
		Persona:         &registryv1.Persona{Name: "triage", Description: "Reads tickets.", Skills: []string{"ticket-reading"}, DenyMethods: []string{"resources/read"}},
		ExpectedVersion: before.Msg.GetVersion()}))
	if err != nil {
		t.Fatal(err)
	}
	if put.Msg.GetRevision() != before.Msg.GetRevision()+1 || put.Msg.GetVersion() == before.Msg.GetVersion() {
		t.Fatalf("put: revision %d→%d version %s→%s", before.Msg.GetRevision(), put.Msg.GetRevision(), before.Msg.GetVersion(), put.Msg.GetVersion())
	}
	// Read back with the gRPC protocol over cleartext HTTP/2.
	h2 := &http.Client{Transport: &http.Transport{Protocols: func() *http.Protocols {
		var p http.Protocols
		p.SetUnencryptedHTTP2(true)
		return &p
	}()}}
	g := registryv1connect.NewRegistryServiceClient(h2, r.URL, connect.WithGRPC(), bearer(auditorToken))
	got, err := g.GetPersona(ctx, connect.NewRequest(&registryv1.GetPersonaRequest{Environment: "preprod", Name: "triage"}))
	if err != nil {
		t.Fatal(err)
	}
	if p := got.Msg.GetPersona(); p.GetDescription() != "Reads tickets." || len(p.GetDenyMethods()) != 1 || got.Msg.GetVersion() != put.Msg.GetVersion() {
		t.Fatalf("got %v", got.Msg)
	}
	who, err := g.WhoAmI(ctx, connect.NewRequest(&registryv1.WhoAmIRequest{}))
	if err != nil || who.Msg.GetName() != "carol" || who.Msg.GetRole() != "auditor" {
		t.Fatalf("whoami: %v %v", who, err)
	}
	// The file the API wrote is plain catalog YAML in the environment's directory.
	b, err := os.ReadFile(filepath.Join(r.Store.Dir(), "preprod", "personas", "triage.yaml"))
	if err != nil || !strings.Contains(string(b), "name: triage") {
		t.Fatalf("personas/triage.yaml: %q %v", b, err)
	}
	// Delete it again; a second delete is NotFound.
	if _, err := c.DeletePersona(ctx, connect.NewRequest(&registryv1.DeletePersonaRequest{Environment: "preprod", Name: "triage"})); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeletePersona(ctx, connect.NewRequest(&registryv1.DeletePersonaRequest{Environment: "preprod", Name: "triage"}))
	if connect.CodeOf(err) != connect.CodeNotFound {
		t.Fatalf("second delete: %v", err)
	}
	after, _ := c.ListPersonas(ctx, connect.NewRequest(&registryv1.ListPersonasRequest{Environment: "preprod"}))
	if after.Msg.GetVersion() != before.Msg.GetVersion() || after.Msg.GetRevision() != before.Msg.GetRevision()+2 {
		t.Fatalf("after delete: version %s (want %s), revision %d", after.Msg.GetVersion(), before.Msg.GetVersion(), after.Msg.GetRevision())
	}
}

type call struct {
	name string
	do   func(context.Context, registryv1connect.RegistryServiceClient) error
}

var calls = []call{
	{"read", func(ctx context.Context, c registryv1connect.RegistryServiceClient) error {
		_, err := c.ListServers(ctx, connect.NewRequest(&registryv1.ListServersRequest{Environment: "prod"}))
		return err
	}},
	{"snapshot", func(ctx context.Context, c registryv1connect.RegistryServiceClient) error {
		_, err := c.GetSnapshot(ctx, connect.NewRequest(&registryv1.GetSnapshotRequest{Environment: "prod"}))
		return err
	}},
	{"watch", func(ctx context.Context, c registryv1connect.RegistryServiceClient) error {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		s, err := c.WatchSnapshots(ctx, connect.NewRequest(&registryv1.WatchSnapshotsRequest{Environment: "prod"}))
		if err != nil {
			return err
		}
		defer s.Close()
		if !s.Receive() {
			return s.Err()
		}
		return nil
	}},
	{"write-preprod", func(ctx context.Context, c registryv1connect.RegistryServiceClient) error {
		_, err := c.PutPersona(ctx, connect.NewRequest(&registryv1.PutPersonaRequest{Environment: "preprod",
			Persona: &registryv1.Persona{Name: "rbac-probe", Skills: []string{"ticket-reading"}}}))
		return err
	}},
	{"write-prod", func(ctx context.Context, c registryv1connect.RegistryServiceClient) error {
		_, err := c.PutSettings(ctx, connect.NewRequest(&registryv1.PutSettingsRequest{Environment: "prod",
			Settings: &registryv1.Settings{MaxBatch: 10}}))
		return err
	}},
	{"compile", func(ctx context.Context, c registryv1connect.RegistryServiceClient) error {
		_, err := c.CompilePersona(ctx, connect.NewRequest(&registryv1.CompilePersonaRequest{Environment: "preprod",
			Description: "reads support tickets"}))
		return err
	}},
	{"promote", func(ctx context.Context, c registryv1connect.RegistryServiceClient) error {
		_, err := c.Promote(ctx, connect.NewRequest(&registryv1.PromoteRequest{From: "preprod", To: "prod"}))
		return err
	}},
	{"whoami", func(ctx context.Context, c registryv1connect.RegistryServiceClient) error {
		_, err := c.WhoAmI(ctx, connect.NewRequest(&registryv1.WhoAmIRequest{}))
		return err
	}},
}

func TestRBAC(t *testing.T) {
	r := startRegistry(t, exampleDir(t))
	const (
		ok     = connect.Code(0)
		denied = connect.CodePermissionDenied
		unauth = connect.CodeUnauthenticated
	)
	// read, snapshot, watch, write-preprod, write-prod, compile, promote, whoami
	matrix := []struct {
		role  string
		token string
		want  []connect.Code
	}{
		{"none", "", []connect.Code{unauth, unauth, unauth, unauth, unauth, unauth, unauth, unauth}},
		{"unknown", "not-a-token", []connect.Code{unauth, unauth, unauth, unauth, unauth, unauth, unauth, unauth}},
		{"filter", filterToken, []connect.Code{denied, ok, ok, denied, denied, denied, denied, ok}},
		{"auditor", auditorToken, []connect.Code{ok, ok, ok, denied, denied, denied, denied, ok}},
		{"editor", editorToken, []connect.Code{ok, ok, ok, ok, denied, ok, denied, ok}},
		{"admin", adminToken, []connect.Code{ok, ok, ok, ok, ok, ok, ok, ok}},
	}
	ctx := context.Background()
	for _, m := range matrix {
		c := client(r, m.token)
		for i, cl := range calls {
			err := cl.do(ctx, c)
			if got := connect.CodeOf(err); (err == nil) != (m.want[i] == ok) || (err != nil && got != m.want[i]) {
				t.Errorf("%s %s: got %v, want %v", m.role, cl.name, err, m.want[i])
			}
		}
	}
}

func violations(t *testing.T, err error) []*registryv1.Violation {
	t.Helper()
	var ce *connect.Error
	if !errors.As(err, &ce) || ce.Code() != connect.CodeInvalidArgument {
		t.Fatalf("want InvalidArgument, got %v", err)
	}
	for _, d := range ce.Details() {
		v, err := d.Value()
		if err != nil {
			t.Fatal(err)
		}
		if vf, ok := v.(*registryv1.ValidationFailure); ok {
			return vf.GetViolations()
		}
	}
	t.Fatalf("no ValidationFailure detail in %v", err)
	return nil
}

func TestValidationErrors(t *testing.T) {
	r := startRegistry(t, exampleDir(t))
	ctx := context.Background()
	c := client(r, adminToken)
	before := r.Store.Current("preprod")
	tests := []struct {
		name      string
		do        func() error
		file      string
		field     string
		substring string
	}{
		{"bad url", func() error {
			_, err := c.PutServer(ctx, connect.NewRequest(&registryv1.PutServerRequest{Environment: "preprod", Server: &registryv1.Server{
				Name: "tracker", Url: "ftp://tracker", Owner: "x@example.com", Environment: "prod"}}))
			return err
		}, "servers/tracker.yaml", "servers[0].url", "not an absolute http(s) URL"},
		{"credential value instead of reference", func() error {
			_, err := c.PutServer(ctx, connect.NewRequest(&registryv1.PutServerRequest{Environment: "preprod", Server: &registryv1.Server{
				Name: "tracker", Url: "https://tracker/mcp", Owner: "x@example.com", Environment: "prod",
				Auth: &registryv1.Auth{Kind: "bearer", CredentialRef: "s3cr3t-value"}}}))
			return err
		}, "servers/tracker.yaml", "servers[0].auth.credential_ref", "not a reference"},
		{"unknown tool in skill", func() error {
			_, err := c.PutSkill(ctx, connect.NewRequest(&registryv1.PutSkillRequest{Environment: "preprod", Skill: &registryv1.Skill{
				Name: "mail", Description: "Mail.", Owner: "x@example.com", Tools: []string{"helpdesk/send_emial"}}}))
			return err
		}, "skills/mail.yaml", "skills[0].tools[0]", `did you mean "helpdesk/send_email"`},
		{"pin mismatch (rug pull)", func() error {
			_, err := c.PutServer(ctx, connect.NewRequest(&registryv1.PutServerRequest{Environment: "preprod", Server: &registryv1.Server{
				Name: "tracker", Url: "https://tracker/mcp", Owner: "x@example.com", Environment: "dev",
				Tools: []*registryv1.Tool{{Name: "t", Description: "changed", Operation: "read", Pin: "sha256:00"}}}}))
			return err
		}, "servers/tracker.yaml", "servers[0].tools[0].pin", "re-approval"},
		{"delete a server skills still use", func() error {
			_, err := c.DeleteServer(ctx, connect.NewRequest(&registryv1.DeleteServerRequest{Environment: "preprod", Name: "helpdesk"}))
			return err
		}, "skills/support.yaml", "skills[0].tools[0]", "unknown"},
		{"invalid name", func() error {
			_, err := c.PutPersona(ctx, connect.NewRequest(&registryv1.PutPersonaRequest{Environment: "preprod", Persona: &registryv1.Persona{Name: "../x"}}))
			return err
		}, "", "persona.name", "invalid name"},
		{"unknown environment", func() error {
			_, err := c.ListServers(ctx, connect.NewRequest(&registryv1.ListServersRequest{Environment: "staging"}))
			return err
		}, "", "environment", "unknown environment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vs := violations(t, tt.do())
			for _, v := range vs {
				if v.GetFile() == tt.file && v.GetField() == tt.field && strings.Contains(v.GetDescription(), tt.substring) {
					if tt.file != "" && v.GetLine() == 0 {
						t.Errorf("violation without a line: %v", v)
					}
					return
				}
			}
			t.Fatalf("no violation %s %s %q in %v", tt.file, tt.field, tt.substring, vs)
		})
	}
	// Nothing was written: same revision, same files, the link unchanged.
	after := r.Store.Current("preprod")
	if after.Revision != before.Revision || after.Version != before.Version {
		t.Fatalf("failed writes changed the store: %d→%d", before.Revision, after.Revision)
	}
	if _, err := os.Stat(filepath.Join(r.Store.Dir(), "preprod", "servers", "tracker.yaml")); !os.IsNotExist(err) {
		t.Fatalf("half-written file: %v", err)
	}
}

func TestOptimisticConcurrency(t *testing.T) {
	r := startRegistry(t, exampleDir(t))
	ctx := context.Background()
	c := client(r, editorToken)
	cur, err := c.GetSettings(ctx, connect.NewRequest(&registryv1.GetSettingsRequest{Environment: "preprod"}))
	if err != nil {
		t.Fatal(err)
	}
	v0 := cur.Msg.GetVersion()
	first, err := c.PutSettings(ctx, connect.NewRequest(&registryv1.PutSettingsRequest{Environment: "preprod",
		Settings: &registryv1.Settings{MaxBatch: 10}, ExpectedVersion: v0}))
	if err != nil {
		t.Fatal(err)
	}
	// A second writer that read v0 loses.
	_, err = c.PutSettings(ctx, connect.NewRequest(&registryv1.PutSettingsRequest{Environment: "preprod",
		Settings: &registryv1.Settings{MaxBatch: 20}, ExpectedVersion: v0}))
	if connect.CodeOf(err) != connect.CodeAborted || !strings.Contains(err.Error(), first.Msg.GetVersion()) {
		t.Fatalf("stale write: %v", err)
	}
	got, _ := c.GetSettings(ctx, connect.NewRequest(&registryv1.GetSettingsRequest{Environment: "preprod"}))
	if got.Msg.GetSettings().GetMaxBatch() != 10 {
		t.Fatalf("settings = %v", got.Msg.GetSettings())
	}
}

func TestPromote(t *testing.T) {
	r := startRegistry(t, exampleDir(t))
	ctx := context.Background()
	admin := client(r, adminToken)
	pre, err := admin.GetSnapshot(ctx, connect.NewRequest(&registryv1.GetSnapshotRequest{Environment: "preprod"}))
	if err != nil {
		t.Fatal(err)
	}
	prod, _ := admin.GetSnapshot(ctx, connect.NewRequest(&registryv1.GetSnapshotRequest{Environment: "prod"}))
	if len(prod.Msg.GetSnapshot().GetPersonas()) != 0 {
		t.Fatal("prod should start empty")
	}
	_, err = admin.Promote(ctx, connect.NewRequest(&registryv1.PromoteRequest{From: "preprod", To: "prod", FromVersion: "sha256:stale"}))
	if connect.CodeOf(err) != connect.CodeAborted {
		t.Fatalf("promote of an unreviewed version: %v", err)
	}
	_, err = admin.Promote(ctx, connect.NewRequest(&registryv1.PromoteRequest{From: "prod", To: "preprod"}))
	if connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Fatalf("reverse promote: %v", err)
	}
	res, err := admin.Promote(ctx, connect.NewRequest(&registryv1.PromoteRequest{From: "preprod", To: "prod",
		FromVersion: pre.Msg.GetSnapshot().GetVersion(), ExpectedVersion: prod.Msg.GetSnapshot().GetVersion()}))
	if err != nil {
		t.Fatal(err)
	}
	if res.Msg.GetVersion() != pre.Msg.GetSnapshot().GetVersion() || res.Msg.GetRevision() != prod.Msg.GetSnapshot().GetRevision()+1 {
		t.Fatalf("promote = %v", res.Msg)
	}
	snap, _ := admin.GetSnapshot(ctx, connect.NewRequest(&registryv1.GetSnapshotRequest{Environment: "prod"}))
	s := snap.Msg.GetSnapshot()
	if s.GetEnvironment() != "prod" || len(s.GetPersonas()) != 2 || len(s.GetUpstreams()) != 5 {
		t.Fatalf("prod snapshot = %v", s)
	}
	// The snapshot carries what the filter needs: grants per upstream and
	// credential references, never values.
	var support *registryv1.SnapshotPersona
	for _, p := range s.GetPersonas() {
		if p.GetName() == "support-agent" {
			support = p
		}
	}
	if support == nil || len(support.GetGrants()) != 1 || support.GetGrants()[0].GetUpstream() != "helpdesk" || support.GetDataPolicy() != "support" {
		t.Fatalf("support-agent = %v", support)
	}
	for _, u := range s.GetUpstreams() {
		if u.GetName() == "helpdesk" && u.GetCredentialRef() != "secret://helpdesk/token" {
			t.Fatalf("helpdesk upstream = %v", u)
		}
	}
}

func TestCompileAndDiffPersona(t *testing.T) {
	r := startRegistry(t, exampleDir(t))
	ctx := context.Background()
	c := client(r, editorToken)
	res, err := c.CompilePersona(ctx, connect.NewRequest(&registryv1.CompilePersonaRequest{Environment: "preprod",
		Description: "reads and comments on support tickets, never sends email"}))
	if err != nil {
		t.Fatal(err)
	}
	granted := map[string]bool{}
	for _, g := range res.Msg.GetProfile().GetGranted() {
		granted[g.GetTool()] = len(g.GetReasons()) > 0
	}
	if !granted["helpdesk/get_ticket"] || !granted["helpdesk/add_comment"] {
		t.Fatalf("granted = %v", granted)
	}
	if _, ok := granted["helpdesk/send_email"]; ok {
		t.Fatal("a negated capability was granted")
	}
	d, err := c.DiffPersona(ctx, connect.NewRequest(&registryv1.DiffPersonaRequest{Environment: "preprod", Persona: "support-agent",
		Description: "reads support tickets"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Msg.GetDiff().GetRemoved()) == 0 || d.Msg.GetDiff().GetProposed().GetName() != "support-agent" {
		t.Fatalf("diff = %v", d.Msg.GetDiff())
	}
	_, err = c.CompilePersona(ctx, connect.NewRequest(&registryv1.CompilePersonaRequest{Environment: "preprod"}))
	if connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Fatalf("empty description: %v", err)
	}
}

// A Put of one skill out of a file that defines several keeps the others
// (and the file's comments) where they are.
func TestPutKeepsNeighbours(t *testing.T) {
	dir := exampleDir(t)
	r := startRegistry(t, dir)
	ctx := context.Background()
	c := client(r, editorToken)
	orig, err := c.GetSkill(ctx, connect.NewRequest(&registryv1.GetSkillRequest{Environment: "preprod", Name: "ticket-reading"}))
	if err != nil {
		t.Fatal(err)
	}
	sk := orig.Msg.GetSkill()
	sk.Description = "Find and read support tickets (edited)."
	if _, err := c.PutSkill(ctx, connect.NewRequest(&registryv1.PutSkillRequest{Environment: "preprod", Skill: sk})); err != nil {
		t.Fatal(err)
	}
	st := r.Store.Current("preprod")
	if st.Catalog.Skill("ticket-commenting") == nil || st.Catalog.Skill("ticket-reading").Description != sk.Description {
		t.Fatal("neighbour lost or edit not applied")
	}
	if strings.Contains(string(st.Files["skills/support.yaml"]), "name: ticket-reading") {
		t.Fatal("old definition left in skills/support.yaml")
	}
	if _, ok := st.Files["skills/ticket-reading.yaml"]; !ok {
		t.Fatal("skills/ticket-reading.yaml not written")
	}
}

func recv(t *testing.T, s *connect.ServerStreamForClient[registryv1.WatchSnapshotsResponse]) *registryv1.PolicySnapshot {
	t.Helper()
	got := make(chan *registryv1.PolicySnapshot, 1)
	go func() {
		if s.Receive() {
			got <- s.Msg().GetSnapshot()
		} else {
			got <- nil
		}
	}()
	select {
	case snap := <-got:
		if snap == nil {
			t.Fatalf("stream ended: %v", s.Err())
		}
		return snap
	case <-time.After(10 * time.Second):
		t.Fatal("no snapshot within 10s")
		return nil
	}
}

// The watch: a filter watching, a Put producing a new snapshot, the
// registry stopped and restarted on the same directory (new listener), the
// filter reconnecting with its known_version and receiving the next update.
func TestWatchSurvivesRestart(t *testing.T) {
	dir := exampleDir(t)
	r1 := startRegistry(t, dir)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	w1, err := client(r1, filterToken).WatchSnapshots(ctx, connect.NewRequest(&registryv1.WatchSnapshotsRequest{Environment: "preprod"}))
	if err != nil {
		t.Fatal(err)
	}
	first := recv(t, w1)
	if first.GetRevision() == 0 || !strings.HasPrefix(first.GetVersion(), "sha256:") {
		t.Fatalf("first snapshot = %v", first)
	}
	_, err = client(r1, editorToken).PutAgent(ctx, connect.NewRequest(&registryv1.PutAgentRequest{Environment: "preprod",
		Agent: &registryv1.Agent{Id: "support-bot", Subject: "support@example.com", Persona: "support-agent", KeySha256: server.HashToken("agent-key")}}))
	if err != nil {
		t.Fatal(err)
	}
	second := recv(t, w1)
	if second.GetRevision() != first.GetRevision()+1 || len(second.GetAgents()) != 1 || second.GetAgents()[0].GetKeySha256() != server.HashToken("agent-key") {
		t.Fatalf("second snapshot = %v", second)
	}
	known := second.GetVersion()

	r1.Stop()
	if w1.Receive() {
		t.Fatal("stream went on after the registry stopped")
	}
	w1.Close()

	r2 := startRegistry(t, dir)
	if r2.URL == r1.URL {
		t.Log("same address reused; still a new listener")
	}
	w2, err := client(r2, filterToken).WatchSnapshots(ctx, connect.NewRequest(&registryv1.WatchSnapshotsRequest{Environment: "preprod", KnownVersion: known}))
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Close()
	_, err = client(r2, editorToken).DeleteAgent(ctx, connect.NewRequest(&registryv1.DeleteAgentRequest{Environment: "preprod", Id: "support-bot", ExpectedVersion: known}))
	if err != nil {
		t.Fatal(err)
	}
	// The first message after reconnecting is the update, not a replay of
	// the version the filter already enforces.
	third := recv(t, w2)
	if third.GetVersion() == known || third.GetRevision() != second.GetRevision()+1 || len(third.GetAgents()) != 0 {
		t.Fatalf("third snapshot = %v (known %s)", third, known)
	}
	if third.GetVersion() != first.GetVersion() {
		t.Fatal("same content must give the same version")
	}

	// A filter that was offline for several revisions gets the newest at once.
	w3, err := client(r2, filterToken).WatchSnapshots(ctx, connect.NewRequest(&registryv1.WatchSnapshotsRequest{Environment: "preprod", KnownVersion: first.GetVersion() + "-old"}))
	if err != nil {
		t.Fatal(err)
	}
	defer w3.Close()
	if got := recv(t, w3); got.GetRevision() != third.GetRevision() {
		t.Fatalf("reconnect with an old version got revision %d, want %d", got.GetRevision(), third.GetRevision())
	}
}
