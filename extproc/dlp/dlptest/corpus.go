package dlptest

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Corpus returns the path of a labelled corpus file or folder, rel being
// relative to the corpora root ("corpora/secrets/gitleaks_rules.jsonl").
// It looks in $PORTCULLIS_SHARED (the shared folder), then in the copy
// vendored with the repository (third_party/corpora, with its licences),
// then in a shared/ folder above the working directory. The vendored copy
// makes a missing corpus an error, never a reason to skip.
func Corpus(rel string) (string, error) {
	if dir := os.Getenv("PORTCULLIS_SHARED"); dir != "" {
		p := filepath.Join(dir, rel)
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("PORTCULLIS_SHARED=%s: %w", dir, err)
		}
		return p, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		for _, root := range []string{"third_party", "shared"} {
			p := filepath.Join(dir, root, rel)
			if _, err := os.Stat(p); err == nil {
				return p, nil
			}
		}
		if filepath.Dir(dir) == dir {
			return "", errors.New(rel + " not found in third_party/ or shared/ above " + wd + " (set PORTCULLIS_SHARED)")
		}
	}
}

// ReadJSONL reads a JSON-lines corpus (see Corpus for rel) into rows of T;
// errors name the file and line.
func ReadJSONL[T any](rel string) ([]T, error) {
	path, err := Corpus(rel)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var rows []T
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var row T
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, len(rows)+1, err)
		}
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%s: empty", path)
	}
	return rows, nil
}
