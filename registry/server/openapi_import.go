package server

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/structpb"

	registryv1 "github.com/portcullis/portcullis/proto/gen/go/portcullis/registry/v1"
	"github.com/portcullis/portcullis/registry/catalog"
	"github.com/portcullis/portcullis/registry/openapi"
)

// MaxImportDocumentBytes bounds the document of an ImportOpenAPI call
// (8 MiB). Larger specs are imported with the CLI's catalog-directory mode.
const MaxImportDocumentBytes = 8 << 20

// maxReadBytes bounds every request message the handler reads: an 8 MiB
// document is 10.7 MiB as base64 in JSON, plus the other fields.
const maxReadBytes = 12 << 20

const maxDocumentName = 255

// generatedTags are always added to a server registered by ImportOpenAPI.
var generatedTags = []string{"generated", "openapi"}

// ImportOpenAPI implements RegistryServiceHandler: it generates tools from
// one OpenAPI document and, unless dry_run, registers the generated server
// through the same validated, atomic, versioned write as PutServer.
func (s *Service) ImportOpenAPI(ctx context.Context, r *connect.Request[registryv1.ImportOpenAPIRequest]) (*connect.Response[registryv1.ImportOpenAPIResponse], error) {
	m := r.Msg
	if err := checkEnv(m.GetEnvironment()); err != nil {
		return nil, err
	}
	name := m.GetDocumentName()
	if name == "" {
		name = "document"
	}
	if len(name) > maxDocumentName || strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return nil, invalid("document_name", "must be at most %d printable characters", maxDocumentName)
	}
	if len(m.GetDocument()) == 0 {
		return nil, invalid("document", "required")
	}
	if len(m.GetDocument()) > MaxImportDocumentBytes {
		return nil, invalid("document", "%d bytes exceeds the %d-byte limit", len(m.GetDocument()), MaxImportDocumentBytes)
	}
	if !m.GetDryRun() {
		// Check the request before the (possibly slow) parse.
		if err := checkImportServer(m.GetServer()); err != nil {
			return nil, err
		}
	}
	doc, err := openapi.ImportBytes(ctx, name, m.GetDocument(), openapi.Options{
		Include: m.GetInclude(), Exclude: m.GetExclude(), NamePrefix: m.GetNamePrefix()})
	if err != nil {
		if ctx.Err() != nil {
			return nil, connect.NewError(connect.CodeCanceled, ctx.Err())
		}
		// The parser's message names the document and what is wrong with it;
		// documents carry no secrets.
		return nil, invalid("document", "%s", strings.TrimPrefix(err.Error(), name+": "))
	}
	out := &registryv1.ImportOpenAPIResponse{Summary: importSummary(doc), Spec: doc.Spec, Title: doc.Title,
		Warnings: doc.Warnings, Tools: make([]*registryv1.GeneratedTool, 0, len(doc.Tools))}
	for _, t := range doc.Tools {
		out.Tools = append(out.Tools, &registryv1.GeneratedTool{Name: t.Name, Method: t.Request.Method, Path: t.Request.Path,
			OperationId: t.OperationID, Operation: string(catalog.OperationForMethod(t.Request.Method)), RiskLevel: t.Risk.Level,
			RiskScore: int32(t.Risk.Score), RiskReasons: t.Risk.Reasons, RateLimitPerHour: int32(t.RateLimitPerHour)})
	}
	if m.GetDryRun() {
		return connect.NewResponse(out), nil
	}
	srv, err := generatedServer(m.GetServer(), name, doc)
	if err != nil {
		return nil, err
	}
	stored, st, err := put(ctx, s, servers, m.GetEnvironment(), srv, true, m.GetExpectedVersion())
	if err != nil {
		return nil, err
	}
	out.Server, out.Version, out.Revision = stored, st.Version, st.Revision
	return connect.NewResponse(out), nil
}

// checkImportServer checks what the catalog cannot report precisely on its
// own: the request's server is there and the required fields are set. The
// catalog validates the rest (URL, environment, auth, name).
func checkImportServer(in *registryv1.ImportOpenAPIServer) error {
	switch {
	case in == nil:
		return invalid("server", "required unless dry_run")
	case in.GetUrl() == "":
		return invalid("server.url", "required: where the generated MCP server is served")
	case in.GetOwner() == "":
		return invalid("server.owner", "required")
	case in.GetEnvironment() == "":
		return invalid("server.environment", `required ("prod" or "dev")`)
	}
	return nil
}

// generatedServer is the catalog server of an import: the request's server
// with the document's tools (definitions, operation by method, risk level,
// default rate limit). Pins are left empty: the store computes them.
func generatedServer(in *registryv1.ImportOpenAPIServer, docName string, doc *openapi.Document) (*registryv1.Server, error) {
	name := in.GetName()
	if name == "" {
		name = catalog.ServerNameFor(doc.Title, docName)
	}
	desc := in.GetDescription()
	if desc == "" {
		desc = "Generated from " + docName
		if doc.Title != "" {
			desc += " (" + doc.Title + ")"
		}
	}
	tags := slices.Clone(in.GetTags())
	for _, t := range generatedTags {
		if !slices.Contains(tags, t) {
			tags = append(tags, t)
		}
	}
	auth := in.GetAuth()
	if auth == nil || auth.GetKind() == "" && auth.GetHeader() == "" && auth.GetCredentialRef() == "" {
		auth = &registryv1.Auth{Kind: string(catalog.AuthNone)}
	}
	out := &registryv1.Server{Name: name, Description: desc, Url: in.GetUrl(), Owner: in.GetOwner(),
		Environment: in.GetEnvironment(), Auth: auth, Tags: tags}
	for i, t := range doc.Tools {
		schema, err := toStruct(t.InputSchema)
		if err != nil {
			return nil, invalid(fmt.Sprintf("document.tools[%d].input_schema", i), "tool %s: %v", t.Name, err)
		}
		out.Tools = append(out.Tools, &registryv1.Tool{Name: t.Name, Description: t.Description, InputSchema: schema,
			Operation: string(catalog.OperationForMethod(t.Request.Method)), Risk: t.Risk.Level,
			RateLimitPerHour: int32(min(t.RateLimitPerHour, catalog.MaxRateLimitPerHour))})
	}
	return out, nil
}

// toStruct converts a generated JSON Schema to a Struct through JSON, which
// normalises the Go types the generator may use ([]string, int).
func toStruct(m map[string]any) (*structpb.Struct, error) {
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	s := &structpb.Struct{}
	if err := s.UnmarshalJSON(raw); err != nil {
		return nil, err
	}
	return s, nil
}

func importSummary(d *openapi.Document) *registryv1.ImportOpenAPISummary {
	out := &registryv1.ImportOpenAPISummary{Operations: int32(d.Summary.Operations), Selected: int32(d.Summary.Selected),
		Tools: int32(d.Summary.Tools), Skipped: int32(d.Summary.Skipped)}
	for _, sk := range d.Skipped {
		out.SkippedOperations = append(out.SkippedOperations, &registryv1.SkippedOperation{Method: sk.Method, Path: sk.Path,
			OperationId: sk.OperationID, Kind: sk.Kind, Reason: sk.Reason})
	}
	return out
}
