package server

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	registryv1 "github.com/portcullis/portcullis/proto/gen/go/portcullis/registry/v1"
	"github.com/portcullis/portcullis/proto/gen/go/portcullis/registry/v1/registryv1connect"
	"github.com/portcullis/portcullis/registry/catalog"
	"github.com/portcullis/portcullis/registry/persona"
)

// NewHandler returns the Connect handler of the RegistryService (Connect,
// gRPC and gRPC-Web; JSON and binary) over store, with every call
// authenticated and authorised against tokens, and the path to mount it on.
// Serve it with HTTP/2 cleartext enabled for gRPC clients; Connect clients,
// including curl, work over HTTP/1.1. Request messages are bounded to
// 12 MiB (room for ImportOpenAPI's 8 MiB document as base64 JSON):
//
//	curl -H 'Authorization: Bearer $TOKEN' -H 'Content-Type: application/json' \
//	  -d '{"environment":"preprod"}' http://HOST/portcullis.registry.v1.RegistryService/ListServers
func NewHandler(store *Store, tokens *Tokens, opts ...connect.HandlerOption) (string, http.Handler) {
	opts = append([]connect.HandlerOption{connect.WithInterceptors(AuthInterceptor(tokens)), connect.WithReadMaxBytes(maxReadBytes)}, opts...)
	return registryv1connect.NewRegistryServiceHandler(&Service{store: store}, opts...)
}

// Service implements the RegistryService over a Store. Callers must put
// AuthInterceptor in front of it (NewHandler does).
type Service struct {
	registryv1connect.UnimplementedRegistryServiceHandler
	store *Store
}

var _ registryv1connect.RegistryServiceHandler = (*Service)(nil)

var objectNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,62}$`)

// errNotFound marks a missing object; mapped to CodeNotFound.
type errNotFound struct{ what, name, env string }

func (e *errNotFound) Error() string {
	return fmt.Sprintf("%s %q not found in %s", e.what, e.name, e.env)
}

func invalid(field, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	err := connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("%s: %s", field, msg))
	if d, e := connect.NewErrorDetail(&registryv1.ValidationFailure{Violations: []*registryv1.Violation{{Field: field, Description: msg}}}); e == nil {
		err.AddDetail(d)
	}
	return err
}

// toConnect maps the core's errors to Connect codes, once, at the edge.
func toConnect(err error) error {
	var ce *connect.Error
	var ve *catalog.ValidationError
	var conflict *ConflictError
	var nf *errNotFound
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ce):
		return ce
	case errors.As(err, &ve):
		out := connect.NewError(connect.CodeInvalidArgument, ve)
		vf := &registryv1.ValidationFailure{}
		for _, is := range ve.Issues {
			vf.Violations = append(vf.Violations, &registryv1.Violation{File: is.Pos.File, Line: int32(is.Pos.Line),
				Column: int32(is.Pos.Column), Field: is.Path, Description: is.Msg})
		}
		if d, e := connect.NewErrorDetail(vf); e == nil {
			out.AddDetail(d)
		}
		return out
	case errors.As(err, &conflict):
		return connect.NewError(connect.CodeAborted, conflict)
	case errors.As(err, &nf):
		return connect.NewError(connect.CodeNotFound, nf)
	default:
		return connect.NewError(connect.CodeInternal, err)
	}
}

func checkEnv(env string) error {
	if !slices.Contains(Environments, env) {
		return invalid("environment", "unknown environment %q (want preprod or prod)", env)
	}
	return nil
}

func (s *Service) state(env string) (*State, error) {
	if err := checkEnv(env); err != nil {
		return nil, err
	}
	return s.store.Current(env), nil
}

func (s *Service) update(ctx context.Context, env, expected, action string, edit func(map[string][]byte) error) (*State, error) {
	if err := checkEnv(env); err != nil {
		return nil, err
	}
	p, _ := PrincipalFrom(ctx)
	st, err := s.store.Update(env, expected, p.Name, action, edit)
	return st, toConnect(err)
}

// kind describes one object kind of the catalog for the generic CRUD code.
type kind[P any] struct {
	list   string // top-level catalog key and folder
	key    string // the identifying field
	label  string // for messages and the field path of a Put
	nameOf func(P) string
	yaml   func(P) any
	find   func(*catalog.Catalog, string) (P, bool)
	all    func(*catalog.Catalog) []P
}

func get[P any](s *Service, k kind[P], env, name string) (P, *State, error) {
	var zero P
	st, err := s.state(env)
	if err != nil {
		return zero, nil, err
	}
	obj, ok := k.find(st.Catalog, name)
	if !ok {
		return zero, nil, toConnect(&errNotFound{what: k.label, name: name, env: env})
	}
	return obj, st, nil
}

func list[P any](s *Service, k kind[P], env string) ([]P, *State, error) {
	st, err := s.state(env)
	if err != nil {
		return nil, nil, err
	}
	return k.all(st.Catalog), st, nil
}

func put[P any](ctx context.Context, s *Service, k kind[P], env string, obj P, present bool, expected string) (P, *State, error) {
	var zero P
	if !present {
		return zero, nil, invalid(k.label, "required")
	}
	name := k.nameOf(obj)
	if !objectNameRE.MatchString(name) {
		return zero, nil, invalid(k.label+"."+k.key, "invalid %s %q (want [a-z0-9][a-z0-9_.-]*, at most 63 characters)", k.key, name)
	}
	st, err := s.update(ctx, env, expected, "put "+k.label+" "+name, func(files map[string][]byte) error {
		return putObject(files, k.list, k.key, name, k.yaml(obj))
	})
	if err != nil {
		return zero, nil, err
	}
	out, _ := k.find(st.Catalog, name)
	return out, st, nil
}

func del[P any](ctx context.Context, s *Service, k kind[P], env, name, expected string) (*State, error) {
	if _, _, err := get(s, k, env, name); err != nil {
		return nil, err
	}
	return s.update(ctx, env, expected, "delete "+k.label+" "+name, func(files map[string][]byte) error {
		_, err := removeObject(files, k.list, k.key, name)
		return err
	})
}

func mapAll[T, P any](in []T, f func(T) P) []P {
	out := make([]P, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}

var (
	servers = kind[*registryv1.Server]{list: kindServers, key: "name", label: "server",
		nameOf: (*registryv1.Server).GetName, yaml: func(p *registryv1.Server) any { return serverYAML(p) },
		find: func(c *catalog.Catalog, n string) (*registryv1.Server, bool) {
			if s := c.Server(n); s != nil {
				return serverProto(s), true
			}
			return nil, false
		},
		all: func(c *catalog.Catalog) []*registryv1.Server { return mapAll(c.Servers(), serverProto) }}
	skills = kind[*registryv1.Skill]{list: kindSkills, key: "name", label: "skill",
		nameOf: (*registryv1.Skill).GetName, yaml: func(p *registryv1.Skill) any { return skillYAML(p) },
		find: func(c *catalog.Catalog, n string) (*registryv1.Skill, bool) {
			if s := c.Skill(n); s != nil {
				return skillProto(s), true
			}
			return nil, false
		},
		all: func(c *catalog.Catalog) []*registryv1.Skill { return mapAll(c.Skills(), skillProto) }}
	personas = kind[*registryv1.Persona]{list: kindPersonas, key: "name", label: "persona",
		nameOf: (*registryv1.Persona).GetName, yaml: func(p *registryv1.Persona) any { return personaYAML(p) },
		find: func(c *catalog.Catalog, n string) (*registryv1.Persona, bool) {
			if s := c.Persona(n); s != nil {
				return personaProto(s), true
			}
			return nil, false
		},
		all: func(c *catalog.Catalog) []*registryv1.Persona { return mapAll(c.Personas(), personaProto) }}
	agents = kind[*registryv1.Agent]{list: kindAgents, key: "id", label: "agent",
		nameOf: (*registryv1.Agent).GetId, yaml: func(p *registryv1.Agent) any { return agentYAML(p) },
		find: func(c *catalog.Catalog, n string) (*registryv1.Agent, bool) {
			if s := c.Agent(n); s != nil {
				return agentProto(s), true
			}
			return nil, false
		},
		all: func(c *catalog.Catalog) []*registryv1.Agent { return mapAll(c.Agents(), agentProto) }}
	dataPolicies = kind[*registryv1.DataPolicy]{list: kindDataPolicies, key: "name", label: "data_policy",
		nameOf: (*registryv1.DataPolicy).GetName, yaml: func(p *registryv1.DataPolicy) any { return dataPolicyYAML(p) },
		find: func(c *catalog.Catalog, n string) (*registryv1.DataPolicy, bool) {
			if s := c.DataPolicy(n); s != nil {
				return dataPolicyProto(s), true
			}
			return nil, false
		},
		all: func(c *catalog.Catalog) []*registryv1.DataPolicy { return mapAll(c.DataPolicies(), dataPolicyProto) }}
)

// Servers.

// GetServer implements RegistryServiceHandler.
func (s *Service) GetServer(_ context.Context, r *connect.Request[registryv1.GetServerRequest]) (*connect.Response[registryv1.GetServerResponse], error) {
	o, st, err := get(s, servers, r.Msg.GetEnvironment(), r.Msg.GetName())
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&registryv1.GetServerResponse{Server: o, Version: st.Version, Revision: st.Revision}), nil
}

// ListServers implements RegistryServiceHandler.
func (s *Service) ListServers(_ context.Context, r *connect.Request[registryv1.ListServersRequest]) (*connect.Response[registryv1.ListServersResponse], error) {
	o, st, err := list(s, servers, r.Msg.GetEnvironment())
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&registryv1.ListServersResponse{Servers: o, Version: st.Version, Revision: st.Revision}), nil
}

// PutServer implements RegistryServiceHandler.
func (s *Service) PutServer(ctx context.Context, r *connect.Request[registryv1.PutServerRequest]) (*connect.Response[registryv1.PutServerResponse], error) {
	o, st, err := put(ctx, s, servers, r.Msg.GetEnvironment(), r.Msg.GetServer(), r.Msg.GetServer() != nil, r.Msg.GetExpectedVersion())
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&registryv1.PutServerResponse{Server: o, Version: st.Version, Revision: st.Revision}), nil
}

// DeleteServer implements RegistryServiceHandler.
func (s *Service) DeleteServer(ctx context.Context, r *connect.Request[registryv1.DeleteServerRequest]) (*connect.Response[registryv1.DeleteServerResponse], error) {
	st, err := del(ctx, s, servers, r.Msg.GetEnvironment(), r.Msg.GetName(), r.Msg.GetExpectedVersion())
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&registryv1.DeleteServerResponse{Version: st.Version, Revision: st.Revision}), nil
}

// Skills.

// GetSkill implements RegistryServiceHandler.
func (s *Service) GetSkill(_ context.Context, r *connect.Request[registryv1.GetSkillRequest]) (*connect.Response[registryv1.GetSkillResponse], error) {
	o, st, err := get(s, skills, r.Msg.GetEnvironment(), r.Msg.GetName())
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&registryv1.GetSkillResponse{Skill: o, Version: st.Version, Revision: st.Revision}), nil
}

// ListSkills implements RegistryServiceHandler.
func (s *Service) ListSkills(_ context.Context, r *connect.Request[registryv1.ListSkillsRequest]) (*connect.Response[registryv1.ListSkillsResponse], error) {
	o, st, err := list(s, skills, r.Msg.GetEnvironment())
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&registryv1.ListSkillsResponse{Skills: o, Version: st.Version, Revision: st.Revision}), nil
}

// PutSkill implements RegistryServiceHandler.
func (s *Service) PutSkill(ctx context.Context, r *connect.Request[registryv1.PutSkillRequest]) (*connect.Response[registryv1.PutSkillResponse], error) {
	o, st, err := put(ctx, s, skills, r.Msg.GetEnvironment(), r.Msg.GetSkill(), r.Msg.GetSkill() != nil, r.Msg.GetExpectedVersion())
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&registryv1.PutSkillResponse{Skill: o, Version: st.Version, Revision: st.Revision}), nil
}

// DeleteSkill implements RegistryServiceHandler.
func (s *Service) DeleteSkill(ctx context.Context, r *connect.Request[registryv1.DeleteSkillRequest]) (*connect.Response[registryv1.DeleteSkillResponse], error) {
	st, err := del(ctx, s, skills, r.Msg.GetEnvironment(), r.Msg.GetName(), r.Msg.GetExpectedVersion())
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&registryv1.DeleteSkillResponse{Version: st.Version, Revision: st.Revision}), nil
}

// Personas.

// GetPersona implements RegistryServiceHandler.
func (s *Service) GetPersona(_ context.Context, r *connect.Request[registryv1.GetPersonaRequest]) (*connect.Response[registryv1.GetPersonaResponse], error) {
	o, st, err := get(s, personas, r.Msg.GetEnvironment(), r.Msg.GetName())
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&registryv1.GetPersonaResponse{Persona: o, Version: st.Version, Revision: st.Revision}), nil
}

// ListPersonas implements RegistryServiceHandler.
func (s *Service) ListPersonas(_ context.Context, r *connect.Request[registryv1.ListPersonasRequest]) (*connect.Response[registryv1.ListPersonasResponse], error) {
	o, st, err := list(s, personas, r.Msg.GetEnvironment())
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&registryv1.ListPersonasResponse{Personas: o, Version: st.Version, Revision: st.Revision}), nil
}

// PutPersona implements RegistryServiceHandler.
func (s *Service) PutPersona(ctx context.Context, r *connect.Request[registryv1.PutPersonaRequest]) (*connect.Response[registryv1.PutPersonaResponse], error) {
	o, st, err := put(ctx, s, personas, r.Msg.GetEnvironment(), r.Msg.GetPersona(), r.Msg.GetPersona() != nil, r.Msg.GetExpectedVersion())
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&registryv1.PutPersonaResponse{Persona: o, Version: st.Version, Revision: st.Revision}), nil
}

// DeletePersona implements RegistryServiceHandler.
func (s *Service) DeletePersona(ctx context.Context, r *connect.Request[registryv1.DeletePersonaRequest]) (*connect.Response[registryv1.DeletePersonaResponse], error) {
	st, err := del(ctx, s, personas, r.Msg.GetEnvironment(), r.Msg.GetName(), r.Msg.GetExpectedVersion())
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&registryv1.DeletePersonaResponse{Version: st.Version, Revision: st.Revision}), nil
}

// Agents.

// GetAgent implements RegistryServiceHandler.
func (s *Service) GetAgent(_ context.Context, r *connect.Request[registryv1.GetAgentRequest]) (*connect.Response[registryv1.GetAgentResponse], error) {
	o, st, err := get(s, agents, r.Msg.GetEnvironment(), r.Msg.GetId())
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&registryv1.GetAgentResponse{Agent: o, Version: st.Version, Revision: st.Revision}), nil
}

// ListAgents implements RegistryServiceHandler.
func (s *Service) ListAgents(_ context.Context, r *connect.Request[registryv1.ListAgentsRequest]) (*connect.Response[registryv1.ListAgentsResponse], error) {
	o, st, err := list(s, agents, r.Msg.GetEnvironment())
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&registryv1.ListAgentsResponse{Agents: o, Version: st.Version, Revision: st.Revision}), nil
}

// PutAgent implements RegistryServiceHandler.
func (s *Service) PutAgent(ctx context.Context, r *connect.Request[registryv1.PutAgentRequest]) (*connect.Response[registryv1.PutAgentResponse], error) {
	o, st, err := put(ctx, s, agents, r.Msg.GetEnvironment(), r.Msg.GetAgent(), r.Msg.GetAgent() != nil, r.Msg.GetExpectedVersion())
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&registryv1.PutAgentResponse{Agent: o, Version: st.Version, Revision: st.Revision}), nil
}

// DeleteAgent implements RegistryServiceHandler.
func (s *Service) DeleteAgent(ctx context.Context, r *connect.Request[registryv1.DeleteAgentRequest]) (*connect.Response[registryv1.DeleteAgentResponse], error) {
	st, err := del(ctx, s, agents, r.Msg.GetEnvironment(), r.Msg.GetId(), r.Msg.GetExpectedVersion())
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&registryv1.DeleteAgentResponse{Version: st.Version, Revision: st.Revision}), nil
}

// Data policies.

// GetDataPolicy implements RegistryServiceHandler.
func (s *Service) GetDataPolicy(_ context.Context, r *connect.Request[registryv1.GetDataPolicyRequest]) (*connect.Response[registryv1.GetDataPolicyResponse], error) {
	o, st, err := get(s, dataPolicies, r.Msg.GetEnvironment(), r.Msg.GetName())
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&registryv1.GetDataPolicyResponse{DataPolicy: o, Version: st.Version, Revision: st.Revision}), nil
}

// ListDataPolicies implements RegistryServiceHandler.
func (s *Service) ListDataPolicies(_ context.Context, r *connect.Request[registryv1.ListDataPoliciesRequest]) (*connect.Response[registryv1.ListDataPoliciesResponse], error) {
	o, st, err := list(s, dataPolicies, r.Msg.GetEnvironment())
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&registryv1.ListDataPoliciesResponse{DataPolicies: o, Version: st.Version, Revision: st.Revision}), nil
}

// PutDataPolicy implements RegistryServiceHandler.
func (s *Service) PutDataPolicy(ctx context.Context, r *connect.Request[registryv1.PutDataPolicyRequest]) (*connect.Response[registryv1.PutDataPolicyResponse], error) {
	o, st, err := put(ctx, s, dataPolicies, r.Msg.GetEnvironment(), r.Msg.GetDataPolicy(), r.Msg.GetDataPolicy() != nil, r.Msg.GetExpectedVersion())
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&registryv1.PutDataPolicyResponse{DataPolicy: o, Version: st.Version, Revision: st.Revision}), nil
}

// DeleteDataPolicy implements RegistryServiceHandler.
func (s *Service) DeleteDataPolicy(ctx context.Context, r *connect.Request[registryv1.DeleteDataPolicyRequest]) (*connect.Response[registryv1.DeleteDataPolicyResponse], error) {
	st, err := del(ctx, s, dataPolicies, r.Msg.GetEnvironment(), r.Msg.GetName(), r.Msg.GetExpectedVersion())
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&registryv1.DeleteDataPolicyResponse{Version: st.Version, Revision: st.Revision}), nil
}

// Settings.

// GetSettings implements RegistryServiceHandler.
func (s *Service) GetSettings(_ context.Context, r *connect.Request[registryv1.GetSettingsRequest]) (*connect.Response[registryv1.GetSettingsResponse], error) {
	st, err := s.state(r.Msg.GetEnvironment())
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&registryv1.GetSettingsResponse{Settings: settingsProto(st.Catalog.Settings()), Version: st.Version, Revision: st.Revision}), nil
}

// PutSettings implements RegistryServiceHandler.
func (s *Service) PutSettings(ctx context.Context, r *connect.Request[registryv1.PutSettingsRequest]) (*connect.Response[registryv1.PutSettingsResponse], error) {
	st, err := s.update(ctx, r.Msg.GetEnvironment(), r.Msg.GetExpectedVersion(), "put settings", func(files map[string][]byte) error {
		return putSettings(files, settingsYAML(r.Msg.GetSettings()))
	})
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&registryv1.PutSettingsResponse{Settings: settingsProto(st.Catalog.Settings()), Version: st.Version, Revision: st.Revision}), nil
}

// Persona compiler.

// CompilePersona implements RegistryServiceHandler.
func (s *Service) CompilePersona(_ context.Context, r *connect.Request[registryv1.CompilePersonaRequest]) (*connect.Response[registryv1.CompilePersonaResponse], error) {
	st, err := s.state(r.Msg.GetEnvironment())
	if err != nil {
		return nil, err
	}
	prof, err := persona.Compile(r.Msg.GetDescription(), st.Catalog, persona.Options{})
	if errors.Is(err, persona.ErrEmptyDescription) {
		return nil, invalid("description", "required")
	}
	if err != nil {
		return nil, toConnect(err)
	}
	return connect.NewResponse(&registryv1.CompilePersonaResponse{Profile: profileProto(prof), Persona: personaProto(prof.Persona("", st.Catalog))}), nil
}

// DiffPersona implements RegistryServiceHandler.
func (s *Service) DiffPersona(_ context.Context, r *connect.Request[registryv1.DiffPersonaRequest]) (*connect.Response[registryv1.DiffPersonaResponse], error) {
	st, err := s.state(r.Msg.GetEnvironment())
	if err != nil {
		return nil, err
	}
	name := r.Msg.GetPersona()
	if !objectNameRE.MatchString(name) {
		return nil, invalid("persona", "invalid persona name %q", name)
	}
	prof, err := persona.Compile(r.Msg.GetDescription(), st.Catalog, persona.Options{})
	if errors.Is(err, persona.ErrEmptyDescription) {
		return nil, invalid("description", "required")
	}
	if err != nil {
		return nil, toConnect(err)
	}
	d := persona.Diff(st.Catalog, name, st.Catalog.Persona(name), prof)
	return connect.NewResponse(&registryv1.DiffPersonaResponse{Diff: diffProto(d), Profile: profileProto(prof)}), nil
}

// Snapshots.

// GetSnapshot implements RegistryServiceHandler.
func (s *Service) GetSnapshot(_ context.Context, r *connect.Request[registryv1.GetSnapshotRequest]) (*connect.Response[registryv1.GetSnapshotResponse], error) {
	st, err := s.state(r.Msg.GetEnvironment())
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&registryv1.GetSnapshotResponse{Snapshot: snapshotProto(st)}), nil
}

// WatchSnapshots implements RegistryServiceHandler. The stream ends with
// CodeUnavailable when the call's context ends (client gone or registry
// shutting down); clients reconnect with the version they enforce.
func (s *Service) WatchSnapshots(ctx context.Context, r *connect.Request[registryv1.WatchSnapshotsRequest], stream *connect.ServerStream[registryv1.WatchSnapshotsResponse]) error {
	env := r.Msg.GetEnvironment()
	if err := checkEnv(env); err != nil {
		return err
	}
	known := r.Msg.GetKnownVersion()
	if st := s.store.Current(env); st.Version == known {
		// Nothing to send yet: flush the headers so the client's call
		// returns and it knows it is connected.
		if err := stream.Send(nil); err != nil {
			return err
		}
	}
	for {
		st, changed := s.store.Watch(env)
		if st.Version != known {
			if err := stream.Send(&registryv1.WatchSnapshotsResponse{Snapshot: snapshotProto(st)}); err != nil {
				return err
			}
			known = st.Version
		}
		select {
		case <-ctx.Done():
			return connect.NewError(connect.CodeUnavailable, errors.New("watch ended; reconnect with known_version"))
		case <-changed:
		}
	}
}

// Promote implements RegistryServiceHandler.
func (s *Service) Promote(ctx context.Context, r *connect.Request[registryv1.PromoteRequest]) (*connect.Response[registryv1.PromoteResponse], error) {
	from, to := r.Msg.GetFrom(), r.Msg.GetTo()
	if from != EnvPreprod || to != EnvProd {
		return nil, invalid("from", "only preprod → prod promotion is supported (got %q → %q)", from, to)
	}
	src := s.store.Current(from)
	if v := r.Msg.GetFromVersion(); v != "" && v != src.Version {
		return nil, toConnect(&ConflictError{Env: from, Expected: v, Current: src.Version})
	}
	st, err := s.update(ctx, to, r.Msg.GetExpectedVersion(), fmt.Sprintf("promote %s revision %d", from, src.Revision), func(files map[string][]byte) error {
		clear(files)
		maps.Copy(files, src.Files)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&registryv1.PromoteResponse{Version: st.Version, Revision: st.Revision, PromoteTime: timestamppb.New(st.Created)}), nil
}

// WhoAmI implements RegistryServiceHandler.
func (s *Service) WhoAmI(ctx context.Context, _ *connect.Request[registryv1.WhoAmIRequest]) (*connect.Response[registryv1.WhoAmIResponse], error) {
	p, ok := PrincipalFrom(ctx)
	if !ok {
		return nil, connect.NewError(connect.CodeUnauthenticated, errors.New("no principal"))
	}
	out := &registryv1.WhoAmIResponse{Name: p.Name, Role: string(p.Role)}
	for _, perm := range RolePermissions[p.Role] {
		out.Permissions = append(out.Permissions, string(perm))
	}
	return connect.NewResponse(out), nil
}
