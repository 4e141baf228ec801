package catalog

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Issue is one validation problem.
type Issue struct {
	// Pos is where the offending value is; zero for catalogs built in code.
	Pos Position
	// Path is the field path inside the file, e.g. "skills[0].tools[2]".
	Path string
	Msg  string
}

func (i Issue) String() string {
	var b strings.Builder
	if p := i.Pos.String(); p != "" {
		b.WriteString(p)
		b.WriteString(": ")
	}
	if i.Path != "" {
		b.WriteString(i.Path)
		b.WriteString(": ")
	}
	b.WriteString(i.Msg)
	return b.String()
}

// ValidationError carries every problem found while loading or validating a
// catalog, sorted by file, line and path.
type ValidationError struct {
	Issues []Issue
}

func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Issues))
	for i, is := range e.Issues {
		lines[i] = is.String()
	}
	return strings.Join(lines, "\n")
}

type issues []Issue

func (l *issues) add(pos Position, path, format string, args ...any) {
	*l = append(*l, Issue{Pos: pos, Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (l issues) err() error {
	if len(l) == 0 {
		return nil
	}
	out := slices.Clone(l)
	slices.SortStableFunc(out, func(a, b Issue) int {
		return cmp.Or(cmp.Compare(a.Pos.File, b.Pos.File), cmp.Compare(a.Pos.Line, b.Pos.Line),
			cmp.Compare(a.Pos.Column, b.Pos.Column), cmp.Compare(a.Path, b.Path))
	})
	return &ValidationError{Issues: out}
}

// suggest returns the candidate closest to s when it is close enough to be a
// plausible typo, or "".
func suggest(s string, candidates []string) string {
	best, bestD := "", -1
	for _, c := range candidates {
		d := levenshtein(s, c)
		if bestD < 0 || d < bestD || (d == bestD && c < best) {
			best, bestD = c, d
		}
	}
	if bestD < 0 || bestD > max(2, len(s)/3) {
		return ""
	}
	return best
}

func didYouMean(s string, candidates []string) string {
	if g := suggest(s, candidates); g != "" {
		return fmt.Sprintf(" (did you mean %q?)", g)
	}
	return ""
}

func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			c := 1
			if ra[i-1] == rb[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
