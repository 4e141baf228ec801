// Package server is the registry's control plane: the RegistryService
// Connect API (proto/portcullis/registry/v1) over a Store of versioned,
// per-environment catalog directories, with bearer-token RBAC.
//
// The core is the Store (atomic, versioned, optimistic-concurrency writes of
// whole policy sets, validated with registry/catalog) and the YAML editing
// that turns one object's Put or Delete into a new file set; the Connect
// edge (Service, AuthInterceptor) maps requests to it and its errors to
// Connect codes in one place (toConnect). Nothing here logs.
package server
