package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"gopkg.in/yaml.v3"
)

// Kinds of objects, named by their top-level catalog key.
const (
	kindServers      = "servers"
	kindSkills       = "skills"
	kindPersonas     = "personas"
	kindAgents       = "agents"
	kindDataPolicies = "data_policies"
	keySettings      = "settings"
)

// objectFile is where the API writes one object: <kind>/<name>.yaml. Names
// are validated by the catalog ([a-z0-9][a-z0-9_.-]*) before they get here,
// so they are safe as file names.
func objectFile(kind, name string) string { return kind + "/" + name + ".yaml" }

const settingsFile = "settings.yaml"

// putObject replaces the object of kind whose key field equals name,
// wherever it is defined, with obj written to its own file.
func putObject(files map[string][]byte, kind, key, name string, obj any) error {
	if _, err := removeObject(files, kind, key, name); err != nil {
		return err
	}
	b, err := encodeDocs([]any{map[string]any{kind: []any{obj}}})
	if err != nil {
		return err
	}
	files[objectFile(kind, name)] = b
	return nil
}

// removeObject deletes every definition of the object of kind whose key
// field equals name from files: the list entry is cut out of its file (the
// rest of the file, comments included, is kept), and a file left empty is
// removed. It reports whether anything was removed.
func removeObject(files map[string][]byte, kind, key, name string) (bool, error) {
	return editFiles(files, func(root *yaml.Node) bool {
		changed := false
		for i := 0; i+1 < len(root.Content); i += 2 {
			if root.Content[i].Value != kind || root.Content[i+1].Kind != yaml.SequenceNode {
				continue
			}
			seq := root.Content[i+1]
			kept := seq.Content[:0]
			for _, item := range seq.Content {
				if item.Kind == yaml.MappingNode && fieldValue(item, key) == name {
					changed = true
					continue
				}
				kept = append(kept, item)
			}
			seq.Content = kept
		}
		return changed
	})
}

// putSettings replaces the settings, wherever defined, with settings.yaml.
func putSettings(files map[string][]byte, obj any) error {
	if _, err := editFiles(files, func(root *yaml.Node) bool {
		changed := false
		for i := 0; i+1 < len(root.Content); i += 2 {
			if root.Content[i].Value == keySettings {
				root.Content = append(root.Content[:i:i], root.Content[i+2:]...)
				changed = true
				i -= 2
			}
		}
		return changed
	}); err != nil {
		return err
	}
	b, err := encodeDocs([]any{map[string]any{keySettings: obj}})
	if err != nil {
		return err
	}
	files[settingsFile] = b
	return nil
}

func fieldValue(m *yaml.Node, key string) string {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key && m.Content[i+1].Kind == yaml.ScalarNode {
			return m.Content[i+1].Value
		}
	}
	return ""
}

// editFiles runs edit on the root mapping of every document of every file
// and rewrites the files it changed, dropping lists, documents and files it
// left empty. Files that do not parse are left alone (the loader reports
// them).
func editFiles(files map[string][]byte, edit func(root *yaml.Node) bool) (bool, error) {
	changedAny := false
	for name, raw := range files {
		docs, err := decodeDocs(raw)
		if err != nil {
			continue
		}
		changed := false
		for _, d := range docs {
			if root := docRoot(d); root != nil && root.Kind == yaml.MappingNode && edit(root) {
				changed = true
				dropEmptyLists(root)
			}
		}
		if !changed {
			continue
		}
		changedAny = true
		var keep []any
		for _, d := range docs {
			if root := docRoot(d); root == nil || (root.Kind == yaml.MappingNode && len(root.Content) == 0) {
				continue
			}
			keep = append(keep, d)
		}
		if len(keep) == 0 {
			delete(files, name)
			continue
		}
		b, err := encodeDocs(keep)
		if err != nil {
			return false, fmt.Errorf("%s: %w", name, err)
		}
		files[name] = b
	}
	return changedAny, nil
}

func dropEmptyLists(root *yaml.Node) {
	out := root.Content[:0]
	for i := 0; i+1 < len(root.Content); i += 2 {
		if v := root.Content[i+1]; v.Kind == yaml.SequenceNode && len(v.Content) == 0 {
			continue
		}
		out = append(out, root.Content[i], root.Content[i+1])
	}
	root.Content = out
}

func docRoot(d *yaml.Node) *yaml.Node {
	if d.Kind == yaml.DocumentNode {
		if len(d.Content) == 0 {
			return nil
		}
		return d.Content[0]
	}
	return d
}

func decodeDocs(raw []byte) ([]*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	var docs []*yaml.Node
	for {
		var d yaml.Node
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		docs = append(docs, &d)
	}
}

func encodeDocs(docs []any) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	for _, d := range docs {
		if err := enc.Encode(d); err != nil {
			return nil, err
		}
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return []byte(strings.TrimLeft(buf.String(), "\n")), nil
}
