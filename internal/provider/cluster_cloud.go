package provider

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/idp-platform/terraform-provider-idp/internal/crossplane"
	"github.com/idp-platform/terraform-provider-idp/internal/kube"
	"github.com/idp-platform/terraform-provider-idp/internal/policy"
	"github.com/idp-platform/terraform-provider-idp/internal/vault"
)

type nodePoolModel struct {
	InstanceType types.String `tfsdk:"instance_type"`
	MinSize      types.Int64  `tfsdk:"min_size"`
	MaxSize      types.Int64  `tfsdk:"max_size"`
	Labels       types.Map    `tfsdk:"labels"`
}

var nodePoolType = types.ObjectType{AttrTypes: map[string]attr.Type{
	"instance_type": types.StringType, "min_size": types.Int64Type, "max_size": types.Int64Type, "labels": types.MapType{ElemType: types.StringType},
}}

func isCloud(cloud string) bool { return slices.Contains(crossplane.Clouds, cloud) }

// validateCloudConfig checks a cloud cluster's attributes, each on its own path.
func validateCloudConfig(ctx context.Context, config clusterModel) diag.Diagnostics {
	var diags diag.Diagnostics
	cloud := config.Cloud.ValueString()
	if !config.KubeconfigWO.IsNull() {
		diags.AddAttributeError(path.Root("kubeconfig_wo"), "Invalid attribute",
			fmt.Sprintf("kubeconfig_wo registers an existing cluster; a %s cluster's kubeconfig comes from the cloud.", cloud))
	}
	required := func(value types.String, name, hint string) bool {
		if value.IsNull() {
			diags.AddAttributeError(path.Root(name), "Missing attribute", fmt.Sprintf("A %s cluster needs %s: %s.", cloud, name, hint))
			return false
		}
		return !value.IsUnknown()
	}
	// Which regions and versions the platform offers is the policy library's to say, at plan (checkOffering).
	required(config.Region, "region", "a region the platform offers for the cloud, e.g. "+map[string]string{"aws": "eu-west-1", "azure": "westeurope", "gcp": "europe-west1"}[cloud])
	required(config.KubernetesVersion, "kubernetes_version", "a minor version such as 1.33")
	if required(config.Credentials, "credentials", "the Vault path of the cloud credentials, e.g. aws/team-payments") && !vault.ValidCredentialsName(config.Credentials.ValueString()) {
		diags.AddAttributeError(path.Root("credentials"), "Invalid credentials name",
			fmt.Sprintf("%q must be DNS-1123 labels joined by '/', such as %s/team-payments.", config.Credentials.ValueString(), cloud))
	}
	if config.NodePools.IsNull() {
		diags.AddAttributeError(path.Root("node_pools"), "Missing node pools", fmt.Sprintf("A %s cluster needs at least one node pool.", cloud))
		return diags
	}
	if config.NodePools.IsUnknown() {
		return diags
	}
	pools := map[string]nodePoolModel{}
	if diags.Append(config.NodePools.ElementsAs(ctx, &pools, false)...); diags.HasError() {
		return diags
	}
	if len(pools) == 0 {
		diags.AddAttributeError(path.Root("node_pools"), "Missing node pools", fmt.Sprintf("A %s cluster needs at least one node pool.", cloud))
	}
	for name, pool := range pools {
		at := path.Root("node_pools").AtMapKey(name)
		if err := crossplane.CheckPoolName(cloud, name); err != nil {
			diags.AddAttributeError(at, "Invalid node pool name", err.Error()+".")
		}
		if !pool.InstanceType.IsUnknown() {
			if err := crossplane.CheckMachineType(cloud, pool.InstanceType.ValueString()); err != nil {
				diags.AddAttributeError(at.AtName("instance_type"), "Invalid instance type", err.Error()+".")
			}
		}
		if pool.MinSize.IsUnknown() || pool.MaxSize.IsUnknown() {
			continue
		}
		switch minSize, maxSize := pool.MinSize.ValueInt64(), pool.MaxSize.ValueInt64(); {
		case minSize < 0:
			diags.AddAttributeError(at.AtName("min_size"), "Invalid node pool size", "min_size must be 0 or more.")
		case maxSize < 1:
			diags.AddAttributeError(at.AtName("max_size"), "Invalid node pool size", "max_size must be 1 or more.")
		case minSize > maxSize:
			diags.AddAttributeError(at.AtName("min_size"), "Invalid node pool size", fmt.Sprintf("min_size %d exceeds max_size %d.", minSize, maxSize))
		}
	}
	return diags
}

// checkOffering checks a cloud cluster's plan against what the platform offers (the policy library's
// settings): the region, the Kubernetes version and each pool's max_size, where the plan sets them
// anew. A value the platform stopped offering does not fail every later plan of a cluster that keeps it.
func checkOffering(ctx context.Context, offering policy.Offering, plan, state clusterModel) diag.Diagnostics {
	var diags diag.Diagnostics
	cloud := plan.Cloud.ValueString()
	changed := func(planned, current types.String) bool {
		return !planned.IsNull() && !planned.IsUnknown() && !planned.Equal(current)
	}
	if regions := offering.Regions[cloud]; changed(plan.Region, state.Region) && !slices.Contains(regions, plan.Region.ValueString()) {
		diags.AddAttributeError(path.Root("region"), "Unknown region",
			fmt.Sprintf("%q is not a region the platform offers on %s: %s (the policy library's setting regions).",
				plan.Region.ValueString(), cloud, strings.Join(regions, ", ")))
	}
	if changed(plan.KubernetesVersion, state.KubernetesVersion) && !slices.Contains(offering.KubernetesVersions, plan.KubernetesVersion.ValueString()) {
		diags.AddAttributeError(path.Root("kubernetes_version"), "Unsupported Kubernetes version",
			fmt.Sprintf("%q is not a minor version the platform offers: %s (the policy library's setting kubernetes_versions).",
				plan.KubernetesVersion.ValueString(), strings.Join(offering.KubernetesVersions, ", ")))
	}
	if plan.NodePools.IsNull() || plan.NodePools.IsUnknown() {
		return diags
	}
	planned, current := map[string]nodePoolModel{}, map[string]nodePoolModel{}
	diags.Append(plan.NodePools.ElementsAs(ctx, &planned, true)...)
	if !state.NodePools.IsNull() && !state.NodePools.IsUnknown() {
		diags.Append(state.NodePools.ElementsAs(ctx, &current, true)...)
	}
	for name, pool := range planned {
		if pool.MaxSize.IsUnknown() || pool.MaxSize.Equal(current[name].MaxSize) || pool.MaxSize.ValueInt64() <= offering.MaxPoolSize {
			continue
		}
		diags.AddAttributeError(path.Root("node_pools").AtMapKey(name).AtName("max_size"), "Invalid node pool size",
			fmt.Sprintf("max_size %d is above %d, the most nodes a pool may have (the policy library's setting max_pool_size).",
				pool.MaxSize.ValueInt64(), offering.MaxPoolSize))
	}
	return diags
}

// validateUpgrade allows Kubernetes upgrades one minor version at a time and no downgrades.
func validateUpgrade(from, to string) error {
	minor := func(v string) (int, bool) {
		_, m, ok := strings.Cut(v, ".")
		n, err := strconv.Atoi(m)
		return n, ok && err == nil
	}
	f, ok1 := minor(from)
	t, ok2 := minor(to)
	switch {
	case !ok1 || !ok2 || f == t:
		return nil
	case t < f:
		return fmt.Errorf("the cluster runs %s; Kubernetes does not downgrade to %s", from, to)
	case t > f+1:
		return fmt.Errorf("the cluster runs %s; upgrade one minor version at a time (next: 1.%d)", from, f+1)
	}
	return nil
}

// cloudCluster maps the model onto the composite the platform applies.
func cloudCluster(ctx context.Context, model clusterModel) (crossplane.Cluster, diag.Diagnostics) {
	var diags diag.Diagnostics
	cluster := crossplane.Cluster{
		Name: model.Name.ValueString(), Cloud: model.Cloud.ValueString(), Region: model.Region.ValueString(),
		KubernetesVersion: model.KubernetesVersion.ValueString(),
		ProviderConfig:    crossplane.ProviderConfigName(model.Cloud.ValueString(), model.Credentials.ValueString()),
		Tags:              map[string]string{},
	}
	if !model.Tags.IsNull() {
		diags.Append(model.Tags.ElementsAs(ctx, &cluster.Tags, false)...)
	}
	pools := map[string]nodePoolModel{}
	diags.Append(model.NodePools.ElementsAs(ctx, &pools, false)...)
	for name, pool := range pools {
		labels := map[string]string{}
		if !pool.Labels.IsNull() {
			diags.Append(pool.Labels.ElementsAs(ctx, &labels, false)...)
		}
		cluster.Pools = append(cluster.Pools, crossplane.Pool{
			Name: name, InstanceType: pool.InstanceType.ValueString(), MinSize: pool.MinSize.ValueInt64(), MaxSize: pool.MaxSize.ValueInt64(), Labels: labels,
		})
	}
	sort.Slice(cluster.Pools, func(i, j int) bool { return cluster.Pools[i].Name < cluster.Pools[j].Name })
	return cluster, diags
}

// setCloudAttributes maps a composite read back onto the model, so that out-of-band edits show as drift.
func setCloudAttributes(ctx context.Context, model *clusterModel, cluster crossplane.Cluster) diag.Diagnostics {
	var diags diag.Diagnostics
	model.Cloud = types.StringValue(cluster.Cloud)
	model.Region = types.StringValue(cluster.Region)
	model.KubernetesVersion = types.StringValue(cluster.KubernetesVersion)
	// The system pool of AKS lives in the cluster composite without its name: it is the first by name.
	var known []string
	if !model.NodePools.IsNull() && !model.NodePools.IsUnknown() {
		for name := range model.NodePools.Elements() {
			known = append(known, name)
		}
		sort.Strings(known)
	}
	pools := map[string]attr.Value{}
	for _, pool := range cluster.Pools {
		name := pool.Name
		if name == "" {
			if len(known) == 0 {
				continue
			}
			name = known[0]
		}
		labels, d := types.MapValueFrom(ctx, types.StringType, pool.Labels)
		diags.Append(d...)
		if len(pool.Labels) == 0 {
			labels = types.MapNull(types.StringType)
			if !model.NodePools.IsNull() {
				if previous, ok := model.NodePools.Elements()[name].(types.Object); ok {
					if l, ok := previous.Attributes()["labels"].(types.Map); ok && !l.IsNull() && len(l.Elements()) == 0 {
						labels = l // keep an empty map as the configuration wrote it
					}
				}
			}
		}
		object, d := types.ObjectValue(nodePoolType.AttrTypes, map[string]attr.Value{
			"instance_type": types.StringValue(pool.InstanceType), "min_size": types.Int64Value(pool.MinSize),
			"max_size": types.Int64Value(pool.MaxSize), "labels": labels,
		})
		diags.Append(d...)
		pools[name] = object
	}
	nodePools, d := types.MapValue(nodePoolType, pools)
	diags.Append(d...)
	model.NodePools = nodePools
	// Null and empty tags compose alike: without tags either way, the model keeps what the configuration wrote.
	if len(cluster.Tags) > 0 || (!model.Tags.IsNull() && len(model.Tags.Elements()) > 0) {
		tags, d := types.MapValueFrom(ctx, types.StringType, cluster.Tags)
		diags.Append(d...)
		model.Tags = tags
	}
	return diags
}

// cloudCredentials reads the cloud credentials from Vault and renders them as the cloud's Upbound
// provider reads them; for GCP it also returns the project of the service account key.
func cloudCredentials(ctx context.Context, store vaultAPI, cloud, name string) (credentials []byte, project string, diags diag.Diagnostics) {
	fields, err := store.GetCredentials(ctx, name)
	if errors.Is(err, vault.ErrNotFound) {
		diags.AddAttributeError(path.Root("credentials"), "Unknown credentials",
			fmt.Sprintf("Vault holds no credentials at %s; store the %s credentials there first.", store.CredentialsLocation(name), cloud))
		return nil, "", diags
	}
	if errors.Is(err, vault.ErrPermissionDenied) {
		diags.Append(credentialsNotPermitted(path.Root("credentials"), store.Identity(), name, store.CredentialsLocation(name)))
		return nil, "", diags
	}
	if err != nil {
		diags.AddError("Cannot read the cloud credentials from Vault", err.Error())
		return nil, "", diags
	}
	credentials, project, err = crossplane.RenderCredentials(cloud, fields)
	switch {
	case errors.Is(err, crossplane.ErrIncompleteCredentials), errors.Is(err, crossplane.ErrInvalidCredentials):
		diags.AddAttributeError(path.Root("credentials"), "Unusable credentials", fmt.Sprintf("%s: %v.", store.CredentialsLocation(name), err))
	case err != nil:
		diags.AddError("Cannot render the cloud credentials", err.Error())
	}
	return credentials, project, diags
}

// provisioning says whether provisionCloudCluster creates a cluster or updates one.
type provisioning int

const (
	provisionCreate provisioning = iota
	provisionUpdate
)

// provisionCloudCluster applies the cluster's composites, waits until the cloud reports it ready and
// copies its kubeconfig into Vault. After the composites exist, the model is saved through save even
// when waiting fails, so that a failed create is tainted and cleaned up instead of forgotten. A create
// marks its composite until the end, so that a create killed on the way is adopted by the next one.
func (r *clusterResource) provisionCloudCluster(ctx context.Context, model *clusterModel, mode provisioning, previousProviderConfig string, save func() diag.Diagnostics) diag.Diagnostics {
	var diags diag.Diagnostics
	store, d := r.backends.Vault(ctx)
	if diags.Append(d...); diags.HasError() {
		return diags
	}
	xp, d := r.backends.Crossplane()
	if diags.Append(d...); diags.HasError() {
		return diags
	}
	cloud, name := model.Cloud.ValueString(), model.Name.ValueString()
	credentials, project, d := cloudCredentials(ctx, store, cloud, model.Credentials.ValueString())
	if diags.Append(d...); diags.HasError() {
		return diags
	}
	cluster, d := cloudCluster(ctx, *model)
	if diags.Append(d...); diags.HasError() {
		return diags
	}
	if err := xp.EnsureProviderConfig(ctx, cloud, cluster.ProviderConfig, credentials, project); err != nil {
		diags.AddError("Cannot materialise the cloud credentials as a ProviderConfig", err.Error())
		return diags
	}
	tflog.Info(ctx, "applying the cluster's composites", map[string]any{"cluster": name, "cloud": cloud, "region": cluster.Region})
	apply := xp.Apply
	if mode == provisionCreate {
		apply = xp.Create
	}
	if err := apply(ctx, cluster); err != nil {
		diags.AddError("Cannot apply the cluster's composites", err.Error())
		return diags
	}
	model.ID = model.Name
	model.KubeconfigPath = types.StringValue(store.KubeconfigLocation(name))
	model.Status = types.StringValue("Provisioning")
	if model.Endpoint.IsUnknown() {
		model.Endpoint = types.StringNull()
	}
	if model.CACertificate.IsUnknown() {
		model.CACertificate = types.StringNull()
	}
	if model.KubernetesVersionActual.IsUnknown() {
		model.KubernetesVersionActual = types.StringNull()
	}
	if diags.Append(save()...); diags.HasError() {
		return diags
	}
	if previousProviderConfig != "" && previousProviderConfig != cluster.ProviderConfig {
		if err := xp.ReleaseProviderConfig(ctx, cloud, previousProviderConfig); err != nil {
			diags.AddWarning("Cannot remove the previous ProviderConfig", err.Error())
		}
	}
	diags.Append(awaitCloudCluster(ctx, xp, store, model)...)
	if mode == provisionCreate {
		// The state returned now owns the cluster, tainted if waiting failed: the mark that lets the next
		// create adopt an interrupted one must go, even past the create's deadline.
		finishCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if err := xp.FinishCreate(finishCtx, name); err != nil {
			diags.AddWarning("Cannot clear the cluster's create mark", err.Error()+"\n\nThe next update of the cluster clears it.")
		}
	}
	return diags
}

// awaitCloudCluster waits until the cloud reports the cluster ready, copies its kubeconfig into Vault
// and records what the cluster reports in model.
func awaitCloudCluster(ctx context.Context, xp crossplaneAPI, store vaultAPI, model *clusterModel) diag.Diagnostics {
	var diags diag.Diagnostics
	cloud, name := model.Cloud.ValueString(), model.Name.ValueString()
	status, err := xp.WaitReady(ctx, name, func(s crossplane.Status) {
		tflog.Info(ctx, "waiting for the cluster", map[string]any{"cluster": name, "status": s.Message})
	})
	if err != nil {
		diags.AddError("The cluster did not become ready", err.Error()+"\n\nThe composites stay; the next apply replaces the cluster, or destroy removes it.")
		return diags
	}
	kubeconfig, err := xp.Kubeconfig(ctx, status.KubeconfigSecret)
	if err != nil {
		diags.AddError("Cannot read the cluster's kubeconfig", err.Error())
		return diags
	}
	summary, err := kube.ParseKubeconfig(kubeconfig)
	if err != nil {
		diags.AddError("The cluster published an unusable kubeconfig", err.Error())
		return diags
	}
	if err := store.PutKubeconfig(ctx, name, vault.Kubeconfig{Kubeconfig: string(kubeconfig), Endpoint: summary.Endpoint, CA: summary.CACertificatePEM, Origin: cloud}); err != nil {
		diags.AddError("Cannot store the kubeconfig in Vault", err.Error())
		return diags
	}
	model.Endpoint = types.StringValue(summary.Endpoint)
	model.CACertificate = types.StringValue(summary.CACertificatePEM)
	model.Status = types.StringValue(clusterReady)
	model.KubernetesVersionActual = types.StringValue(status.KubernetesVersion)
	return diags
}
