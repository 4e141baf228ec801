package dlp

import (
	"strings"
	"testing"
)

func scanTypes(t *testing.T, e *Engine, text string) []string {
	t.Helper()
	var out []string
	for _, f := range e.Scan([]byte(text), nil) {
		if f.Start < 0 || f.End > len(text) || f.Start >= f.End {
			t.Fatalf("bad span %+v in %q", f, text)
		}
		out = append(out, f.Type+"="+text[f.Start:f.End])
	}
	return out
}

func TestDetectors(t *testing.T) {
	e, err := NewEngine(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, text string
		want       []string
	}{
		{"aws in JSON", `{"key":"AKIALALEMEL33243OLIB"}`, []string{"aws-access-key-id=AKIALALEMEL33243OLIB"}},
		{"aws documentation placeholder", `{"key":"AKIAIOSFODNN7EXAMPLE"}`, nil},
		{"placeholder run", `ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx`, nil},
		{"openai (keyword inside the value)", `k = "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"`, []string{"openai-api-key=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"}},
		{"aws too short", `AKIAIOSFODNN7EXAMPL`, nil},
		{"aws inside identifier", `xAKIAIOSFODNN7EXAMPLEx`, nil},
		{"aws after a letter", `xAKIALALEMEL33243OLIB`, nil},
		{"github", `token: ghp_kw4mm23obdi90ax0u3jz5erfomi2kwm7pqiq`, []string{"github-token=ghp_kw4mm23obdi90ax0u3jz5erfomi2kwm7pqiq"}},
		{"github too long", `ghp_kw4mm23obdi90ax0u3jz5erfomi2kwm7pqiqX`, nil},
		{"anthropic", `k="sk-ant-api03-abc123xyz-456def789ghij-klmnopqrstuvwx-3456yza789bcde-1234fghijklmnopby56aaaogaopaaaabc123xyzAA"`,
			[]string{"anthropic-api-key=sk-ant-api03-abc123xyz-456def789ghij-klmnopqrstuvwx-3456yza789bcde-1234fghijklmnopby56aaaogaopaaaabc123xyzAA"}},
		{"slack bot", "xoxb-781236542736-2364535789652-GkwFDQoHqzXDVsC6GzqYUypD", []string{"slack-token=xoxb-781236542736-2364535789652-GkwFDQoHqzXDVsC6GzqYUypD"}},
		{"email", `mail bob.smith+tag@mail.example.co.uk now`, []string{"email=bob.smith+tag@mail.example.co.uk"}},
		{"not email", `@home and a@b and x@y.c and "@@" and a@-b.com`, nil},
		{"email in JSON", `{"owner":"user7@example.org","x":1}`, []string{"email=user7@example.org"}},
		{"email trailing dot", `write to ops@corp.example.com.`, []string{"email=ops@corp.example.com"}},
		{"card visa spaced", `card 4111 1111 1111 1111.`, []string{"credit-card=4111 1111 1111 1111"}},
		{"card bad luhn", `4111 1111 1111 1112`, nil},
		{"card amex", `"pan":"378282246310005"`, []string{"credit-card=378282246310005"}},
		{"card in longer number", `43784111111111111111`, nil},
		{"ssn", `SSN 078-05-1123 on file`, []string{"us-ssn=078-05-1123"}},
		{"ssn invalid area", `SSN 666-05-1123`, nil},
		{"ssn bare digits", `078051123`, nil},
		{"jwt", `Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U`,
			[]string{"jwt=eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"}},
		{"private key", "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\nVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n-----END RSA PRIVATE KEY-----",
			[]string{"private-key=-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\nVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n-----END RSA PRIVATE KEY-----"}},
		{"iban spaced", `IBAN: GB82 WEST 1234 5698 7654 32.`, []string{"iban=GB82 WEST 1234 5698 7654 32"}},
		{"iban compact", `"iban":"DE89370400440532013000"`, []string{"iban=DE89370400440532013000"}},
		{"iban bad checksum", `DE89370400440532013001`, nil},
		{"ipv4", `from 203.0.113.7, then 10.1.2.3.`, []string{"ipv4-address=203.0.113.7", "ipv4-address=10.1.2.3"}},
		{"not ipv4", `version 1.2.3.4.5 and 256.1.1.1 and 1.2.3`, nil},
		// Vendor tokens (catalogue_vendors.go).
		{"aws-bedrock-api-key", `key = "bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29tu8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8dKLzdocJ2isAjIhKtJ0RlgLKOmxgJTeKdNnFRIBXuDL7DxtpYlSXpfKtHF4vUCsMehGAkWvj7FAc9QeWJKY40"`, []string{"aws-bedrock-api-key=bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29tu8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8dKLzdocJ2isAjIhKtJ0RlgLKOmxgJTeKdNnFRIBXuDL7DxtpYlSXpfKtHF4vUCsMehGAkWvj7FAc9QeWJKY40"}},
		{"aws-bedrock-api-key negative", `key = "bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29x"`, nil},
		{"alibaba-access-key-id", `key = "LTAIuvSwMFLZDe1f8rESQedU"`, []string{"alibaba-access-key-id=LTAIuvSwMFLZDe1f8rESQedU"}},
		{"alibaba-access-key-id negative", `key = "LTAIStPKR0CsTy4Qwb8DwkNhF"`, nil},
		{"flyio-token", `key = "fo1_hBKqFYY-kv5ZJr3J1TWDtkwtDDb_xHKas1VOqg6YYZY"`, []string{"flyio-token=fo1_hBKqFYY-kv5ZJr3J1TWDtkwtDDb_xHKas1VOqg6YYZY"}},
		{"flyio-token negative", `key = "fo1_gEOzdmenCkhvMdgaKjIg8xNbe3nNyjOq9wMxEhh2"`, nil},
		{"cloudflare-origin-ca-key", `key = "v1.0-feff9243a8f506b40928b5b7-a767c76fb008f86bebb2737f6a6f0fb23c6f5da2cec255404e4fb440034d6608697a8d41bed440e50454f31af3176813e02ea68ef786e4d3cea27d26934b484e73cf575dcad6ba2b0a"`, []string{"cloudflare-origin-ca-key=v1.0-feff9243a8f506b40928b5b7-a767c76fb008f86bebb2737f6a6f0fb23c6f5da2cec255404e4fb440034d6608697a8d41bed440e50454f31af3176813e02ea68ef786e4d3cea27d26934b484e73cf575dcad6ba2b0a"}},
		{"cloudflare-origin-ca-key negative", `key = "v1.0-ee0ca923732881584d8c4fa2-815d2802827283e0ad84173581569969e58b081006f7e3dfc967a64cb14028d512c9791e558e08baa7196b50ac2f86702824c1c099724caf4941d4072014b3ce107f80e222f8"`, nil},
		{"databricks-token", `key = "dapi28767efc2f91624a8940f1f836f99eee"`, []string{"databricks-token=dapi28767efc2f91624a8940f1f836f99eee"}},
		{"databricks-token negative", `key = "dapi3692f09e2e8c662248b483b7ffc050fg"`, nil},
		{"planetscale-password", `key = "pscale_pw_2ztj0wyuhvauvzhmasqxezyex1rdrgdsjpr16umx"`, []string{"planetscale-password=pscale_pw_2ztj0wyuhvauvzhmasqxezyex1rdrgdsjpr16umx"}},
		{"planetscale-password negative", `key = "pscale_pw_1bz99nfd02is5d9ik40v"`, nil},
		{"planetscale-api-token", `key = "pscale_tkn_stqqzpt49zhkken659o2v21i9mpflv9fupxqmb0y"`, []string{"planetscale-api-token=pscale_tkn_stqqzpt49zhkken659o2v21i9mpflv9fupxqmb0y"}},
		{"planetscale-api-token negative", `key = "pscale_tkn_07nyrvd5rxi67nfrpyz2"`, nil},
		{"planetscale-oauth-token", `key = "pscale_oauth_1tbic145aez732pgojj7g3f9caioctiq71hget7m"`, []string{"planetscale-oauth-token=pscale_oauth_1tbic145aez732pgojj7g3f9caioctiq71hget7m"}},
		{"planetscale-oauth-token negative", `key = "pscale_oauth_yqoaa8t3rup47p9pb0td"`, nil},
		{"heroku-api-key", `key = "HRKU-AAbmF4RPAfqoQB7xoFcSvTAxRzmaZsV2GenFmtX0moDoqW4sg8NFNl5oFA6Q"`, []string{"heroku-api-key=HRKU-AAbmF4RPAfqoQB7xoFcSvTAxRzmaZsV2GenFmtX0moDoqW4sg8NFNl5oFA6Q"}},
		{"heroku-api-key negative", `key = "HRKU-AAd8Mj7zdnbMjAdTdlzC5T4uUhf7kvmlP7HVDctQUy1xvCkgafrf"`, nil},
		{"scalingo-api-token", `key = "tk-us-wA94hJ9WnywX0t0ZBfdTEmxI6CmuxV5EbOApZOXzcycDeZ6d"`, []string{"scalingo-api-token=tk-us-wA94hJ9WnywX0t0ZBfdTEmxI6CmuxV5EbOApZOXzcycDeZ6d"}},
		{"scalingo-api-token negative", `key = "tk-us-qmVe5Mvxrv99NcqVTSu7rtaUWM6ZO88eb0ogET9D"`, nil},
		{"openshift-user-token", `key = "sha256~9XyYq6B0Fi7FlaZ7Vt0SXjMpu3uDxYYMfGmzWkpAePc"`, []string{"openshift-user-token=sha256~9XyYq6B0Fi7FlaZ7Vt0SXjMpu3uDxYYMfGmzWkpAePc"}},
		{"openshift-user-token negative", `key = "sha256~EJIukB4geqNfngAFTCloiADN5RpVI2XQWhX1ssrKrxqV"`, nil},
		{"pulumi-api-token", `key = "pul-86e7577496a2c8773e130f7eb19731662b5e803b"`, []string{"pulumi-api-token=pul-86e7577496a2c8773e130f7eb19731662b5e803b"}},
		{"pulumi-api-token negative", `key = "vipul-61ba4168160adb59261ff2d3c425c8d99d19bdd0"`, nil},
		{"infracost-api-token", `key = "ico-3XZxPmzUzn8aB5kBh0fzK4xDXkiadJjP"`, []string{"infracost-api-token=ico-3XZxPmzUzn8aB5kBh0fzK4xDXkiadJjP"}},
		{"infracost-api-token negative", `key = "favicon.ico-c2b54b95523cf6941fa1c257c6f561c5.png"`, nil},
		{"clickhouse-cloud-api-secret", `key = "4b1dywhjpU05mc4J1WRcQ1uhyMDJ2OXtPAtLpByQxC"`, []string{"clickhouse-cloud-api-secret=4b1dywhjpU05mc4J1WRcQ1uhyMDJ2OXtPAtLpByQxC"}},
		{"clickhouse-cloud-api-secret negative", `key = "ab4b1dGClbaNFDpCWNX0D1lZEzgeiwBxfZCGGQccOif7"`, nil},
		{"defined-networking-api-token", `key = "dnkey-u6fd6yibehmi5skoewqkur3jq6-4nq6puxcmlzkruykqh7dx297gq8zxqyxjxvf2olds7qtuacojs10"`, []string{"defined-networking-api-token=dnkey-u6fd6yibehmi5skoewqkur3jq6-4nq6puxcmlzkruykqh7dx297gq8zxqyxjxvf2olds7qtuacojs10"}},
		{"defined-networking-api-token negative", `key = "dnkey-6xdi5ocbdawtg7w8o0tinx4kia-pj2gejrzqad9w275pkacd8bzlpkdga9mj0m760l6"`, nil},
		{"harness-api-key", `key = "pat.tetOd4UYETIay2BV6DfVPC.logqoPchv5V7S82qTdrOJRBR.Y6HqsP795nf4Gakq5p1V"`, []string{"harness-api-key=pat.tetOd4UYETIay2BV6DfVPC.logqoPchv5V7S82qTdrOJRBR.Y6HqsP795nf4Gakq5p1V"}},
		{"harness-api-key negative", `key = "pat.m8kV6um4yvMpy62O6SQ1IE.E1HSa2bB9UoK4tYnzNLeK6kj"`, nil},
		{"octopus-deploy-api-key", `key = "API-CBHGKWJBBCICECEXM8EYGPNNHC"`, []string{"octopus-deploy-api-key=API-CBHGKWJBBCICECEXM8EYGPNNHC"}},
		{"octopus-deploy-api-key negative", `key = "GSSAPI-CFS4GIGNSUV1QBWQSDXU64SB0B"`, nil},
		{"dynatrace-api-token", `key = "dt0c01.17GW4D8NFSK1A7MSDAW5G5L5.Lw91GqK8ks0n8SoFkh8OXfFYSJYgOuwgz7z54VfB4PbxntqB5IGky4Oo8DiIMWSW"`, []string{"dynatrace-api-token=dt0c01.17GW4D8NFSK1A7MSDAW5G5L5.Lw91GqK8ks0n8SoFkh8OXfFYSJYgOuwgz7z54VfB4PbxntqB5IGky4Oo8DiIMWSW"}},
		{"dynatrace-api-token negative", `key = "dt0c01.CWU7J29UK32QOIV3P6MRTJJP"`, nil},
		{"new-relic-insert-key", `key = "NRII-UuMHwkpu9mq9Ugk9QgmyjjYtUtBrmgO6"`, []string{"new-relic-insert-key=NRII-UuMHwkpu9mq9Ugk9QgmyjjYtUtBrmgO6"}},
		{"new-relic-insert-key negative", `key = "NRII-grn4yDcaz2YBSoGOsDbj"`, nil},
		{"new-relic-browser-api-token", `key = "NRJS-8c07dd7753eda83d7c5"`, []string{"new-relic-browser-api-token=NRJS-8c07dd7753eda83d7c5"}},
		{"new-relic-browser-api-token negative", `key = "NRJS-8dfe0d5a0cf318656b"`, nil},
		{"sentry-user-token", `key = "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"`, []string{"sentry-user-token=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"}},
		{"sentry-user-token negative", `key = "sntryu_2b49c12a4b0062983475eb46c5296f62e338d74ff1fe4f7f505aef9ebdd25b0"`, nil},
		{"grafana-api-key", `key = "eyJrIjoibNcRV7vZgGEFW5jcnTAOivg3QxvEXHJX6nsBvBqJd0ssw0FzvGr3GwnPFYhvmuTtiLOfYczUJ4zIKdzt"`, []string{"grafana-api-key=eyJrIjoibNcRV7vZgGEFW5jcnTAOivg3QxvEXHJX6nsBvBqJd0ssw0FzvGr3GwnPFYhvmuTtiLOfYczUJ4zIKdzt"}},
		{"grafana-api-key negative", `key = "eyJrIjoigacm06EMXQdYG6INyNjO"`, nil},
		{"grafana-cloud-api-token", `key = "glc_RSSM4RfncQODOWlgQl3cAXg67Pax30iYtJTq3tlAcubBKPL7=="`, []string{"grafana-cloud-api-token=glc_RSSM4RfncQODOWlgQl3cAXg67Pax30iYtJTq3tlAcubBKPL7=="}},
		{"grafana-cloud-api-token negative", `key = "glc_6dFKHc0hXZAKS6zCeaRy"`, nil},
		{"prefect-api-token", `key = "pnu_ML8QjEXAJgfPEn5jOaBaaRQh92fn3hiEbrUK"`, []string{"prefect-api-token=pnu_ML8QjEXAJgfPEn5jOaBaaRQh92fn3hiEbrUK"}},
		{"prefect-api-token negative", `key = "pnu_pCUVl7dxXVTS2jUWfsOJTFDQ74q69dTcada"`, nil},
		{"artifactory-api-key", `key = "AKCp4PR0NfyttUMk931FMdux8KUCERkj9Zhx9PkOZAEyXYC8rYWKvsrdNPTZ0Mv3MUa1jM1tL"`, []string{"artifactory-api-key=AKCp4PR0NfyttUMk931FMdux8KUCERkj9Zhx9PkOZAEyXYC8rYWKvsrdNPTZ0Mv3MUa1jM1tL"}},
		{"artifactory-api-key negative", `key = "AKCpB4pyyRyMX5oZCsSauqrBkL60W4Ycs1jZ43Kjr2ZZJRX6FwIfIJFZymYWU7ot"`, nil},
		{"artifactory-reference-token", `key = "cmVmdGtuMdRzDTn7qLWaYyDIfIZwXeozLH5q41HuEGLmmnmflZSsxKKwzXH2jpc7"`, []string{"artifactory-reference-token=cmVmdGtuMdRzDTn7qLWaYyDIfIZwXeozLH5q41HuEGLmmnmflZSsxKKwzXH2jpc7"}},
		{"artifactory-reference-token negative", `key = "cmVmdGtuFx3gxODYfjuMbwrHMbgcn33KFLKnq7XrBg8CXL0M9iq1cvmlyf"`, nil},
		{"clojars-api-token", `key = "CLOJARS_bdc9x35ezhfquof6zl2kxpolcqwd9bdq64dgjuamt2g4uxqyhx4yk2pja3mc"`, []string{"clojars-api-token=CLOJARS_bdc9x35ezhfquof6zl2kxpolcqwd9bdq64dgjuamt2g4uxqyhx4yk2pja3mc"}},
		{"clojars-api-token negative", `key = "CLOJARS_koexi2gybe2vuo4hxjvodl29j2jr00pjbrsvkq5gu34hj6dn94"`, nil},
		{"rubygems-api-token", `key = "rubygems_9386bd8773c9d51940ea4e095bd1d6854575622f85646960"`, []string{"rubygems-api-token=rubygems_9386bd8773c9d51940ea4e095bd1d6854575622f85646960"}},
		{"rubygems-api-token negative", `key = "rubygems_2d1ba9f20df4875b15b0be23b7ac193fe0407275"`, nil},
		{"readme-api-token", `key = "rdme_kgtq9bbgmqb37p2gwglcrh356rhhhzi8ooj3zkby07czdxvzpv1uz9du7jwp1axg7leu1m"`, []string{"readme-api-token=rdme_kgtq9bbgmqb37p2gwglcrh356rhhhzi8ooj3zkby07czdxvzpv1uz9du7jwp1axg7leu1m"}},
		{"readme-api-token negative", `key = "rdme_6boi0z3cccrr8cgqh7a1pcshtwkhd6rf38j2h6is0srpf8s3oym9x39t44tb"`, nil},
		{"sourcegraph-access-token", `key = "sgp_local_7a76cc0b57aaf89691052be1ceb374dab4683f84"`, []string{"sourcegraph-access-token=sgp_local_7a76cc0b57aaf89691052be1ceb374dab4683f84"}},
		{"sourcegraph-access-token negative", `key = "sgp_d30d3fc4d83cee9b9bcca0fce9594dc72aa7a6d"`, nil},
		{"gitlab-runner-registration-token", `key = "GR1348941569abdqK5Ft6IXtINBH0"`, []string{"gitlab-runner-registration-token=GR1348941569abdqK5Ft6IXtINBH0"}},
		{"gitlab-runner-registration-token negative", `key = "GR1348941HURByDwcMRwC8aR"`, nil},
		{"gitlab-cicd-job-token", `key = "glcbt-eHo_gAxGzPJ7Kj4m9AFzCXN5"`, []string{"gitlab-cicd-job-token=glcbt-eHo_gAxGzPJ7Kj4m9AFzCXN5"}},
		{"gitlab-cicd-job-token negative", `key = "glcbt-LvSHV0fkxuxe0tGlhP5s"`, nil},
		{"gitlab-feature-flag-client-token", `key = "glffct-Sv07G4AOkHs0GnG5mAld"`, []string{"gitlab-feature-flag-client-token=glffct-Sv07G4AOkHs0GnG5mAld"}},
		{"gitlab-feature-flag-client-token negative", `key = "glffct-OKMgwKOOUcSAaYa"`, nil},
		{"gitlab-feed-token", `key = "glft-tTSJa6tz1gLaQbmlFXJK"`, []string{"gitlab-feed-token=glft-tTSJa6tz1gLaQbmlFXJK"}},
		{"gitlab-feed-token negative", `key = "glft-r3P5IGjKmAMhjkH"`, nil},
		{"gitlab-incoming-mail-token", `key = "glimt-WGgbgek8HF0DNBZZdPaRXLujT"`, []string{"gitlab-incoming-mail-token=glimt-WGgbgek8HF0DNBZZdPaRXLujT"}},
		{"gitlab-incoming-mail-token negative", `key = "glimt-pwrkcrOg258LewmCNybd"`, nil},
		{"gitlab-kubernetes-agent-token", `key = "glagent-o4zLW9cCdNppock7L2lua530DtAMq94F8epRyRTLoAtz4TFbY3"`, []string{"gitlab-kubernetes-agent-token=glagent-o4zLW9cCdNppock7L2lua530DtAMq94F8epRyRTLoAtz4TFbY3"}},
		{"gitlab-kubernetes-agent-token negative", `key = "glagent-pflkwyla4szJxhvI3yvzPe9hB06wJpymDswpBcrQ"`, nil},
		{"gitlab-oauth-app-secret", `key = "gloas-bvZjpTifmrI1YiJCD1YZpkxwnUzyO9Lnt8EGno2CRi8TqM5CLxIpzMGni3WhRGfI"`, []string{"gitlab-oauth-app-secret=gloas-bvZjpTifmrI1YiJCD1YZpkxwnUzyO9Lnt8EGno2CRi8TqM5CLxIpzMGni3WhRGfI"}},
		{"gitlab-oauth-app-secret negative", `key = "gloas-2rVXWybQTKjtayTfSlX2oumQ5geJ6xZGWtmeTtfosi0Tzswz26DXO4O33i7r"`, nil},
		{"gitlab-scim-token", `key = "glsoat-lbxRZQSw5AbQTSDp2zw5"`, []string{"gitlab-scim-token=glsoat-lbxRZQSw5AbQTSDp2zw5"}},
		{"gitlab-scim-token negative", `key = "glsoat-Oglshr6MUoTRczc"`, nil},
		{"1password-secret-key", `key = "A3-K1MTJY-C9TLO57Q1WA-HSCDP-HCUNW-F0ZOR"`, []string{"1password-secret-key=A3-K1MTJY-C9TLO57Q1WA-HSCDP-HCUNW-F0ZOR"}},
		{"1password-secret-key negative", `key = "A3-7FW12V-626DN16I5MC-9QL8K-P8QPD"`, nil},
		{"1password-service-account-token", `key = "ops_eyJvTS0lzNrr+9EEa4rSMrsEQp2vt7ZAoLbU+AfhJMzoN5ouP47ULvjfb7+kQHn+3+yPbTlKGFkrddYsLVxvnNPWxTODVrVGEhfnZgB/2/uMksDur4Zlf49yBVae2sKjh1Ri4bwvWLa4Sz8kP62tZkhQM1V9rMRdyC5ksV1UE4YHoDxzoCGmyG+D6Cok0j4ron6Yvy8lrVhZEgVfbB6Mpr2lzoTvURbGpEVT+fTmTPoeFGTy5c4oc+ojHxtLWsGI4bdRt+9eejxY8u5YDjUQBNqfBvU7Q7XTOaQ9QDcF6fssIXI"`, []string{"1password-service-account-token=ops_eyJvTS0lzNrr+9EEa4rSMrsEQp2vt7ZAoLbU+AfhJMzoN5ouP47ULvjfb7+kQHn+3+yPbTlKGFkrddYsLVxvnNPWxTODVrVGEhfnZgB/2/uMksDur4Zlf49yBVae2sKjh1Ri4bwvWLa4Sz8kP62tZkhQM1V9rMRdyC5ksV1UE4YHoDxzoCGmyG+D6Cok0j4ron6Yvy8lrVhZEgVfbB6Mpr2lzoTvURbGpEVT+fTmTPoeFGTy5c4oc+ojHxtLWsGI4bdRt+9eejxY8u5YDjUQBNqfBvU7Q7XTOaQ9QDcF6fssIXI"}},
		{"1password-service-account-token negative", `key = "ops_eyJeGqwKKHL9iSc6J5Xg3mXBOKOgxYsYYp3Y8jRet9WvVxG2Opw3JTzvdTvQu4YEGx5pZpwjina43QDzCzKXt7kLejtUtqUKJQ79ve6"`, nil},
		{"atlassian-api-token", `key = "ATATT3ykwMT7T2i_OwJGcvIEcBgZ5zKmzEhqgkjRrayIbPdBPPd_ZRwh1flQ-ZG7bdOOh1QulctAslTU2StQDH9eN6JUJqGb8mUtDZldrphAxHUtwudSF4-BSX6BPdnbiZShDW0WCdGcH3EDTAP2JM-Bu9IrMKlQa_FuO5BgAUf4x3rMdotbrMtTmv7Yl1RY"`, []string{"atlassian-api-token=ATATT3ykwMT7T2i_OwJGcvIEcBgZ5zKmzEhqgkjRrayIbPdBPPd_ZRwh1flQ-ZG7bdOOh1QulctAslTU2StQDH9eN6JUJqGb8mUtDZldrphAxHUtwudSF4-BSX6BPdnbiZShDW0WCdGcH3EDTAP2JM-Bu9IrMKlQa_FuO5BgAUf4x3rMdotbrMtTmv7Yl1RY"}},
		{"atlassian-api-token negative", `key = "ATATT34v5cLpmYOSaciGMoKBSgUbd5ue4hh9FiHBaloRIjOVIGhHw1F96ewn294oUerTlaqre9cmGdAYJ8xrauScPDIsJvSA3VTrzBuIAy"`, nil},
		{"huggingface-organization-token", `key = "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"`, []string{"huggingface-organization-token=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"}},
		{"huggingface-organization-token negative", `key = "api_org_controller"`, nil},
		{"perplexity-api-key", `key = "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"`, []string{"perplexity-api-key=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"}},
		{"perplexity-api-key negative", `key = "pplx-2UwHLEKoje7WHxHnHk0xpRlj0QDlO8025P36cuyx"`, nil},
		{"notion-api-token", `key = "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"`, []string{"notion-api-token=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"}},
		{"notion-api-token negative", `key = "ntn_83094092484"`, nil},
		{"typeform-api-token", `key = "tfp_6uqpq1CfHOF2fmiB9YsNXx6cTCyxcTWsABPMZqwpy2Li7Nm2TLxeQnv3efW"`, []string{"typeform-api-token=tfp_6uqpq1CfHOF2fmiB9YsNXx6cTCyxcTWsABPMZqwpy2Li7Nm2TLxeQnv3efW"}},
		{"typeform-api-token negative", `key = "tfp_CyzHAF75PWYbgLKD7DS1BAEl4eCzFiGW0aQoVmzIc7RsJvXyXD"`, nil},
		{"frameio-api-token", `key = "fio-u-hfo2eK0agFf2WnKDd0RmTvE3dJSVA1LiA0d3OjuvmHalIrHqfuyqQ2tJzG4ARdtt"`, []string{"frameio-api-token=fio-u-hfo2eK0agFf2WnKDd0RmTvE3dJSVA1LiA0d3OjuvmHalIrHqfuyqQ2tJzG4ARdtt"}},
		{"frameio-api-token negative", `key = "fio-u-p3yZB2IqtmidnIPx7DQFTLjx7ZvmD6TJQdUuaIeA8K0ucroYCsmTnZLNDz7U"`, nil},
		{"airtable-personal-access-token", `key = "patCn4ndlB2Ohdi34.2f505f7965463e3621d78ed41415e97a498a647c1ac49726e45dac31b3629fb0"`, []string{"airtable-personal-access-token=patCn4ndlB2Ohdi34.2f505f7965463e3621d78ed41415e97a498a647c1ac49726e45dac31b3629fb0"}},
		{"airtable-personal-access-token negative", `key = "pathWYF476fmFr3tML.264f879130b64915abef7ab5392e335ce1113d4db2b5b52a0f94833734f83ae7"`, nil},
		{"adobe-client-secret", `key = "p8e-kKIcGqx8mszJni6pU3IGp4gag8dFYYSK"`, []string{"adobe-client-secret=p8e-kKIcGqx8mszJni6pU3IGp4gag8dFYYSK"}},
		{"adobe-client-secret negative", `key = "p8e-nSVofWkj1qbBzNHhsK4hfQLnopMXYG"`, nil},
		{"intra42-client-secret", `key = "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"`, []string{"intra42-client-secret=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"}},
		{"intra42-client-secret negative", `key = "s-s4t2xx-1ccacc27ad909f03fdd9e4a62bce19a285ed7361c5c8a4b57bc9fa65c00537e8"`, nil},
		{"maxmind-license-key", `key = "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"`, []string{"maxmind-license-key=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"}},
		{"maxmind-license-key negative", `key = "ZRd6PF_FxSbd414RhJyCtWG5jUM_mmk"`, nil},
		{"settlemint-application-access-token", `key = "sm_aat_VDc8uEia875rjmL6"`, []string{"settlemint-application-access-token=sm_aat_VDc8uEia875rjmL6"}},
		{"settlemint-application-access-token negative", `key = "sm_aat_KGczlVLPrO"`, nil},
		{"settlemint-personal-access-token", `key = "sm_pat_WpsXIbAJAPfZ8ROy"`, []string{"settlemint-personal-access-token=sm_pat_WpsXIbAJAPfZ8ROy"}},
		{"settlemint-personal-access-token negative", `key = "sm_pat_F9TxS5ruk1"`, nil},
		{"settlemint-service-access-token", `key = "sm_sat_KF0dYIw5imHZ4dkt"`, []string{"settlemint-service-access-token=sm_sat_KF0dYIw5imHZ4dkt"}},
		{"settlemint-service-access-token negative", `key = "sm_sat_VHkRt6dLty"`, nil},
		{"square-access-token", `key = "sq0atp-X9x9Slrt58EmNu7CzgRqxz"`, []string{"square-access-token=sq0atp-X9x9Slrt58EmNu7CzgRqxz"}},
		{"square-access-token negative", `key = "sq0atp-uyY9Erhn76"`, nil},
		{"square-oauth-secret", `key = "sq0csp-NCG1AOkX5ucjrWIEQJ2QAWerzxT6zHZs2OhqCXacI0S"`, []string{"square-oauth-secret=sq0csp-NCG1AOkX5ucjrWIEQJ2QAWerzxT6zHZs2OhqCXacI0S"}},
		{"square-oauth-secret negative", `key = "sq0csp-KtwM8xqp4e4JgWMR1A1ZTh7tkPl9UO"`, nil},
		{"shippo-api-token", `key = "shippo_live_3ccaccfab54d946a2d207dc684477391c94c8286"`, []string{"shippo-api-token=shippo_live_3ccaccfab54d946a2d207dc684477391c94c8286"}},
		{"shippo-api-token negative", `key = "shippo_live_793b2b023a60e4e81e11e3f79aa766"`, nil},
		{"easypost-api-token", `key = "EZAKs1ZKITboXlbZGrBxe9OrUfLhzyG9LAoQ34dZx9IvQqePEKiBDR4TND"`, []string{"easypost-api-token=EZAKs1ZKITboXlbZGrBxe9OrUfLhzyG9LAoQ34dZx9IvQqePEKiBDR4TND"}},
		{"easypost-api-token negative", `key = "+EZAKmvNmhzksWmeV5HbCXmYTVmXqmJWS1sVY8b6VUNUbewnAa13PUVOIqJ/wOkKOuwtgc"`, nil},
		{"easypost-test-api-token", `key = "EZTKVlSwA5bZTDXgvg2jxX4EFf6vYuE50i2gHKqGynwqQb86mTr80HBXUU"`, []string{"easypost-test-api-token=EZTKVlSwA5bZTDXgvg2jxX4EFf6vYuE50i2gHKqGynwqQb86mTr80HBXUU"}},
		{"easypost-test-api-token negative", `key = "EZTKykZ51BiiahnULIyba01YfDXcn4KI6e2uvNJ4DFXO5napn5wy4g"`, nil},
		{"duffel-api-token", `key = "duffel_test_gL4i8mCDKL6ORT6CWeKUUd3EkzPR3TpTPES4EMjh6FM"`, []string{"duffel-api-token=duffel_test_gL4i8mCDKL6ORT6CWeKUUd3EkzPR3TpTPES4EMjh6FM"}},
		{"duffel-api-token negative", `key = "duffel_test_yeSpZ4oazKYV0oOVVPcpg6mZacDdzp"`, nil},
		{"flutterwave-secret-key", `key = "FLWSECK_TEST-71hd814e0f3354g5ga3gc020h2ghh21h-X"`, []string{"flutterwave-secret-key=FLWSECK_TEST-71hd814e0f3354g5ga3gc020h2ghh21h-X"}},
		{"flutterwave-secret-key negative", `key = "FLWSECK_TEST-9ec0605e636d32b32732b89994fa6022-Y"`, nil},
		{"flutterwave-encryption-key", `key = "FLWSECK_TEST136ced620104"`, []string{"flutterwave-encryption-key=FLWSECK_TEST136ced620104"}},
		{"flutterwave-encryption-key negative", `key = "FLWSECK_TESTd159e8489b0ac3"`, nil},
		{"plaid-api-token", `key = "access-sandbox-5e5fa870-d0a7-ba07-a253-1adab23e5617"`, []string{"plaid-api-token=access-sandbox-5e5fa870-d0a7-ba07-a253-1adab23e5617"}},
		{"plaid-api-token negative", `key = "access-staging-d266908d-35e5-9c7a-8026-8422c922202b"`, nil},
		{"sendinblue-api-token", `key = "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"`, []string{"sendinblue-api-token=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"}},
		{"sendinblue-api-token negative", `key = "xkeysib-8013cb790fef33ef2c3ff57de13628bef7a127f6c31d175a632f8ee42ea368b2"`, nil},
		{"facebook-page-access-token", `key = "EAAChTEEqlGaOPZG5bPERVcIPoXFQMiPxjyZ48uVc22xQ5PlSobMD5UfCn2csCi1mtVuLm8ezbRkax8EoeExG28VFRnN5nm1EmtYDro9WucAlvAQTbKxXkp01ajM"`, []string{"facebook-page-access-token=EAAChTEEqlGaOPZG5bPERVcIPoXFQMiPxjyZ48uVc22xQ5PlSobMD5UfCn2csCi1mtVuLm8ezbRkax8EoeExG28VFRnN5nm1EmtYDro9WucAlvAQTbKxXkp01ajM"}},
		{"facebook-page-access-token negative", `key = "EAACZqMDEJJTyiqpJhr9Aj6iHiLu4WdkoBkfL0CYAq4KQo3j9Vr98T"`, nil},
		{"sidekiq-secret", `export BUNDLE_GEMS__CONTRIBSYS__COM="d31d3092:954d2c93"`, []string{"sidekiq-secret=d31d3092:954d2c93"}},
		{"sidekiq-secret negative", `BUNDLE_GEMS__CONTRIBSYS__COM="e7fb6d28:c587db8"`, nil},
		{"sidekiq-sensitive-url", `source "https://21f6a0ef:a5ea7d26@enterprise.contribsys.com/"`, []string{"sidekiq-sensitive-url=21f6a0ef:a5ea7d26", "email=a5ea7d26@enterprise.contribsys.com"}},
		{"sidekiq-sensitive-url negative", `source "https://gems.contribsys.com/"`, nil},
		{"gitlab-session-cookie", `Cookie: _gitlab_session=z0e43v8ww1ul4bkzxhs9npmxtqke3cma`, []string{"gitlab-session-cookie=z0e43v8ww1ul4bkzxhs9npmxtqke3cma"}},
		{"gitlab-session-cookie negative", `Cookie: my_gitlab_session=809rbealfpalolqpbbhffmj4ve7wus04`, nil},
		{"azure-ad-client-secret", `client_secret=3qv8Q~hkHuHligHqQR._sygt2XLcDNj8mity57`, []string{"azure-ad-client-secret=3qv8Q~hkHuHligHqQR._sygt2XLcDNj8mity57"}},
		{"azure-ad-client-secret negative", `url=https://x/72fd40663e78da1070796e656984517e~tplv-abc`, nil},
		{"microsoft-teams-webhook", `url: https://acme.webhook.office.com/webhookb2/a9ca91a2-91a7-457e-06a3-bf9232cdf287@eafdbea1-3e28-4142-e192-ad24c3119432/IncomingWebhook/a5d575cdab37e328cf759ec646f3a708/f4aa5a6d-107b-0811-a7a8-b9bbcc9370d7`, []string{"microsoft-teams-webhook=https://acme.webhook.office.com/webhookb2/a9ca91a2-91a7-457e-06a3-bf9232cdf287@eafdbea1-3e28-4142-e192-ad24c3119432/IncomingWebhook/a5d575cdab37e328cf759ec646f3a708/f4aa5a6d-107b-0811-a7a8-b9bbcc9370d7"}},
		{"microsoft-teams-webhook negative", `url: https://acme.webhook.office.com/webhookb2/15498acd-947a-1b5a-41ea-fe6ab7233a00/IncomingWebhook/`, nil},
		{"clean", `{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"T-100: Cannot log in"}]}}`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := scanTypes(t, e, tc.text)
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Fatalf("got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestTypesAndCatalogueValid(t *testing.T) {
	e, err := NewEngine(nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(e.Types()); n < 30 {
		t.Fatalf("%d types", n)
	}
	if _, err := NewEngine([]*Detector{{ID: "x"}}); err == nil {
		t.Fatal("detector without keywords/pattern accepted")
	}
}

func FuzzScan(f *testing.F) {
	f.Add([]byte(`{"k":"AKIAIOSFODNN7EXAMPLE","c":"4111 1111 1111 1111","e":"a@b.io"}`))
	e, err := NewEngine(nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		prev := -1
		for _, fd := range e.Scan(text, nil) {
			if fd.Start < 0 || fd.End > len(text) || fd.Start >= fd.End || fd.Start < prev {
				t.Fatalf("bad or unordered finding %+v in %q", fd, text)
			}
			prev = fd.Start
		}
	})
}
