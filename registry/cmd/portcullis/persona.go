package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/portcullis/portcullis/registry/catalog"
	"github.com/portcullis/portcullis/registry/persona"
)

// DefaultCatalog is the catalog directory the persona commands read when
// --catalog is not given (the example catalog, relative to the repository).
const DefaultCatalog = "config/catalog"

// personaCmd runs `portcullis persona compile|diff`.
func personaCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "compile" && args[0] != "diff") {
		return errors.New(`persona: want "persona compile [flags] DESCRIPTION" or "persona diff --persona NAME [flags] DESCRIPTION"`)
	}
	sub := args[0]
	fs := flag.NewFlagSet("persona "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("catalog", DefaultCatalog, "catalog directory (servers, skills, personas YAML)")
	asJSON := fs.Bool("json", false, "print JSON")
	name := ""
	if sub == "diff" {
		fs.StringVar(&name, "persona", "", "persona to compare the proposal with (new when absent from the catalog)")
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	desc := strings.TrimSpace(strings.Join(fs.Args(), " "))
	if desc == "" {
		return fmt.Errorf("persona %s: a role description is required", sub)
	}
	if sub == "diff" && name == "" {
		return errors.New("persona diff: --persona is required")
	}
	cat, err := catalog.LoadDir(*dir)
	if err != nil {
		return fmt.Errorf("catalog %s: %w", *dir, err)
	}
	prof, err := persona.Compile(desc, cat, persona.Options{})
	if err != nil {
		return err
	}
	if sub == "diff" {
		d := persona.Diff(cat, name, cat.Persona(name), prof)
		if *asJSON {
			return writeJSON(stdout, d)
		}
		_, err := io.WriteString(stdout, d.String())
		return err
	}
	if *asJSON {
		return writeJSON(stdout, prof)
	}
	return printProfile(stdout, prof)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// printProfile renders a profile for review: every grant with its reasons,
// every exclusion with its reason.
func printProfile(w io.Writer, p *persona.Profile) error {
	var b strings.Builder
	fmt.Fprintf(&b, "role: %s\ncatalog: %s\n\ngranted (%d):\n", p.Description, p.CatalogVersion, len(p.Granted))
	for _, g := range p.Granted {
		why := make([]string, len(g.Reasons))
		for i, r := range g.Reasons {
			why[i] = r.String()
		}
		fmt.Fprintf(&b, "  + %-28s %-6s %-8s %s\n", g.Tool, g.Operation, g.Risk, strings.Join(why, "; "))
	}
	fmt.Fprintf(&b, "\nexcluded (%d):\n", len(p.Excluded))
	for _, e := range p.Excluded {
		fmt.Fprintf(&b, "  - %-28s %-24s %s\n", e.Tool, e.Kind, e.Reason)
	}
	if len(p.Unmatched) > 0 {
		fmt.Fprintf(&b, "\nphrases that matched no tool: %s\n", strings.Join(p.Unmatched, "; "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}
