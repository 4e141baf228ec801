package openapi

import (
	"strings"
	"unicode"
)

// Risk is a tool's automatic risk assessment.
type Risk struct {
	// Score is 0-100.
	Score int `json:"score"`
	// Level is low (0-24), medium (25-49), high (50-74) or critical (75-100).
	Level   string   `json:"level"`
	Reasons []string `json:"reasons"`
}

// Risk levels.
const (
	RiskLow      = "low"
	RiskMedium   = "medium"
	RiskHigh     = "high"
	RiskCritical = "critical"
)

// riskRule adds points when one of its words appears in the operation's
// path, operationId or tags (split into words, camelCase aware).
type riskRule struct {
	points int
	reason string
	words  []string
}

var riskRules = []riskRule{
	{35, "moves money (payments/billing/transfer)", []string{"payment", "payments", "pay", "payout", "payouts", "billing", "bill", "invoice", "invoices", "charge", "charges", "refund", "refunds", "transfer", "transfers", "transaction", "transactions", "wallet", "checkout", "subscription", "subscriptions", "order", "orders"}},
	{25, "credentials (auth/tokens/keys)", []string{"auth", "oauth", "token", "tokens", "key", "keys", "apikey", "apikeys", "secret", "secrets", "password", "passwords", "credential", "credentials", "login", "session", "sessions", "certificate", "certificates"}},
	{20, "administration (admin/users/roles/permissions)", []string{"admin", "admins", "administrator", "user", "users", "role", "roles", "permission", "permissions", "acl", "acls", "iam", "member", "members", "group", "groups", "policy", "policies", "account", "accounts", "org", "organization", "organizations", "team", "teams"}},
	{15, "bulk operation (bulk/batch/all)", []string{"bulk", "batch", "batches", "all", "mass", "many", "purge", "wipe"}},
	{15, "data export (export/download/dump)", []string{"export", "exports", "download", "downloads", "dump", "backup", "backups", "archive"}},
}

// paramRule adds points for argument names with dangerous semantics.
var paramRules = []riskRule{
	{10, "destructive flag argument (force/recursive/cascade)", []string{"force", "recursive", "cascade", "purge", "hard", "permanent"}},
	{10, "credential-bearing argument", []string{"password", "secret", "token", "apikey", "api_key", "private_key"}},
}

var methodBase = map[string]int{"GET": 5, "HEAD": 5, "OPTIONS": 5, "TRACE": 5, "QUERY": 5, "POST": 30, "PUT": 35, "PATCH": 30, "DELETE": 55}

// Score rates an operation from its method, path, operationId, tags and
// argument names. The method sets the base (GET/HEAD 5, POST/PATCH 30, PUT
// 35, DELETE 55, others 30); each matching rule in riskRules and paramRules
// adds its points once; the sum is capped at 100. A rule about money or
// credentials on a write is raised to at least high.
func Score(method, path, operationID string, tags, params []string) Risk {
	method = strings.ToUpper(method)
	base, ok := methodBase[method]
	if !ok {
		base = 30
	}
	r := Risk{Score: base, Reasons: []string{methodReason(method)}}
	words := wordSet(append([]string{path, operationID}, tags...)...)
	for _, rule := range riskRules {
		if hit := firstHit(words, rule.words); hit != "" {
			r.Score += rule.points
			r.Reasons = append(r.Reasons, rule.reason+": "+hit)
		}
	}
	pw := wordSet(params...)
	for _, p := range params {
		pw[strings.ToLower(p)] = true
	}
	for _, rule := range paramRules {
		if hit := firstHit(pw, rule.words); hit != "" {
			r.Score += rule.points
			r.Reasons = append(r.Reasons, rule.reason+": "+hit)
		}
	}
	if r.Score > 100 {
		r.Score = 100
	}
	r.Level = level(r.Score)
	return r
}

func methodReason(m string) string {
	switch m {
	case "GET", "HEAD", "OPTIONS", "TRACE", "QUERY":
		return "read-only method " + m
	case "DELETE":
		return "destructive method DELETE"
	}
	return "state-changing method " + m
}

func level(score int) string {
	switch {
	case score >= 75:
		return RiskCritical
	case score >= 50:
		return RiskHigh
	case score >= 25:
		return RiskMedium
	}
	return RiskLow
}

func firstHit(words map[string]bool, rule []string) string {
	for _, w := range rule {
		if words[w] {
			return w
		}
	}
	return ""
}

// wordSet splits texts into lower-case words at non-letters and camelCase
// boundaries: "/users/{userId}/apiKeys" → users, user, id, api, keys.
func wordSet(texts ...string) map[string]bool {
	out := map[string]bool{}
	for _, t := range texts {
		var cur []rune
		flush := func() {
			if len(cur) > 0 {
				out[strings.ToLower(string(cur))] = true
				cur = cur[:0]
			}
		}
		rs := []rune(t)
		for i, c := range rs {
			switch {
			case unicode.IsLetter(c) || unicode.IsDigit(c):
				if unicode.IsUpper(c) && len(cur) > 0 && (unicode.IsLower(rs[i-1]) || (i+1 < len(rs) && unicode.IsLower(rs[i+1]))) {
					flush()
				}
				cur = append(cur, c)
			default:
				flush()
			}
		}
		flush()
	}
	return out
}

// DefaultRateLimit is the default calls-per-hour budget of a method.
func DefaultRateLimit(method string) int {
	switch strings.ToUpper(method) {
	case "GET", "HEAD", "OPTIONS":
		return 1000
	case "DELETE":
		return 10
	}
	return 100
}

func rateLimit(method, tool string, opts *Options) int {
	if v, ok := opts.ToolRateLimits[tool]; ok {
		return v
	}
	if v, ok := opts.RateLimits[strings.ToUpper(method)]; ok {
		return v
	}
	return DefaultRateLimit(method)
}
