package envoyemu

import (
	"slices"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/protobuf/proto"
	structpb "google.golang.org/protobuf/types/known/structpb"
)

// metadataContextLocked builds the metadata_context every message carries:
// the stream's dynamic metadata of the untyped forwarding namespaces (Envoy's
// addDynamicMetadata). It is never nil.
func (ex *exchange) metadataContextLocked() *corev3.Metadata {
	md := &corev3.Metadata{}
	for _, ns := range ex.forwardingNamespaces {
		if v, ok := ex.metadata[ns]; ok {
			if md.FilterMetadata == nil {
				md.FilterMetadata = map[string]*structpb.Struct{}
			}
			md.FilterMetadata[ns] = proto.CloneOf(v)
		}
	}
	return md
}

// setDynamicMetadataLocked stores the reply's dynamic_metadata of the untyped
// receiving namespaces into the stream's dynamic metadata, merging fields like
// StreamInfo::setDynamicMetadata; other namespaces are dropped.
func (ex *exchange) setDynamicMetadataLocked(resp *extprocv3.ProcessingResponse) {
	for ns, v := range resp.GetDynamicMetadata().GetFields() {
		if !slices.Contains(ex.receivingNamespaces, ns) {
			continue
		}
		dst, ok := ex.metadata[ns]
		if !ok {
			dst = &structpb.Struct{Fields: map[string]*structpb.Value{}}
			ex.metadata[ns] = dst
		}
		for k, fv := range v.GetStructValue().GetFields() {
			dst.Fields[k] = proto.CloneOf(fv)
		}
	}
}

// metadataSnapshot copies the stream's dynamic metadata for a Result.
func (ex *exchange) metadataSnapshot() map[string]*structpb.Struct {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	if len(ex.metadata) == 0 {
		return nil
	}
	out := make(map[string]*structpb.Struct, len(ex.metadata))
	for ns, v := range ex.metadata {
		out[ns] = proto.CloneOf(v)
	}
	return out
}
