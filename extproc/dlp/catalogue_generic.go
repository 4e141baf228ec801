package dlp

import (
	"bytes"
	"encoding/base64"
	"regexp"
	"sync"

	"github.com/portcullis/portcullis/extproc/dlp/prefilter"

	"github.com/portcullis/portcullis/extproc/dlp/validate"
)

// Generic secrets: credentials recognised by their field name or by a
// structure rather than by a vendor prefix. The heuristics that keep them
// precise follow detect-secrets (Apache-2.0): placeholders, templates,
// indirect references and low-entropy values are refused.
func genericSecretDetectors() []*Detector {
	s := CategorySecret
	return []*Detector{
		{ID: "aws-secret-access-key", Category: s, Tags: soc2, Check: "keyword+entropy", Context: true, Before: 160, After: 200,
			Keywords: []string{"aws_secret", "aws-secret", "aws secret", "secret_access_key", "secretaccesskey", "secret access key", "AKIA", "ASIA"},
			Pattern:  regexp.MustCompile(`(?:^|[^A-Za-z0-9/+])([A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)`), Group: 1,
			Validate: all(notPlaceholder, mixedClasses(3)), MinEntropy: 4.0},
		{ID: "aws-session-token", Category: s, Tags: soc2, Check: "keyword+entropy", Context: true, Before: 1, After: 2048,
			Keywords: []string{"aws_session_token", "aws-session-token", "x-amz-security-token", "sessiontoken", "IQoJb3JpZ2luX2Vj", "FwoGZXIvYXdzE"},
			Pattern:  regexp.MustCompile(`(?:^|[^A-Za-z0-9/+%])((?:IQoJb3JpZ2luX2Vj|FwoGZXIvYXdzE)[A-Za-z0-9/+=%]{80,}|[A-Za-z0-9/+=%]{160,})`), Group: 1,
			Validate: notExample, MinEntropy: 4.5},
		{ID: "gcp-service-account-key", Category: s, Tags: soc2, Check: "json-field", Context: true, Keywords: []string{"private_key_id"}, After: 100,
			Pattern: regexp.MustCompile(`private_key_id\\?"\s*:\s*\\?"([0-9a-f]{40})\\?"`), Group: 1, Validate: notRepeated},
		{ID: "azure-storage-key", Category: s, Tags: soc2, Check: "keyword+length+entropy", Context: true, After: 200,
			Keywords: []string{"accountkey", "account_key", "account-key", "storage_key", "storagekey", "azure_storage", "primarykey", "primary_key", "storage account key", "cosmos"},
			Pattern:  regexp.MustCompile(`(?:^|[^A-Za-z0-9+/])([A-Za-z0-9+/]{86}==)(?:[^A-Za-z0-9+/=]|$)`), Group: 1,
			Validate: notPlaceholder, MinEntropy: 4.5},
		{ID: "azure-sas-token", Category: s, Tags: soc2, Check: "sv+se+sig", Keywords: []string{"sig="}, Before: 1024, After: 160,
			Pattern: regexp.MustCompile(`(?:sv=\d{4}-\d{2}-\d{2}[^\s"'<>]*?&se=|se=\d{4}-\d{2}-\d{2}[^\s"'<>]*?&sv=\d{4}-\d{2}-\d{2})[^\s"'<>]*?[?&]sig=([A-Za-z0-9%+/=]{20,})`), Group: 1},
		{ID: "basic-auth-credentials", Category: s, Tags: soc2, Check: "base64-user:pass", Keywords: []string{"basic "}, Before: 1, After: 256,
			Pattern: regexp.MustCompile(`(?i:\bbasic)\s+([A-Za-z0-9+/]{8,}={0,2})(?:[^A-Za-z0-9+/=]|$)`), Group: 1, Validate: validBasicAuth},
		{ID: "bearer-token", Category: s, Tags: soc2, Check: "keyword+entropy", Keywords: []string{"bearer ", "authorization"}, Before: 1, After: 2048,
			Pattern: regexp.MustCompile(`(?i:\bbearer\s+|\bauthorization["']?\s*[:=]\s*["']?(?:(?:token|api-token|apikey|key)\s+)?)([A-Za-z0-9\-._~+/]{16,}=*)`), Group: 1,
			Validate: secretLike},
		{ID: "url-credentials", Category: s, Tags: soc2, Check: "userinfo", Keywords: []string{"://"}, Before: 12, After: 200,
			Pattern: regexp.MustCompile(`\b((?i:https?|ftps?|sftp|ssh|smtps?|imaps?|pop3s?|ldaps?|git|svn|wss?|rtsp|telnet|socks[45]h?|amqps?|nats|kafka|mqtts?|sip|xmpp|s3|webdavs?|davs?|rsync|smb|nntp)://[^\s:/?#@"'<>\[\]\\]{1,64}:[^\s/?#@"'<>\\]{1,128}@[A-Za-z0-9\-.\[\]:_]*[A-Za-z0-9\]])`), Group: 1,
			Validate: validURLCredentials},
		{ID: "database-connection-string", Category: s, Tags: soc2, Check: "userinfo", Keywords: []string{"://"}, Before: 24, After: 200,
			Pattern: regexp.MustCompile(`\b((?i:postgres(?:ql)?|mysqlx?|mariadb|mongodb(?:\+srv)?|rediss?|mssql|sqlserver|oracle|cockroachdb|clickhouse|couchdb|cassandra|neo4j(?:\+s)?|bolt|memcached|db2|snowflake|redshift|presto|trino|vertica|influxdb|elasticsearch|opensearch)://[^\s:/?#@"'<>\[\]\\]{0,64}:[^\s/?#@"'<>\\]{1,128}@[A-Za-z0-9\-.\[\]:_]*[A-Za-z0-9\]])`), Group: 1,
			Validate: validURLCredentials},
		{ID: "password-assignment", Category: s, Tags: soc2, Check: "keyword+stopwords", Context: true, After: 160,
			Keywords: []string{"password", "passwd", "pwd", "passphrase", "passwort", "contraseña", "contrasena", "mot de passe", "senha", "pass:", "pass=", "db_pass", "_pass\""},
			Pattern: regexp.MustCompile(`^(?i:mot de passe|[^\s"'\x60:=]+)["'\x60]?[ \t]*(?::=|=>|[:=]|[ \t](?:is|was|ist|es|est)\b:?)[ \t]*["'\x60]?` +
				`([^\s"'\x60<>,;{}()\[\]\\]{4,})`), Group: 1, Validate: all(maxLen(128), passwordLike)},
		{ID: "generic-api-key", Category: s, Tags: soc2, Check: "keyword+entropy", Context: true, After: 80,
			Keywords: genericKeywords,
			Pattern: regexp.MustCompile(`^[A-Za-z0-9_\-]*(?:[Tt][Oo][Kk][Ee][Nn]|[Ss][Ee][Cc][Rr][Ee][Tt]|[Kk][Ee][Yy]|[Cc][Rr][Ee][Dd](?:[Ee][Nn][Tt][Ii][Aa][Ll])?|[Aa][Uu][Tt][Hh])[Ss]?` +
				`(?:["'\x60]?[ \t]*(?:[:?.|+!]{0,3}=|=>|:)|["'\x60][ \t]*,|>)[ \t]*["'\x60]?` +
				`([A-Za-z0-9_\-+/=.~]{16,})`), Group: 1, Validate: all(maxLen(256), secretLike), MinEntropy: 3.5,
			Match: matchGenericAssignment},
		{ID: "jwk-private-key", Category: s, Tags: soc2, Check: "jwk-d", Context: true, Keywords: []string{`"kty"`}, Before: 4096, After: 4096,
			Pattern: regexp.MustCompile(`"d"\s*:\s*"([A-Za-z0-9_\-]{20,})"`), Group: 1, MinEntropy: 3.5},
		{ID: "kubernetes-secret", Category: s, Tags: soc2, Check: "manifest", Context: true, Keywords: []string{"kind: secret", `kind: "secret"`, `kind: 'secret'`, `"kind": "secret"`, `"kind":"secret"`}, Before: 4096, After: 4096,
			Pattern: regexp.MustCompile(`(?:(?m:^)[ \t]*["']?(?:data|stringData)["']?:[ \t]*\r?\n|"(?:data|stringData)"\s*:\s*)((?:[ \t]+(?:#[^\n]*|["']?[A-Za-z0-9_.\-]+["']?:[ \t]*\S[^\n]*|[A-Za-z0-9+/=]{8,}[ \t]*)(?:\r?\n|$))+|\{[^{}]*"[^{}]*\})`), Group: 1,
			Validate: secretData},
		near("wif-private-key", s, soc2, "base58check", []string{"wif", "private key", "privkey", "importprivkey", "dumpprivkey", "bitcoin", "wallet", "btc"}, 64, 128,
			`[5KLc9][1-9A-HJ-NP-Za-km-z]{50,51}`, validate.WIFPrivateKey[[]byte]),
	}
}

// genericKeyKeywords are field names that hold API keys and tokens. Plain
// "key", "token" and "secret" are too common alone; they count only as a
// suffix of a field name or next to assignment syntax.
var genericKeyKeywords = []string{
	"api_key", "apikey", "api-key", "api key", "apitoken", "api_token", "api-token",
	"access_key", "accesskey", "access-key", "secret_key", "secretkey", "secret-key",
	"client_secret", "clientsecret", "client-secret", "app_secret", "appsecret", "app_key", "appkey",
	"auth_token", "authtoken", "auth-token", "access_token", "accesstoken", "access-token",
	"refresh_token", "refreshtoken", "private_token", "session_token", "secret_token", "webhook_secret",
	"signing_key", "signingkey", "encryption_key", "encryptionkey", "master_key", "masterkey",
	"consumer_key", "consumer_secret", "clientkey", "client_key", "licensekey", "license_key",
	"privatekey", "private_key", "_apikey",
}

// genericKeyWords are the broad words. For every keyword the field name
// must end with token, secret, key, credential(s), creds or auth (the
// pattern checks it), so that "credentialsId", "secret_length" or
// "tokenizer" do not count.
var genericKeyWords = []string{"token", "secret", "credential", "creds", "_key", "-key", "_auth", "auth"}

// genericKeywords are the keywords of generic-api-key.
var genericKeywords = append(append([]string{}, genericKeyKeywords...), genericKeyWords...)

// Placeholder heuristics shared by the generic secret types.
var (
	placeholderParts = [][]byte{
		[]byte("${"), []byte("{{"), []byte("}}"), []byte("%s"), []byte("%("), []byte("$("), []byte("#{"),
		[]byte("your"), []byte("placeholder"), []byte("redacted"), []byte("dummy"), []byte("sample"),
		[]byte("****"), []byte("xxxx"), []byte("..."), []byte("…"), []byte("insert"), []byte("replace"), []byte("changeme"),
		[]byte("change_me"), []byte("_here"), []byte("-here"), []byte("fake"), []byte("todo"), []byte("password"),
		[]byte("passwd"), []byte("process.env"), []byte("os.environ"), []byte("getenv"), []byte("env("), []byte("env."),
		[]byte("secrets."), []byte("settings."), []byte("config."), []byte("vault:"), []byte("ssm:"),
	}
	placeholderWords = map[string]bool{
		"null": true, "none": true, "nil": true, "true": true, "false": true, "undefined": true, "string": true,
		"required": true, "optional": true, "empty": true, "test": true, "testing": true, "default": true,
		"hidden": true, "masked": true, "value": true, "secret": true, "token": true, "apikey": true,
		"api_key": true, "foo": true, "bar": true, "baz": true, "foobar": true, "pass": true, "pwd": true,
		"admin": true, "user": true, "username": true, "str": true, "text": true, "bool": true, "int": true,
		"secret_key": true, "access_token": true, "auth_token": true, "private": true, "public": true,
	}
)

// notTemplate refuses placeholders, templates and indirect references:
// documentation fillers ("your_api_key", "****", "<token>"), template
// syntax ("${TOKEN}", "{{ secret }}"), environment and configuration
// lookups ("process.env.TOKEN", "settings.SECRET_KEY"), and values that
// are themselves identifiers (UPPER_SNAKE environment-variable names,
// dotted attribute paths).
func notTemplate(v []byte) bool {
	if len(v) == 0 || !notPlaceholder(v) || !notRepeated(v) {
		return false
	}
	switch v[0] {
	case '$', '%', '@', '<', '&', '*', '!', '/', '.', '#':
		return false
	}
	lower := bytes.ToLower(v)
	if placeholderWords[string(bytes.Trim(lower, `"'.`))] {
		return false
	}
	for _, p := range placeholderParts {
		if bytes.Contains(lower, p) {
			return false
		}
	}
	// UPPER_SNAKE or dotted.identifier.path.
	upperSnake, dotted, ident := true, bytes.IndexByte(v, '.') > 0, true
	for _, c := range v {
		if !isUpper(c) && !isDigit(c) && c != '_' {
			upperSnake = false
		}
		if !isAlnum(c) && c != '.' {
			ident = false
		}
	}
	if upperSnake && bytes.IndexByte(v, '_') >= 0 {
		return false
	}
	if dotted && ident && !isDigit(v[0]) && countDigits(v) == 0 {
		return false
	}
	// File names and paths.
	for _, ext := range []string{".json", ".pem", ".key", ".txt", ".yaml", ".yml", ".env", ".crt", ".p12"} {
		if bytes.HasSuffix(lower, []byte(ext)) {
			return false
		}
	}
	return true
}

// versionLike matches dotted version numbers ("jjwt-jackson-0.11.2").
var versionLike = regexp.MustCompile(`\d+\.\d+\.\d+`)

// charClasses counts the classes (lower, upper beyond the first byte,
// digit, other) present in v.
func charClasses(v []byte) int {
	var lower, upper, digit, other bool
	for i, c := range v {
		switch {
		case c >= 'a' && c <= 'z':
			lower = true
		case isUpper(c):
			if i > 0 {
				upper = true
			}
		case isDigit(c):
			digit = true
		default:
			other = true
		}
	}
	n := 0
	for _, b := range []bool{lower, upper, digit, other} {
		if b {
			n++
		}
	}
	return n
}

// notExample refuses values that say they are examples.
func notExample(v []byte) bool {
	return !bytes.Contains(bytes.ToLower(v), []byte("example"))
}

// maxLen accepts values of at most n bytes.
func maxLen(n int) func([]byte) bool {
	return func(v []byte) bool { return len(v) <= n }
}

// mixedClasses accepts values with at least n character classes.
func mixedClasses(n int) func([]byte) bool {
	return func(v []byte) bool { return charClasses(v) >= n }
}

// secretLike accepts a token-shaped value that is not a template and mixes
// letters and digits (random tokens almost always do; words, identifiers
// and sentences rarely).
func secretLike(v []byte) bool {
	if !notTemplate(v) || versionLike.Match(v) || vendorCovers(v) || countDigits(v) == 0 || countDigits(v) == len(v) {
		return false
	}
	return charClasses(v) >= 2
}

// passwordLike accepts a password value: not a template or placeholder,
// 4–128 bytes, and mixing at least two character classes, so that UI
// labels ("Password", "Passwort"), type names and plain words are refused
// while "hunter2" or "S3cr3t!" are kept.
func passwordLike(v []byte) bool {
	if len(v) < 6 || !notTemplate(v) {
		return false
	}
	if countDigits(v) == len(v) {
		return false
	}
	return charClasses(v) >= 2
}

// validURLCredentials accepts "scheme://user:password@host" whose
// password is not a placeholder or template and which no vendor-specific
// detector reports.
func validURLCredentials(v []byte) bool {
	i := bytes.Index(v, []byte("://"))
	j := bytes.LastIndexByte(v, '@')
	if i < 0 || j < i+3 || !validUserinfo(v[i+3:j]) {
		return false
	}
	return !vendorCovers(v)
}

// validUserinfo accepts "user:password" whose password is not a
// placeholder or template.
func validUserinfo(v []byte) bool {
	i := bytes.IndexByte(v, ':')
	if i < 0 || i == len(v)-1 {
		return false
	}
	pw := v[i+1:]
	if len(pw) < 3 || !notTemplate(pw) {
		return false
	}
	return !bytes.EqualFold(pw, []byte("pass")) && !bytes.EqualFold(pw, []byte("pw"))
}

// secretData accepts a Kubernetes Secret data block holding at least one
// value of 12 or more bytes that is not a template: empty and templated
// manifests ("{{ .Values.password }}") carry no secret.
func secretData(v []byte) bool {
	for _, line := range bytes.Split(v, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' || line[0] == '{' {
			line = bytes.Trim(line, "{} ")
		}
		for _, field := range bytes.Split(line, []byte(",")) {
			val := field
			if i := bytes.IndexByte(field, ':'); i >= 0 {
				val = field[i+1:]
			}
			val = bytes.Trim(bytes.TrimSpace(val), `"'`)
			if len(val) >= 12 && notTemplate(val) {
				return true
			}
		}
	}
	return false
}

// validBasicAuth accepts base64 that decodes to printable "user:password"
// with a non-placeholder password.
func validBasicAuth(v []byte) bool {
	// Sized for both decoders: the unpadded one needs more room when the
	// length is not a multiple of 4.
	dec := make([]byte, max(base64.StdEncoding.DecodedLen(len(v)), base64.RawStdEncoding.DecodedLen(len(v))))
	n, err := base64.StdEncoding.Decode(dec, v)
	if err != nil {
		n, err = base64.RawStdEncoding.Decode(dec, bytes.TrimRight(v, "="))
		if err != nil {
			return false
		}
	}
	dec = dec[:n]
	for _, c := range dec {
		if c < 0x20 || c > 0x7e {
			return false
		}
	}
	i := bytes.IndexByte(dec, ':')
	if i <= 0 || i == len(dec)-1 || dec[0] == '{' {
		return false
	}
	return validUserinfo(dec)
}

// specificIndex finds, inside a generic candidate, the keywords of the
// vendor-specific secret detectors (the non-context secrets of the
// catalogue), so that a value one of them reports is not reported a second
// time as a generic type.
type specificIndex struct {
	ac   *prefilter.Automaton
	dets []*Detector // keyword id → detector
}

var (
	specificOnce sync.Once
	specificIdx  *specificIndex
)

func specific() *specificIndex {
	specificOnce.Do(func() { specificIdx = buildSpecific() })
	return specificIdx
}

func buildSpecific() *specificIndex {
	generic := map[string]bool{}
	for _, d := range genericSecretDetectors() {
		generic[d.ID] = true
	}
	idx := &specificIndex{}
	var kws []string
	for _, d := range Catalogue() {
		if d.Category != CategorySecret || d.Context || generic[d.ID] {
			continue
		}
		for _, k := range d.Keywords {
			kws = append(kws, k)
			idx.dets = append(idx.dets, d)
		}
	}
	ac, err := prefilter.New(kws)
	if err != nil {
		panic(err) // the catalogue's own keywords: a programming error
	}
	idx.ac = ac
	return idx
}

// vendorCovers reports whether a vendor-specific detector finds a value
// inside v.
func vendorCovers(v []byte) bool {
	idx := specific()
	found := false
	idx.ac.Scan(v, func(kw, _ int) bool {
		d := idx.dets[kw]
		if m := d.Pattern.FindSubmatchIndex(v); m != nil && m[2*d.Group] >= 0 {
			val := v[m[2*d.Group]:m[2*d.Group+1]]
			if d.Validate == nil || d.Validate(val) {
				found = true
			}
		}
		return !found
	})
	return found
}
