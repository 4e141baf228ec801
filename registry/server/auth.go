package server

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"

	"connectrpc.com/connect"

	"github.com/portcullis/portcullis/proto/gen/go/portcullis/registry/v1/registryv1connect"
)

// Role is what a token may do.
type Role string

// Roles.
const (
	// RoleAdmin may do everything: write every environment and promote.
	RoleAdmin Role = "admin"
	// RoleEditor reads, watches, writes preprod and compiles personas.
	RoleEditor Role = "editor"
	// RoleAuditor reads and watches; it never writes.
	RoleAuditor Role = "auditor"
	// RoleFilter is a filter replica: it gets and watches snapshots only.
	RoleFilter Role = "filter"
)

// Permission is one thing a role may do.
type Permission string

// Permissions.
const (
	PermRead         Permission = "read"          // Get*, List*, GetSettings
	PermWatch        Permission = "watch"         // GetSnapshot, WatchSnapshots
	PermWritePreprod Permission = "write:preprod" // Put*/Delete*/ImportOpenAPI on preprod
	PermWriteProd    Permission = "write:prod"    // Put*/Delete*/ImportOpenAPI on prod
	PermCompile      Permission = "compile"       // CompilePersona, DiffPersona, ImportOpenAPI with dry_run
	PermPromote      Permission = "promote"       // Promote
)

// RolePermissions is the RBAC matrix.
var RolePermissions = map[Role][]Permission{
	RoleAdmin:   {PermRead, PermWatch, PermWritePreprod, PermWriteProd, PermCompile, PermPromote},
	RoleEditor:  {PermRead, PermWatch, PermWritePreprod, PermCompile},
	RoleAuditor: {PermRead, PermWatch},
	RoleFilter:  {PermWatch},
}

// Principal is an authenticated caller.
type Principal struct {
	// Name is the token's name in the tokens file (never the token).
	Name string
	Role Role
}

// Can reports whether the principal's role grants perm.
func (p Principal) Can(perm Permission) bool { return slices.Contains(RolePermissions[p.Role], perm) }

// Tokens maps SHA-256 digests of bearer tokens to principals.
type Tokens struct {
	byDigest map[string]Principal
}

// HashToken returns the digest a tokens file stores for token: lower-case
// hex SHA-256. Tokens are random high-entropy strings, so a plain digest is
// enough.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

var tokenNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.@:-]{0,127}$`)

// ParseTokens reads a tokens file: one token per line,
//
//	NAME ROLE SHA256
//
// separated by spaces or tabs, where NAME identifies the holder
// ([A-Za-z0-9][A-Za-z0-9_.@:-]*), ROLE is admin, editor, auditor or filter
// and SHA256 is the hex digest of the token (`portcullis-registry
// -hash-token` prints it), optionally prefixed "sha256:". Blank lines and
// lines starting with # are ignored. Names and digests must be unique.
// Every problem is reported, with its line number.
func ParseTokens(r io.Reader) (*Tokens, error) {
	t := &Tokens{byDigest: map[string]Principal{}}
	names := map[string]int{}
	var errs []error
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 64<<10)
	for ln := 1; sc.Scan(); ln++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 3 {
			errs = append(errs, fmt.Errorf("line %d: want NAME ROLE SHA256, got %d fields", ln, len(f)))
			continue
		}
		name, role, digest := f[0], Role(f[1]), strings.ToLower(strings.TrimPrefix(f[2], "sha256:"))
		bad := false
		if !tokenNameRE.MatchString(name) {
			errs = append(errs, fmt.Errorf("line %d: invalid name %q", ln, name))
			bad = true
		} else if prev, dup := names[name]; dup {
			errs = append(errs, fmt.Errorf("line %d: name %q already used on line %d", ln, name, prev))
			bad = true
		}
		if _, ok := RolePermissions[role]; !ok {
			errs = append(errs, fmt.Errorf("line %d: unknown role %q (want admin, editor, auditor or filter)", ln, f[1]))
			bad = true
		}
		if b, err := hex.DecodeString(digest); err != nil || len(b) != sha256.Size {
			// Never echo the field: it may be a token pasted by mistake.
			errs = append(errs, fmt.Errorf("line %d: third field must be the 64-hex-digit SHA-256 of the token, not the token", ln))
			bad = true
		} else if _, dup := t.byDigest[digest]; dup {
			errs = append(errs, fmt.Errorf("line %d: token digest already assigned", ln))
			bad = true
		}
		if bad {
			continue
		}
		names[name] = ln
		t.byDigest[digest] = Principal{Name: name, Role: role}
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return t, nil
}

// LoadTokens reads a tokens file (see ParseTokens).
func LoadTokens(path string) (*Tokens, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	t, err := ParseTokens(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// Len is the number of tokens.
func (t *Tokens) Len() int { return len(t.byDigest) }

// Authenticate returns the principal of an Authorization header value
// ("Bearer <token>").
func (t *Tokens) Authenticate(authorization string) (Principal, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(authorization), " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return Principal{}, false
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return Principal{}, false
	}
	p, ok := t.byDigest[HashToken(token)]
	return p, ok
}

type principalKey struct{}

// PrincipalFrom returns the caller authenticated by the interceptor.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

type environmental interface{ GetEnvironment() string }

// required returns the permission a call needs; msg is the request message
// (nil for streams, which need no per-environment check).
func required(procedure string, msg any) (Permission, bool) {
	switch procedure {
	case registryv1connect.RegistryServiceWhoAmIProcedure:
		return "", true
	case registryv1connect.RegistryServiceGetSnapshotProcedure, registryv1connect.RegistryServiceWatchSnapshotsProcedure:
		return PermWatch, true
	case registryv1connect.RegistryServiceCompilePersonaProcedure, registryv1connect.RegistryServiceDiffPersonaProcedure:
		return PermCompile, true
	case registryv1connect.RegistryServicePromoteProcedure:
		return PermPromote, true
	case registryv1connect.RegistryServiceImportOpenAPIProcedure:
		// A dry run writes nothing: like compiling a persona. A real import
		// writes a server, like PutServer.
		if d, ok := msg.(interface{ GetDryRun() bool }); ok && d.GetDryRun() {
			return PermCompile, true
		}
		return writePermission(msg), true
	}
	method := procedure[strings.LastIndex(procedure, "/")+1:]
	switch {
	case strings.HasPrefix(method, "Get"), strings.HasPrefix(method, "List"):
		return PermRead, true
	case strings.HasPrefix(method, "Put"), strings.HasPrefix(method, "Delete"):
		return writePermission(msg), true
	}
	return "", false
}

// writePermission is the permission to write the environment msg names.
func writePermission(msg any) Permission {
	if e, ok := msg.(environmental); ok && e.GetEnvironment() == EnvProd {
		return PermWriteProd
	}
	// preprod, or an invalid environment the handler refuses.
	return PermWritePreprod
}

// authorize authenticates the call and checks the RBAC matrix.
func (t *Tokens) authorize(procedure string, h http.Header, msg any) (Principal, error) {
	p, ok := t.Authenticate(h.Get("Authorization"))
	if !ok {
		err := connect.NewError(connect.CodeUnauthenticated, errors.New("missing or unknown bearer token"))
		err.Meta().Set("WWW-Authenticate", `Bearer realm="portcullis-registry"`)
		return Principal{}, err
	}
	perm, known := required(procedure, msg)
	if !known {
		return p, connect.NewError(connect.CodePermissionDenied, fmt.Errorf("procedure %s is not covered by the RBAC matrix", procedure))
	}
	if perm != "" && !p.Can(perm) {
		return p, connect.NewError(connect.CodePermissionDenied, fmt.Errorf("role %s may not %s", p.Role, perm))
	}
	return p, nil
}

// AuthInterceptor authenticates every call with a bearer token from tokens
// and enforces the RBAC matrix (RolePermissions): unauthenticated calls get
// CodeUnauthenticated, forbidden ones CodePermissionDenied. The principal is
// available to handlers through PrincipalFrom.
func AuthInterceptor(tokens *Tokens) connect.Interceptor { return &authInterceptor{tokens: tokens} }

type authInterceptor struct{ tokens *Tokens }

func (a *authInterceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		if req.Spec().IsClient {
			return next(ctx, req)
		}
		p, err := a.tokens.authorize(req.Spec().Procedure, req.Header(), req.Any())
		if err != nil {
			return nil, err
		}
		return next(context.WithValue(ctx, principalKey{}, p), req)
	}
}

func (a *authInterceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (a *authInterceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		p, err := a.tokens.authorize(conn.Spec().Procedure, conn.RequestHeader(), nil)
		if err != nil {
			return err
		}
		return next(context.WithValue(ctx, principalKey{}, p), conn)
	}
}
