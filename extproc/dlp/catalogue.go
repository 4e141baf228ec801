package dlp

import (
	"bytes"
	"encoding/base64"
	"regexp"
)

// Compliance tags.
const (
	TagPCI   = "PCI-DSS"
	TagGDPR  = "GDPR"
	TagSOC2  = "SOC2"
	TagHIPAA = "HIPAA"
)

// tok is a token boundary: the value may not continue an identifier.
const tok = `(?:[^0-9A-Za-z_\-]|$)`

// slackToken is Slack's token formats (api.slack.com/authentication/token-types,
// and gitleaks' slack-* rules): numeric team/user/bot ids, then the secret.
const slackToken = `xoxb-\d{8,14}-(?:\d{8,14}-)?[0-9A-Za-z]{18,34}` + // bot; legacy bot without the team id
	`|xox[pe](?:-\d{8,14}){3}-[0-9A-Za-z]{28,34}` + // user
	`|xox[ar]-(?:\d-)?[0-9A-Za-z]{8,48}(?:-[0-9A-Za-z]{1,64}){0,4}` + // legacy workspace
	`|xox[os]-\d+-\d+-\d+-[0-9A-Fa-f]+` + // legacy
	`|xoxe\.xox[bp]-\d-[0-9A-Za-z]{163,166}` + // configuration access
	`|xoxe-\d-[0-9A-Za-z]{146}` + // configuration refresh
	`|xapp-\d-[0-9A-Za-z]+-\d+-[0-9A-Za-z]+` // app-level

// secret builds a vendor-token detector. Its window opens one byte before
// the keyword so that the pattern's leading \b sees what precedes it
// ("xAKIA…" is not an AWS key id).
func secret(id string, keywords []string, pattern string) *Detector {
	return &Detector{ID: id, Category: CategorySecret, Tags: []string{TagSOC2}, Keywords: keywords,
		Pattern: regexp.MustCompile(pattern), Group: 1, Validate: notPlaceholder, Before: 1, Check: "format"}
}

// secretBefore is secret for formats whose keyword sits inside the value:
// the window opens before bytes ahead of the keyword.
func secretBefore(id string, before int, keywords []string, pattern string) *Detector {
	d := secret(id, keywords, pattern)
	d.Before = before
	return d
}

// notPlaceholder refuses documentation placeholders: a value holding
// "example" or a run of 8 identical characters ("xxxxxxxx") is not a secret.
func notPlaceholder(v []byte) bool {
	if bytes.Contains(bytes.ToLower(v), []byte("example")) {
		return false
	}
	run := 1
	for i := 1; i < len(v); i++ {
		if v[i] == v[i-1] {
			run++
			if run >= 8 {
				return false
			}
		} else {
			run = 1
		}
	}
	return true
}

// notSequential refuses a value holding a run of 12 consecutive letters or
// digits ("…abcdefghijklmnopqrstuvwxyz…"): the sequential fillers of SDK
// sample keys, which detect-secrets and gitleaks' allow-lists refuse. Random
// tokens hold such a run with negligible probability.
func notSequential(v []byte) bool {
	run := 1
	for i := 1; i < len(v); i++ {
		if v[i] == v[i-1]+1 && isAlnum(v[i]) && isAlnum(v[i-1]) {
			run++
			if run >= 12 {
				return false
			}
		} else {
			run = 1
		}
	}
	return true
}

// withValidate adds check to d's validation.
func withValidate(check func([]byte) bool, d *Detector) *Detector {
	d.Validate = all(d.Validate, check)
	return d
}

// Catalogue returns the built-in detectors (a fresh copy each call).
func Catalogue() []*Detector {
	dets := []*Detector{
		// Cloud.
		secret("aws-access-key-id", []string{"AKIA", "ASIA", "ABIA", "ACCA"}, `\b((?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})`+tok),
		withValidate(notSequential, secret("gcp-api-key", []string{"AIza"}, `\b(AIza[0-9A-Za-z_\-]{35})`+tok)),
		secret("digitalocean-token", []string{"dop_v1_", "doo_v1_", "dor_v1_"}, `\b(do[opr]_v1_[a-f0-9]{64})`+tok),
		// Source control and CI.
		secret("github-token", []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_"}, `\b(gh[pousr]_[0-9A-Za-z]{36})`+tok),
		secret("github-fine-grained-token", []string{"github_pat_"}, `\b(github_pat_[0-9A-Za-z_]{82})`+tok),
		secret("gitlab-token", []string{"glpat-", "glrt-", "gldt-", "glptt-"}, `\b(gl(?:pat|rt|dt|ptt)-[0-9A-Za-z_\-]{20,})`+tok),
		secret("npm-token", []string{"npm_"}, `\b(npm_[0-9A-Za-z]{36})`+tok),
		secret("pypi-token", []string{"pypi-AgEIcHlwaS5vcmc"}, `\b(pypi-AgEIcHlwaS5vcmc[0-9A-Za-z_\-]{50,})`),
		secretBefore("terraform-cloud-token", 16, []string{".atlasv1."}, `\b([0-9A-Za-z]{14}\.atlasv1\.[0-9A-Za-z_=\-]{60,70})`+tok),
		secret("vault-token", []string{"hvs.", "hvb."}, `\b(hv[sb]\.[0-9A-Za-z_\-]{24,})`+tok),
		secret("doppler-token", []string{"dp.pt."}, `\b(dp\.pt\.[0-9A-Za-z]{43})`+tok),
		secret("grafana-service-account-token", []string{"glsa_"}, `\b(glsa_[0-9A-Za-z]{32}_[0-9a-f]{8})`+tok),
		// Sentry organisation token: "sntrys_", base64 of a JSON payload,
		// "_", and 32 random bytes in unpadded base64 (43 characters).
		secret("sentry-token", []string{"sntrys_"}, `\b(sntrys_eyJ[0-9A-Za-z+/]{20,600}={0,2}_[0-9A-Za-z+/]{43})(?:[^0-9A-Za-z+/=_\-]|$)`),
		secret("new-relic-user-api-key", []string{"NRAK-"}, `\b(NRAK-[0-9A-Za-z]{27})`+tok),
		secret("linear-api-key", []string{"lin_api_"}, `\b(lin_api_[0-9A-Za-z]{40})`+tok),
		secret("postman-api-key", []string{"PMAK-"}, `\b(PMAK-[0-9a-f]{24}-[0-9a-f]{34})`+tok),
		secret("age-secret-key", []string{"AGE-SECRET-KEY-1"}, `(AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58})`),
		// AI providers.
		secretBefore("openai-api-key", 100, []string{"T3BlbkFJ"}, `\b(sk-(?:(?:proj|svcacct|admin)-)?[0-9A-Za-z_\-]{20,74}T3BlbkFJ[0-9A-Za-z_\-]{20,74})`+tok),
		secret("anthropic-api-key", []string{"sk-ant-"}, `\b(sk-ant-(?:api03|admin01)-[0-9A-Za-z_\-]{93}AA)`+tok),
		secret("huggingface-token", []string{"hf_"}, `\b(hf_[A-Za-z]{34})`+tok),
		// SaaS and payments.
		secret("slack-token", []string{"xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-", "xoxo-", "xoxe", "xapp-"}, `\b(`+slackToken+`)`+tok),
		secret("slack-webhook-url", []string{"hooks.slack.com/"}, `((?:https?://)?hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/]{43,56})`),
		secret("stripe-secret-key", []string{"sk_live_", "sk_test_", "rk_live_", "rk_test_", "sk_prod_", "rk_prod_"}, `\b((?:sk|rk)_(?:live|test|prod)_[0-9A-Za-z]{10,99})`+tok),
		secret("sendgrid-api-key", []string{"SG."}, `\b(SG\.[0-9A-Za-z=_\-.]{66})`+tok),
		secret("shopify-token", []string{"shpat_", "shpca_", "shppa_", "shpss_"}, `\b(shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32})`+tok),
		secret("twilio-api-key", []string{"SK"}, `\b(SK[0-9a-fA-F]{32})`+tok),
		// Generic structures.
		{ID: "private-key", Category: CategorySecret, Tags: []string{TagSOC2}, Keywords: []string{"PRIVATE KEY"}, Before: 64, After: 8192,
			Pattern: regexp.MustCompile(`(-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----[\s\S]{64,}?-----END[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----)`), Group: 1,
			Check: "pem-armour"},
		{ID: "jwt", Category: CategorySecret, Tags: []string{TagSOC2}, Keywords: []string{"eyJ"}, After: 4096,
			Pattern: regexp.MustCompile(`\b(ey[A-Za-z0-9]{17,}\.ey[A-Za-z0-9/\\_\-]{17,}\.(?:[A-Za-z0-9/\\_\-]{10,}={0,2})?)` + tok), Group: 1,
			Validate: validJWT, Check: "jose-header"},
	}
	dets = append(dets, vendorDetectors()...)
	return append(dets, piiDetectors()...)
}

// validJWT refuses an "eyJ…" candidate whose header is valid base64url but
// does not decode to the start of a JSON object ('{'). A header that is not
// base64 at all is kept: a scanner cannot tell it from a truncated token.
func validJWT(v []byte) bool {
	dot := bytes.IndexByte(v, '.')
	if dot < 0 {
		return false
	}
	hdr := bytes.TrimRight(v[:dot], "=")
	dec := make([]byte, base64.RawURLEncoding.DecodedLen(len(hdr)))
	n, err := base64.RawURLEncoding.Decode(dec, hdr)
	if err != nil {
		return true
	}
	dec = bytes.TrimSpace(dec[:n])
	return len(dec) > 0 && dec[0] == '{'
}
