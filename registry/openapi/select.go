package openapi

import (
	"path"
	"slices"
	"strings"
)

type selector struct {
	include, exclude []string
}

func newSelector(include, exclude []string) *selector {
	return &selector{include: include, exclude: exclude}
}

func (s *selector) match(op *operation) bool {
	if len(s.include) > 0 && !slices.ContainsFunc(s.include, func(p string) bool { return matchOne(p, op) }) {
		return false
	}
	return !slices.ContainsFunc(s.exclude, func(p string) bool { return matchOne(p, op) })
}

// matchOne applies one selector (see Options.Include).
func matchOne(sel string, op *operation) bool {
	sel = strings.TrimSpace(sel)
	if tag, ok := strings.CutPrefix(sel, "tag:"); ok {
		return slices.Contains(op.Tags, tag)
	}
	if method, glob, ok := strings.Cut(sel, " "); ok {
		if method != "*" && !strings.EqualFold(method, op.Method) {
			return false
		}
		return globPath(strings.TrimSpace(glob), op.Path)
	}
	return sel != "" && sel == op.ID
}

// globPath matches a path against a glob where * matches within one segment
// and ** matches any number of segments.
func globPath(glob, p string) bool {
	return globSegs(strings.Split(strings.Trim(glob, "/"), "/"), strings.Split(strings.Trim(p, "/"), "/"))
}

func globSegs(g, p []string) bool {
	if len(g) == 0 {
		return len(p) == 0
	}
	if g[0] == "**" {
		for i := 0; i <= len(p); i++ {
			if globSegs(g[1:], p[i:]) {
				return true
			}
		}
		return false
	}
	if len(p) == 0 {
		return false
	}
	ok, err := path.Match(g[0], p[0])
	return err == nil && ok && globSegs(g[1:], p[1:])
}
