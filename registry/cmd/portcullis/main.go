// Command portcullis is the operator CLI:
//
//	portcullis detectors          list the detector types
//	portcullis scan --jsonl       read {"text": "..."} lines on stdin, write
//	                              {"findings":[{"type","start","end"}]} lines
//	                              (byte offsets into the UTF-8 text)
//	portcullis openapi import     Swagger/OpenAPI → MCP tools (JSON summary)
//	portcullis registry apply     catalog directory → registry (Connect API)
//	portcullis registry get       objects and snapshots from the registry
//	portcullis policy promote     pre-production → production
//	portcullis persona compile    role description → default-deny profile
//	portcullis persona diff       catalog persona → compiled profile, for review
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/portcullis/portcullis/extproc/dlp"
)

func main() {
	if err := Main(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "portcullis:", err)
		}
		os.Exit(1)
	}
}

const usage = `usage: portcullis <command> [flags]

commands:
  detectors        list the sensitive-data detector types
  scan --jsonl     scan {"text": "..."} lines from stdin, one result line per input line
  openapi import [--dry-run] [--include SEL] [--exclude SEL] [--catalog DIR | --registry URL --token-file F]
                 [--server NAME --url URL --owner WHO] FILE|DIR...
                   generate MCP tools from Swagger 2.0 / OpenAPI 3.x; print a JSON summary
                   (and, without --dry-run, register the generated server in the catalog directory
                   or through the registry API)
  registry apply [--url URL] [--token-file F] [--environment preprod] [--prune] [--dry-run] DIR
                   validate a catalog directory and write it to the registry
  registry get [--url URL] [--token-file F] [--environment preprod] KIND [NAME]
                   print servers, skills, personas, agents, data-policies, settings or snapshot
  policy promote [--from preprod] [--to prod] [--from-version V]
                   copy the reviewed pre-production policy set to production
  persona compile [--catalog DIR] [--json] DESCRIPTION
                   compile a role description into a default-deny profile over the catalog
  persona diff --persona NAME [--catalog DIR] [--json] DESCRIPTION
                   the reviewable change from a catalog persona to the compiled profile`

// Main runs one command.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return errors.New("no command")
	}
	switch args[0] {
	case "detectors":
		return detectors(stdout)
	case "persona":
		return personaCmd(args[1:], stdout, stderr)
	case "registry":
		return registryCmd(ctx, args[1:], stdout, stderr)
	case "policy":
		return policyCmd(ctx, args[1:], stdout, stderr)
	case "openapi":
		return openapiCmd(ctx, args[1:], stdout, stderr, isTerminal(stderr))
	case "scan":
		fs := flag.NewFlagSet("scan", flag.ContinueOnError)
		fs.SetOutput(stderr)
		jsonl := fs.Bool("jsonl", false, `read {"text": "..."} lines, write {"findings": [...]} lines`)
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if !*jsonl {
			return errors.New("scan: only --jsonl input is supported")
		}
		return scanJSONL(stdin, stdout)
	case "-h", "--help", "help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	fmt.Fprintln(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

func detectors(w io.Writer) error {
	e, err := dlp.NewEngine(nil)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TYPE\tCATEGORY\tCHECK\tCONTEXT\tTAGS")
	infos := e.Detectors()
	for _, in := range infos {
		ctx := "-"
		if in.Context {
			ctx = "keyword"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", in.ID, in.Category, in.Check, ctx, strings.Join(in.Tags, ","))
	}
	fmt.Fprintf(tw, "%d types\n", len(infos))
	return tw.Flush()
}

type finding struct {
	Type  string `json:"type"`
	Start int    `json:"start"`
	End   int    `json:"end"`
}

func scanJSONL(r io.Reader, w io.Writer) error {
	e, err := dlp.NewEngine(nil)
	if err != nil {
		return err
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	out := bufio.NewWriter(w)
	enc := json.NewEncoder(out)
	var fs []dlp.Finding
	for line := 1; sc.Scan(); line++ {
		var in struct {
			Text *string `json:"text"`
		}
		if err := json.Unmarshal(sc.Bytes(), &in); err != nil || in.Text == nil {
			return fmt.Errorf(`line %d: want {"text": "..."}`, line)
		}
		fs = e.Scan([]byte(*in.Text), fs[:0])
		res := struct {
			Findings []finding `json:"findings"`
		}{Findings: make([]finding, 0, len(fs))}
		for _, f := range fs {
			res.Findings = append(res.Findings, finding{f.Type, f.Start, f.End})
		}
		if err := enc.Encode(res); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return out.Flush()
}

// isTerminal reports whether w is a character device (a progress bar is
// drawn only there).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
