package server

import (
	registryv1 "github.com/portcullis/portcullis/proto/gen/go/portcullis/registry/v1"
	"github.com/portcullis/portcullis/registry/catalog"
)

// Objects are a catalog's contents as API messages, for clients that push
// a directory through the API (`portcullis registry apply`).
type Objects struct {
	Settings     *registryv1.Settings
	DataPolicies []*registryv1.DataPolicy
	Servers      []*registryv1.Server
	Skills       []*registryv1.Skill
	Personas     []*registryv1.Persona
	Agents       []*registryv1.Agent
}

// CatalogObjects converts a loaded catalog. Writing them in field order
// (settings, data policies, servers, skills, personas, agents) never
// references an object not yet written.
func CatalogObjects(cat *catalog.Catalog) Objects {
	o := Objects{Settings: settingsProto(cat.Settings())}
	for _, d := range cat.DataPolicies() {
		o.DataPolicies = append(o.DataPolicies, dataPolicyProto(d))
	}
	for _, s := range cat.Servers() {
		o.Servers = append(o.Servers, serverProto(s))
	}
	for _, s := range cat.Skills() {
		o.Skills = append(o.Skills, skillProto(s))
	}
	for _, p := range cat.Personas() {
		o.Personas = append(o.Personas, personaProto(p))
	}
	for _, a := range cat.Agents() {
		o.Agents = append(o.Agents, agentProto(a))
	}
	return o
}
