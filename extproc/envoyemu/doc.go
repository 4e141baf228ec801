// Package envoyemu is a Go emulation of Envoy's side of the ext_proc protocol:
// an HTTP reverse proxy that, for every downstream request, plays the
// envoy.filters.http.ext_proc filter against an ExternalProcessor gRPC server
// and then routes the (mutated) request as Envoy's router does, by a route
// table (Config.RouteConfig), or forwards it to one upstream
// (Config.Upstream).
//
// No Envoy binary is available to the project, so this package is the
// reference client used by the processor's tests and by the standalone dev
// proxy. It follows shared/docs/ENVOY_EXTPROC.md, which was compiled from
// Envoy's ext_proc sources and integration tests; the conformance tests in
// this package are named after the Envoy integration tests they mirror.
//
// # Emulated
//
//   - One bidi Process stream per downstream request, opened lazily at the
//     first message and shared by both directions; replies are routed by their
//     oneof to the request or response state machine. The first message carries
//     protocol_config; every message carries metadata_context; the configured
//     request/response attributes ride on the first message of each direction.
//   - Request/response header messages with lower-case keys, values in
//     raw_value, the pseudo-headers :method :path :scheme :authority (requests)
//     and :status (responses), end_of_stream when there is no body, after the
//     connection-manager step (the path handling below, hop-by-hop headers
//     stripped, x-forwarded-for appended, x-forwarded-proto set, x-request-id
//     generated when missing).
//     forward_rules filter what is sent.
//   - Body modes NONE, BUFFERED (one message with the whole body and
//     end_of_stream, an empty message for an empty body; over BufferLimit a
//     request gets 413 and a response 500) and STREAMED (one message per read,
//     pipelined like Envoy's chunk queue with BufferLimit bytes of
//     backpressure, each chunk forwarded only after its reply, then an empty
//     end_of_stream chunk; responses are flushed per chunk so SSE streams).
//   - BUFFERED_PARTIAL: the body is queued until it ends or passes
//     BufferLimit, then sent as one message (end_of_stream false when the
//     limit was hit or trailers follow); headers are held until its reply,
//     which may mutate them; the rest of the body passes unprocessed.
//   - FULL_DUPLEX_STREAMED (trailer mode SEND required, as Envoy's config
//     check; failure_mode_allow forced off once a chunk was sent): every read
//     goes to the processor at once, also before the headers reply; only
//     the bytes of BodyResponse streamed_response replies continue, until
//     one sets end_of_stream or the trailers reply arrives; a body reply
//     before the headers reply, or a plain body/clear_body, is spurious; no
//     message timer. Reached from the filter config or a mode_override
//     (honoured only when the filter's own body modes are not
//     FULL_DUPLEX_STREAMED).
//   - Trailers: request and response trailers reach the processor when the
//     trailer mode is SEND, after the body (BUFFERED and BUFFERED_PARTIAL
//     bodies then go with end_of_stream false, STREAMED sends no
//     end_of_stream chunk and the trailers message follows the last chunk
//     reply); TrailersResponse header mutations apply under the mutation
//     rules; trailers are forwarded to the upstream and downstream (a
//     failure after response headers resets the stream).
//   - observability_mode: messages flagged observability_mode, no
//     protocol_config, nothing awaited and every reply ignored, no timers;
//     only STREAMED bodies are sent; the stream is cancelled
//     deferred_close_timeout (default 5s) after the request ended.
//   - CONTINUE and CONTINUE_AND_REPLACE; header mutations under Envoy's
//     mutation rules (HeaderMutationRules incl. disallow_is_error and the
//     allow/disallow expressions) and the connection manager's default header
//     count (100) and size (60 KiB) limits; body mutations body and
//     clear_body; header mutations on a body reply only in BUFFERED.
//   - content-length: removed at header time for STREAMED and for
//     BUFFERED+SKIP (a set_headers of it is then skipped), kept for
//     BUFFERED+SEND where a body mutation must match it, else status_on_error.
//   - mode_override on headers replies when allow_mode_override is set,
//     checked against allowed_override_modes (request_header_mode ignored),
//     both body modes always replaced.
//   - ImmediateResponse at any time (status < 200 or unset becomes 200,
//     headers filtered by the mutation rules, raw body; the downstream stream
//     is reset instead when response headers already went out),
//     disable_immediate_response.
//   - message_timeout (default 200ms) per direction, re-armed on every send;
//     override_message_timeout up to max_message_timeout; fail-closed 504,
//     fail-open continue. gRPC errors: fail-closed status_on_error (default
//     500), fail-open continue. An OK close by the server continues the request
//     unprocessed. Spurious or wrong-oneof replies: fail-closed local reply
//     with status_on_error, fail-open continue.
//   - Untyped dynamic metadata: received into metadata_options
//     receiving_namespaces, forwarded from forwarding_namespaces.
//   - The side stream is cancelled (Envoy's reset) right after the last
//     expected reply, and in any case when the downstream request ends
//     (observability mode: deferred_close_timeout later).
//   - Request and response bodies flow at the same time (full duplex), and
//     an upstream failure after response headers resets the downstream
//     stream.
//   - The connection manager's path handling (Config.ConnectionManager,
//     connmgr.go and pathutil.go), applied to :path as the client sent it
//     before the route is picked and before the ext_proc filter sees the
//     headers, in ConnectionManagerUtility::maybeNormalizePath's order: a
//     :path not starting with '/' is answered 404 (absolute_path_rejected,
//     NonRelativePath); one with a '#' fragment 400 whatever the
//     configuration (http_reject_path_with_fragment); then
//     path_with_escaped_slashes_action unescapes %2F %2f %5C %5c (in the
//     path only) and, when there were any, REJECT_REQUEST answers 400,
//     UNESCAPE_AND_REDIRECT 307 with the final :path (query included) as
//     Location, after the steps below (400 for a gRPC content-type),
//     UNESCAPE_AND_FORWARD goes on (IMPLEMENTATION_SPECIFIC_DEFAULT is
//     KEEP_UNCHANGED); normalize_path (default off) strips parameters from
//     "." and ".." segments and canonicalizes the path as Chromium's
//     url::CanonicalizePath in the googleurl Envoy links does ("." and ".."
//     segments, also %2E-escaped or ended by '\', removed; '\' made '/';
//     percent-encoded ALPHA, DIGIT, '-', '_', '~' decoded; other escapes
//     kept as written; characters such as '"', '<', '|', control and
//     non-ASCII bytes percent-encoded; invalid escapes passed through), a
//     NUL (%00) making it fail with 400; merge_slashes (default off) then
//     merges runs of '/'. The 400s and the 307 have details
//     path_normalization_failed, an empty body and counters
//     FailedPathNormalization and RedirectedWithNormalizedPath. The query
//     string is never changed. The processor, the route table, the
//     request.path attribute, prefix_rewrite and x-envoy-original-path all
//     see the resulting :path; Result.Path keeps the client's.
//   - Routing (Config.RouteConfig, Envoy's RouteMatcher and router): the
//     virtual host is picked by the lower-cased :authority (or vhost_header)
//     among exact domains, then the longest "*suffix", then the longest
//     "prefix*", then "*" (ignore_port_in_host_matching honoured, else the
//     port is part of the host); then the first route whose prefix, path,
//     path_separated_prefix or safe_regex (case_sensitive honoured) matches
//     :path without query and fragment. The route is picked from the
//     request headers before the ext_proc filter runs (it still runs when
//     nothing matches). Once the filter lets the headers go, the router
//     answers a direct_response route with a local reply (details
//     direct_response; inline or file body within the route configuration's
//     max_direct_response_body_size_bytes), an unmatched request with 404
//     (route_not_found, Envoy's NR), and otherwise forwards to the route's
//     cluster (Config.Clusters) with :path after prefix_rewrite (the
//     matched prefix's length is replaced, x-envoy-original-path is set) and
//     :authority as the Host, unless host_rewrite_literal or
//     auto_host_rewrite (the cluster URL's host) replace it. These local
//     replies do not pass through the processor. Stats NoRoute and
//     DirectResponses, Result.RouteName.
//   - ExtProcPerRoute in typed_per_filter_config under the filter's name
//     (Config.FilterName) of the route configuration, the virtual host and
//     the route, merged as Envoy's mergePerRouteConfig (most specific wins):
//     disabled (all headers SKIP, bodies NONE), overrides.processing_mode
//     (replaces the whole mode, no field merge; mode_override still starts
//     from the filter's mode), overrides.grpc_service (a client from
//     Config.GrpcClients), overrides.grpc_initial_metadata (merged key by
//     key into the gRPC service's initial_metadata, sent as the stream's
//     metadata), overrides.metadata_options untyped namespaces and
//     overrides.failure_mode_allow. They are taken from the route picked
//     before the filter ran, once: a later re-route does not change them.
//   - Re-routing: a request-direction reply (headers, or body in any body
//     mode) with a header_mutation clears the route cache when it sets
//     clear_route_cache (route_cache_action DEFAULT), always (CLEAR) or never
//     (RETAIN, also disable_clear_route_cache); without a header_mutation
//     clear_route_cache is ignored (ClearRouteCacheIgnored;
//     ClearRouteCacheDisabled for RETAIN). The router then picks the route
//     again from the mutated :authority (mutable only with mutation_rules
//     allow_all_routing) and :path; a new route matching nothing is a 404.
//     Without a cleared cache a mutated :path keeps the route picked before,
//     and its prefix_rewrite replaces as many characters of the new path as
//     the route's prefix has (Envoy's release builds). Only replies that
//     arrive while the headers are held can re-route (STREAMED and
//     FULL_DUPLEX_STREAMED body replies come after the router ran).
//   - HTTP/1 connection reuse as Envoy's connection manager decides it: a
//     response that starts before the downstream request has been received
//     completely (downstream_rq_response_before_rq_complete) says
//     Connection: close and the connection closes after it. After a
//     CONTINUE_AND_REPLACE headers reply the rest of the body is drained.
//
// # Deliberate differences
//
//   - While pipelined STREAMED chunks await replies the message timer stays
//     armed (re-armed on each reply); Envoy stops it on every reply and only
//     re-arms it on the next send.
//   - At most 128 STREAMED chunks may be outstanding, besides the
//     BufferLimit byte bound Envoy applies.
//   - A :status mutation above 999 is refused, and an ImmediateResponse
//     status above 999 becomes 200: Go cannot send such codes.
//   - A request body nothing has read when a local reply goes out (an
//     ImmediateResponse to the request headers) is drained for up to 50ms
//     and 256 KiB first, standing in for what Envoy's codec receives while
//     the filter waits; only a body that ends within that keeps the HTTP/1
//     connection.
//   - After a mode_override to FULL_DUPLEX_STREAMED, content-length is
//     removed from the headers (the processor re-chunks the body).
//   - A buffered response with trailers is flushed before the trailers so
//     that Go's server frames it chunked.
//   - Header mutation values come from raw_value only and the append
//     BoolValue decides append versus overwrite; value and append_action are
//     ignored, as in Envoy's mutation_utils with send_header_raw_value on.
//   - Without a RouteConfig there is one route to Config.Upstream, with
//     httputil.ReverseProxy SetURL semantics: the upstream URL's path is
//     joined with :path and the Host header is the upstream URL's host
//     (Envoy keeps :authority); clear_route_cache then only counts.
//   - A cluster is one upstream URL (no load balancing, health checks or
//     connection pool settings); auto_host_rewrite uses that URL's host
//     (Envoy uses the upstream host's hostname, for DNS clusters only).
//   - The route's timeout, idle_timeout, retry, hedge, hash, rate limit,
//     CORS, upgrade, internal redirect, priority, decorator, tracing and
//     metadata settings are accepted and ignored, so the router adds no
//     x-envoy-expected-rq-timeout-ms header and never retries. A 3xx
//     direct_response gets no Location header.
//   - gRPC initial metadata values are sent as written; New rejects values
//     with command operators (%REQ(...)% and the like). Of grpc_service
//     only initial_metadata is read: the timeout and retry policy are not
//     applied.
//   - Go's HTTP server answers 400 itself, before the proxy sees the
//     request, to request targets it cannot parse: an invalid
//     percent-encoding ("%zz", a trailing "%") or a control character.
//     Envoy's codec takes the former, and normalize_path passes invalid
//     escapes through unchanged. An absolute-form HTTP/1 target
//     ("GET http://host/p") and "*" reach the connection manager step as Go
//     re-encodes them; any other :path is the request target byte for byte.
//
// # Not yet emulated
//
// New rejects configurations that need these:
//   - the GRPC body mode (a mode_override asking for it is ignored and
//     counted);
//   - send_body_without_waiting_for_header_response;
//   - http_service, processing_request_modifier, on_processing_response,
//     allow_content_length_header;
//   - in a RouteConfig: route match headers, query_parameters, cookies,
//     runtime_fraction, grpc, tls_context, dynamic_metadata and filter_state,
//     connect_matcher and path_match_policy; redirect, filter_action and
//     non_forwarding_action routes; cluster_header, weighted_clusters and
//     cluster specifier plugins; regex_rewrite, path_rewrite(_policy),
//     host_rewrite_header, host_rewrite_path_regex, append_x_forwarded_host;
//     request/response_headers_to_add/remove at any level; per-route and
//     per-virtual-host buffer limits; request mirroring; require_tls;
//     attempt count headers; virtual host matchers, route_specifiers, vhds,
//     internal_only_headers, ignore_path_parameters_in_path_matching;
//     direct_response body_format and environment_variable bodies; the
//     envoy.config.route.v3.FilterConfig wrapper in typed_per_filter_config;
//   - in a ConnectionManager: typed_header_validation_config (UHV, which
//     would replace the path handling), path_normalization_options, and the
//     host normalisations before routing, strip_matching_host_port,
//     strip_any_host_port and strip_trailing_host_dot.
//
// Silently absent:
//   - the connection manager's stream_idle_timeout, which is what ends a
//     FULL_DUPLEX_STREAMED exchange whose processor stops answering (Envoy's
//     ServerWaitTooLongBeforeSendRespDuplexStreamed): here it waits until
//     the downstream request goes away;
//   - the v1.40 standalone mode_override reply before the request_headers
//     reply, and CONTINUE_AND_REPLACE on a FULL_DUPLEX_STREAMED headers
//     reply;
//   - ExtProcPerRoute request_attributes, response_attributes and
//     emit_client_span overrides (Envoy ignores them too) and typed
//     metadata namespaces;
//   - typed dynamic metadata, gRPC-aware local replies (grpc_status), local
//     replies passing through the processor, the graceful half-close variant
//     of stream closing, STREAMED coalescing of a body that fully arrived
//     while the header reply was pending (the emulation does not read a body
//     before the header reply, so whatever arrived meanwhile becomes the first
//     chunk, never a single end_of_stream chunk).
//
// The package does not log. Proxy.Stats exposes Envoy's ext_proc counters and
// Config.Observer reports each finished exchange.
package envoyemu
