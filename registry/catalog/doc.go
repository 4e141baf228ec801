// Package catalog is the registry's source of truth: the MCP servers it
// trusts (with their pinned tool definitions), the skills built from those
// tools and the personas built from skills. It loads a GitOps directory of
// YAML files, validates it as a whole (every problem reported together, each
// naming file:line and the field path), and produces deterministic, versioned
// snapshots the filter can enforce.
//
// # Directory layout
//
// LoadDir reads every *.yaml and *.yml file under the directory, recursively,
// in lexical order. The convention is
//
//	servers/<server>.yaml    servers: [...]
//	skills/<area>.yaml       skills: [...]
//	personas/<team>.yaml     personas: [...]
//
// but the folder names carry no meaning: each file is a mapping whose only
// allowed top-level keys are servers, skills and personas, and a file may hold
// several YAML documents ("---"). Hidden files and folders (".git") are
// skipped.
//
// A server:
//
//	servers:
//	  - name: helpdesk                       # [a-z0-9][a-z0-9_.-]*, unique
//	    description: Customer support desk   # optional
//	    url: https://helpdesk.internal/mcp    # required, absolute http(s)
//	    owner: support-platform@example.com   # required
//	    environment: prod                     # required: prod or dev
//	    auth:                                 # optional; defaults to kind none
//	      kind: bearer                        # none, bearer, header, oauth2
//	      header: authorization               # defaults to authorization; required for kind header
//	      credential_ref: secret://helpdesk/token   # a reference, never a value
//	    tags: [external-sink]                 # optional labels
//	    tools:                                # the pinned tools/list snapshot
//	      - name: send_email
//	        description: Send an email to anyone.
//	        input_schema: {type: object, ...} # defaults to {"type":"object"}
//	        operation: write                  # read, write, delete, admin
//	        data_objects: [email]             # optional
//	        risk: high                        # low, medium, high, critical; defaults by operation
//	        tags: [external-sink]             # optional
//	        rate_limit_per_hour: 100          # optional calls per agent per hour; 0 or absent: unlimited
//	        pin: sha256:...                   # optional; when set it must equal PinHash
//
// rate_limit_per_hour is operator policy, not part of the tool's definition:
// the pin (name, description, input schema) does not cover it, so changing it
// never quarantines the tool. Each filter replica enforces it per agent and
// tool.
//
// Credential references take one of the forms file:/abs/path,
// secret://NAME/KEY (a mounted secret), env:NAME or vault://PATH.
//
// A skill lists tools as "server/tool" (or a bare tool name when exactly one
// server offers it):
//
//	skills:
//	  - name: ticket-reading
//	    description: Find and read support tickets.
//	    owner: support-platform@example.com
//	    risk: low                 # defaults to the highest risk of its tools
//	    tools: [helpdesk/search_tickets, helpdesk/get_ticket]
//	    data_objects: [ticket]    # each must be a data object of one of its tools
//
// A persona grants the union of its skills' tools plus add_tools minus
// remove_tools:
//
//	personas:
//	  - name: support-agent
//	    description: Reads and comments on support tickets.
//	    skills: [ticket-reading, ticket-commenting]
//	    add_tools: []
//	    remove_tools: []
//	    data_policy: support      # names a data-protection policy of the filter
package catalog
