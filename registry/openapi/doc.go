// Package openapi imports Swagger 2.0 and OpenAPI 3.0/3.1 (and 3.2) documents
// and turns their operations into MCP tool definitions: a name, a
// description, a JSON Schema (draft 2020-12) input schema, a request template
// that says how to build the HTTP request from the tool arguments, a risk
// score and a default rate limit.
//
// # Layout
//
// The package has a thin parser edge and a pure core. load.go, v2.go and
// v3.go are the only files that see libopenapi types; they map a document to
// plain [operation] values. Everything else (selection, naming, schemas,
// risk, request building) works on those values and imports no parser.
// The generated-server runtime lives in the mcpserver sub-package.
//
// # Library choice
//
// The parser is github.com/pb33f/libopenapi (v0.42.4). Both candidates were
// measured on the 40 documents of third_party/corpora/openapi:
//
//   - libopenapi built every document (Swagger 2.0, 3.0, 3.1 and the 3.2
//     tags example) with no error, including the multi-file Swagger 2.0
//     petstore (relative file $refs) and every $ref cycle, and reads 2.0
//     natively, so formData, collectionFormat and consumes survive as written.
//   - kin-openapi (v0.153.0) loaded the 3.x documents, but it reads 2.0 only
//     through openapi2conv, which refused the multi-file petstore
//     ("disallowed external reference"), and its validator rejected six
//     corpus documents for problems that do not stop a call from working
//     (example values, conflicting path templates, an undefined security
//     scheme).
//
// # Schema bounds
//
// $refs are inlined, because MCP clients and the filter expect a
// self-contained inputSchema. A $ref that is already being expanded further
// up the same branch (a cycle) is not expanded again: it becomes an empty
// schema (any value) whose description names the reference. Independently,
// nesting deeper than [Options.MaxSchemaDepth] (default 12) is cut the same
// way, and one tool's schema stops expanding after [Options.MaxSchemaNodes]
// (default 5000) schema nodes, so a large document cannot produce an
// exponentially large tool. A cut is always towards accepting more, never
// towards rejecting valid input.
//
// # Risk
//
// Every tool gets a score from 0 to 100 and a level: low (0-24), medium
// (25-49), high (50-74), critical (75-100). See [Score] for the rules.
package openapi
