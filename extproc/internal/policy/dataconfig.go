package policy

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/portcullis/portcullis/extproc/dlp"
)

// DataProtectionConfig configures sensitive-data handling.
type DataProtectionConfig struct {
	// TokenKey keys the "tokenise" action: tokens are stable for one key
	// (one tenant) and useless without it. At least 16 bytes. Exactly one
	// of TokenKey and TokenKeyFile is needed when a policy tokenises.
	TokenKey string `json:"token_key,omitempty"`
	// TokenKeyFile is a file holding the token key (trailing newline
	// trimmed), e.g. a mounted Kubernetes secret.
	TokenKeyFile string `json:"token_key_file,omitempty"`
	// Policies are named data policies that personas refer to.
	Policies []DataPolicyConfig `json:"policies,omitempty"`
}

// DataPolicyConfig is one named data policy: an action per data class.
// A rule per type wins over a rule per category, which wins over Default.
type DataPolicyConfig struct {
	Name string `json:"name"`
	// Default applies to types no other rule names. Defaults to "allow"
	// (count the finding in the decision, change nothing).
	Default *RuleConfig `json:"default,omitempty"`
	// Categories maps a category (secret, financial, government-id,
	// health, personal, network) to a rule.
	Categories map[string]RuleConfig `json:"categories,omitempty"`
	// Types maps a detector type id (`portcullis detectors`) to a rule.
	Types map[string]RuleConfig `json:"types,omitempty"`
	// Flows stops sensitive values crossing between tools.
	Flows FlowConfig `json:"flows,omitempty"`
}

// FlowConfig says what happens when a sensitive value seen in one tool's
// response (in the same agent session) appears in a later request.
type FlowConfig struct {
	// ExternalSinks applies when the request calls a tool its server
	// lists in sink_tools. "block" or "allow" (default).
	ExternalSinks string `json:"external_sinks,omitempty"`
	// ProdToDev applies when the value came from a "prod" server and the
	// request goes to a server of another environment. "block" or "allow"
	// (default).
	ProdToDev string `json:"prod_to_dev,omitempty"`
}

// RuleConfig is an action, written either as a bare name ("mask") or as
// an object ({action: mask, keep: 2}).
type RuleConfig struct {
	// Action is allow (or log), mask, tokenise, redact or block.
	Action string `json:"action"`
	// Keep is the number of trailing letters/digits a mask leaves
	// visible. Defaults to 4; -1 keeps none.
	Keep int `json:"keep,omitempty"`
}

// UnmarshalJSON accepts "mask" as well as {"action": "mask"}.
func (r *RuleConfig) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*r = RuleConfig{Action: s}
		return nil
	}
	type plain RuleConfig
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	var p plain
	if err := dec.Decode(&p); err != nil {
		return err
	}
	*r = RuleConfig(p)
	return nil
}

// DataPolicy is a compiled data policy.
type DataPolicy struct {
	Name string
	// Plan is the action per type.
	Plan *dlp.Plan
	// BlockSinkFlows and BlockProdToDev are the compiled flows.
	BlockSinkFlows, BlockProdToDev bool
}

// DefaultDataPolicy is the policy name personas get when they name none.
const DefaultDataPolicy = "default"

// DLPEngine is the detector engine every policy compiles against: the
// built-in catalogue, built once.
var DLPEngine = func() *dlp.Engine {
	e, err := dlp.NewEngine(nil)
	if err != nil {
		panic("dlp: built-in catalogue does not compile: " + err.Error())
	}
	return e
}()

func compileData(f DataProtectionConfig) (map[string]*DataPolicy, []error) {
	var errs []error
	key := []byte(f.TokenKey)
	switch {
	case f.TokenKey != "" && f.TokenKeyFile != "":
		errs = append(errs, errors.New("data_protection: set token_key or token_key_file, not both"))
	case f.TokenKeyFile != "":
		b, err := os.ReadFile(f.TokenKeyFile)
		if err != nil {
			errs = append(errs, fmt.Errorf("data_protection.token_key_file: %w", err))
		}
		key = []byte(strings.TrimRight(string(b), "\r\n"))
	}
	out := map[string]*DataPolicy{}
	for i, pc := range f.Policies {
		at := fmt.Sprintf("data_protection.policies[%d]", i)
		if pc.Name == "" {
			errs = append(errs, fmt.Errorf("%s.name: required", at))
			continue
		}
		if _, dup := out[pc.Name]; dup {
			errs = append(errs, fmt.Errorf("%s.name: duplicate data policy %q", at, pc.Name))
			continue
		}
		var p dlp.Policy
		var perr []error
		rule := func(field string, rc RuleConfig) dlp.Rule {
			a, err := dlp.ParseAction(rc.Action)
			if err != nil {
				perr = append(perr, fmt.Errorf("%s.%s: %w", at, field, err))
			}
			if rc.Keep < -1 {
				perr = append(perr, fmt.Errorf("%s.%s.keep: must be -1 or more", at, field))
			}
			return dlp.Rule{Action: a, Keep: rc.Keep}
		}
		if pc.Default != nil {
			p.Default = rule("default", *pc.Default)
		}
		if len(pc.Categories) > 0 {
			p.Categories = map[dlp.Category]dlp.Rule{}
			for c, rc := range pc.Categories {
				p.Categories[dlp.Category(c)] = rule("categories."+c, rc)
			}
		}
		if len(pc.Types) > 0 {
			p.Types = map[string]dlp.Rule{}
			for t, rc := range pc.Types {
				p.Types[t] = rule("types."+t, rc)
			}
		}
		// The gateway's own credentials are never let through.
		if r, ok := p.Types[dlp.KnownSecretType]; !ok || r.Action == dlp.ActionAllow {
			if p.Types == nil {
				p.Types = map[string]dlp.Rule{}
			}
			if !ok {
				p.Types[dlp.KnownSecretType] = dlp.Rule{Action: dlp.ActionRedact}
			} else {
				perr = append(perr, fmt.Errorf("%s.types.%s: the gateway's own credentials cannot be allowed", at, dlp.KnownSecretType))
			}
		}
		sinks, err1 := flowAction(pc.Flows.ExternalSinks)
		toDev, err2 := flowAction(pc.Flows.ProdToDev)
		for field, err := range map[string]error{"external_sinks": err1, "prod_to_dev": err2} {
			if err != nil {
				perr = append(perr, fmt.Errorf("%s.flows.%s: %w", at, field, err))
			}
		}
		if len(perr) > 0 {
			errs = append(errs, perr...)
			continue
		}
		plan, err := DLPEngine.Plan(p, key)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", at, err))
			continue
		}
		out[pc.Name] = &DataPolicy{Name: pc.Name, Plan: plan, BlockSinkFlows: sinks, BlockProdToDev: toDev}
	}
	return out, errs
}

func flowAction(s string) (block bool, err error) {
	switch s {
	case "", "allow":
		return false, nil
	case "block":
		return true, nil
	}
	return false, fmt.Errorf("unknown action %q (want allow or block)", s)
}

// passThroughData is what personas without a data policy get: findings
// are counted, the gateway's own credentials redacted.
var passThroughData = func() *DataPolicy {
	plan, err := DLPEngine.Plan(dlp.Policy{Types: map[string]dlp.Rule{dlp.KnownSecretType: {Action: dlp.ActionRedact}}}, nil)
	if err != nil {
		panic(err)
	}
	return &DataPolicy{Name: "", Plan: plan}
}()
