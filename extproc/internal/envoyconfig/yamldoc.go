package envoyconfig

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	yamlv2 "go.yaml.in/yaml/v2"
	"sigs.k8s.io/yaml"
)

// documentsJSON splits a YAML stream into its documents and converts each one to JSON.
//
// Unlike yaml.YAMLToJSON, which reads the first document and silently drops the rest, it returns
// every document, so a second document appended to a file cannot escape validation. A key
// repeated in one mapping is an error (YAML would keep the last one without a word), and so is an
// empty document.
func documentsJSON(y []byte) ([][]byte, error) {
	dec := yamlv2.NewDecoder(bytes.NewReader(y))
	dec.SetStrict(true) // duplicate keys are errors
	var docs [][]byte
	for i := 1; ; i++ {
		var v any
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("yaml document %d: %w", i, err)
		}
		if v == nil {
			return nil, fmt.Errorf("yaml document %d is empty", i)
		}
		// Re-encode the one document and convert it the way sigs.k8s.io/yaml always has, so
		// scalars are typed exactly as for a single-document file.
		one, err := yamlv2.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("yaml document %d: %w", i, err)
		}
		j, err := yaml.YAMLToJSON(one)
		if err != nil {
			return nil, fmt.Errorf("yaml document %d to json: %w", i, err)
		}
		docs = append(docs, j)
	}
	if len(docs) == 0 {
		return nil, errors.New("no yaml document")
	}
	return docs, nil
}
