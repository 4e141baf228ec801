package filter

import (
	"cmp"
	"slices"
	"sync"

	"github.com/portcullis/portcullis/extproc/internal/policy"
)

// DefaultMaxQuarantined bounds the engine's quarantine when
// Options.MaxQuarantined is zero.
const DefaultMaxQuarantined = 10000

// QuarantinedTool is a tool withheld because its upstream listed it with a
// definition whose pin differs from the one the policy approved ("rug
// pull").
type QuarantinedTool struct {
	Upstream string
	Tool     string
	// ObservedPin is the pin of the definition the upstream listed
	// ("sha256:<hex>"); empty when the definition could not be read
	// unambiguously (such a tool can only be lifted by a definition that
	// matches its pin again).
	ObservedPin string
}

type toolKey struct{ upstream, tool string }

// Quarantine is the engine-level set of rug-pulled tools: filled while
// tools/list answers are narrowed, consulted on every tools/call. Only tools
// a persona grants on an upstream with pins are ever recorded, so the policy
// bounds its size; MaxQuarantined caps it regardless. It is safe for
// concurrent use.
//
// A tool leaves the quarantine when
//   - a policy is applied (Engine.SetPolicy) that pins the observed
//     definition — re-approval in the registry produces such a snapshot —
//     or that no longer pins the upstream, or no longer has it;
//   - a tools/call is decided under a policy that pins the observed
//     definition;
//   - the upstream lists the tool again with the approved definition.
type Quarantine struct {
	mu      sync.Mutex
	max     int
	entries map[toolKey]string // observed pin
	dropped uint64
}

func newQuarantine(maxEntries int) *Quarantine {
	if maxEntries <= 0 {
		maxEntries = DefaultMaxQuarantined
	}
	return &Quarantine{max: maxEntries, entries: map[toolKey]string{}}
}

// add records tool of upstream as quarantined with the observed pin; the
// latest observation replaces an earlier one. A full quarantine drops new
// tools (counted in Dropped); they are still withheld from every tools/list.
func (q *Quarantine) add(upstream, tool, observed string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	k := toolKey{upstream, tool}
	if _, ok := q.entries[k]; !ok && len(q.entries) >= q.max {
		q.dropped++
		return
	}
	q.entries[k] = observed
}

// lift removes tool of upstream from the quarantine.
func (q *Quarantine) lift(upstream, tool string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.entries, toolKey{upstream, tool})
}

// Blocks reports whether a tools/call of tool on up is refused under the
// policy up belongs to. A tool whose observed definition up now pins is
// lifted and not blocked; upstreams without pins block nothing.
func (q *Quarantine) Blocks(up *policy.Upstream, tool string) bool {
	if up == nil || !up.Pinned() {
		return false
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	k := toolKey{up.Name, tool}
	observed, ok := q.entries[k]
	if !ok {
		return false
	}
	if approves(up, tool, observed) {
		delete(q.entries, k)
		return false
	}
	return true
}

// Prune lifts every tool p approves: its upstream is gone or unpinned, or
// pins the observed definition. Engine.SetPolicy calls it.
func (q *Quarantine) Prune(p *policy.Policy) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for k, observed := range q.entries {
		up := p.Upstream(k.upstream)
		if up == nil || !up.Pinned() || approves(up, k.tool, observed) {
			delete(q.entries, k)
		}
	}
}

func approves(up *policy.Upstream, tool, observed string) bool {
	return observed != "" && up.Pin(tool) == observed
}

// List returns the quarantined tools sorted by upstream and tool.
func (q *Quarantine) List() []QuarantinedTool {
	q.mu.Lock()
	out := make([]QuarantinedTool, 0, len(q.entries))
	for k, pin := range q.entries {
		out = append(out, QuarantinedTool{Upstream: k.upstream, Tool: k.tool, ObservedPin: pin})
	}
	q.mu.Unlock()
	slices.SortFunc(out, func(a, b QuarantinedTool) int {
		return cmp.Or(cmp.Compare(a.Upstream, b.Upstream), cmp.Compare(a.Tool, b.Tool))
	})
	return out
}

// Dropped is how many tools could not be recorded because the quarantine
// was full.
func (q *Quarantine) Dropped() uint64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.dropped
}
