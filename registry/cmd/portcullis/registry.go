package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	registryv1 "github.com/portcullis/portcullis/proto/gen/go/portcullis/registry/v1"
	"github.com/portcullis/portcullis/proto/gen/go/portcullis/registry/v1/registryv1connect"
	"github.com/portcullis/portcullis/registry/catalog"
	"github.com/portcullis/portcullis/registry/server"
)

// DefaultRegistryURL is where the registry commands find the registry
// (portcullis-registry's default -listen).
const DefaultRegistryURL = "http://127.0.0.1:8090"

// registryFlags are the connection flags of the registry commands. The
// token comes from --token-file or $PORTCULLIS_REGISTRY_TOKEN, never from a
// flag value (it would show in the process list).
type registryFlags struct {
	url, tokenFile, env string
}

func (r *registryFlags) register(fs *flag.FlagSet, defaultEnv string) {
	fs.StringVar(&r.url, "url", DefaultRegistryURL, "registry URL")
	fs.StringVar(&r.tokenFile, "token-file", "", "file holding the bearer token (default: $PORTCULLIS_REGISTRY_TOKEN)")
	fs.StringVar(&r.env, "environment", defaultEnv, "policy environment: preprod or prod")
}

func (r *registryFlags) client() (registryv1connect.RegistryServiceClient, error) {
	token := os.Getenv("PORTCULLIS_REGISTRY_TOKEN")
	if r.tokenFile != "" {
		b, err := os.ReadFile(r.tokenFile)
		if err != nil {
			return nil, err
		}
		token = strings.TrimSpace(string(b))
	}
	if token == "" {
		return nil, errors.New("no registry token: use --token-file or $PORTCULLIS_REGISTRY_TOKEN")
	}
	auth := connect.UnaryInterceptorFunc(func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
			req.Header().Set("Authorization", "Bearer "+token)
			return next(ctx, req)
		}
	})
	return registryv1connect.NewRegistryServiceClient(http.DefaultClient, strings.TrimRight(r.url, "/"), connect.WithInterceptors(auth)), nil
}

// registryCmd runs `portcullis registry apply|get`.
func registryCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "apply" && args[0] != "get") {
		return errors.New(`registry: want "registry apply [flags] DIR" or "registry get [flags] KIND [NAME]"`)
	}
	fs := flag.NewFlagSet("registry "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	var rf registryFlags
	rf.register(fs, "preprod")
	dryRun, prune := new(bool), new(bool)
	if args[0] == "apply" {
		dryRun = fs.Bool("dry-run", false, "validate DIR locally and print what would be written")
		prune = fs.Bool("prune", false, "delete objects the registry has and DIR does not")
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if args[0] == "get" {
		return registryGet(ctx, rf, fs.Args(), stdout)
	}
	if fs.NArg() != 1 {
		return errors.New("registry apply: one catalog directory is required")
	}
	// Validate locally first: errors name file, line and field before
	// anything is sent.
	cat, err := catalog.LoadDir(fs.Arg(0))
	if err != nil {
		return err
	}
	objs := server.CatalogObjects(cat)
	if *dryRun {
		fmt.Fprintf(stdout, "%s: valid (catalog %s): %d data policies, %d servers, %d skills, %d personas, %d agents would be written to %s\n",
			fs.Arg(0), cat.Version(), len(objs.DataPolicies), len(objs.Servers), len(objs.Skills), len(objs.Personas), len(objs.Agents), rf.env)
		return nil
	}
	c, err := rf.client()
	if err != nil {
		return err
	}
	return apply(ctx, c, rf.env, objs, *prune, stdout)
}

// apply writes objs in dependency order, each write chained on the version
// the previous one produced (a concurrent writer makes it stop with
// ABORTED instead of interleaving).
func apply(ctx context.Context, c registryv1connect.RegistryServiceClient, env string, objs server.Objects, prune bool, w io.Writer) error {
	snap, err := c.GetSnapshot(ctx, connect.NewRequest(&registryv1.GetSnapshotRequest{Environment: env}))
	if err != nil {
		return err
	}
	version := snap.Msg.GetSnapshot().GetVersion()
	written := 0
	step := func(what string, put func(expected string) (string, error)) error {
		v, err := put(version)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if v != version {
			written++
		}
		version = v
		return nil
	}
	if err := step("settings", func(ev string) (string, error) {
		r, err := c.PutSettings(ctx, connect.NewRequest(&registryv1.PutSettingsRequest{Environment: env, Settings: objs.Settings, ExpectedVersion: ev}))
		return r.Msg.GetVersion(), err
	}); err != nil {
		return err
	}
	for _, d := range objs.DataPolicies {
		if err := step("data policy "+d.GetName(), func(ev string) (string, error) {
			r, err := c.PutDataPolicy(ctx, connect.NewRequest(&registryv1.PutDataPolicyRequest{Environment: env, DataPolicy: d, ExpectedVersion: ev}))
			return r.Msg.GetVersion(), err
		}); err != nil {
			return err
		}
	}
	for _, s := range objs.Servers {
		if err := step("server "+s.GetName(), func(ev string) (string, error) {
			r, err := c.PutServer(ctx, connect.NewRequest(&registryv1.PutServerRequest{Environment: env, Server: s, ExpectedVersion: ev}))
			return r.Msg.GetVersion(), err
		}); err != nil {
			return err
		}
	}
	for _, s := range objs.Skills {
		if err := step("skill "+s.GetName(), func(ev string) (string, error) {
			r, err := c.PutSkill(ctx, connect.NewRequest(&registryv1.PutSkillRequest{Environment: env, Skill: s, ExpectedVersion: ev}))
			return r.Msg.GetVersion(), err
		}); err != nil {
			return err
		}
	}
	for _, p := range objs.Personas {
		if err := step("persona "+p.GetName(), func(ev string) (string, error) {
			r, err := c.PutPersona(ctx, connect.NewRequest(&registryv1.PutPersonaRequest{Environment: env, Persona: p, ExpectedVersion: ev}))
			return r.Msg.GetVersion(), err
		}); err != nil {
			return err
		}
	}
	for _, a := range objs.Agents {
		if err := step("agent "+a.GetId(), func(ev string) (string, error) {
			r, err := c.PutAgent(ctx, connect.NewRequest(&registryv1.PutAgentRequest{Environment: env, Agent: a, ExpectedVersion: ev}))
			return r.Msg.GetVersion(), err
		}); err != nil {
			return err
		}
	}
	deleted := 0
	if prune {
		n, err := pruneMissing(ctx, c, env, objs, &version)
		if err != nil {
			return err
		}
		deleted = n
	}
	fmt.Fprintf(w, "%s: %d writes changed the policy set, %d objects deleted; now at %s\n", env, written, deleted, version)
	return nil
}

// pruneMissing deletes, dependants first, what the registry has and objs
// lacks.
func pruneMissing(ctx context.Context, c registryv1connect.RegistryServiceClient, env string, objs server.Objects, version *string) (int, error) {
	n := 0
	del := func(what string, f func(ev string) (string, error)) error {
		v, err := f(*version)
		if err != nil {
			return fmt.Errorf("delete %s: %w", what, err)
		}
		*version = v
		n++
		return nil
	}
	agents, err := c.ListAgents(ctx, connect.NewRequest(&registryv1.ListAgentsRequest{Environment: env}))
	if err != nil {
		return n, err
	}
	for _, a := range agents.Msg.GetAgents() {
		if !slices.ContainsFunc(objs.Agents, func(x *registryv1.Agent) bool { return x.GetId() == a.GetId() }) {
			if err := del("agent "+a.GetId(), func(ev string) (string, error) {
				r, err := c.DeleteAgent(ctx, connect.NewRequest(&registryv1.DeleteAgentRequest{Environment: env, Id: a.GetId(), ExpectedVersion: ev}))
				return r.Msg.GetVersion(), err
			}); err != nil {
				return n, err
			}
		}
	}
	personas, err := c.ListPersonas(ctx, connect.NewRequest(&registryv1.ListPersonasRequest{Environment: env}))
	if err != nil {
		return n, err
	}
	for _, p := range personas.Msg.GetPersonas() {
		if !slices.ContainsFunc(objs.Personas, func(x *registryv1.Persona) bool { return x.GetName() == p.GetName() }) {
			if err := del("persona "+p.GetName(), func(ev string) (string, error) {
				r, err := c.DeletePersona(ctx, connect.NewRequest(&registryv1.DeletePersonaRequest{Environment: env, Name: p.GetName(), ExpectedVersion: ev}))
				return r.Msg.GetVersion(), err
			}); err != nil {
				return n, err
			}
		}
	}
	skills, err := c.ListSkills(ctx, connect.NewRequest(&registryv1.ListSkillsRequest{Environment: env}))
	if err != nil {
		return n, err
	}
	for _, s := range skills.Msg.GetSkills() {
		if !slices.ContainsFunc(objs.Skills, func(x *registryv1.Skill) bool { return x.GetName() == s.GetName() }) {
			if err := del("skill "+s.GetName(), func(ev string) (string, error) {
				r, err := c.DeleteSkill(ctx, connect.NewRequest(&registryv1.DeleteSkillRequest{Environment: env, Name: s.GetName(), ExpectedVersion: ev}))
				return r.Msg.GetVersion(), err
			}); err != nil {
				return n, err
			}
		}
	}
	servers, err := c.ListServers(ctx, connect.NewRequest(&registryv1.ListServersRequest{Environment: env}))
	if err != nil {
		return n, err
	}
	for _, s := range servers.Msg.GetServers() {
		if !slices.ContainsFunc(objs.Servers, func(x *registryv1.Server) bool { return x.GetName() == s.GetName() }) {
			if err := del("server "+s.GetName(), func(ev string) (string, error) {
				r, err := c.DeleteServer(ctx, connect.NewRequest(&registryv1.DeleteServerRequest{Environment: env, Name: s.GetName(), ExpectedVersion: ev}))
				return r.Msg.GetVersion(), err
			}); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// registryGet prints one object or a list as JSON.
func registryGet(ctx context.Context, rf registryFlags, args []string, w io.Writer) error {
	if len(args) < 1 || len(args) > 2 {
		return errors.New("registry get: want KIND [NAME] (KIND: servers, skills, personas, agents, data-policies, settings, snapshot)")
	}
	c, err := rf.client()
	if err != nil {
		return err
	}
	name := ""
	if len(args) == 2 {
		name = args[1]
	}
	env := rf.env
	var msg proto.Message
	switch strings.TrimSuffix(args[0], "s") {
	case "server":
		if name != "" {
			r, err := c.GetServer(ctx, connect.NewRequest(&registryv1.GetServerRequest{Environment: env, Name: name}))
			if err != nil {
				return err
			}
			msg = r.Msg
		} else if r, err := c.ListServers(ctx, connect.NewRequest(&registryv1.ListServersRequest{Environment: env})); err != nil {
			return err
		} else {
			msg = r.Msg
		}
	case "skill":
		if name != "" {
			r, err := c.GetSkill(ctx, connect.NewRequest(&registryv1.GetSkillRequest{Environment: env, Name: name}))
			if err != nil {
				return err
			}
			msg = r.Msg
		} else if r, err := c.ListSkills(ctx, connect.NewRequest(&registryv1.ListSkillsRequest{Environment: env})); err != nil {
			return err
		} else {
			msg = r.Msg
		}
	case "persona":
		if name != "" {
			r, err := c.GetPersona(ctx, connect.NewRequest(&registryv1.GetPersonaRequest{Environment: env, Name: name}))
			if err != nil {
				return err
			}
			msg = r.Msg
		} else if r, err := c.ListPersonas(ctx, connect.NewRequest(&registryv1.ListPersonasRequest{Environment: env})); err != nil {
			return err
		} else {
			msg = r.Msg
		}
	case "agent":
		if name != "" {
			r, err := c.GetAgent(ctx, connect.NewRequest(&registryv1.GetAgentRequest{Environment: env, Id: name}))
			if err != nil {
				return err
			}
			msg = r.Msg
		} else if r, err := c.ListAgents(ctx, connect.NewRequest(&registryv1.ListAgentsRequest{Environment: env})); err != nil {
			return err
		} else {
			msg = r.Msg
		}
	case "data-policie", "data-policy":
		if name != "" {
			r, err := c.GetDataPolicy(ctx, connect.NewRequest(&registryv1.GetDataPolicyRequest{Environment: env, Name: name}))
			if err != nil {
				return err
			}
			msg = r.Msg
		} else if r, err := c.ListDataPolicies(ctx, connect.NewRequest(&registryv1.ListDataPoliciesRequest{Environment: env})); err != nil {
			return err
		} else {
			msg = r.Msg
		}
	case "setting":
		r, err := c.GetSettings(ctx, connect.NewRequest(&registryv1.GetSettingsRequest{Environment: env}))
		if err != nil {
			return err
		}
		msg = r.Msg
	case "snapshot":
		r, err := c.GetSnapshot(ctx, connect.NewRequest(&registryv1.GetSnapshotRequest{Environment: env}))
		if err != nil {
			return err
		}
		msg = r.Msg
	default:
		return fmt.Errorf("registry get: unknown kind %q", args[0])
	}
	b, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(msg)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}

// policyCmd runs `portcullis policy promote`.
func policyCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "promote" {
		return errors.New(`policy: want "policy promote [--from preprod] [--to prod] [--from-version V]"`)
	}
	fs := flag.NewFlagSet("policy promote", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var rf registryFlags
	rf.register(fs, "")
	from := fs.String("from", "preprod", "source environment")
	to := fs.String("to", "prod", "target environment")
	fromVersion := fs.String("from-version", "", "promote only if the source is still at this (reviewed) version")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	c, err := rf.client()
	if err != nil {
		return err
	}
	r, err := c.Promote(ctx, connect.NewRequest(&registryv1.PromoteRequest{From: *from, To: *to, FromVersion: *fromVersion}))
	if err != nil {
		return err
	}
	b, err := protojson.Marshal(r.Msg)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "promoted %s → %s: %s\n", *from, *to, b)
	return err
}
