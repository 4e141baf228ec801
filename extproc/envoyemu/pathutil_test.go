package envoyemu

import (
	"strings"
	"testing"
)

// The cases below are those of Envoy's test/common/http/path_utility_test.cc
// (each test named after the Envoy test it mirrors) and, for the Chromium
// canonicalization Envoy links, of googleurl's url/url_canon_unittest.cc
// (URLCanonTest.Path, 8-bit input).

// TestPathUtilityAlreadyNormalPaths mirrors PathUtilityTest.AlreadyNormalPaths.
func TestPathUtilityAlreadyNormalPaths(t *testing.T) {
	for _, p := range []string{"/xyz", "/x/y/z"} {
		if got, ok := canonicalPath(p); !ok || got != p {
			t.Errorf("canonicalPath(%q) = %q, %v; want it unchanged", p, got, ok)
		}
	}
}

// TestPathUtilityInvalidPaths mirrors PathUtilityTest.InvalidPaths: an
// escaped NUL fails canonicalization.
func TestPathUtilityInvalidPaths(t *testing.T) {
	for _, p := range []string{"/xyz/.%00../abc", "/xyz/%00.%00./abc", "/xyz/AAAAA%%0000/abc"} {
		if got, ok := canonicalPath(p); ok {
			t.Errorf("canonicalPath(%q) = %q, ok; want a failure", p, got)
		}
	}
}

// TestPathUtilityNormalizeValidPaths mirrors PathUtilityTest.NormalizeValidPaths
// (with strip_dotdot_segments_with_parameters on, Envoy's default).
func TestPathUtilityNormalizeValidPaths(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"/a/b/../c", "/a/c"},              // parent dir
		{"/a/b/./c", "/a/b/c"},             // current dir
		{"a/b/../c", "/a/c"},               // non / start
		{"/a/b/../../../../c", "/c"},       // out number parent
		{`/a/..\c`, "/c"},                  // "..\\" canonicalization
		{"/%c0%af", "/%c0%af"},             // 2 bytes unicode reserved characters
		{"/%5c%25", "/%5c%25"},             // reserved characters
		{"/a/b/%2E%2E/c", "/a/c"},          // %2E escape
		{"/xyz/..;foo=bar/abc", "/abc"},    // dotdot in the middle with parameters
		{"/..;foo=bar/abc", "/abc"},        // starting dotdot with parameters
		{"/xyz/..;foo=bar", "/"},           // ending dotdot with parameters
		{"/xyz/.;foo=bar/abc", "/xyz/abc"}, // dot in the middle with parameters
		{"/.;foo=bar/abc", "/abc"},         // starting dot with parameters
		{"/xyz/.;foo=bar", "/xyz/"},        // ending dot with parameters
		{"/xyz/..;foo=bar/.;v1=2,v2=3/abc", "/abc"},
		{"/..;foo=bar/abc/.;mmm", "/abc/"},
		{"/.;aaa/..;foo=bar/abc/.;mmm", "/abc/"},
		{"/xyz/..;foo=bar/.;fff=zzz", "/"},
		{"/xyz/..;foo=bar/.;fff=zzz?blah=woops", "/?blah=woops"},
		{"/xyz/..;foo=bar/.;fff=zzz/remain;blah-bluh?query", "/remain;blah-bluh?query"},
	} {
		if got, ok := canonicalPath(c.in); !ok || got != c.want {
			t.Errorf("canonicalPath(%q) = %q, %v; want %q", c.in, got, ok, c.want)
		}
	}
}

// TestPathUtilityNormalizeCasePath mirrors PathUtilityTest.NormalizeCasePath.
func TestPathUtilityNormalizeCasePath(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"/A/B/C", "/A/B/C"},           // not normalize to lower case
		{"/a/b/%2E%2E/c", "/a/c"},      // %2E can be normalized to .
		{"/a/b/%2e%2e/c", "/a/c"},      // %2e can be normalized to .
		{"/a/%2F%2f/c", "/a/%2F%2f/c"}, // %2F is not normalized to %2f
	} {
		if got, ok := canonicalPath(c.in); !ok || got != c.want {
			t.Errorf("canonicalPath(%q) = %q, %v; want %q", c.in, got, ok, c.want)
		}
	}
}

// TestPathUtilityMergeSlashes mirrors PathUtilityTest.MergeSlashes.
func TestPathUtilityMergeSlashes(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},                         // empty
		{"a//b/c", "a/b/c"},              // relative
		{"/a//b/c/", "/a/b/c/"},          // ends with slash
		{"a//b/c/", "a/b/c/"},            // relative ends with slash
		{"/a", "/a"},                     // no-op
		{"//a/b/c", "/a/b/c"},            // double / start
		{"/a//b/c", "/a/b/c"},            // double / in the middle
		{"/a/b/c//", "/a/b/c/"},          // double / end
		{"/a///b/c", "/a/b/c"},           // triple / in the middle
		{"/a////b/c", "/a/b/c"},          // quadruple / in the middle
		{"/a//b?a=///c", "/a/b?a=///c"},  // slashes in the query are ignored
		{"/a//b?", "/a/b?"},              // empty query
		{"//a/?b", "/a/?b"},              // ends with slash + query
		{"//", "//"},                     // (not Envoy's case) the leading and trailing slash come back
		{"/a%2F/b//c", "/a%2F/b/c"},      // (not Envoy's case) escaped slashes are not slashes
		{`/a\\b//c\\`, `/a\\b/c\\`},      // (not Envoy's case) nor are backslashes
		{"/a//b#c//d", "/a/b#c/d"},       // (not Envoy's case) only '?' ends the path
		{"/a//b?x#c//d", "/a/b?x#c//d"},  // (not Envoy's case)
		{"/a/b/c?x=//y", "/a/b/c?x=//y"}, // (not Envoy's case) nothing to merge
	} {
		if got := mergeSlashes(c.in); got != c.want {
			t.Errorf("mergeSlashes(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestPathUtilityStripDotSegmentWithParameters mirrors
// PathUtilityTest.StripDotSegmentWithParameters.
func TestPathUtilityStripDotSegmentWithParameters(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"/xyz", "/xyz"},
		{"/xyz/..;foo=bar/abc", "/xyz/../abc"},
		{"/..;foo=bar/abc", "/../abc"},
		{"/xyz/..;foo=bar", "/xyz/.."},
		{"/xyz/..;", "/xyz/.."},
		{"/a/..;foo/b/..;bar/c", "/a/../b/../c"},
		{"/a/..;param1;param2/b", "/a/../b"},
		{"/xyz/..foo", "/xyz/..foo"},
		{"/xyz/...;foo", "/xyz/...;foo"},
		{"/xyz/remove/..;foo?param=/.;foo", "/xyz/remove/..?param=/.;foo"},
		{"/xyz/remove/..;foo#frag=/.;foo", "/xyz/remove/..#frag=/.;foo"},
		{"/xyz?param=/..;foo", "/xyz?param=/..;foo"},
		{"/xyz#frag=/..;foo", "/xyz#frag=/..;foo"},
		{"/xyz/.;foo=bar/abc", "/xyz/./abc"},
		{"/.;foo=bar/abc", "/./abc"},
		{"/xyz/.;foo=bar", "/xyz/."},
		{"/xyz/.;", "/xyz/."},
		{"/a/.;foo/b/.;bar/c", "/a/./b/./c"},
		{"/a/.;param1;param2/b", "/a/./b"},
		{"/xyz/.foo", "/xyz/.foo"},
		{"/xyz?param=/.;foo", "/xyz?param=/.;foo"},
		{"/xyz#frag=/.;foo", "/xyz#frag=/.;foo"},
	} {
		if got := stripParametersFromDotSegments(c.in); got != c.want {
			t.Errorf("stripParametersFromDotSegments(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestPathUtilityUnescapeSlashes mirrors PathUtilityTest.UnescapeSlashes.
func TestPathUtilityUnescapeSlashes(t *testing.T) {
	for _, c := range []struct {
		in, want string
		found    bool
	}{
		{"", "", false},                  // empty
		{"%2f%2F", "//", true},           // case-insensitive
		{"/a%2Fb%2fc/", "/a/b/c/", true}, // between other characters
		{"%2b", "%2b", false},            // not %2f
		{"/a/b/c", "/a/b/c", false},      // not %2f
		{"%2", "%2", false},              // incomplete
		{"%", "%", false},                // incomplete
		{"/abc%2", "/abc%2", false},      // incomplete
		{"foo%", "foo%", false},          // incomplete
		{"/a%2F", "/a/", true},           // prefixed
		{"%2fa/", "/a/", true},           // suffixed
		{"%%2fa/", "%/a/", true},         // double escape
		{"%2%2fa/", "%2/a/", true},       // incomplete escape
		{"%5c%5C", `\\`, true},           // case-insensitive
		{"/a%5Cb%5cc/", `/a\b\c/`, true}, // between other characters
		{"/a%5C", `/a\`, true},           // prefixed
		{"%5ca/", `\a/`, true},           // suffixed
		{"/x/%2E%2e/z%2f%2Fabc%5C../def", `/x/%2E%2e/z//abc\../def`, true},
		{"%2fa%5Cb%2fc%5c", `/a\b/c\`, true},                                 // %5c and %2f together
		{"%2fa%5Cb%2fc%5c?%2fabcd%5C%%2f%", `/a\b/c\?%2fabcd%5C%%2f%`, true}, // query is untouched
	} {
		got, found := unescapeSlashes(c.in)
		if got != c.want || found != c.found {
			t.Errorf("unescapeSlashes(%q) = %q, %v; want %q, %v", c.in, got, found, c.want, c.found)
		}
	}
}

// TestChromiumURLCanonPath mirrors googleurl's URLCanonTest.Path (the
// 8-bit inputs) for url::CanonicalizePath, which canonicalPath calls.
func TestChromiumURLCanonPath(t *testing.T) {
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		// ----- path collapsing tests -----
		{"/././foo", "/foo", true},
		{"/./.foo", "/.foo", true},
		{"/foo/.", "/foo/", true},
		{"/foo/./", "/foo/", true},
		// double dots followed by a slash or the end of the string count
		{"/foo/bar/..", "/foo/", true},
		{"/foo/bar/../", "/foo/", true},
		// don't count double dots when they aren't followed by a slash
		{"/foo/..bar", "/foo/..bar", true},
		// some in the middle
		{"/foo/bar/../ton", "/foo/ton", true},
		{"/foo/bar/../ton/../../a", "/a", true},
		// we should not be able to go above the root
		{"/foo/../../..", "/", true},
		{"/foo/../../../ton", "/ton", true},
		// escaped dots should be unescaped and treated the same as dots
		{"/foo/%2e", "/foo/", true},
		{"/foo/%2e%2", "/foo/.%2", true},
		{"/foo/%2e./%2e%2e/.%2e/%2e.bar", "/..bar", true},
		// Multiple slashes in a row should be preserved and treated like
		// empty directory names.
		{"////../..", "//", true},

		// ----- escaping tests -----
		{"/foo", "/foo", true},
		// Valid escape sequence
		{"/%20foo", "/%20foo", true},
		// Invalid escape sequence we should pass through unchanged.
		{"/foo%", "/foo%", true},
		{"/foo%2", "/foo%2", true},
		// Invalid escape sequence: bad characters should be treated the
		// same as the surrounding text, not as escaped (in this case, UTF-8).
		{"/foo%2zbar", "/foo%2zbar", true},
		{"/foo%2\xc2\xa9zbar", "/foo%2%C2%A9zbar", true},
		// Regular characters that are escaped should be unescaped
		{"/foo%41%7a", "/fooAz", true},
		// Funny characters that are unescaped should be escaped
		{"/foo\x09\x91%91", "/foo%09%91%91", true},
		// Invalid characters that are escaped should cause a failure.
		{"/foo%00%51", "/foo%00Q", false},
		// Some characters should be passed through unchanged regardless of esc.
		{"/(%28:%3A%29)", "/(%28:%3A%29)", true},
		// Characters that are properly escaped should not have the case
		// changed of hex letters.
		{"/%3A%3a%3C%3c", "/%3A%3a%3C%3c", true},
		// Funny characters that are unescaped should be escaped
		{"/foo\tbar", "/foo%09bar", true},
		// Backslashes should get converted to forward slashes
		{`\foo\bar`, "/foo/bar", true},
		// Hashes found in paths should be escaped.
		{"/foo#bar", "/foo%23bar", true},
		// %7f should be allowed and %3D should not be unescaped.
		{"/%7Ffp3%3Eju%3Dduvgw%3Dd", "/%7Ffp3%3Eju%3Dduvgw%3Dd", true},
		// @ should be passed through unchanged (escaped or unescaped).
		{"/@asdf%40", "/@asdf%40", true},

		// ----- encoding tests -----
		{"/\xe4\xbd\xa0\xe5\xa5\xbd\xe4\xbd\xa0\xe5\xa5\xbd", "/%E4%BD%A0%E5%A5%BD%E4%BD%A0%E5%A5%BD", true},
		// No UTF-8 validation on 8-bit input.
		{"/\xef\xb7\x90zyx", "/%EF%B7%90zyx", true},

		// Manual test: embedded NULLs should be escaped and the URL should be
		// marked as invalid.
		{"/ab\x00c", "/ab%00c", false},

		// Not googleurl's cases: nested escapes (CheckForNestedEscapes, traced
		// from the code), the other unreserved characters, what an HTTP
		// request target may hold.
		{"/%%30%30", "/%2500", true},
		{"/%%300", "/%2500", true},
		{"/%3%30", "/%2530", true},
		{"/%2D%5F%7E%2d%5f%7e", "/-_~-_~", true},
		{"/a|b^c`d{e}f\"g<h>i", "/a%7Cb%5Ec%60d%7Be%7Df%22g%3Ch%3Ei", true},
		{"", "/", true},
		{"/", "/", true},
		{"..", "/", true},
		{`/a/.\b`, "/a/b", true},
		{`/a/b/..\c`, "/a/c", true},
	} {
		got, ok := canonicalizePath(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("canonicalizePath(%q) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

// FuzzCanonicalPath checks properties of the canonicalization on any input
// path: it never panics, a successful output is a fixed point (Chromium's
// canonical form canonicalizes to itself) with no dot segments, and merging
// slashes after it keeps the query string.
func FuzzCanonicalPath(f *testing.F) {
	for _, s := range []string{"/a/b/../c", "/%2e%2E/x", "/%%30%30", `/a\..\b`, "/x/..;p/y?q=/../", "//a//b", "/%00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if !strings.HasPrefix(in, "/") {
			in = "/" + in
		}
		out, ok := canonicalPath(in)
		if !ok {
			return
		}
		_, q := splitQuery(in)
		if _, oq := splitQuery(out); oq != q {
			t.Fatalf("canonicalPath(%q) = %q changed the query", in, out)
		}
		p, _ := splitQuery(out)
		if again, ok := canonicalizePath(p); !ok || again != p {
			t.Fatalf("canonicalPath(%q) = %q, which canonicalizes to %q, %v", in, out, again, ok)
		}
		for seg := range strings.SplitSeq(p, "/") {
			if seg == "." || seg == ".." {
				t.Fatalf("canonicalPath(%q) = %q keeps a dot segment", in, out)
			}
		}
		if m := mergeSlashes(out); !strings.HasSuffix(m, q) {
			t.Fatalf("mergeSlashes(%q) = %q lost the query", out, m)
		}
	})
}
