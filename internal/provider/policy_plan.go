package provider

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/idp-platform/terraform-provider-idp/internal/crossplane"
	"github.com/idp-platform/terraform-provider-idp/internal/policy"
)

// policyEvaluationTimeout bounds one resource's evaluation; the shipped library takes well under a
// millisecond, so only a runaway user policy meets it.
const policyEvaluationTimeout = 10 * time.Second

// checkPolicy evaluates the provider's policies on a resource's planned change, as its ModifyPlan left
// it, and turns their verdicts into diagnostics on the attributes they name. Resources defer it at the
// top of ModifyPlan, so every plan of every resource is checked, destroys included (the rules decide
// what a destroy may do). Without a policy block nothing is evaluated.
func (b *backends) checkPolicy(ctx context.Context, typeName string, cluster policyCluster, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if b == nil || b.configs.policy == nil {
		return
	}
	engine, diags := b.Policy(ctx)
	if resp.Diagnostics.Append(diags...); diags.HasError() {
		return
	}
	change, err := plannedChange(typeName, req.State.Raw, resp.Plan.Raw, len(resp.RequiresReplace) > 0)
	if err != nil {
		resp.Diagnostics.AddError("Cannot give the planned change to the policies", err.Error())
		return
	}
	team, diags := b.policyTeam(ctx)
	if resp.Diagnostics.Append(diags...); diags.HasError() {
		return
	}
	input := policy.Input{Change: change, IDP: policy.Context{Team: team, Identity: b.configs.policy.identity}}
	if cluster.name != "" {
		input.IDP.Cluster = b.policyClusterContext(ctx, cluster)
	}
	ctx, cancel := context.WithTimeout(ctx, policyEvaluationTimeout)
	defer cancel()
	results, err := engine.Evaluate(ctx, input)
	if err != nil {
		// Fail closed: a policy that cannot be evaluated stops the plan.
		resp.Diagnostics.AddError("Cannot evaluate the policies", fmt.Sprintf("%s: %v", typeName, err))
		return
	}
	planType := resp.Plan.Raw.Type()
	if resp.Plan.Raw.IsNull() {
		planType = req.State.Raw.Type()
	}
	for _, result := range results {
		summary := "Policy " + result.Rule
		at, ok := attributePath(planType, result.Path)
		switch {
		case result.Severity == policy.SeverityWarning && ok:
			resp.Diagnostics.AddAttributeWarning(at, summary, result.Message)
		case result.Severity == policy.SeverityWarning:
			resp.Diagnostics.AddWarning(summary, result.Message)
		case ok:
			resp.Diagnostics.AddAttributeError(at, summary, result.Message)
		default:
			resp.Diagnostics.AddError(summary, result.Message)
		}
	}
}

// policyCluster names the platform cluster a change belongs to, with what the resource itself knows
// of it (an idp_cluster knows its cloud and tags).
type policyCluster struct {
	name   string
	cloud  string
	labels map[string]string
}

// policyClusterContext completes a change's cluster with the labels of its KubernetesCluster
// composite (its cloud and environment), read once per cluster and provider process. A registered
// cluster has none; a management cluster that cannot be read leaves the context as the resource gave it.
func (b *backends) policyClusterContext(ctx context.Context, cluster policyCluster) *policy.ClusterContext {
	out := &policy.ClusterContext{Name: cluster.name, Cloud: cluster.cloud, Labels: cluster.labels}
	if out.Cloud != "" || b.configs.management == nil {
		return out
	}
	b.mu.Lock()
	cached, ok := b.policyClusters[cluster.name]
	b.mu.Unlock()
	if !ok {
		xp, diags := b.Crossplane()
		if diags.HasError() {
			return out
		}
		found, _, err := xp.Get(ctx, cluster.name)
		switch {
		case errors.Is(err, crossplane.ErrNotFound):
			found.Cloud = "existing" // a registered cluster has no composite
		case err != nil:
			return out // asked again by the next change
		}
		cached = policy.ClusterContext{Name: cluster.name, Cloud: found.Cloud, Labels: found.Tags}
		b.mu.Lock()
		if b.policyClusters == nil {
			b.policyClusters = map[string]policy.ClusterContext{}
		}
		b.policyClusters[cluster.name] = cached
		b.mu.Unlock()
	}
	out.Cloud, out.Labels = cached.Cloud, cached.Labels
	if env := out.Labels["environment"]; env != "" {
		out.Environment = env
	}
	return out
}

// policyClusterFrom reads the cluster a change belongs to from the plan (the state, for a destroy):
// the attribute that names it, and for an idp_cluster also its cloud and tags.
func policyClusterFrom(ctx context.Context, req resource.ModifyPlanRequest, nameAttribute string, isCluster bool) policyCluster {
	source := req.Plan
	if req.Plan.Raw.IsNull() {
		source = tfsdk.Plan(req.State)
	}
	var name, cloud types.String
	_ = source.GetAttribute(ctx, path.Root(nameAttribute), &name)
	cluster := policyCluster{name: name.ValueString()}
	if isCluster {
		var tags types.Map
		_ = source.GetAttribute(ctx, path.Root("cloud"), &cloud)
		_ = source.GetAttribute(ctx, path.Root("tags"), &tags)
		cluster.cloud = cloud.ValueString()
		if !tags.IsNull() && !tags.IsUnknown() {
			cluster.labels = map[string]string{}
			_ = tags.ElementsAs(ctx, &cluster.labels, false)
		}
	}
	return cluster
}

// plannedChange is the resource change as `tofu show -json` shows it: actions, before, after and
// after_unknown.
func plannedChange(typeName string, before, after tftypes.Value, replace bool) (policy.ResourceChange, error) {
	change := policy.ResourceChange{Mode: "managed", Type: typeName}
	switch {
	case before.IsNull() && after.IsNull():
		change.Change.Actions = []string{"no-op"}
	case before.IsNull():
		change.Change.Actions = []string{"create"}
	case after.IsNull():
		change.Change.Actions = []string{"delete"}
	case replace:
		change.Change.Actions = []string{"delete", "create"}
	case before.Equal(after):
		change.Change.Actions = []string{"no-op"}
	default:
		change.Change.Actions = []string{"update"}
	}
	var err error
	if change.Change.Before, _, err = jsonValue(before); err != nil {
		return change, err
	}
	var unknown any
	if change.Change.After, unknown, err = jsonValue(after); err != nil {
		return change, err
	}
	if unknown == nil {
		unknown = map[string]any{}
	}
	change.Change.AfterUnknown = unknown
	return change, nil
}

// jsonValue converts a Terraform value to the JSON shape of plan output, and says where it is unknown:
// unknown is true for an unknown value, a map or list of the same shape holding true where a part is
// unknown, or nil where everything is known.
func jsonValue(v tftypes.Value) (value any, unknown any, err error) {
	if !v.IsKnown() {
		return nil, true, nil
	}
	if v.IsNull() {
		return nil, nil, nil
	}
	typ := v.Type()
	switch {
	case typ.Is(tftypes.String):
		var s string
		err = v.As(&s)
		return s, nil, err
	case typ.Is(tftypes.Bool):
		var b bool
		err = v.As(&b)
		return b, nil, err
	case typ.Is(tftypes.Number):
		var n big.Float
		if err = v.As(&n); err != nil {
			return nil, nil, err
		}
		if n.IsInt() {
			i, _ := n.Int64()
			return i, nil, nil
		}
		f, _ := n.Float64()
		return f, nil, nil
	case typ.Is(tftypes.Object{}) || typ.Is(tftypes.Map{}):
		var fields map[string]tftypes.Value
		if err = v.As(&fields); err != nil {
			return nil, nil, err
		}
		out, unknowns := map[string]any{}, map[string]any{}
		for name, field := range fields {
			value, u, err := jsonValue(field)
			if err != nil {
				return nil, nil, err
			}
			out[name] = value
			if u != nil {
				unknowns[name] = u
			}
		}
		if len(unknowns) == 0 {
			return out, nil, nil
		}
		return out, unknowns, nil
	default: // list, set, tuple
		var elements []tftypes.Value
		if err = v.As(&elements); err != nil {
			return nil, nil, err
		}
		out, unknowns, someUnknown := make([]any, 0, len(elements)), make([]any, len(elements)), false
		for i, element := range elements {
			value, u, err := jsonValue(element)
			if err != nil {
				return nil, nil, err
			}
			out = append(out, value)
			unknowns[i] = u
			someUnknown = someUnknown || u != nil
		}
		if !someUnknown {
			return out, nil, nil
		}
		for i := range unknowns {
			if unknowns[i] == nil {
				unknowns[i] = false
			}
		}
		return out, unknowns, nil
	}
}

// attributePath turns a policy result's path into the schema path it names, walking the resource's
// type: attribute names in objects, keys in maps, indexes in lists. ok is false for a path the
// schema does not have, whose diagnostic then goes on the resource.
func attributePath(typ tftypes.Type, steps []string) (path.Path, bool) {
	if len(steps) == 0 {
		return path.Empty(), false
	}
	at := path.Empty()
	for _, step := range steps {
		switch t := typ.(type) {
		case tftypes.Object:
			next, ok := t.AttributeTypes[step]
			if !ok {
				return at, false
			}
			at, typ = at.AtName(step), next
		case tftypes.Map:
			at, typ = at.AtMapKey(step), t.ElementType
		case tftypes.List:
			i, err := strconv.Atoi(step)
			if err != nil {
				return at, false
			}
			at, typ = at.AtListIndex(i), t.ElementType
		default:
			// Sets and tuples have no addressable elements here: the diagnostic goes on the attribute.
			return at, len(at.Steps()) > 0
		}
	}
	return at, true
}

// policyError is the diagnostic of a policy set that cannot be loaded: the plan stops (fail closed).
func policyError(err error) diag.Diagnostics {
	return diag.Diagnostics{diag.NewErrorDiagnostic("Cannot load the policies",
		err.Error()+"\n\nThe provider's policy block asks for policies, and none is applied unless all of them load: fix the "+
			"policy files (opa check), or remove the policy block.")}
}

// policyTeam is the team the policies see. A provider logged in to Vault with a team's role (idp_team)
// is that team, whatever the policy block says, so that a team's runs cannot claim another team's
// rules; otherwise it is the policy block's team.
func (b *backends) policyTeam(ctx context.Context) (string, diag.Diagnostics) {
	configured := b.configs.policy.team
	if !b.vaultConfigured() {
		return configured, nil
	}
	store, diags := b.Vault(ctx)
	if diags.HasError() {
		return "", diags // fail closed: who the caller is decides what the policies allow
	}
	identity := store.Identity()
	teams := identity.Teams()
	at := path.Root("policy").AtName("team")
	switch {
	case len(teams) == 0:
		return configured, nil
	case configured == "" && len(teams) == 1:
		return teams[0], nil
	case configured == "":
		return "", diag.Diagnostics{diag.NewAttributeErrorDiagnostic(at, "Team of the Vault login is ambiguous",
			fmt.Sprintf("The provider's Vault token carries the policies of the teams %s: set policy.team to the one this run acts for.", strings.Join(teams, ", ")))}
	case !slices.Contains(teams, configured):
		return "", diag.Diagnostics{diag.NewAttributeErrorDiagnostic(at, "Team does not match the Vault login",
			fmt.Sprintf("policy.team is %q, but the provider logs in to Vault as %s. Leave policy.team unset for a team's runs, or set it to %s.",
				configured, identity, strings.Join(teams, " or ")))}
	}
	return configured, nil
}
