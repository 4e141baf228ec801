package catalog

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"

	"gopkg.in/yaml.v3"
)

// MaxFileSize is the largest YAML file LoadFS accepts.
const MaxFileSize = 4 << 20

// LoadDir loads and validates the catalog in dir (see the package
// documentation for the layout). Every problem is reported in one
// *ValidationError whose issues name file:line and the field path; file names
// are relative to dir.
func LoadDir(dir string) (*Catalog, error) {
	return LoadFS(os.DirFS(dir))
}

// LoadFS is LoadDir over a file system; file names in errors are relative to
// its root.
func LoadFS(fsys fs.FS) (*Catalog, error) {
	var files []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
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
		if !d.IsDir() && (strings.HasSuffix(base, ".yaml") || strings.HasSuffix(base, ".yml")) {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	l := newLoader()
	for _, name := range files { // WalkDir visits in lexical order
		raw, err := readLimited(fsys, name)
		if err != nil {
			l.issues.add(Position{File: name}, "", "%v", err)
			continue
		}
		l.parseFile(name, raw)
	}
	return l.build()
}

// Parse loads a catalog from in-memory files (name → content), in name order.
func Parse(files map[string][]byte) (*Catalog, error) {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sortStrings(names)
	l := newLoader()
	for _, n := range names {
		l.parseFile(n, files[n])
	}
	return l.build()
}

func readLimited(fsys fs.FS, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	b, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxFileSize {
		return nil, fmt.Errorf("file larger than %d bytes", MaxFileSize)
	}
	return b, nil
}

// ref is a reference by name to another definition, kept with its position
// so cross-reference errors can point at it.
type ref struct {
	text string
	pos  Position
	path string
}

type rawServer struct {
	s     *Server
	pos   Position
	path  string
	tools []rawTool
}

type rawTool struct {
	t    *Tool
	pos  Position
	path string
	pin  ref // the pin written in the YAML, if any
}

type rawSkill struct {
	sk          *Skill
	pos         Position
	path        string
	tools       []ref
	dataObjects []ref
	riskSet     bool
}

type rawPersona struct {
	p      *Persona
	pos    Position
	path   string
	skills []ref
	add    []ref
	remove []ref
}

type loader struct {
	issues   issues
	servers  []*rawServer
	skills   []*rawSkill
	personas []*rawPersona
	policy   rawPolicy
}

func newLoader() *loader { return &loader{} }

// fileDec walks one file's YAML nodes.
type fileDec struct {
	l    *loader
	file string
}

func (d *fileDec) pos(n *yaml.Node) Position {
	return Position{File: d.file, Line: n.Line, Column: n.Column}
}

func (d *fileDec) errf(n *yaml.Node, p, format string, args ...any) {
	d.l.issues.add(d.pos(n), p, format, args...)
}

func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 16; i++ {
		n = n.Alias
	}
	return n
}

func (l *loader) parseFile(name string, raw []byte) {
	d := &fileDec{l: l, file: name}
	dec := yaml.NewDecoder(strings.NewReader(string(raw)))
	for docIdx := 0; ; docIdx++ {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			l.issues.add(Position{File: name, Line: yamlErrLine(err)}, "", "invalid YAML: %s", yamlErrMsg(err))
			return
		}
		root := &doc
		if root.Kind == yaml.DocumentNode {
			if len(root.Content) == 0 {
				continue
			}
			root = root.Content[0]
		}
		root = resolve(root)
		if root == nil || (root.Kind == yaml.ScalarNode && root.Tag == "!!null") {
			continue
		}
		d.mapping(root, "", map[string]func(*yaml.Node, string){
			"servers":  func(n *yaml.Node, p string) { d.list(n, p, d.server) },
			"skills":   func(n *yaml.Node, p string) { d.list(n, p, d.skill) },
			"personas": func(n *yaml.Node, p string) { d.list(n, p, d.persona) },
			// Filter policy beyond the catalog proper (policy.go).
			"agents":        func(n *yaml.Node, p string) { d.list(n, p, d.agent) },
			"data_policies": func(n *yaml.Node, p string) { d.list(n, p, d.dataPolicy) },
			"settings":      d.settings,
		}, nil)
	}
}

// yaml.v3 reports syntax errors as "yaml: line N: msg".
func yamlErrLine(err error) int {
	var line int
	if _, e := fmt.Sscanf(err.Error(), "yaml: line %d:", &line); e == nil {
		return line
	}
	return 0
}

func yamlErrMsg(err error) string {
	s := strings.TrimPrefix(err.Error(), "yaml: ")
	if strings.HasPrefix(s, "line ") {
		if _, rest, ok := strings.Cut(s, ": "); ok {
			return rest
		}
	}
	return s
}

func join(p, field string) string {
	if p == "" {
		return field
	}
	return p + "." + field
}

// mapping decodes a mapping node field by field: unknown and duplicate keys
// are errors, and required keys that are missing are reported at the
// mapping.
func (d *fileDec) mapping(n *yaml.Node, p string, fields map[string]func(*yaml.Node, string), required []string) bool {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		what := p
		if what == "" {
			what = "document"
		}
		d.errf(n, p, "%s must be a mapping, not %s", what, kindName(n))
		return false
	}
	seen := map[string]bool{}
	known := make([]string, 0, len(fields))
	for k := range fields {
		known = append(known, k)
	}
	sortStrings(known)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.errf(k, p, "keys must be strings")
			continue
		}
		fp := join(p, k.Value)
		f, ok := fields[k.Value]
		if !ok {
			d.errf(k, fp, "unknown field%s", didYouMean(k.Value, known))
			continue
		}
		if seen[k.Value] {
			d.errf(k, fp, "duplicate field")
			continue
		}
		seen[k.Value] = true
		f(resolve(v), fp)
	}
	for _, r := range required {
		if !seen[r] {
			d.errf(n, join(p, r), "required field missing")
		}
	}
	return true
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "null"
		}
		return "a scalar (" + strings.TrimPrefix(n.Tag, "!!") + ")"
	default:
		return "an alias"
	}
}

func (d *fileDec) list(n *yaml.Node, p string, each func(*yaml.Node, string)) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.errf(n, p, "must be a list, not %s", kindName(n))
		return
	}
	for i, c := range n.Content {
		each(resolve(c), fmt.Sprintf("%s[%d]", p, i))
	}
}

func (d *fileDec) str(n *yaml.Node, p string, dst *string) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		d.errf(n, p, "must be a string, not %s", kindName(n))
		return
	}
	*dst = n.Value
}

func (d *fileDec) strs(n *yaml.Node, p string, dst *[]string) {
	d.list(n, p, func(c *yaml.Node, cp string) {
		var s string
		d.str(c, cp, &s)
		*dst = append(*dst, s)
	})
}

func (d *fileDec) refs(n *yaml.Node, p string, dst *[]ref) {
	d.list(n, p, func(c *yaml.Node, cp string) {
		var s string
		d.str(c, cp, &s)
		if c.Kind == yaml.ScalarNode && c.Tag == "!!str" {
			*dst = append(*dst, ref{text: s, pos: d.pos(c), path: cp})
		}
	})
}

func (d *fileDec) server(n *yaml.Node, p string) {
	rs := &rawServer{s: &Server{Pos: d.pos(n)}, pos: d.pos(n), path: p}
	s := rs.s
	var env, kind string
	ok := d.mapping(n, p, map[string]func(*yaml.Node, string){
		"name":        func(v *yaml.Node, fp string) { d.str(v, fp, &s.Name) },
		"description": func(v *yaml.Node, fp string) { d.str(v, fp, &s.Description) },
		"url":         func(v *yaml.Node, fp string) { d.str(v, fp, &s.URL); d.checkURL(v, fp, s.URL) },
		"owner":       func(v *yaml.Node, fp string) { d.str(v, fp, &s.Owner) },
		"environment": func(v *yaml.Node, fp string) {
			d.str(v, fp, &env)
			s.Environment = Environment(env)
			if env != "" && s.Environment != Prod && s.Environment != Dev {
				d.errf(v, fp, "unknown environment %q (want prod or dev)", env)
			}
		},
		"auth": func(v *yaml.Node, fp string) {
			d.mapping(v, fp, map[string]func(*yaml.Node, string){
				"kind":   func(v *yaml.Node, fp string) { d.str(v, fp, &kind); d.checkAuthKind(v, fp, kind) },
				"header": func(v *yaml.Node, fp string) { d.str(v, fp, &s.Auth.Header) },
				"credential_ref": func(v *yaml.Node, fp string) {
					d.str(v, fp, &s.Auth.CredentialRef)
					d.checkCredRef(v, fp, s.Auth.CredentialRef)
				},
				"credential": func(v *yaml.Node, fp string) {
					d.errf(v, fp, "credential values are never stored in the catalog: use credential_ref (file:, secret://, env: or vault://)")
				},
			}, nil)
		},
		"tags": func(v *yaml.Node, fp string) { d.strs(v, fp, &s.Tags) },
		"tools": func(v *yaml.Node, fp string) {
			d.list(v, fp, func(tn *yaml.Node, tp string) { d.tool(rs, tn, tp) })
		},
	}, []string{"name", "url", "owner", "environment"})
	if !ok {
		return
	}
	s.Auth.Kind = AuthKind(kind)
	d.l.servers = append(d.l.servers, rs)
}

func (d *fileDec) checkURL(n *yaml.Node, p, u string) {
	if err := checkURL(u); err != nil {
		d.errf(n, p, "%v", err)
	}
}

func (d *fileDec) checkAuthKind(n *yaml.Node, p, k string) {
	switch AuthKind(k) {
	case AuthNone, AuthBearer, AuthHeader, AuthOAuth2:
	default:
		d.errf(n, p, "unknown auth kind %q (want none, bearer, header or oauth2)", k)
	}
}

func (d *fileDec) checkCredRef(n *yaml.Node, p, r string) {
	if err := checkCredentialRef(r); err != nil {
		d.errf(n, p, "%v", err)
	}
}

func (d *fileDec) tool(rs *rawServer, n *yaml.Node, p string) {
	rt := rawTool{t: &Tool{Pos: d.pos(n)}, pos: d.pos(n), path: p}
	t := rt.t
	var op, risk string
	ok := d.mapping(n, p, map[string]func(*yaml.Node, string){
		"name":        func(v *yaml.Node, fp string) { d.str(v, fp, &t.Name) },
		"description": func(v *yaml.Node, fp string) { d.str(v, fp, &t.Description) },
		"input_schema": func(v *yaml.Node, fp string) {
			if v.Kind != yaml.MappingNode {
				d.errf(v, fp, "must be a mapping (a JSON Schema object), not %s", kindName(v))
				return
			}
			var val any
			if err := v.Decode(&val); err != nil {
				d.errf(v, fp, "%s", yamlErrMsg(err))
				return
			}
			b, err := json.Marshal(val)
			if err != nil {
				d.errf(v, fp, "not representable as JSON: %v", err)
				return
			}
			if t.InputSchema, err = CanonicalJSON(b); err != nil {
				d.errf(v, fp, "%v", err)
			}
		},
		"operation": func(v *yaml.Node, fp string) {
			d.str(v, fp, &op)
			if op != "" && !isOperation(Operation(op)) {
				d.errf(v, fp, "unknown operation %q (want read, write, delete or admin)", op)
			}
		},
		"data_objects": func(v *yaml.Node, fp string) { d.strs(v, fp, &t.DataObjects) },
		"risk": func(v *yaml.Node, fp string) {
			d.str(v, fp, &risk)
			if risk != "" && Risk(risk).Level() < 0 {
				d.errf(v, fp, "unknown risk %q (want low, medium, high or critical)", risk)
			}
		},
		"tags":                func(v *yaml.Node, fp string) { d.strs(v, fp, &t.Tags) },
		"rate_limit_per_hour": func(v *yaml.Node, fp string) { d.rateLimit(v, fp, &t.RateLimitPerHour) },
		"pin": func(v *yaml.Node, fp string) {
			var s string
			d.str(v, fp, &s)
			rt.pin = ref{text: s, pos: d.pos(v), path: fp}
		},
	}, []string{"name", "description", "operation"})
	if !ok {
		return
	}
	t.Operation = Operation(op)
	t.Risk = Risk(risk)
	rs.tools = append(rs.tools, rt)
}

// MaxRateLimitPerHour is the largest rate_limit_per_hour accepted (it must
// fit the snapshot's int32).
const MaxRateLimitPerHour = 1 << 30

func (d *fileDec) rateLimit(n *yaml.Node, p string, dst *int) {
	var v int64
	d.posInt(n, p, &v)
	if v > MaxRateLimitPerHour {
		d.errf(n, p, "must be at most %d calls per hour (0 means unlimited)", MaxRateLimitPerHour)
		return
	}
	*dst = int(v)
}

func isOperation(op Operation) bool {
	for _, o := range Operations {
		if o == op {
			return true
		}
	}
	return false
}

func (d *fileDec) skill(n *yaml.Node, p string) {
	rk := &rawSkill{sk: &Skill{Pos: d.pos(n)}, pos: d.pos(n), path: p}
	sk := rk.sk
	var risk string
	ok := d.mapping(n, p, map[string]func(*yaml.Node, string){
		"name":        func(v *yaml.Node, fp string) { d.str(v, fp, &sk.Name) },
		"description": func(v *yaml.Node, fp string) { d.str(v, fp, &sk.Description) },
		"owner":       func(v *yaml.Node, fp string) { d.str(v, fp, &sk.Owner) },
		"risk": func(v *yaml.Node, fp string) {
			d.str(v, fp, &risk)
			rk.riskSet = risk != ""
			if risk != "" && Risk(risk).Level() < 0 {
				d.errf(v, fp, "unknown risk %q (want low, medium, high or critical)", risk)
			}
		},
		"tools":        func(v *yaml.Node, fp string) { d.refs(v, fp, &rk.tools) },
		"data_objects": func(v *yaml.Node, fp string) { d.refs(v, fp, &rk.dataObjects) },
	}, []string{"name", "description", "owner", "tools"})
	if !ok {
		return
	}
	sk.Risk = Risk(risk)
	d.l.skills = append(d.l.skills, rk)
}

func (d *fileDec) persona(n *yaml.Node, p string) {
	rp := &rawPersona{p: &Persona{Pos: d.pos(n)}, pos: d.pos(n), path: p}
	pe := rp.p
	ok := d.mapping(n, p, map[string]func(*yaml.Node, string){
		"name":         func(v *yaml.Node, fp string) { d.str(v, fp, &pe.Name) },
		"description":  func(v *yaml.Node, fp string) { d.str(v, fp, &pe.Description) },
		"skills":       func(v *yaml.Node, fp string) { d.refs(v, fp, &rp.skills) },
		"add_tools":    func(v *yaml.Node, fp string) { d.refs(v, fp, &rp.add) },
		"remove_tools": func(v *yaml.Node, fp string) { d.refs(v, fp, &rp.remove) },
		"data_policy":  func(v *yaml.Node, fp string) { d.str(v, fp, &pe.DataPolicy) },
		"deny_methods": func(v *yaml.Node, fp string) { d.strs(v, fp, &pe.DenyMethods) },
	}, []string{"name"})
	if !ok {
		return
	}
	d.l.personas = append(d.l.personas, rp)
}
