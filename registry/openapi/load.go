package openapi

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pb33f/go-yaml"
	"github.com/pb33f/libopenapi"
	"github.com/pb33f/libopenapi/datamodel"
)

// MaxDocumentBytes bounds the size of one document file (64 MiB).
const MaxDocumentBytes = 64 << 20

// Import reads OpenAPI documents from files or directories and generates
// tools. A directory is walked recursively; every .json, .yaml and .yml file
// whose top level has a "swagger" or "openapi" key is a root document, the
// others are fragments reached through $ref and are listed in
// Result.Ignored. Local file $refs are resolved relative to the referring
// file; remote (http) $refs are never fetched. An explicit file that is not
// an OpenAPI document, or any document that cannot be parsed, is an error
// naming the file.
func Import(ctx context.Context, paths []string, opts Options) (*Result, error) {
	res := &Result{Documents: []*Document{}}
	for _, p := range paths {
		files, ignored, err := rootDocuments(p)
		if err != nil {
			return nil, err
		}
		res.Ignored = append(res.Ignored, ignored...)
		for _, f := range files {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			doc, err := importFile(ctx, f, opts)
			if err != nil {
				return nil, err
			}
			res.Documents = append(res.Documents, doc)
			res.Totals.add(doc.Summary)
		}
	}
	return res, nil
}

// ImportBytes imports one document held in memory. File $refs are not
// followed (there is no base directory); name only labels the result.
func ImportBytes(ctx context.Context, name string, data []byte, opts Options) (*Document, error) {
	return importDoc(ctx, name, data, &datamodel.DocumentConfiguration{}, opts)
}

func importFile(ctx context.Context, path string, opts Options) (*Document, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	data, err := readBounded(abs)
	if err != nil {
		return nil, err
	}
	cfg := &datamodel.DocumentConfiguration{
		BasePath:            filepath.Dir(abs),
		SpecFilePath:        abs,
		AllowFileReferences: true,
	}
	return importDoc(ctx, path, data, cfg, opts)
}

func readBounded(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.Size() > MaxDocumentBytes {
		return nil, fmt.Errorf("%s: %d bytes exceeds the %d-byte document limit", path, st.Size(), MaxDocumentBytes)
	}
	return os.ReadFile(path)
}

// importDoc is the parser boundary. libopenapi is a large parser fed with
// untrusted input; a panic inside it becomes an error for this document.
func importDoc(ctx context.Context, name string, data []byte, cfg *datamodel.DocumentConfiguration, opts Options) (doc *Document, err error) {
	defer func() {
		if r := recover(); r != nil {
			doc, err = nil, fmt.Errorf("%s: parser failure: %v", name, r)
		}
	}()
	if kind := rootKind(data); kind == "" {
		return nil, fmt.Errorf("%s: not an OpenAPI or Swagger document (no top-level \"openapi\" or \"swagger\" key)", name)
	}
	cfg.Logger = slog.New(slog.DiscardHandler)
	cfg.AllowRemoteReferences = false
	d, err := libopenapi.NewDocumentWithConfiguration(data, cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var parsed *parsedDoc
	if strings.HasPrefix(d.GetVersion(), "2") {
		parsed, err = fromV2(d, opts)
	} else {
		parsed, err = fromV3(d, opts)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	out := generate(ctx, name, parsed, opts)
	out.Spec = d.GetVersion()
	return out, nil
}

// parsedDoc is what a version-specific loader hands to the generator.
type parsedDoc struct {
	Title, APIVersion string
	Ops               []operation
	Security          []SecurityScheme
	Warnings          []string
}

// rootKind returns "swagger" or "openapi" when data is a root document.
func rootKind(data []byte) string {
	var top map[string]any
	if err := yaml.Unmarshal(data, &top); err != nil {
		return ""
	}
	if _, ok := top["openapi"]; ok {
		return "openapi"
	}
	if _, ok := top["swagger"]; ok {
		return "swagger"
	}
	return ""
}

func rootDocuments(p string) (roots, ignored []string, err error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, nil, err
	}
	if !st.IsDir() {
		return []string{p}, nil, nil
	}
	err = filepath.WalkDir(p, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() {
			return nil
		}
		switch strings.ToLower(filepath.Ext(path)) {
		case ".json", ".yaml", ".yml":
		default:
			return nil
		}
		data, err := readBounded(path)
		if err != nil {
			return err
		}
		if rootKind(data) != "" {
			roots = append(roots, path)
		} else {
			ignored = append(ignored, path)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	if len(roots) == 0 {
		return nil, nil, errors.New(p + ": no OpenAPI or Swagger document in directory")
	}
	sort.Strings(roots)
	sort.Strings(ignored)
	return roots, ignored, nil
}
