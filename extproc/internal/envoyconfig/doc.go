// Package envoyconfig holds the tests that validate the Envoy and Istio configurations in the
// repository's envoy/ directory against the go-control-plane protos (Envoy's own schema and
// protoc-gen-validate rules), because no Envoy binary can be run on our machines.
//
// Run them with `go test ./extproc/internal/envoyconfig/` from the repository root.
package envoyconfig
