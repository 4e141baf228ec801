package dlp

import (
	"bytes"
	"strings"
)

// Token boundaries for values drawn from the base64 alphabet (a trailing '+',
// '/' or '=' would continue them) and for hosts' file names (a '.' after the
// value makes it "name.ext", not a token).
const (
	tokB64 = `(?:[^0-9A-Za-z_\-+/=]|$)`
	tokDot = `(?:[^0-9A-Za-z_\-.]|$)`
	uuid   = `[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`
	// idUUID is a UUID-shaped id of lower-case alphanumerics, as gitleaks'
	// microsoft-teams-webhook rule accepts in a webhook's path.
	idUUID = `[0-9a-z]{8}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{12}`
)

// vendor is secret with a one-byte look-behind, so that the pattern's leading
// \b sees the byte before the keyword ("vipul-…" is not "pul-…").
func vendor(id string, keywords []string, pattern string) *Detector {
	return secretBefore(id, 1, keywords, pattern)
}

// withEntropy sets d's minimum Shannon entropy (bits per byte), as the
// gitleaks rule for the same format does, so that low-entropy fillers
// ("GR134894112312312312312312312") are refused.
func withEntropy(bits float64, d *Detector) *Detector {
	d.MinEntropy = bits
	return d
}

// vendorLong is vendor for values longer than the default window.
func vendorLong(id string, after int, keywords []string, pattern string) *Detector {
	d := vendor(id, keywords, pattern)
	d.After = after
	return d
}

// Field-name tails for vendorOrLegacy, after the vendor's name. anyTail is
// gitleaks' semi-generic rule (MIT): any rest of the name ("Token string").
// credTail asks the name to say what a credential is called ("_API_KEY",
// "Token", "_AUTH_TOKEN"), so that "HEROKU_APP_ID: <uuid>" is no key.
const (
	anyTail  = `[ \t\w.\-]{0,20}`
	credTail = `[\w.\-]{0,20}?(?i:key|token|secret|passw(?:or)?d|auth|cred(?:ential)?)s?(?:[ \t]+\w{1,12})?[ \t.]{0,3}`
)

// assignOp joins a field name to its value, as gitleaks' semi-generic rules
// write it: a closing quote, an operator (=, :, :=, =>, ?=, a call's ",",
// an XML element's '>') and an opening quote.
const assignOp = `[\s"']{0,3}(?:=|>|:{1,3}=|\|\||:|=>|\?=|,)[\s"'\x60=]{0,5}`

// vendorOrLegacy is vendor for a type whose current tokens carry a literal
// prefix (prefixed) but whose older tokens have none (legacy: a UUID, hex
// or a short alphanumeric string). A legacy value counts only as the value
// of a field whose name begins with one of the vendor's names (fields,
// which are keywords too) and goes on with tail. The pattern is anchored at
// its window's start, one byte before a keyword, so that each field name
// governs only its own value; a legacy value may not begin with a field
// name itself.
func vendorOrLegacy(id string, keywords []string, prefixed string, fields []string, tail, legacy string) *Detector {
	kws := append(append([]string{}, keywords...), fields...)
	d := vendor(id, kws, `^[^0-9A-Za-z]?(?:(?i:`+strings.Join(fields, "|")+`)`+tail+assignOp+`)?(`+prefixed+`|`+legacy+`)`+tok)
	d.Check = "format; legacy: field name+format"
	d.Validate = all(notPlaceholder, func(v []byte) bool {
		for _, f := range fields {
			if len(v) >= len(f) && bytes.EqualFold(v[:len(f)], []byte(f)) {
				return false
			}
		}
		return true
	})
	return d
}

// vendorDetectors are vendor tokens with a documented literal prefix (or
// suffix) and fixed alphabet and length.
func vendorDetectors() []*Detector {
	return []*Detector{
		// Cloud, hosting and infrastructure.
		vendorLong("aws-bedrock-api-key", 4096, []string{"bedrock-api-key-", "ABSKQmVkcm9ja0FQSUtleS"},
			`\b((?:bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t[0-9A-Za-z+/]*={0,2})|(?:ABSKQmVkcm9ja0FQSUtleS[0-9A-Za-z+/]{100,280}={0,2}))`+tokB64),
		vendor("alibaba-access-key-id", []string{"LTAI"}, `\b(LTAI[0-9A-Za-z]{20})`+tok),
		vendorLong("flyio-token", 2048, []string{"fo1_", "fm1a_", "fm1r_", "fm2_"},
			`\b(fo1_[0-9A-Za-z_\-]{43}|fm1[ar]_[0-9A-Za-z+/]{100,}={0,3}|fm2_[0-9A-Za-z+/,]{100,}={0,3})`+tokB64),
		vendor("cloudflare-origin-ca-key", []string{"v1.0-"}, `\b(v1\.0-[0-9a-f]{24}-[0-9a-f]{146})`+tok),
		vendor("databricks-token", []string{"dapi"}, `\b(dapi[0-9a-f]{32}(?:-\d)?)`+tok),
		vendor("planetscale-password", []string{"pscale_pw_"}, `\b(pscale_pw_[0-9A-Za-z_=.\-]{32,64})`+tok),
		vendor("planetscale-api-token", []string{"pscale_tkn_"}, `\b(pscale_tkn_[0-9A-Za-z_=.\-]{32,64})`+tok),
		vendor("planetscale-oauth-token", []string{"pscale_oauth_"}, `\b(pscale_oauth_[0-9A-Za-z_=.\-]{32,64})`+tok),
		// Heroku: HRKU-AA… since 2024; before, a UUID (gitleaks heroku-api-key).
		vendorOrLegacy("heroku-api-key", []string{"HRKU-AA"}, `HRKU-AA[0-9A-Za-z_\-]{58}`,
			[]string{"heroku"}, credTail, `(?i:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})`),
		vendor("scalingo-api-token", []string{"tk-us-"}, `\b(tk-us-[0-9A-Za-z_\-]{48})`+tok),
		vendor("openshift-user-token", []string{"sha256~"}, `\b(sha256~[0-9A-Za-z_\-]{43})`+tok),
		vendor("pulumi-api-token", []string{"pul-"}, `\b(pul-[0-9a-f]{40})`+tok),
		vendor("infracost-api-token", []string{"ico-"}, `\b(ico-[0-9A-Za-z]{32})`+tokDot),
		vendor("clickhouse-cloud-api-secret", []string{"4b1d"}, `\b(4b1d[0-9A-Za-z]{38})`+tok),
		vendor("defined-networking-api-token", []string{"dnkey-"}, `(?i)\b(dnkey-[0-9a-z=_\-]{26}-[0-9a-z=_\-]{52})`+tok),
		vendor("harness-api-key", []string{"pat.", "sat."}, `\b((?:pat|sat)\.[0-9A-Za-z_\-]{22}\.[0-9A-Za-z]{24}\.[0-9A-Za-z]{20})`+tok),
		vendor("octopus-deploy-api-key", []string{"API-"}, `\b(API-[0-9A-Z]{26})`+tok),
		vendor("dynatrace-api-token", []string{"dt0c01."}, `\b(dt0c01\.[0-9A-Za-z]{24}\.[0-9A-Za-z]{64})`+tok),
		vendor("new-relic-insert-key", []string{"NRII-"}, `\b(NRII-[0-9A-Za-z\-]{32})`+tok),
		vendor("new-relic-browser-api-token", []string{"NRJS-"}, `\b(NRJS-[0-9a-f]{19})`+tok),
		vendor("sentry-user-token", []string{"sntryu_"}, `\b(sntryu_[0-9a-f]{64})`+tok),
		vendor("grafana-api-key", []string{"eyJrIjoi"}, `\b(eyJrIjoi[0-9A-Za-z]{70,400}={0,3})`+tokB64),
		vendorLong("grafana-cloud-api-token", 512, []string{"glc_"}, `\b(glc_[0-9A-Za-z+/]{32,400}={0,3})`+tokB64),
		vendor("prefect-api-token", []string{"pnu_"}, `\b(pnu_[0-9A-Za-z]{36})`+tok),
		vendor("sidekiq-secret", []string{"BUNDLE_ENTERPRISE__CONTRIBSYS__COM", "BUNDLE_GEMS__CONTRIBSYS__COM"},
			`(?i)\bBUNDLE_(?:ENTERPRISE|GEMS)__CONTRIBSYS__COM[^\n]{0,40}?(?:\n\s{0,16})?\b([0-9a-f]{8}:[0-9a-f]{8})`+tok),
		secretBefore("sidekiq-sensitive-url", 48, []string{"contribsys.com"},
			`(?i)\bhttps?://([0-9a-f]{8}:[0-9a-f]{8})@(?:gems|enterprise)\.contribsys\.com`+tokDot),
		vendor("artifactory-api-key", []string{"AKCp"}, `\b(AKCp[0-9A-Za-z]{69})`+tok),
		// JFrog reference tokens are base64 of "reftkn:…": "cmVmd" then 59
		// alphanumerics (gitleaks artifactory-reference-token, entropy 4.5).
		withEntropy(4.5, vendor("artifactory-reference-token", []string{"cmVmd"}, `\b(cmVmd[0-9A-Za-z]{59})`+tok)),
		vendor("clojars-api-token", []string{"CLOJARS_"}, `(?i)\b(CLOJARS_[0-9a-z]{60})`+tok),
		vendor("rubygems-api-token", []string{"rubygems_"}, `\b(rubygems_[0-9a-f]{48})`+tok),
		vendor("readme-api-token", []string{"rdme_"}, `\b(rdme_[0-9a-z]{70})`+tok),
		// Sourcegraph: sgp_…; before, 40 hex digits (gitleaks sourcegraph-access-token).
		vendorOrLegacy("sourcegraph-access-token", []string{"sgp_"}, `sgp_(?:(?:[0-9A-Fa-f]{16}|local)_)?[0-9A-Fa-f]{40}`,
			[]string{"sourcegraph"}, anyTail, `[0-9A-Fa-f]{40}`),
		// GitLab tokens other than personal, runner and deploy tokens.
		withEntropy(3, vendor("gitlab-runner-registration-token", []string{"GR1348941"}, `\b(GR1348941[0-9A-Za-z_\-]{20})`+tok)),
		vendor("gitlab-cicd-job-token", []string{"glcbt-"}, `\b(glcbt-[0-9A-Za-z]{1,5}_[0-9A-Za-z_\-]{20})`+tok),
		vendor("gitlab-feature-flag-client-token", []string{"glffct-"}, `\b(glffct-[0-9A-Za-z_\-]{20})`+tok),
		vendor("gitlab-feed-token", []string{"glft-"}, `\b(glft-[0-9A-Za-z_\-]{20})`+tok),
		vendor("gitlab-incoming-mail-token", []string{"glimt-"}, `\b(glimt-[0-9A-Za-z_\-]{25})`+tok),
		vendor("gitlab-kubernetes-agent-token", []string{"glagent-"}, `\b(glagent-[0-9A-Za-z_\-]{50})`+tok),
		vendor("gitlab-oauth-app-secret", []string{"gloas-"}, `\b(gloas-[0-9A-Za-z_\-]{64})`+tok),
		vendor("gitlab-scim-token", []string{"glsoat-"}, `\b(glsoat-[0-9A-Za-z_\-]{20})`+tok),
		vendor("gitlab-session-cookie", []string{"_gitlab_session="}, `(?:^|[^0-9A-Za-z])_gitlab_session=([0-9a-z]{32})`+tok),
		// Identity, collaboration and AI.
		vendor("1password-secret-key", []string{"A3-"}, `\b(A3-[0-9A-Z]{6}-(?:[0-9A-Z]{11}|[0-9A-Z]{6}-[0-9A-Z]{5})-[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5})`+tok),
		vendorLong("1password-service-account-token", 2048, []string{"ops_eyJ"}, `\b(ops_eyJ[0-9A-Za-z+/]{250,}={0,3})`+tokB64),
		// Atlassian: ATATT3…; before, 24 alphanumerics whose last 4 are hex
		// (gitleaks atlassian-api-token, entropy 3.5).
		withEntropy(3.5, vendorOrLegacy("atlassian-api-token", []string{"ATATT3"}, `ATATT3[0-9A-Za-z_\-=]{186}`,
			[]string{"atlassian", "confluence", "jira"}, credTail, `[0-9A-Za-z]{20}[0-9A-Fa-f]{4}`)),
		secretBefore("azure-ad-client-secret", 5, []string{"Q~"}, `(?:^|[^0-9A-Za-z_~.\-])([0-9A-Za-z_~.]{3}\dQ~[0-9A-Za-z_~.\-]{31,34})(?:[^0-9A-Za-z_~.\-]|$)`),
		vendor("huggingface-organization-token", []string{"api_org_"}, `\b(api_org_[A-Za-z]{34})`+tok),
		vendor("perplexity-api-key", []string{"pplx-"}, `\b(pplx-[0-9A-Za-z]{48})`+tok),
		vendor("notion-api-token", []string{"ntn_"}, `\b(ntn_[0-9]{11}[0-9A-Za-z]{35})`+tok),
		vendor("typeform-api-token", []string{"tfp_"}, `\b(tfp_[0-9A-Za-z_=.\-]{59})`+tok),
		vendor("frameio-api-token", []string{"fio-u-"}, `(?i)\b(fio-u-[0-9a-z_=\-]{64})`+tok),
		vendor("airtable-personal-access-token", []string{"pat"}, `\b(pat[0-9A-Za-z]{14}\.[0-9a-f]{64})`+tok),
		vendor("adobe-client-secret", []string{"p8e-"}, `(?i)\b(p8e-[0-9a-z]{32})`+tok),
		vendor("intra42-client-secret", []string{"s-s4t2"}, `\b(s-s4t2(?:ud|af)-[0-9a-f]{64})`+tok),
		secretBefore("maxmind-license-key", 37, []string{"_mmk"}, `\b([0-9A-Za-z]{6}_[0-9A-Za-z]{29}_mmk)`+tok),
		vendor("settlemint-application-access-token", []string{"sm_aat_"}, `\b(sm_aat_[0-9A-Za-z]{16})`+tok),
		vendor("settlemint-personal-access-token", []string{"sm_pat_"}, `\b(sm_pat_[0-9A-Za-z]{16})`+tok),
		vendor("settlemint-service-access-token", []string{"sm_sat_"}, `\b(sm_sat_[0-9A-Za-z]{16})`+tok),
		secretBefore("microsoft-teams-webhook", 64, []string{".webhook.office.com/webhookb2/"},
			`(https://[0-9a-z\-]+\.webhook\.office\.com/webhookb2/`+idUUID+`@`+idUUID+`/IncomingWebhook/[0-9a-z]{32}/`+idUUID+`)`),
		// Payments and commerce.
		vendor("square-access-token", []string{"EAAA", "sq0atp-"}, `\b((?:EAAA|sq0atp-)[0-9A-Za-z_\-]{22,60})`+tok),
		vendor("square-oauth-secret", []string{"sq0csp-"}, `\b(sq0csp-[0-9A-Za-z_\-]{43})`+tok),
		vendor("shippo-api-token", []string{"shippo_live_", "shippo_test_"}, `\b(shippo_(?:live|test)_[0-9a-f]{40})`+tok),
		vendor("easypost-api-token", []string{"EZAK"}, `\b(EZAK[0-9A-Za-z]{54})`+tokB64),
		vendor("easypost-test-api-token", []string{"EZTK"}, `\b(EZTK[0-9A-Za-z]{54})`+tokB64),
		vendor("duffel-api-token", []string{"duffel_test_", "duffel_live_"}, `\b(duffel_(?:test|live)_[0-9A-Za-z_=\-]{43})`+tok),
		vendor("flutterwave-secret-key", []string{"FLWSECK"}, `\b(FLWSECK(?:_TEST)?-[0-9a-hA-H]{32}-X)`+tok),
		vendor("flutterwave-encryption-key", []string{"FLWSECK"}, `\b(FLWSECK(?:_TEST)?-?[0-9a-hA-H]{12})`+tok),
		vendor("plaid-api-token", []string{"access-sandbox-", "access-development-", "access-production-"},
			`\b(access-(?:sandbox|development|production)-`+uuid+`)`+tok),
		vendor("sendinblue-api-token", []string{"xkeysib-"}, `\b(xkeysib-[0-9a-f]{64}-[0-9A-Za-z]{16})`+tok),
		vendorLong("facebook-page-access-token", 1024, []string{"EAAM", "EAAC"}, `\b(EAA[MC][0-9A-Za-z]{100,})`+tok),
	}
}
