package envoyemu

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	mutationrulesv3 "github.com/envoyproxy/go-control-plane/envoy/config/common/mutation_rules/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
)

// Envoy's connection manager defaults that bound header mutations
// (max_headers_count and max_request_headers_kb).
const (
	maxHeadersCount = 100
	maxHeadersBytes = 60 * 1024
)

type checkOp int

const (
	opSet checkOp = iota
	opAppend
	opRemove
)

type checkResult int

const (
	checkOK checkResult = iota
	checkIgnore
	checkFail
)

// mutationChecker is Envoy's MutationRules::Checker for HeaderMutationRules.
type mutationChecker struct {
	allowAllRouting bool
	allowEnvoy      bool
	disallowSystem  bool
	disallowAll     bool
	disallowIsError bool
	allowExpr       *regexp.Regexp
	disallowExpr    *regexp.Regexp
}

func newMutationChecker(rules *mutationrulesv3.HeaderMutationRules) (*mutationChecker, error) {
	c := &mutationChecker{
		allowAllRouting: rules.GetAllowAllRouting().GetValue(),
		allowEnvoy:      rules.GetAllowEnvoy().GetValue(),
		disallowSystem:  rules.GetDisallowSystem().GetValue(),
		disallowAll:     rules.GetDisallowAll().GetValue(),
		disallowIsError: rules.GetDisallowIsError().GetValue(),
	}
	var errs []error
	if rules.GetAllowExpression() != nil {
		re, err := compileFullMatch(rules.GetAllowExpression())
		errs = append(errs, err)
		c.allowExpr = re
	}
	if rules.GetDisallowExpression() != nil {
		re, err := compileFullMatch(rules.GetDisallowExpression())
		errs = append(errs, err)
		c.disallowExpr = re
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("envoyemu: mutation_rules: %w", err)
	}
	return c, nil
}

func (c *mutationChecker) check(op checkOp, name, value string) checkResult {
	if c.isAllowed(op, name) && (op == opRemove || isValidValue(name, value)) {
		return checkOK
	}
	if c.disallowIsError {
		return checkFail
	}
	return checkIgnore
}

func (c *mutationChecker) isAllowed(op checkOp, name string) bool {
	if op == opRemove && (isPseudo(name) || name == "host") {
		return false // never remove "host" or any ":" header
	}
	if c.disallowExpr != nil && c.disallowExpr.MatchString(name) {
		return false
	}
	if c.allowExpr != nil && c.allowExpr.MatchString(name) {
		return true
	}
	if c.disallowAll {
		return false
	}
	if !c.allowAllRouting && isRoutingHeader(name) {
		return false
	}
	if isPseudo(name) && (op == opAppend || c.disallowSystem) {
		return false
	}
	if !c.allowEnvoy && strings.HasPrefix(name, "x-envoy") {
		return false
	}
	return true
}

func isRoutingHeader(name string) bool {
	switch name {
	case "host", ":authority", ":method", ":scheme":
		return true
	}
	return false
}

// isValidValue mirrors Checker::isValidValue. :status above 999 is refused
// too, which Envoy accepts but Go's ResponseWriter cannot send.
func isValidValue(name, value string) bool {
	if !isPseudo(name) && !headerValueIsValid(value) {
		return false
	}
	switch name {
	case "host", ":authority":
		return authorityIsValid(value)
	case ":scheme":
		return strings.EqualFold(value, "http") || strings.EqualFold(value, "https")
	case ":status":
		n, err := strconv.ParseUint(value, 10, 32)
		return err == nil && n >= 200 && n <= 999
	}
	return true
}

// headerNameIsValid: an optional leading ':' then an RFC 9110 token.
func headerNameIsValid(name string) bool {
	name = strings.TrimPrefix(name, ":")
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if !isTokenChar(name[i]) {
			return false
		}
	}
	return true
}

func isTokenChar(b byte) bool {
	switch {
	case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b >= '0' && b <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", b) >= 0
}

// headerValueIsValid allows HTAB, visible ASCII, SP and obs-text (bytes >= 0x80).
func headerValueIsValid(v string) bool {
	for i := 0; i < len(v); i++ {
		b := v[i]
		if b != '\t' && (b < 0x20 || b == 0x7f) {
			return false
		}
	}
	return true
}

func authorityIsValid(v string) bool {
	if v == "" {
		return false
	}
	for i := 0; i < len(v); i++ {
		b := v[i]
		ok := b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' ||
			strings.IndexByte("-._~!$&'()*+,;=:@[]%", b) >= 0
		if !ok {
			return false
		}
	}
	return true
}

// mutationParams are the per-call knobs of applyHeaderMutations.
type mutationParams struct {
	// replacingMessage is set for CONTINUE_AND_REPLACE, which may change
	// :method despite the rules.
	replacingMessage bool
	// removeContentLength skips set_headers of content-length (the direction's
	// body mode cannot keep it right).
	removeContentLength bool
}

// applyHeaderMutations mirrors MutationUtils::applyHeaderMutations: removals
// first, then sets; entries the rules refuse are skipped and counted in
// rejected, and an error stops at the first invalid entry. Values are taken
// from raw_value only (Envoy's default send_header_raw_value); append_action
// is not consulted.
func applyHeaderMutations(m *extprocv3.HeaderMutation, h *headerMap, c *mutationChecker, p mutationParams, rejected func()) error {
	if len(m.GetRemoveHeaders()) > maxHeadersCount || len(m.GetSetHeaders()) > maxHeadersCount {
		rejected()
		return fmt.Errorf("header mutation remove header count %d or set header count %d exceed the HCM header count limit %d",
			len(m.GetRemoveHeaders()), len(m.GetSetHeaders()), maxHeadersCount)
	}
	for _, name := range m.GetRemoveHeaders() {
		if !headerNameIsValid(name) {
			rejected()
			return errors.New("invalid character in remove_headers mutation")
		}
		key := strings.ToLower(name)
		switch c.check(opRemove, key, "") {
		case checkOK:
			h.remove(key)
		case checkIgnore:
			rejected()
		case checkFail:
			rejected()
			return fmt.Errorf("invalid attempt to remove %s", key)
		}
	}
	for _, sh := range m.GetSetHeaders() {
		hv := sh.GetHeader()
		if hv == nil {
			continue
		}
		if p.removeContentLength && strings.EqualFold(hv.GetKey(), "content-length") {
			continue
		}
		if hv.GetValue() != "" && len(hv.GetRawValue()) > 0 {
			rejected()
			return errors.New("only one of value or raw_value in the HeaderValue message should be set")
		}
		value := string(hv.GetRawValue())
		if !headerNameIsValid(hv.GetKey()) || !headerValueIsValid(value) {
			rejected()
			return errors.New("invalid character in set_headers mutation")
		}
		key := strings.ToLower(hv.GetKey())
		appendValue := sh.GetAppend().GetValue() //nolint:staticcheck // Envoy's ext_proc reads the deprecated append, not append_action
		op := opSet
		if appendValue && h.has(key) {
			op = opAppend
		}
		result := c.check(op, key, value)
		if p.replacingMessage && key == ":method" {
			result = checkOK
		}
		switch result {
		case checkOK:
			if appendValue {
				h.add(key, value)
			} else {
				h.set(key, value)
			}
		case checkIgnore:
			rejected()
		case checkFail:
			rejected()
			return fmt.Errorf("invalid attempt to modify %s", key)
		}
	}
	if h.byteSize() > maxHeadersBytes || len(h.entries) > maxHeadersCount {
		rejected()
		return fmt.Errorf("header mutation causes end result header count %d or header size %d bytes, exceeding the count limit %d or the size limit %d kilobytes",
			len(h.entries), h.byteSize(), maxHeadersCount, maxHeadersBytes/1024)
	}
	return nil
}

// applyBodyMutation mirrors MutationUtils::applyBodyMutations: body replaces,
// clear_body empties, anything else keeps data.
func applyBodyMutation(m *extprocv3.BodyMutation, data []byte) []byte {
	switch mm := m.GetMutation().(type) {
	case *extprocv3.BodyMutation_Body:
		return append([]byte(nil), mm.Body...)
	case *extprocv3.BodyMutation_ClearBody:
		if mm.ClearBody {
			return nil
		}
	}
	return data
}
