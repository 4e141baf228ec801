package main

import (
	"encoding/json"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"context"
	"errors"
	"flag"
	"fmt"
	registryv1 "github.com/portcullis/portcullis/proto/gen/go/portcullis/registry/v1"
	"io"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/portcullis/portcullis/registry/catalog"
	"github.com/portcullis/portcullis/registry/openapi"
)

// listFlag collects a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// importSummary is what `openapi import` prints: per document what was found,
// generated and skipped (with reasons), and the totals.
type importSummary struct {
	DryRun    bool              `json:"dry_run"`
	Documents []documentSummary `json:"documents"`
	Totals    openapi.Summary   `json:"totals"`
	Ignored   []string          `json:"ignored,omitempty"`
	Written   []string          `json:"written,omitempty"`
}

type documentSummary struct {
	File     string          `json:"file"`
	Spec     string          `json:"spec"`
	Title    string          `json:"title,omitempty"`
	Summary  openapi.Summary `json:"summary"`
	Tools    []toolSummary   `json:"tools"`
	Skipped  []openapi.Skip  `json:"skipped,omitempty"`
	Warnings []string        `json:"warnings,omitempty"`
}

type toolSummary struct {
	Name      string `json:"name"`
	Method    string `json:"method"`
	Path      string `json:"path"`
	Risk      string `json:"risk"`
	RateLimit int    `json:"rate_limit_per_hour"`
}

// openapiCmd runs `portcullis openapi import`.
func openapiCmd(ctx context.Context, args []string, stdout, stderr io.Writer, isTerminal bool) error {
	if len(args) == 0 || args[0] != "import" {
		return errors.New(`openapi: want "openapi import [--dry-run] FILE|DIR..."`)
	}
	fs := flag.NewFlagSet("openapi import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dryRun := fs.Bool("dry-run", false, "only print what would be generated")
	var include, exclude listFlag
	fs.Var(&include, "include", "select operations: operationId, tag:NAME or \"METHOD /path/glob\" (repeatable; default all)")
	fs.Var(&exclude, "exclude", "drop operations, same syntax (repeatable)")
	prefix := fs.String("prefix", "", "prefix for every tool name")
	dir := fs.String("catalog", DefaultCatalog, "catalog directory the generated server is registered in (not with --dry-run)")
	server := fs.String("server", "", "name of the generated server in the catalog (default: from the document title)")
	url := fs.String("url", "", "URL the generated MCP server is served at (required without --dry-run)")
	owner := fs.String("owner", "", "owner of the generated server (required without --dry-run)")
	env := fs.String("environment", "dev", "environment label of the generated server (prod or dev)")
	credRef := fs.String("credential-ref", "", "reference of the REST API credential (secret://NAME/KEY, file:/path, env:NAME)")
	credHeader := fs.String("credential-header", "authorization", "header the REST API credential goes in")
	registryURL := fs.String("registry", "", "register through the registry API at this URL instead of writing --catalog (one self-contained document per file)")
	tokenFile := fs.String("token-file", "", "with --registry: file holding the bearer token (default: $PORTCULLIS_REGISTRY_TOKEN)")
	registryEnv := fs.String("registry-environment", "preprod", "with --registry: policy environment to write (preprod or prod)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("openapi import: a file or directory is required")
	}
	if *registryURL != "" {
		rf := registryFlags{url: *registryURL, tokenFile: *tokenFile, env: *registryEnv}
		return importThroughRegistry(ctx, rf, fs.Args(), include, exclude, *prefix, *dryRun,
			&registryv1.ImportOpenAPIServer{Name: *server, Url: *url, Owner: *owner, Environment: *env,
				Auth: registryAuth(*credHeader, *credRef)}, stdout)
	}
	if !*dryRun && (*url == "" || *owner == "") {
		return errors.New("openapi import: --url and --owner are required to register the generated server (or use --dry-run)")
	}
	opts := openapi.Options{Include: include, Exclude: exclude, NamePrefix: *prefix}
	if isTerminal {
		opts.Progress = progressBar(stderr)
	}
	res, err := openapi.Import(ctx, fs.Args(), opts)
	if isTerminal {
		fmt.Fprint(stderr, "\r\033[K")
	}
	if err != nil {
		return err
	}
	sum := importSummary{DryRun: *dryRun, Totals: res.Totals, Ignored: res.Ignored}
	for _, d := range res.Documents {
		ds := documentSummary{File: d.File, Spec: d.Spec, Title: d.Title, Summary: d.Summary, Skipped: d.Skipped, Warnings: d.Warnings, Tools: []toolSummary{}}
		for _, t := range d.Tools {
			ds.Tools = append(ds.Tools, toolSummary{Name: t.Name, Method: t.Request.Method, Path: t.Request.Path, Risk: t.Risk.Level, RateLimit: t.RateLimitPerHour})
		}
		sum.Documents = append(sum.Documents, ds)
	}
	if !*dryRun {
		for _, d := range res.Documents {
			name := *server
			if name == "" || len(res.Documents) > 1 {
				name = catalog.ServerNameFor(d.Title, d.File)
			}
			path, err := writeServer(*dir, name, *url, *owner, *env, *credHeader, *credRef, d)
			if err != nil {
				return err
			}
			sum.Written = append(sum.Written, path)
		}
		// The catalog must still load: a generated server that breaks it is
		// an error, not a silent half-registration.
		if _, err := catalog.LoadDir(*dir); err != nil {
			return fmt.Errorf("catalog %s no longer loads after the import: %w", *dir, err)
		}
	}
	return writeJSON(stdout, sum)
}

// progressBar draws "[#####     ] 12/120 operations  file" on a terminal.
func progressBar(w io.Writer) func(openapi.Progress) {
	return func(p openapi.Progress) {
		const width = 30
		filled := 0
		if p.Operations > 0 {
			filled = p.Done * width / p.Operations
		}
		fmt.Fprintf(w, "\r[%s%s] %d/%d operations  %s\033[K", strings.Repeat("#", filled), strings.Repeat(" ", width-filled), p.Done, p.Operations, filepath.Base(p.File))
	}
}

// generated server YAML, in the catalog's layout.
type genServer struct {
	Name        string    `yaml:"name"`
	Description string    `yaml:"description,omitempty"`
	URL         string    `yaml:"url"`
	Owner       string    `yaml:"owner"`
	Environment string    `yaml:"environment"`
	Auth        genAuth   `yaml:"auth"`
	Tags        []string  `yaml:"tags,omitempty"`
	Tools       []genTool `yaml:"tools"`
}

type genAuth struct {
	Kind          string `yaml:"kind"`
	Header        string `yaml:"header,omitempty"`
	CredentialRef string `yaml:"credential_ref,omitempty"`
}

type genTool struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	Operation   string `yaml:"operation"`
	Risk        string `yaml:"risk"`
	// RateLimitPerHour is the generated default by method; the operator
	// may change it in the written file.
	RateLimitPerHour int            `yaml:"rate_limit_per_hour,omitempty"`
	InputSchema      map[string]any `yaml:"input_schema"`
}

// writeServer registers a generated server as servers/NAME.yaml in the
// catalog directory, replacing an earlier import of the same name.
func writeServer(dir, name, url, owner, env, header, credRef string, d *openapi.Document) (string, error) {
	auth := genAuth{Kind: "none"}
	if credRef != "" {
		auth = genAuth{Kind: "header", Header: header, CredentialRef: credRef}
	}
	s := genServer{Name: name, Description: strings.TrimSpace("Generated from " + filepath.Base(d.File) + " (" + d.Title + ")"),
		URL: url, Owner: owner, Environment: env, Auth: auth, Tags: []string{"generated", "openapi"}}
	for _, t := range d.Tools {
		s.Tools = append(s.Tools, genTool{Name: t.Name, Description: t.Description, Operation: string(catalog.OperationForMethod(t.Request.Method)),
			Risk: t.Risk.Level, RateLimitPerHour: t.RateLimitPerHour, InputSchema: t.InputSchema})
	}
	out, err := yaml.Marshal(map[string]any{"servers": []genServer{s}})
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "servers", name+".yaml")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append([]byte("# Generated by `portcullis openapi import`; re-run the import to update.\n"), out...), 0o644); err != nil {
		return "", err
	}
	return path, os.Rename(tmp, path)
}

func registryAuth(header, ref string) *registryv1.Auth {
	if ref == "" {
		return &registryv1.Auth{Kind: "none"}
	}
	return &registryv1.Auth{Kind: "header", Header: header, CredentialRef: ref}
}

// importThroughRegistry sends each document to the registry's ImportOpenAPI
// rpc (which validates, pins and versions the generated server) and prints
// the responses as a JSON array.
func importThroughRegistry(ctx context.Context, rf registryFlags, paths, include, exclude []string, prefix string, dryRun bool,
	srv *registryv1.ImportOpenAPIServer, stdout io.Writer) error {
	c, err := rf.client()
	if err != nil {
		return err
	}
	var out []json.RawMessage
	for _, p := range paths {
		doc, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		s := proto.Clone(srv).(*registryv1.ImportOpenAPIServer)
		if len(paths) > 1 {
			s.Name = "" // the registry derives one per document
		}
		r, err := c.ImportOpenAPI(ctx, connect.NewRequest(&registryv1.ImportOpenAPIRequest{Environment: rf.env, DocumentName: filepath.Base(p),
			Document: doc, Include: include, Exclude: exclude, NamePrefix: prefix, Server: s, DryRun: dryRun}))
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		b, err := protojson.Marshal(r.Msg)
		if err != nil {
			return err
		}
		out = append(out, b)
	}
	return writeJSON(stdout, out)
}
