package envoyemu

import (
	"fmt"
	"regexp"
	"strings"

	filterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
)

// headerForwarder applies forward_rules: which headers are sent to the
// processor (MutationUtils::headerCanBeForwarded). A nil forwarder forwards
// everything.
type headerForwarder struct {
	allowed, disallowed []stringMatcher
}

func newHeaderForwarder(rules *filterv3.HeaderForwardingRules) (*headerForwarder, error) {
	if rules == nil {
		return nil, nil
	}
	allowed, err := newStringMatchers(rules.GetAllowedHeaders().GetPatterns())
	if err != nil {
		return nil, fmt.Errorf("envoyemu: forward_rules.allowed_headers: %w", err)
	}
	disallowed, err := newStringMatchers(rules.GetDisallowedHeaders().GetPatterns())
	if err != nil {
		return nil, fmt.Errorf("envoyemu: forward_rules.disallowed_headers: %w", err)
	}
	return &headerForwarder{allowed: allowed, disallowed: disallowed}, nil
}

func (f *headerForwarder) canForward(key string) bool {
	if f == nil {
		return true
	}
	if anyMatch(f.disallowed, key) {
		return false
	}
	return len(f.allowed) == 0 || anyMatch(f.allowed, key)
}

// stringMatcher is an envoy.type.matcher.v3.StringMatcher.
type stringMatcher func(string) bool

func newStringMatchers(pbs []*matcherv3.StringMatcher) ([]stringMatcher, error) {
	out := make([]stringMatcher, 0, len(pbs))
	for _, pb := range pbs {
		m, err := newStringMatcher(pb)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

func newStringMatcher(pb *matcherv3.StringMatcher) (stringMatcher, error) {
	fold := pb.GetIgnoreCase()
	norm := func(s string) string {
		if fold {
			return strings.ToLower(s)
		}
		return s
	}
	switch p := pb.GetMatchPattern().(type) {
	case *matcherv3.StringMatcher_Exact:
		want := norm(p.Exact)
		return func(s string) bool { return norm(s) == want }, nil
	case *matcherv3.StringMatcher_Prefix:
		want := norm(p.Prefix)
		return func(s string) bool { return strings.HasPrefix(norm(s), want) }, nil
	case *matcherv3.StringMatcher_Suffix:
		want := norm(p.Suffix)
		return func(s string) bool { return strings.HasSuffix(norm(s), want) }, nil
	case *matcherv3.StringMatcher_Contains:
		want := norm(p.Contains)
		return func(s string) bool { return strings.Contains(norm(s), want) }, nil
	case *matcherv3.StringMatcher_SafeRegex:
		re, err := compileFullMatch(p.SafeRegex)
		if err != nil {
			return nil, err
		}
		return re.MatchString, nil
	default:
		return nil, fmt.Errorf("string matcher %T is not yet emulated", p)
	}
}

// compileFullMatch compiles an RE2 RegexMatcher; Envoy's match() is a full
// match.
func compileFullMatch(m *matcherv3.RegexMatcher) (*regexp.Regexp, error) {
	re, err := regexp.Compile(`^(?:` + m.GetRegex() + `)$`)
	if err != nil {
		return nil, fmt.Errorf("regex %q: %w", m.GetRegex(), err)
	}
	return re, nil
}

func anyMatch(ms []stringMatcher, s string) bool {
	for _, m := range ms {
		if m(s) {
			return true
		}
	}
	return false
}
