package envoyemu

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
)

// The HTTP connection manager's checks and transformations of :path, run on
// the request headers before the route is picked and before any filter (the
// ext_proc filter included) sees them, as
// ConnectionManagerImpl::ActiveStream::decodeHeaders and
// ConnectionManagerUtility::maybeNormalizePath do:
//
//  1. A :path that does not start with '/' is answered 404
//     (absolute_path_rejected).
//  2. A :path with a '#' is rejected (runtime guard
//     http_reject_path_with_fragment, on by default), whatever the
//     configuration.
//  3. Unless path_with_escaped_slashes_action is KEEP_UNCHANGED, %2F %2f %5C
//     %5c in the path are unescaped; if there were any, REJECT_REQUEST
//     rejects the request, UNESCAPE_AND_REDIRECT redirects once the steps
//     below are done, UNESCAPE_AND_FORWARD goes on.
//  4. normalize_path: PathUtil::canonicalPath; a path it cannot canonicalize
//     is rejected.
//  5. merge_slashes: PathUtil::mergeSlashes.
//
// A rejected request, and a redirected one with a gRPC content-type, is
// answered 400 (path_normalization_failed); a redirect is a 307 whose
// Location is the new :path (details path_normalization_failed as well).
// The query string is never changed.

// pathSettings is the connection manager's path configuration.
type pathSettings struct {
	normalize      bool // normalize_path
	mergeSlashes   bool // merge_slashes
	escapedSlashes hcmv3.HttpConnectionManager_PathWithEscapedSlashesAction
}

// newPathSettings reads the path handling of hcm (nil: Envoy's defaults) and
// refuses the connection manager settings that change the request headers
// before routing in ways the emulation does not cover.
func newPathSettings(hcm *hcmv3.HttpConnectionManager) (pathSettings, error) {
	// Unset, normalize_path is the runtime value
	// http_connection_manager.normalize_path, 0% by default: off.
	ps := pathSettings{
		normalize:      hcm.GetNormalizePath().GetValue(),
		mergeSlashes:   hcm.GetMergeSlashes(),
		escapedSlashes: hcm.GetPathWithEscapedSlashesAction(),
	}
	var errs []error
	notYet := func(what string) {
		errs = append(errs, fmt.Errorf("envoyemu: ConnectionManager.%s is not yet emulated", what))
	}
	switch ps.escapedSlashes {
	case hcmv3.HttpConnectionManager_IMPLEMENTATION_SPECIFIC_DEFAULT:
		// The runtime value http_connection_manager.path_with_escaped_slashes_action,
		// KEEP_UNCHANGED by default.
		ps.escapedSlashes = hcmv3.HttpConnectionManager_KEEP_UNCHANGED
	case hcmv3.HttpConnectionManager_KEEP_UNCHANGED, hcmv3.HttpConnectionManager_REJECT_REQUEST,
		hcmv3.HttpConnectionManager_UNESCAPE_AND_REDIRECT, hcmv3.HttpConnectionManager_UNESCAPE_AND_FORWARD:
	default:
		errs = append(errs, fmt.Errorf("envoyemu: ConnectionManager.path_with_escaped_slashes_action %d is not defined", ps.escapedSlashes))
	}
	if hcm.GetTypedHeaderValidationConfig() != nil {
		notYet("typed_header_validation_config") // UHV replaces the path settings
	}
	if hcm.GetPathNormalizationOptions() != nil {
		notYet("path_normalization_options")
	}
	if hcm.GetStripMatchingHostPort() || hcm.GetStripAnyHostPort() {
		notYet("strip_port_mode")
	}
	if hcm.GetStripTrailingHostDot() {
		notYet("strip_trailing_host_dot")
	}
	return ps, errors.Join(errs...)
}

// normalizePathAction is ConnectionManagerUtility::NormalizePathAction.
type normalizePathAction int

const (
	pathContinue normalizePathAction = iota
	pathReject
	pathRedirect
)

// maybeNormalizePath is ConnectionManagerUtility::maybeNormalizePath on a
// non-empty :path: steps 2 to 5 above. It returns the new :path and what to
// do with the request.
func (ps pathSettings) maybeNormalizePath(path string) (string, normalizePathAction) {
	if strings.Contains(path, "#") {
		return path, pathReject
	}
	action := pathContinue
	if ps.escapedSlashes != hcmv3.HttpConnectionManager_KEEP_UNCHANGED {
		var found bool
		if path, found = unescapeSlashes(path); found {
			switch ps.escapedSlashes {
			case hcmv3.HttpConnectionManager_REJECT_REQUEST:
				return path, pathReject
			case hcmv3.HttpConnectionManager_UNESCAPE_AND_REDIRECT:
				action = pathRedirect
			}
		}
	}
	if ps.normalize {
		var ok bool
		if path, ok = canonicalPath(path); !ok {
			return path, pathReject
		}
	}
	// After canonicalization, "to catch potential edge cases with percent
	// encoding" (Envoy's comment).
	if ps.mergeSlashes {
		path = mergeSlashes(path)
	}
	return path, action
}

// checkRequestPath runs the connection manager's :path step on the request
// headers, before routing. It returns the local reply that answers the
// request instead, or nil to go on with the (possibly new) :path.
func (ex *exchange) checkRequestPath() *localReply {
	h := ex.reqHeaders
	path, _ := h.get(":path")
	switch {
	case path == "":
		return &localReply{status: http.StatusNotFound, details: "missing_path_rejected"}
	case path[0] != '/':
		ex.p.stats.nonRelativePath.Add(1)
		return &localReply{status: http.StatusNotFound, details: "absolute_path_rejected"}
	}
	newPath, action := ex.p.s.paths.maybeNormalizePath(path)
	if newPath != path {
		h.set(":path", newPath)
	}
	if action == pathReject || (action == pathRedirect && hasGrpcContentType(h)) {
		ex.p.stats.failedPathNormalization.Add(1)
		return &localReply{status: http.StatusBadRequest, details: "path_normalization_failed"}
	}
	if action == pathRedirect {
		ex.p.stats.redirectedWithNormalizedPath.Add(1)
		return &localReply{status: http.StatusTemporaryRedirect, location: newPath, details: "path_normalization_failed"}
	}
	return nil
}

// hasGrpcContentType is Grpc::Common::hasGrpcContentType: content-type
// application/grpc, possibly followed by "+something" (not application/grpc-web).
func hasGrpcContentType(h *headerMap) bool {
	const grpc = "application/grpc"
	ct, _ := h.get("content-type")
	return strings.HasPrefix(ct, grpc) && (len(ct) == len(grpc) || ct[len(grpc)] == '+')
}
