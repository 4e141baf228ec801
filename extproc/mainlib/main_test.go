package mainlib

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/portcullis/portcullis/extproc/internal/policy"
)

func TestMainValidatesFlagsTogether(t *testing.T) {
	var stderr bytes.Buffer
	err := Main(context.Background(), []string{"-spool-dir", "", "-log-level", "loud"}, strings.NewReader(""), &bytes.Buffer{}, &stderr)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"-config is required", "-kafka-brokers is required", "-spool-dir must not be empty", "-log-level"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestHashKey(t *testing.T) {
	var out bytes.Buffer
	if err := Main(context.Background(), []string{"-hash-key"}, strings.NewReader("pk_abc\n"), &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(out.String()) != policy.HashKey("pk_abc") {
		t.Fatalf("got %q", out.String())
	}
}

func TestExamplePolicyLoads(t *testing.T) {
	p, err := policy.Load("../../config/personas.yaml")
	if err != nil {
		t.Fatal(err)
	}
	a, err := p.Authenticate("Bearer pk_demo_support_7f3a9c2e51d84b06")
	if err != nil || a.ID != "support-bot" || !a.Persona.Grants("get_ticket") || a.Persona.Grants("send_email") {
		t.Fatalf("agent %+v err %v", a, err)
	}
}
