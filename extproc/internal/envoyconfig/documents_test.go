package envoyconfig

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
)

// envoyFiles lists every file in envoy/ with the kinds of its YAML documents, in order. A file
// that is not listed fails TestEveryEnvoyDocumentValidates: each new file needs a validator.
var envoyFiles = map[string][]string{
	"envoy.yaml":             {kindBootstrap},
	"envoy-production.yaml":  {kindBootstrap},
	"istio-envoyfilter.yaml": {"EnvoyFilter"},
	"istio-gateway.yaml":     {"Gateway", "VirtualService"},
}

// kindBootstrap names an Envoy bootstrap, the document kind without apiVersion and kind.
const kindBootstrap = "Bootstrap"

// documentsOf splits an envoy/ file into its YAML documents, as JSON.
func documentsOf(t *testing.T, name string) [][]byte {
	t.Helper()
	docs, err := documentsJSON(readEnvoyFile(t, name))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return docs
}

// documentKind returns a document's kind: its `kind`, or kindBootstrap when it has neither
// apiVersion nor kind.
func documentKind(doc []byte) (string, error) {
	var head map[string]any
	if err := json.Unmarshal(doc, &head); err != nil {
		return "", fmt.Errorf("document is not a mapping: %w", err)
	}
	apiVersion, hasAPI := head["apiVersion"]
	kind, hasKind := head["kind"]
	switch {
	case !hasAPI && !hasKind:
		return kindBootstrap, nil
	case !hasAPI || !hasKind:
		return "", fmt.Errorf("apiVersion %v and kind %v: want both or neither (an Envoy bootstrap)", apiVersion, kind)
	}
	k, ok := kind.(string)
	if !ok || k == "" {
		return "", fmt.Errorf("kind %v is not a name", kind)
	}
	return k, nil
}

// validateDocument decodes one document strictly as what its kind says and validates it: an Envoy
// bootstrap with protojson and ValidateAll on every message, each Any unpacked; an Istio resource
// with its exact field names and values, the Envoy values inside an EnvoyFilter like a bootstrap.
// It returns every problem found; none means valid.
func validateDocument(doc []byte) (string, []string) {
	kind, err := documentKind(doc)
	if err != nil {
		return "", []string{err.Error()}
	}
	switch kind {
	case kindBootstrap:
		b, err := parseBootstrapJSON(doc)
		if err != nil {
			return kind, []string{err.Error()}
		}
		return kind, validateTree(b).errs
	case "EnvoyFilter":
		_, errs, err := decodeEnvoyFilter(doc)
		if err != nil {
			return kind, []string{err.Error()}
		}
		return kind, errs
	case "Gateway":
		_, errs := decodeGateway(doc)
		return kind, errs
	case "VirtualService":
		_, errs := decodeVirtualService(doc)
		return kind, errs
	default:
		return kind, []string{fmt.Sprintf("kind %q: no validator (add one to validateDocument)", kind)}
	}
}

// validateFile validates every document of a YAML stream, returning the kinds in order and the
// problems prefixed with the document's position.
func validateFile(y []byte) ([]string, []string) {
	docs, err := documentsJSON(y)
	if err != nil {
		return nil, []string{err.Error()}
	}
	var kinds, problems []string
	for i, doc := range docs {
		kind, errs := validateDocument(doc)
		kinds = append(kinds, kind)
		for _, e := range errs {
			problems = append(problems, fmt.Sprintf("document %d (%s): %s", i+1, kind, e))
		}
	}
	return kinds, problems
}

// TestEveryEnvoyDocumentValidates walks envoy/ itself, so nothing there escapes validation: every
// file must be listed in envoyFiles, and every YAML document in it must validate as its kind.
func TestEveryEnvoyDocumentValidates(t *testing.T) {
	entries, err := os.ReadDir(envoyDir)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || name == "README.md" {
			continue
		}
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			want, ok := envoyFiles[name]
			if !ok {
				t.Fatalf("envoy/%s has no validator: list it in envoyFiles with its document kinds", name)
			}
			kinds, problems := validateFile(readEnvoyFile(t, name))
			for _, p := range problems {
				t.Error(p)
			}
			if !slices.Equal(kinds, want) {
				t.Errorf("document kinds = %v, want %v", kinds, want)
			}
			t.Logf("%d document(s) valid: %v", len(kinds), kinds)
		})
	}
	for name := range envoyFiles {
		if !seen[name] {
			t.Errorf("envoyFiles lists %s, which is not in envoy/", name)
		}
	}
}

// TestEveryDocumentIsChecked proves the file-level walk has teeth: a problem in a later document,
// a repeated key, an unknown kind or a wrong-case Istio field each fail.
func TestEveryDocumentIsChecked(t *testing.T) {
	local := string(readEnvoyFile(t, "envoy.yaml"))
	gateway := string(readEnvoyFile(t, "istio-gateway.yaml"))
	for _, tc := range []struct {
		name    string
		stream  string
		wantErr string
	}{
		{
			name:    "invalid value in a second bootstrap document",
			stream:  local + "\n---\n" + strings.Replace(local, "message_timeout: 1s", "message_timeout: -1s", 1),
			wantErr: "document 2 (Bootstrap): ",
		},
		{
			name:    "unknown field in a second bootstrap document",
			stream:  local + "\n---\n" + strings.Replace(local, "failure_mode_allow: false", "failure_mode_alow: false", 1),
			wantErr: "failure_mode_alow",
		},
		{
			name:    "repeated key",
			stream:  strings.Replace(local, "message_timeout: 1s", "message_timeout: 1s\n              message_timeout: 0.5s", 1),
			wantErr: "already set",
		},
		{
			name:    "empty document",
			stream:  local + "\n---\n",
			wantErr: "yaml document 2 is empty",
		},
		{
			name:    "unknown kind",
			stream:  gateway + "\n---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: x}\n",
			wantErr: `kind "DestinationRule": no validator`,
		},
		{
			name:    "apiVersion without kind",
			stream:  "apiVersion: v1\n" + local,
			wantErr: "want both or neither",
		},
		{
			name:    "wrong-case Istio field in the second document",
			stream:  strings.Replace(gateway, "directResponse:", "directresponse:", 1),
			wantErr: "document 2 (VirtualService): ",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kinds, problems := validateFile([]byte(tc.stream))
			if len(problems) == 0 {
				t.Fatalf("no problem reported (kinds %v)", kinds)
			}
			if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, tc.wantErr) }) {
				t.Errorf("no problem mentions %q; got:\n%s", tc.wantErr, strings.Join(problems, "\n"))
			}
			t.Logf("caught: %s", problems[0])
		})
	}
}

func TestParseWantsExactlyOneDocument(t *testing.T) {
	local := readEnvoyFile(t, "envoy.yaml")
	if _, err := Parse(local); err != nil {
		t.Fatalf("envoy.yaml: %v", err)
	}
	two := append(append(slices.Clone(local), "\n---\n"...), local...)
	if _, err := Parse(two); err == nil || !strings.Contains(err.Error(), "2 yaml documents") {
		t.Errorf("Parse(two bootstraps) = %v, want an error naming 2 documents", err)
	}
}

// --- strict decoding of Istio resources ------------------------------------------------------

// decodeStrict decodes one JSON document into a mirror struct: unknown fields and wrong types are
// errors (encoding/json), and so are field names that differ only in case, which encoding/json
// would accept but Kubernetes and Istio reject.
func decodeStrict(doc []byte, into any) []string {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		return []string{err.Error()}
	}
	var generic any
	if err := json.Unmarshal(doc, &generic); err != nil {
		return []string{err.Error()}
	}
	errs := exactKeys(generic, reflect.TypeOf(into), "")
	sort.Strings(errs)
	return errs
}

var rawMessageType = reflect.TypeFor[json.RawMessage]()

// exactKeys reports every key of v that is not, byte for byte, the JSON name of a field of t.
// json.RawMessage fields are left to whoever decodes them.
func exactKeys(v any, t reflect.Type, path string) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == rawMessageType {
		return nil
	}
	var errs []string
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			return nil // a type mismatch, already reported by encoding/json
		}
		fields := map[string]reflect.Type{}
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name != "" && name != "-" {
				fields[name] = f.Type
			}
		}
		for k, fv := range obj {
			ft, ok := fields[k]
			if !ok {
				errs = append(errs, fmt.Sprintf("%s.%s: unknown field (names are case-sensitive)", path, k))
				continue
			}
			errs = append(errs, exactKeys(fv, ft, path+"."+k)...)
		}
	case reflect.Slice:
		if list, ok := v.([]any); ok {
			for i, e := range list {
				errs = append(errs, exactKeys(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i))...)
			}
		}
	case reflect.Map:
		if obj, ok := v.(map[string]any); ok {
			for k, e := range obj {
				errs = append(errs, exactKeys(e, t.Elem(), fmt.Sprintf("%s[%q]", path, k))...)
			}
		}
	}
	return errs
}
