package server_test

import (
	"strings"
	"testing"

	"github.com/portcullis/portcullis/registry/server"
)

func TestParseTokens(t *testing.T) {
	d := server.HashToken("t1")
	tests := []struct {
		name, src, wantErr string
		want               map[string]server.Principal // token → principal
	}{
		{"empty", "", "", map[string]server.Principal{}},
		{"comments and blanks", "# x\n\n  \nops admin " + d + "\n", "", map[string]server.Principal{"t1": {Name: "ops", Role: server.RoleAdmin}}},
		{"sha256 prefix and upper case", "ops filter sha256:" + strings.ToUpper(d), "", map[string]server.Principal{"t1": {Name: "ops", Role: server.RoleFilter}}},
		{"tabs", "ops\tauditor\t" + d, "", map[string]server.Principal{"t1": {Name: "ops", Role: server.RoleAuditor}}},
		{"too few fields", "ops admin", "line 1: want NAME ROLE SHA256, got 2 fields", nil},
		{"unknown role", "ops root " + d, `line 1: unknown role "root"`, nil},
		{"plain token instead of digest", "ops admin t1", "line 1: third field must be the 64-hex-digit SHA-256", nil},
		{"duplicate digest", "a admin " + d + "\nb editor " + d, "line 2: token digest already assigned", nil},
		{"duplicate name", "a admin " + d + "\na editor " + server.HashToken("t2"), `line 2: name "a" already used on line 1`, nil},
		{"bad name", "-a admin " + d, `line 1: invalid name "-a"`, nil},
		{"every problem reported", "x\nops root " + d, "line 1: want NAME ROLE SHA256, got 1 fields\nline 2: unknown role", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := server.ParseTokens(strings.NewReader(tt.src))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "t1") && strings.Contains(tt.src, " t1") {
					t.Fatal("error echoes a token")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tok.Len() != len(tt.want) {
				t.Fatalf("len = %d, want %d", tok.Len(), len(tt.want))
			}
			for token, p := range tt.want {
				got, ok := tok.Authenticate("Bearer " + token)
				if !ok || got != p {
					t.Fatalf("Authenticate(%s) = %v %v, want %v", token, got, ok, p)
				}
			}
		})
	}
}

func TestAuthenticate(t *testing.T) {
	tok, err := server.ParseTokens(strings.NewReader("ops admin " + server.HashToken("secret")))
	if err != nil {
		t.Fatal(err)
	}
	for h, want := range map[string]bool{
		"Bearer secret": true, "bearer secret": true, "  Bearer   secret ": true,
		"Bearer": false, "Bearer ": false, "Basic secret": false, "secret": false, "Bearer secret2": false, "": false,
	} {
		if _, ok := tok.Authenticate(h); ok != want {
			t.Errorf("Authenticate(%q) = %v, want %v", h, ok, want)
		}
	}
}

func FuzzParseTokens(f *testing.F) {
	f.Add("ops admin " + server.HashToken("x"))
	f.Add("# c\na editor sha256:" + server.HashToken("y") + "\nb filter " + server.HashToken("z"))
	f.Add("a b c d")
	f.Fuzz(func(t *testing.T, src string) {
		tok, err := server.ParseTokens(strings.NewReader(src))
		if err != nil {
			return
		}
		// Every accepted line is a token; nothing else is.
		lines := 0
		for _, l := range strings.Split(src, "\n") {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
				lines++
			}
		}
		if tok.Len() != lines {
			t.Fatalf("%d tokens from %d lines", tok.Len(), lines)
		}
		if _, ok := tok.Authenticate(""); ok {
			t.Fatal("empty header authenticated")
		}
	})
}
