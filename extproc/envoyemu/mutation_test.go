package envoyemu

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	mutationrulesv3 "github.com/envoyproxy/go-control-plane/envoy/config/common/mutation_rules/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	wrapperspb "google.golang.org/protobuf/types/known/wrapperspb"
)

func checker(t *testing.T, rules *mutationrulesv3.HeaderMutationRules) *mutationChecker {
	t.Helper()
	c, err := newMutationChecker(rules)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestMutationCheckerDefaults(t *testing.T) {
	c := checker(t, nil)
	cases := []struct {
		op          checkOp
		name, value string
		want        checkResult
	}{
		{opSet, "x-foo", "bar", checkOK},
		{opSet, "host", "example.com", checkIgnore},
		{opSet, ":authority", "example.com", checkIgnore},
		{opSet, ":scheme", "https", checkIgnore},
		{opSet, ":method", "POST", checkIgnore},
		{opSet, "x-envoy-foo", "bar", checkIgnore},
		{opSet, ":path", "/new", checkOK},
		{opSet, ":status", "201", checkOK},
		{opSet, ":status", "100", checkIgnore},
		{opSet, ":status", "abc", checkIgnore},
		{opAppend, ":status", "202", checkIgnore},
		{opAppend, "x-foo", "bar", checkOK},
		{opRemove, ":path", "", checkIgnore},
		{opRemove, "host", "", checkIgnore},
		{opRemove, "x-foo", "", checkOK},
		{opSet, "x-foo", "bad\x00value", checkIgnore},
	}
	for _, tc := range cases {
		if got := c.check(tc.op, tc.name, tc.value); got != tc.want {
			t.Errorf("check(%v, %q, %q) = %v, want %v", tc.op, tc.name, tc.value, got, tc.want)
		}
	}
}

func TestMutationCheckerRules(t *testing.T) {
	cases := []struct {
		rules       *mutationrulesv3.HeaderMutationRules
		op          checkOp
		name, value string
		want        checkResult
	}{
		{&mutationrulesv3.HeaderMutationRules{DisallowIsError: wrapperspb.Bool(true)}, opSet, "host", "x", checkFail},
		{&mutationrulesv3.HeaderMutationRules{AllowAllRouting: wrapperspb.Bool(true)}, opSet, ":authority", "new_host", checkOK},
		{&mutationrulesv3.HeaderMutationRules{AllowAllRouting: wrapperspb.Bool(true)}, opSet, ":scheme", "ftp", checkIgnore},
		{&mutationrulesv3.HeaderMutationRules{AllowAllRouting: wrapperspb.Bool(true)}, opSet, "host", "bad host", checkIgnore},
		{&mutationrulesv3.HeaderMutationRules{AllowEnvoy: wrapperspb.Bool(true)}, opSet, "x-envoy-foo", "bar", checkOK},
		{&mutationrulesv3.HeaderMutationRules{DisallowSystem: wrapperspb.Bool(true)}, opSet, ":path", "/", checkIgnore},
		{&mutationrulesv3.HeaderMutationRules{DisallowAll: wrapperspb.Bool(true)}, opSet, "x-foo", "bar", checkIgnore},
		{&mutationrulesv3.HeaderMutationRules{
			DisallowAll:     wrapperspb.Bool(true),
			AllowExpression: &matcherv3.RegexMatcher{Regex: "x-allowed-.*"},
		}, opSet, "x-allowed-1", "v", checkOK},
		{&mutationrulesv3.HeaderMutationRules{
			AllowExpression:    &matcherv3.RegexMatcher{Regex: "x-.*"},
			DisallowExpression: &matcherv3.RegexMatcher{Regex: "x-secret"},
		}, opSet, "x-secret", "v", checkIgnore},
		// Expressions are full matches, as in Envoy.
		{&mutationrulesv3.HeaderMutationRules{
			DisallowExpression: &matcherv3.RegexMatcher{Regex: "x-sec"},
		}, opSet, "x-secret", "v", checkOK},
	}
	for i, tc := range cases {
		if got := checker(t, tc.rules).check(tc.op, tc.name, tc.value); got != tc.want {
			t.Errorf("case %d: check(%v, %q, %q) = %v, want %v", i, tc.op, tc.name, tc.value, got, tc.want)
		}
	}
}

func TestApplyHeaderMutations(t *testing.T) {
	base := func() *headerMap {
		h := &headerMap{}
		h.add(":status", "200")
		h.add("content-length", "5")
		h.add("set-cookie", "a=1")
		h.add("set-cookie", "b=2")
		return h
	}
	many := make([]*corev3.HeaderValueOption, maxHeadersCount+1)
	for i := range many {
		many[i] = setHeader(fmt.Sprintf("x-h-%d", i), "v")
	}
	both := setHeader("x-both", "raw")
	both.Header.Value = "value"
	cases := []struct {
		name    string
		m       *extprocv3.HeaderMutation
		params  mutationParams
		want    [][2]string
		wantErr string
	}{
		{
			name: "set overwrites every value, append adds, remove removes",
			m: headerMutation([]*corev3.HeaderValueOption{
				setHeader("set-cookie", "c=3"), appendHeader("x-list", "1"), appendHeader("x-list", "2"),
			}, "content-length"),
			want: [][2]string{{":status", "200"}, {"set-cookie", "c=3"}, {"x-list", "1"}, {"x-list", "2"}},
		},
		{
			name:   "content-length skipped where the mode removes it",
			m:      headerMutation([]*corev3.HeaderValueOption{setHeader("content-length", "13")}),
			params: mutationParams{removeContentLength: true},
			want:   [][2]string{{":status", "200"}, {"content-length", "5"}, {"set-cookie", "a=1"}, {"set-cookie", "b=2"}},
		},
		{
			name: "keys are lower-cased",
			m:    headerMutation([]*corev3.HeaderValueOption{setHeader("X-Mixed", "v")}),
			want: [][2]string{{":status", "200"}, {"content-length", "5"}, {"set-cookie", "a=1"}, {"set-cookie", "b=2"}, {"x-mixed", "v"}},
		},
		{name: "value and raw_value", m: headerMutation([]*corev3.HeaderValueOption{both}), wantErr: "only one of value or raw_value"},
		{name: "invalid name", m: headerMutation([]*corev3.HeaderValueOption{setHeader("bad name", "v")}), wantErr: "invalid character"},
		{name: "invalid value", m: headerMutation([]*corev3.HeaderValueOption{setHeader("x", "a\r\nb")}), wantErr: "invalid character"},
		{name: "invalid remove", m: headerMutation(nil, "bad\nname"), wantErr: "invalid character in remove_headers"},
		{name: "too many", m: headerMutation(many), wantErr: "exceed the HCM header count limit"},
		{
			name:    "result too large",
			m:       headerMutation([]*corev3.HeaderValueOption{setHeader("x-big", strings.Repeat("a", maxHeadersBytes))}),
			wantErr: "exceeding the count limit",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := base()
			rejected := 0
			err := applyHeaderMutations(tc.m, h, checker(t, nil), tc.params, func() { rejected++ })
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || rejected == 0 {
					t.Fatalf("err = %v (rejected %d), want %q", err, rejected, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got [][2]string
			for _, e := range h.entries {
				got = append(got, [2]string{e.key, e.value})
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("headers\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestApplyBodyMutation(t *testing.T) {
	data := []byte("original")
	if got := applyBodyMutation(nil, data); string(got) != "original" {
		t.Errorf("nil mutation: %q", got)
	}
	if got := applyBodyMutation(replaceBody("new"), data); string(got) != "new" {
		t.Errorf("body: %q", got)
	}
	clear := &extprocv3.BodyMutation{Mutation: &extprocv3.BodyMutation_ClearBody{ClearBody: true}}
	if got := applyBodyMutation(clear, data); len(got) != 0 {
		t.Errorf("clear_body: %q", got)
	}
	noClear := &extprocv3.BodyMutation{Mutation: &extprocv3.BodyMutation_ClearBody{ClearBody: false}}
	if got := applyBodyMutation(noClear, data); string(got) != "original" {
		t.Errorf("clear_body false: %q", got)
	}
}
