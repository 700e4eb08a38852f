package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"sigs.k8s.io/yaml"

	"github.com/idp-platform/terraform-provider-idp/internal/addonstack"
	"github.com/idp-platform/terraform-provider-idp/internal/catalog"
	"github.com/idp-platform/terraform-provider-idp/internal/helm"
)

// resolvedStack is a stack's configuration resolved against the catalog, the cluster and the mirror.
type resolvedStack struct {
	cluster        registeredCluster
	catalogVersion string
	// addons are in install order.
	addons []addonstack.Addon
	// recorded is what goes with the composite (requested): the user's input per key, with what was
	// resolved from it that the spec does not hold.
	recorded  requestedStack
	requested string
}

// requestedStack is the input a stack was resolved from, recorded on its composite so that import and
// refresh give back the configuration, not the catalog's defaults merged into it.
type requestedStack struct {
	CatalogVersion string                    `json:"catalogVersion"`
	Addons         map[string]requestedAddon `json:"addons"`
}

type requestedAddon struct {
	// Name is the add-on's catalog name, as the spec and the composition know it.
	Name    string  `json:"name"`
	Version *string `json:"version,omitempty"`
	Values  *string `json:"values,omitempty"`
	Digest  string  `json:"digest,omitempty"`
	// Resolved is the version resolved for an add-on without a chart, whose spec holds none.
	Resolved string `json:"resolved,omitempty"`
}

// resolve checks a stack's configuration at plan (and again at apply): the cluster is registered, each
// add-on, version and dependency is in the catalog and supports the cluster's Kubernetes version, and
// each chart's values pass its schema (charts come from the mirror, once per provider process). It
// returns nil without diagnostics when something it needs is not known yet.
func (r *addonStackResource) resolve(ctx context.Context, model addonStackModel) (*resolvedStack, diag.Diagnostics) {
	var diags diag.Diagnostics
	for _, element := range model.Addons.Elements() {
		if element.IsUnknown() || element.IsNull() {
			return nil, diags // an entry computed at apply: resolved then
		}
	}
	inputs := map[string]addonInputModel{}
	diags.Append(model.Addons.ElementsAs(ctx, &inputs, false)...)
	if diags.HasError() {
		return nil, diags
	}
	for _, input := range inputs {
		if input.Version.IsUnknown() || input.Values.IsUnknown() {
			return nil, diags
		}
	}
	cluster, client, d := r.backends.ClusterClient(ctx, model.Cluster.ValueString(), path.Root("cluster"))
	if diags.Append(d...); diags.HasError() {
		return nil, diags
	}
	kubernetesVersion, err := client.ServerVersion(ctx)
	if err != nil {
		diags.Append(r.backends.workloadClusterError(cluster.name, "Cannot read the cluster's Kubernetes version", err,
			"The catalog checks each add-on version against it."))
		return nil, diags
	}
	request := catalog.AddonRequest{
		Cloud: cluster.kubeconfig.Origin, KubernetesVersion: kubernetesVersion, Mirror: r.backends.configs.addonChartMirror,
		Addons: map[string]catalog.AddonSelection{},
	}
	recorded := requestedStack{CatalogVersion: catalog.AddonCatalogVersion(), Addons: map[string]requestedAddon{}}
	for key, input := range inputs {
		request.Addons[key] = catalog.AddonSelection{Version: input.Version.ValueString(), Values: input.Values.ValueString()}
		recorded.Addons[key] = requestedAddon{Version: input.Version.ValueStringPointer(), Values: input.Values.ValueStringPointer()}
	}
	addons, problems := catalog.ResolveAddons(request)
	diags.Append(addonProblemDiagnostics(problems)...)
	if diags.HasError() {
		return nil, diags
	}
	diags.Append(r.checkAddonsUnique(ctx, model.Cluster.ValueString(), model.Name.ValueString(), addons)...)
	if diags.HasError() {
		return nil, diags
	}
	resolved := &resolvedStack{cluster: cluster, catalogVersion: recorded.CatalogVersion, addons: addons, recorded: recorded}
	for _, addon := range addons {
		key := resolved.keyOf(addon.Name)
		entry := recorded.Addons[key]
		entry.Name = addon.Name
		if definition, ok := catalog.Addon(key); ok && addon.Chart == nil {
			entry.Resolved = definition.DefaultVersion
			if entry.Version != nil {
				entry.Resolved = *entry.Version
			}
		}
		if addon.Chart != nil {
			digest, d := r.checkChart(ctx, key, *addon.Chart, pinnedDigest(key, addon.Chart.Version), addon.Values)
			if diags.Append(d...); diags.HasError() {
				continue
			}
			entry.Digest = digest
		}
		recorded.Addons[key] = entry
	}
	if diags.HasError() {
		return nil, diags
	}
	raw, err := json.Marshal(recorded)
	if err != nil {
		diags.AddError("Cannot record the add-on stack's input", err.Error())
		return nil, diags
	}
	resolved.recorded, resolved.requested = recorded, string(raw)
	return resolved, diags
}

// addonProblemDiagnostics puts each problem the catalog found on the attribute it is about.
func addonProblemDiagnostics(problems []catalog.AddonProblem) diag.Diagnostics {
	var diags diag.Diagnostics
	for _, problem := range problems {
		switch {
		case problem.Addon != "":
			at := path.Root("addons").AtMapKey(problem.Addon)
			if problem.Attribute != "" {
				at = at.AtName(problem.Attribute)
			}
			diags.AddAttributeError(at, problem.Summary, problem.Detail)
		case problem.Attribute == "mirror":
			diags.AddError(problem.Summary, problem.Detail+" (the provider's addon_chart_mirror)")
		default: // the cluster's cloud or Kubernetes version
			diags.AddAttributeError(path.Root("cluster"), problem.Summary, problem.Detail)
		}
	}
	return diags
}

// checkChart fetches an add-on's chart (once per provider process) and checks the values against its
// schema; it returns the archive's digest.
func (r *addonStackResource) checkChart(ctx context.Context, key string, chart addonstack.Chart, digest string, values map[string]any) (string, diag.Diagnostics) {
	var diags diag.Diagnostics
	remote := helm.RemoteChart{Repository: chart.Repository, Name: chart.Name, Version: chart.Version, Digest: digest}
	if isOCI(chart.Repository) {
		remote = helm.RemoteChart{OCI: chart.Repository + "/" + chart.Name, Version: chart.Version, Digest: digest}
	}
	fetched, err := r.backends.charts.Fetch(ctx, remote)
	if err != nil {
		diags.AddAttributeError(path.Root("addons").AtMapKey(key), "Cannot fetch the add-on's chart",
			fmt.Sprintf("%v\n\nCharts come from the provider's addon_chart_mirror (IDP_ADDON_CHART_MIRROR) when set, else from the upstream repository: check that it serves %s %s.", err, chart.Name, chart.Version))
		return "", diags
	}
	if err := helm.ValidateValues(fetched.Chart, values); err != nil {
		diags.AddAttributeError(path.Root("addons").AtMapKey(key).AtName("values"), "Invalid add-on values",
			fmt.Sprintf("The values, merged over the catalog's defaults, do not pass the schema of chart %s %s: %v", chart.Name, chart.Version, err))
	}
	return fetched.Digest, diags
}

// pinnedDigest is the digest the catalog pins a chart version to, if it does.
func pinnedDigest(key, version string) string {
	definition, _ := catalog.Addon(key)
	for _, v := range definition.Versions {
		if v.Version == version {
			return v.Digest
		}
	}
	return ""
}

// checkAddonsUnique refuses an add-on that another stack of the cluster already has: each add-on's
// release has one name and namespace on a cluster, so two stacks would fight over it.
func (r *addonStackResource) checkAddonsUnique(ctx context.Context, cluster, stack string, addons []addonstack.Addon) diag.Diagnostics {
	xp, diags := r.backends.Crossplane()
	if diags.HasError() {
		return diags
	}
	stacks, err := xp.ListStacks(ctx, cluster)
	if err != nil {
		diags.Append(r.backends.managementClusterError("Cannot list the cluster's add-on stacks", err, ""))
		return diags
	}
	for _, other := range stacks {
		if other.Spec.Stack == stack {
			continue
		}
		for _, theirs := range other.Spec.Addons {
			for _, ours := range addons {
				if ours.Name == theirs.Name {
					key := requestedStack{}.keyOf(ours.Name)
					diags.AddAttributeError(path.Root("addons").AtMapKey(key), "Add-on already on the cluster",
						fmt.Sprintf("Stack %q of cluster %q already has %s; a cluster runs each add-on once. Change it there, or move it here by removing it there first.", other.Spec.Stack, cluster, key))
				}
			}
		}
	}
	return diags
}

// matchesPlannedDigests refuses to apply charts other than those the plan showed: a mirror that
// re-pushed a version between plan and apply.
func (s *resolvedStack) matchesPlannedDigests(ctx context.Context, planned types.Map) diag.Diagnostics {
	var diags diag.Diagnostics
	if planned.IsUnknown() || planned.IsNull() {
		return diags
	}
	entries := map[string]types.Object{}
	diags.Append(planned.ElementsAs(ctx, &entries, false)...)
	for key, entry := range entries {
		digest, ok := entry.Attributes()["digest"].(types.String)
		if !ok || digest.IsUnknown() || digest.IsNull() {
			continue
		}
		if now := s.recorded.Addons[key].Digest; now != digest.ValueString() {
			diags.AddAttributeError(path.Root("addons").AtMapKey(key), "Add-on chart changed since plan",
				fmt.Sprintf("The plan showed the chart with digest %s; the repository now serves %s for the same version. Plan again to review the new chart.", digest.ValueString(), now))
		}
	}
	return diags
}

func isOCI(repository string) bool { return strings.HasPrefix(repository, "oci://") }

// keyOf is the Terraform key of an add-on by its catalog name.
func (s *resolvedStack) keyOf(name string) string { return s.recorded.keyOf(name) }

func (s requestedStack) keyOf(name string) string {
	for key, addon := range s.Addons {
		if addon.Name == name {
			return key
		}
	}
	if definition, ok := catalogAddonNamed(name); ok {
		return definition.Key
	}
	return name
}

func catalogAddonNamed(name string) (catalog.AddonDefinition, bool) {
	for _, definition := range catalog.Addons() {
		if definition.Name == name {
			return definition, true
		}
	}
	return catalog.AddonDefinition{}, false
}

// has reports whether the stack has the add-on of a catalog name.
func (s *resolvedStack) has(name string) bool {
	for _, addon := range s.addons {
		if addon.Name == name {
			return true
		}
	}
	return false
}

// spec is the composite's spec.
func (s *resolvedStack) spec(cluster, stack string, kubeconfig addonstack.SecretRef) addonstack.Spec {
	return addonstack.Spec{Cluster: cluster, Stack: stack, KubeconfigSecret: kubeconfig, Addons: s.addons}
}

// plannedStatus is status as a plan knows it: what was resolved, and the cluster's side unknown.
func (s *resolvedStack) plannedStatus() types.Map {
	spec := addonstack.Spec{Addons: s.addons}
	return s.recorded.statusMap(spec, func(string) (addonstack.AddonStatus, bool) { return addonstack.AddonStatus{}, false }, true)
}

// status is status after an apply, from the composite's status.
func (s *resolvedStack) status(reported addonstack.Status) types.Map {
	return s.recorded.status(addonstack.Spec{Addons: s.addons}, reported)
}

// status is the status attribute from a composite's spec and status.
func (s requestedStack) status(spec addonstack.Spec, reported addonstack.Status) types.Map {
	return s.statusMap(spec, func(name string) (addonstack.AddonStatus, bool) {
		for _, addon := range reported.Addons {
			if addon.Name == name {
				return addon, true
			}
		}
		return addonstack.AddonStatus{}, false
	}, false)
}

func (s requestedStack) statusMap(spec addonstack.Spec, reported func(string) (addonstack.AddonStatus, bool), planning bool) types.Map {
	objectType := types.ObjectType{AttrTypes: addonStatusTypes}
	entries := map[string]attr.Value{}
	for _, addon := range spec.Addons {
		key := s.keyOf(addon.Name)
		values := map[string]attr.Value{
			"chart": types.StringValue(""), "repository": types.StringValue(""), "version": types.StringValue(""),
			"digest": types.StringValue(s.Addons[key].Digest), "namespace": types.StringValue(addon.Namespace),
			"status": types.StringUnknown(), "gate": types.StringUnknown(), "message": types.StringUnknown(), "order": types.Int64Unknown(),
		}
		if addon.Chart != nil {
			values["chart"], values["repository"], values["version"] = types.StringValue(addon.Chart.Name), types.StringValue(addon.Chart.Repository), types.StringValue(addon.Chart.Version)
		} else {
			values["version"] = types.StringValue(s.Addons[key].Resolved)
		}
		if !planning {
			status, ok := reported(addon.Name)
			if !ok {
				status = addonstack.AddonStatus{Phase: addonstack.PhasePending}
			}
			values["status"], values["gate"], values["message"], values["order"] = types.StringValue(string(status.Phase)),
				types.StringValue(status.Gate), types.StringValue(status.Message), types.Int64Value(int64(status.Order))
		}
		entries[key] = types.ObjectValueMust(addonStatusTypes, values)
	}
	return types.MapValueMust(objectType, entries)
}

// parseRequested reads the input recorded on a composite.
func parseRequested(raw string) (requestedStack, error) {
	var recorded requestedStack
	if raw == "" {
		return recorded, fmt.Errorf("the composite records no input (annotation %s); it was not made by idp_addon_stack", "platform.idp.dev/requested")
	}
	if err := yaml.Unmarshal([]byte(raw), &recorded); err != nil {
		return recorded, fmt.Errorf("cannot read the input recorded on the composite: %w", err)
	}
	return recorded, nil
}

// addonsValue is the addons attribute as recorded.
func (s requestedStack) addonsValue() types.Map {
	objectType := types.ObjectType{AttrTypes: addonInputTypes}
	entries := map[string]attr.Value{}
	for key, addon := range s.Addons {
		entries[key] = types.ObjectValueMust(addonInputTypes, map[string]attr.Value{
			"version": types.StringPointerValue(addon.Version), "values": types.StringPointerValue(addon.Values),
		})
	}
	return types.MapValueMust(objectType, entries)
}
