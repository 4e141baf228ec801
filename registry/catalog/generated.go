package catalog

import (
	"regexp"
	"strings"
)

// Naming and classification of servers generated from OpenAPI documents,
// shared by the registry API (ImportOpenAPI) and the CLI's catalog mode.

// OperationForMethod maps an HTTP method to the catalog's operation kind:
// GET, HEAD and OPTIONS read, DELETE deletes, anything else writes.
func OperationForMethod(method string) Operation {
	switch strings.ToUpper(method) {
	case "GET", "HEAD", "OPTIONS":
		return OpRead
	case "DELETE":
		return OpDelete
	}
	return OpWrite
}

var nonServerName = regexp.MustCompile(`[^a-z0-9-]+`)

// ServerNameFor derives a catalog server name from a document's title (or,
// without one, its file name): lower case, runs of other characters
// replaced by "-", at most 63 characters; "generated" when nothing is left.
func ServerNameFor(title, file string) string {
	base := title
	if base == "" {
		base = file
		if i := strings.LastIndexAny(base, `/\`); i >= 0 {
			base = base[i+1:]
		}
		if i := strings.LastIndex(base, "."); i > 0 {
			base = base[:i]
		}
	}
	n := strings.Trim(nonServerName.ReplaceAllString(strings.ToLower(base), "-"), "-")
	if len(n) > 63 {
		n = strings.TrimRight(n[:63], "-")
	}
	if n == "" {
		n = "generated"
	}
	return n
}
