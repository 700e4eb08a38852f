package policy

import (
	"encoding/json"
	"fmt"
)

// InputVersion is the version of the evaluation document's shape, given to policies as
// input.idp.version. It changes only when a field changes meaning or goes away; fields are added
// without a new version.
const InputVersion = "1"

// Input is what one evaluation sees: one planned resource change and who plans it where.
type Input struct {
	Change ResourceChange
	IDP    Context
}

// ResourceChange mirrors one entry of resource_changes in `tofu show -json`, so that the same rules
// run in the provider and in conftest against a whole plan. Values are JSON-shaped: maps, slices,
// strings, numbers, booleans and nil.
type ResourceChange struct {
	Address string `json:"address,omitempty"`
	// Mode is "managed" (the default when empty) or "data".
	Mode         string `json:"mode"`
	Type         string `json:"type"`
	Name         string `json:"name,omitempty"`
	ProviderName string `json:"provider_name,omitempty"`
	Change       Change `json:"change"`
}

// Change is the change of a ResourceChange. Actions are Terraform's: ["create"], ["update"],
// ["delete"], ["delete", "create"] (replace), ["no-op"], ["read"].
type Change struct {
	Actions []string `json:"actions"`
	Before  any      `json:"before"`
	After   any      `json:"after"`
	// AfterUnknown has the shape of After with true where a value is only known at apply (or true
	// for the whole value).
	AfterUnknown any `json:"after_unknown,omitempty"`
}

// Context says who plans the change and for which cluster: input.idp of the policies.
type Context struct {
	// Team is the caller's team, e.g. "payments"; the platform team may do what others may not.
	Team string `json:"team,omitempty"`
	// Identity is the caller, e.g. a user or workload identity.
	Identity string          `json:"identity,omitempty"`
	Cluster  *ClusterContext `json:"cluster,omitempty"`
}

// ClusterContext describes the platform cluster a change belongs to (for an idp_cluster, itself).
type ClusterContext struct {
	Name  string `json:"name,omitempty"`
	Cloud string `json:"cloud,omitempty"`
	// Environment is e.g. "production"; policies fall back to the cluster's labels when empty.
	Environment string            `json:"environment,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
}

// document is the evaluation input: the shape of `tofu show -json` (resource_changes at the top)
// with the one change, plus idp.
func (in Input) document() map[string]any {
	change := in.Change
	if change.Mode == "" {
		change.Mode = "managed"
	}
	if change.Change.Actions == nil {
		change.Change.Actions = []string{}
	}
	return map[string]any{
		"resource_changes": []ResourceChange{change},
		"idp":              idpDocument{Version: InputVersion, Context: in.IDP},
	}
}

// JSON is the evaluation input as the policies see it, for `opa eval --input` or conftest.
func (in Input) JSON() ([]byte, error) {
	raw, err := json.Marshal(in.document())
	if err != nil {
		return nil, fmt.Errorf("cannot write the policy input: %w", err)
	}
	return raw, nil
}

type idpDocument struct {
	Version string `json:"version"`
	Context
}
