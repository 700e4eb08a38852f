package provider

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/idp-platform/terraform-provider-idp/internal/crossplane"
	"github.com/idp-platform/terraform-provider-idp/internal/kube"
	"github.com/idp-platform/terraform-provider-idp/internal/policy"
	"github.com/idp-platform/terraform-provider-idp/internal/vault"
)

// cloudExisting registers a cluster the platform did not create: its kubeconfig goes to Vault and
// nothing is provisioned.
const cloudExisting = "existing"

// clusterNamePattern is a DNS-1123 label: the XR name, and a segment of Vault paths.
var clusterNamePattern = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)

func clusterNameValidators() []validator.String {
	return []validator.String{
		stringvalidator.RegexMatches(clusterNamePattern, "must be a DNS-1123 label: at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit"),
	}
}

// dnsLabel checks a name Kubernetes takes as a DNS-1123 label: a cluster, a namespace, a release.
func dnsLabel() validator.String {
	return stringvalidator.RegexMatches(clusterNamePattern, "must be a DNS-1123 label")
}

func newClusterResource() resource.Resource { return &clusterResource{} }

// clusterResource manages a Kubernetes cluster of the platform. Clusters registered with cloud =
// "existing" keep their admin kubeconfig in Vault; state holds only where it is.
type clusterResource struct {
	backends *backends
}

var (
	_ resource.ResourceWithConfigure      = &clusterResource{}
	_ resource.ResourceWithImportState    = &clusterResource{}
	_ resource.ResourceWithIdentity       = &clusterResource{}
	_ resource.ResourceWithValidateConfig = &clusterResource{}
	_ resource.ResourceWithModifyPlan     = &clusterResource{}
)

type clusterModel struct {
	ID                      types.String   `tfsdk:"id"`
	Name                    types.String   `tfsdk:"name"`
	Cloud                   types.String   `tfsdk:"cloud"`
	Region                  types.String   `tfsdk:"region"`
	KubernetesVersion       types.String   `tfsdk:"kubernetes_version"`
	Credentials             types.String   `tfsdk:"credentials"`
	NodePools               types.Map      `tfsdk:"node_pools"`
	Tags                    types.Map      `tfsdk:"tags"`
	KubeconfigWO            types.String   `tfsdk:"kubeconfig_wo"`
	KubeconfigWOVersion     types.Int64    `tfsdk:"kubeconfig_wo_version"`
	Endpoint                types.String   `tfsdk:"endpoint"`
	CACertificate           types.String   `tfsdk:"ca_certificate"`
	Status                  types.String   `tfsdk:"status"`
	KubernetesVersionActual types.String   `tfsdk:"kubernetes_version_actual"`
	KubeconfigPath          types.String   `tfsdk:"kubeconfig_path"`
	Timeouts                timeouts.Value `tfsdk:"timeouts"`
}

func (r *clusterResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_cluster"
}

func (r *clusterResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	keep := []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	replace := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	offering, err := policy.DefaultOffering()
	if err != nil {
		resp.Diagnostics.AddError("The shipped policy library is broken", err.Error())
		return
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "A Kubernetes cluster of the platform. With `cloud = \"aws\"`, `\"azure\"` or `\"gcp\"` the " +
			"platform creates it (EKS, AKS, GKE) through its Crossplane compositions in the management cluster, with " +
			"the cloud credentials read from Vault, and copies its admin kubeconfig into Vault. With `cloud = \"existing\"` " +
			"an existing cluster (the management cluster itself, or a legacy one) is registered: its admin kubeconfig, given " +
			"write-only, is stored in Vault. Either way the kubeconfig is at `<kv_mount>/<prefix>/clusters/<name>/kubeconfig` " +
			"and never in state; other resources reach the cluster through it and `idp_cluster_credentials` hands it to " +
			"other providers. Destroying a created cluster deletes it in the cloud; destroying a registered one removes " +
			"only the kubeconfig from Vault.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "The cluster name.",
				PlanModifiers:       keep,
			},
			"name": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Cluster name, a DNS-1123 label. Changing it replaces the cluster.",
				Validators:          clusterNameValidators(),
				PlanModifiers:       replace,
			},
			"cloud": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "Where the cluster runs: `aws`, `azure` or `gcp` (created by the platform), or `existing` " +
					"(registered). Changing it replaces the cluster.",
				Validators:    []validator.String{stringvalidator.OneOf(append([]string{cloudExisting}, crossplane.Clouds...)...)},
				PlanModifiers: replace,
			},
			"region": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Region of a created cluster, one the platform offers for the cloud (the policy library's setting `regions`, " +
					"e.g. `eu-west-1`, `westeurope`, `europe-west1`), checked at plan. Changing it replaces the cluster.",
				PlanModifiers: replace,
			},
			"kubernetes_version": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: fmt.Sprintf("Kubernetes minor version of a created cluster, one the platform offers (the policy "+
					"library's setting `kubernetes_versions`, by default %s), checked at plan. Upgrades go one minor version at a time, in place.",
					strings.Join(offering.KubernetesVersions, ", ")),
			},
			"credentials": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Cloud credentials of a created cluster: their name under `<kv_mount>/<prefix>/credentials/` in Vault " +
					"(e.g. `aws/team-payments`, with `aws_access_key_id` and `aws_secret_access_key`; Azure: `clientId`, " +
					"`clientSecret`, `subscriptionId`, `tenantId`; GCP: `credentials`, a service account key). The provider " +
					"makes them the cloud provider's ProviderConfig in the management cluster, shared by the clusters that use " +
					"the same credentials and removed with the last of them.",
			},
			"node_pools": schema.MapNestedAttribute{
				Optional:            true,
				MarkdownDescription: "Node pools of a created cluster, by name. Sizes and labels change in place; on AKS the first pool by name is the system pool.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"instance_type": schema.StringAttribute{Required: true, MarkdownDescription: "Machine type, e.g. `m6i.large`, `Standard_D4s_v5`, `e2-standard-4`."},
					"min_size":      schema.Int64Attribute{Required: true, MarkdownDescription: "Fewest nodes."},
					"max_size":      schema.Int64Attribute{Required: true, MarkdownDescription: fmt.Sprintf("Most nodes, up to the policy library's `max_pool_size` (by default %d) and its per-environment limits.", offering.MaxPoolSize)},
					"labels":        schema.MapAttribute{Optional: true, ElementType: types.StringType, MarkdownDescription: "Kubernetes labels of the pool's nodes."},
				}},
			},
			"tags": schema.MapAttribute{
				Optional:            true,
				ElementType:         types.StringType,
				MarkdownDescription: "Tags (labels on GCP) of a created cluster's cloud resources.",
			},
			"kubeconfig_wo": schema.StringAttribute{
				Optional:  true,
				WriteOnly: true,
				Sensitive: true,
				MarkdownDescription: "Admin kubeconfig of an `existing` cluster, with embedded certificates and credentials. " +
					"Write-only: stored in Vault, never in state or plan. Change `kubeconfig_wo_version` to store a new one.",
			},
			"kubeconfig_wo_version": schema.Int64Attribute{
				Optional:            true,
				MarkdownDescription: "Any number; changing it makes the next apply store `kubeconfig_wo` again (rotation).",
			},
			"endpoint": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "URL of the cluster's API server.",
				PlanModifiers:       keep,
			},
			"ca_certificate": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "PEM CA certificate of the cluster's API server (public).",
				PlanModifiers:       keep,
			},
			"status": schema.StringAttribute{
				Computed: true,
				MarkdownDescription: "`Ready` when the cluster is ready (created: the cloud reports every resource ready; " +
					"registered: the API server answered at the last refresh); `Provisioning` while the cloud is still creating or " +
					"changing it; `Unreachable` when a registered cluster's API server did not answer; `KubeconfigMissing` when a " +
					"created cluster's kubeconfig is gone from Vault, which the next apply copies there again.",
			},
			"kubernetes_version_actual": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "Kubernetes version the API server reported at the last refresh.",
			},
			"kubeconfig_path": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "Vault path of the admin kubeconfig, as `vault kv get` takes it: `<kv_mount>/<prefix>/clusters/<name>/kubeconfig`.",
				PlanModifiers:       keep,
			},
			"timeouts": timeouts.Attributes(ctx, timeouts.Opts{Create: true, Update: true, Delete: true}),
		},
	}
}

func (r *clusterResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.backends = backendsFrom(req.ProviderData, &resp.Diagnostics)
}

func (r *clusterResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var config clusterModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() || config.Cloud.IsUnknown() {
		return
	}
	if isCloud(config.Cloud.ValueString()) {
		resp.Diagnostics.Append(validateCloudConfig(ctx, config)...)
		return
	}
	if config.Cloud.ValueString() != cloudExisting {
		return
	}
	resp.Diagnostics.Append(validateExistingConfig(config)...)
	kubeconfigPath := path.Root("kubeconfig_wo")
	switch {
	case config.KubeconfigWO.IsUnknown():
		return
	case config.KubeconfigWO.IsNull():
		resp.Diagnostics.AddAttributeError(kubeconfigPath, "Missing kubeconfig",
			`cloud = "existing" registers a cluster by its admin kubeconfig: set kubeconfig_wo, e.g. kubeconfig_wo = file("admin.kubeconfig").`)
	default:
		if _, err := kube.ParseKubeconfig([]byte(config.KubeconfigWO.ValueString())); err != nil {
			resp.Diagnostics.AddAttributeError(kubeconfigPath, "Invalid kubeconfig", err.Error())
		}
	}
}

func (r *clusterResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	defer clusterIdentity.record(ctx, &resp.State, resp.Identity, &resp.Diagnostics)
	var plan, config clusterModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...) // write-only values are only in the configuration
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := plan.Timeouts.Create(ctx, 10*time.Minute)
	if resp.Diagnostics.Append(diags...); diags.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	store, diags := r.backends.Vault(ctx)
	if resp.Diagnostics.Append(diags...); diags.HasError() {
		return
	}
	name := plan.Name.ValueString()
	if isCloud(plan.Cloud.ValueString()) {
		xp, diags := r.backends.Crossplane()
		if resp.Diagnostics.Append(diags...); diags.HasError() {
			return
		}
		desired, diags := cloudCluster(ctx, plan)
		if resp.Diagnostics.Append(diags...); diags.HasError() {
			return
		}
		switch _, status, err := xp.Get(ctx, name); {
		case err == nil && status.Creating == crossplane.SpecDigest(desired):
			// An earlier create of this very configuration was interrupted (the CLI or provider killed)
			// before anything reached the state: carry on with what it started.
			tflog.Warn(ctx, "adopting the composite an interrupted create of this cluster left", map[string]any{"cluster": name})
		case err == nil && status.Creating != "":
			resp.Diagnostics.AddAttributeError(path.Root("name"), "Cluster already exists",
				fmt.Sprintf("The management cluster has a KubernetesCluster %q that an interrupted create of other settings left. "+
					"Apply the settings it was created with to finish it, import it (terraform import <address> %s), "+
					"or delete it, then apply again.", name, name))
			return
		case err == nil:
			resp.Diagnostics.AddAttributeError(path.Root("name"), "Cluster already exists",
				fmt.Sprintf("The management cluster already has a KubernetesCluster %q. If it belongs to this configuration, import it "+
					"(terraform import <address> %s); otherwise choose another name.", name, name))
			return
		case !errors.Is(err, crossplane.ErrNotFound):
			resp.Diagnostics.AddError("Cannot check the management cluster for the cluster", err.Error())
			return
		}
	}
	switch stored, err := store.GetKubeconfig(ctx, name); {
	case err == nil && isCloud(plan.Cloud.ValueString()) && stored.Origin == plan.Cloud.ValueString():
		// The copy of a cluster this provider created on this cloud, whose composite is gone (checked
		// above): it is replaced with the new cluster's.
		tflog.Warn(ctx, "replacing the stale kubeconfig of a cluster whose composite is gone", map[string]any{"cluster": name})
	case err == nil:
		resp.Diagnostics.AddAttributeError(path.Root("name"), "Cluster already registered",
			fmt.Sprintf("Vault already holds a kubeconfig for cluster %q. If it belongs to this configuration, import it "+
				"(terraform import <address> %s); otherwise choose another name.", name, name))
		return
	case errors.Is(err, vault.ErrPermissionDenied):
		resp.Diagnostics.Append(clusterNotPermitted(path.Root("name"), store.Identity(), name, store.KubeconfigLocation(name), err))
		return
	case !errors.Is(err, vault.ErrNotFound):
		resp.Diagnostics.AddError("Cannot check Vault for the cluster", err.Error())
		return
	}
	if isCloud(plan.Cloud.ValueString()) {
		save := func() diag.Diagnostics { return resp.State.Set(ctx, &plan) }
		if resp.Diagnostics.Append(r.provisionCloudCluster(ctx, &plan, provisionCreate, "", save)...); resp.Diagnostics.HasError() {
			return
		}
		resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
		return
	}
	if resp.Diagnostics.Append(registerKubeconfig(ctx, store, name, config.KubeconfigWO.ValueString(), r.backends.configs.clusterRequestTimeout, &plan)...); resp.Diagnostics.HasError() {
		return
	}
	plan.ID = plan.Name
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// Cluster statuses.
const (
	clusterReady             = "Ready"
	clusterUnreachable       = "Unreachable"
	clusterKubeconfigMissing = "KubeconfigMissing"
)

func (r *clusterResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	defer clusterIdentity.record(ctx, &resp.State, resp.Identity, &resp.Diagnostics)
	var state clusterModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	store, diags := r.backends.Vault(ctx)
	if resp.Diagnostics.Append(diags...); diags.HasError() {
		return
	}
	name := state.Name.ValueString()
	// An imported cluster (cloud unknown) is a created one when the management cluster has its composite.
	if isCloud(state.Cloud.ValueString()) || (state.Cloud.IsNull() && r.backends.managementClusterConfigured()) {
		found := r.readCloudCluster(ctx, &state, store, &resp.Diagnostics)
		switch {
		case resp.Diagnostics.HasError():
			return
		case found:
			resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
			return
		case isCloud(state.Cloud.ValueString()):
			tflog.Warn(ctx, "the cluster's composite is gone; planning to create it again", map[string]any{"cluster": name})
			resp.State.RemoveResource(ctx)
			return
		}
	}
	stored, err := store.GetKubeconfig(ctx, name)
	if errors.Is(err, vault.ErrNotFound) {
		tflog.Warn(ctx, "the cluster's kubeconfig is gone from Vault; planning to register it again", map[string]any{"cluster": name})
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("Cannot read the cluster's kubeconfig from Vault", err.Error())
		return
	}
	if state.Cloud.IsNull() {
		state.Cloud = types.StringValue(cloudExisting) // imported: only existing clusters live in Vault alone
	}
	state.ID = state.Name
	state.Endpoint = types.StringValue(stored.Endpoint)
	state.CACertificate = types.StringValue(stored.CA)
	state.KubeconfigPath = types.StringValue(store.KubeconfigLocation(name))
	state.Status, state.KubernetesVersionActual = probeCluster(ctx, name, stored.Kubeconfig, r.backends.configs.clusterRequestTimeout)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// readCloudCluster refreshes a created cluster from its composites; false when they are gone.
func (r *clusterResource) readCloudCluster(ctx context.Context, state *clusterModel, store vaultAPI, diags *diag.Diagnostics) bool {
	xp, d := r.backends.Crossplane()
	if diags.Append(d...); diags.HasError() {
		return false
	}
	name := state.Name.ValueString()
	cluster, status, err := xp.Get(ctx, name)
	if errors.Is(err, crossplane.ErrNotFound) {
		return false
	}
	if err != nil {
		diags.AddError("Cannot read the cluster from the management cluster", err.Error())
		return false
	}
	diags.Append(setCloudAttributes(ctx, state, cluster)...)
	state.ID = state.Name
	state.KubeconfigPath = types.StringValue(store.KubeconfigLocation(name))
	state.KubernetesVersionActual = types.StringValue(status.KubernetesVersion)
	state.Status = types.StringValue("Provisioning")
	if status.Ready {
		state.Status = types.StringValue(clusterReady)
	}
	if stored, err := store.GetKubeconfig(ctx, name); err == nil {
		state.Endpoint, state.CACertificate = types.StringValue(stored.Endpoint), types.StringValue(stored.CA)
	} else if !errors.Is(err, vault.ErrNotFound) {
		diags.AddError("Cannot read the cluster's kubeconfig from Vault", err.Error())
	} else {
		// The kubeconfig is gone from Vault: the next apply copies it again.
		state.Status = types.StringValue(clusterKubeconfigMissing)
	}
	return true
}

// ModifyPlan refuses Kubernetes upgrades that skip minor versions, and plans a created cluster whose
// kubeconfig went missing from Vault for an update that copies it again.
func (r *clusterResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	// The policies see the plan as this method leaves it.
	defer func() {
		r.backends.checkPolicy(ctx, "idp_cluster", policyClusterFrom(ctx, req, "name", true), req, resp)
	}()
	if req.Plan.Raw.IsNull() || r.backends == nil {
		return
	}
	var plan, state clusterModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if !req.State.Raw.IsNull() {
		resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(r.checkVaultPermissions(ctx, plan, state, req.State.Raw.IsNull())...)
	if isCloud(plan.Cloud.ValueString()) {
		offering, diags := r.backends.Offering(ctx)
		if resp.Diagnostics.Append(diags...); !diags.HasError() {
			resp.Diagnostics.Append(checkOffering(ctx, offering, plan, state)...)
		}
	}
	if req.State.Raw.IsNull() {
		return
	}
	if resp.Diagnostics.HasError() || !isCloud(plan.Cloud.ValueString()) || plan.KubernetesVersion.IsUnknown() {
		return
	}
	if err := validateUpgrade(state.KubernetesVersion.ValueString(), plan.KubernetesVersion.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("kubernetes_version"), "Unsupported upgrade", err.Error())
	}
	if !state.Status.Equal(types.StringValue(clusterReady)) {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("status"), types.StringUnknown())...)
	}
}

func (r *clusterResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	defer clusterIdentity.record(ctx, &resp.State, resp.Identity, &resp.Diagnostics)
	var plan, state, config clusterModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := plan.Timeouts.Update(ctx, 10*time.Minute)
	if resp.Diagnostics.Append(diags...); diags.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if isCloud(plan.Cloud.ValueString()) {
		previous := crossplane.ProviderConfigName(state.Cloud.ValueString(), state.Credentials.ValueString())
		if xp, diags := r.backends.Crossplane(); !diags.HasError() {
			if cluster, _, err := xp.Get(ctx, plan.Name.ValueString()); err == nil {
				previous = cluster.ProviderConfig // right even when state does not know the credentials (import)
			}
		}
		plan.Endpoint, plan.CACertificate, plan.KubernetesVersionActual = state.Endpoint, state.CACertificate, state.KubernetesVersionActual
		save := func() diag.Diagnostics { return resp.State.Set(ctx, &plan) }
		if resp.Diagnostics.Append(r.provisionCloudCluster(ctx, &plan, provisionUpdate, previous, save)...); resp.Diagnostics.HasError() {
			return
		}
		resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
		return
	}
	if plan.KubeconfigWOVersion.Equal(state.KubeconfigWOVersion) {
		// Nothing stored changes; keep what the last refresh saw.
		plan.Endpoint, plan.CACertificate, plan.KubeconfigPath = state.Endpoint, state.CACertificate, state.KubeconfigPath
		plan.Status, plan.KubernetesVersionActual = state.Status, state.KubernetesVersionActual
		resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
		return
	}
	store, diags := r.backends.Vault(ctx)
	if resp.Diagnostics.Append(diags...); diags.HasError() {
		return
	}
	if resp.Diagnostics.Append(registerKubeconfig(ctx, store, plan.Name.ValueString(), config.KubeconfigWO.ValueString(), r.backends.configs.clusterRequestTimeout, &plan)...); resp.Diagnostics.HasError() {
		return
	}
	// The cluster's add-on stacks reach it through a copy of the kubeconfig in the management cluster.
	if r.backends.managementClusterConfigured() {
		xp, diags := r.backends.Crossplane()
		if resp.Diagnostics.Append(diags...); diags.HasError() {
			return
		}
		if err := xp.UpdateStackKubeconfigSecret(ctx, plan.Name.ValueString(), []byte(config.KubeconfigWO.ValueString())); err != nil {
			resp.Diagnostics.Append(r.backends.managementClusterError("Cannot update the kubeconfig the cluster's add-on stacks use", err, ""))
			return
		}
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *clusterResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state clusterModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := state.Timeouts.Delete(ctx, 10*time.Minute)
	if resp.Diagnostics.Append(diags...); diags.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	store, diags := r.backends.Vault(ctx)
	if resp.Diagnostics.Append(diags...); diags.HasError() {
		return
	}
	if isCloud(state.Cloud.ValueString()) {
		xp, diags := r.backends.Crossplane()
		if resp.Diagnostics.Append(diags...); diags.HasError() {
			return
		}
		// The composite names the ProviderConfig it uses (state may not know the credentials, after an import).
		providerConfig := crossplane.ProviderConfigName(state.Cloud.ValueString(), state.Credentials.ValueString())
		switch cluster, _, err := xp.Get(ctx, state.Name.ValueString()); {
		case err == nil:
			providerConfig = cluster.ProviderConfig
		case !errors.Is(err, crossplane.ErrNotFound):
			resp.Diagnostics.AddError("Cannot read the cluster before deleting it", err.Error())
			return
		}
		tflog.Info(ctx, "deleting the cluster's composites", map[string]any{"cluster": state.Name.ValueString()})
		if err := xp.Delete(ctx, state.Name.ValueString()); err != nil {
			resp.Diagnostics.AddError("Cannot delete the cluster", err.Error())
			return
		}
		if err := xp.ReleaseProviderConfig(ctx, state.Cloud.ValueString(), providerConfig); err != nil {
			resp.Diagnostics.AddError("Cannot remove the cluster's ProviderConfig", err.Error())
			return
		}
	}
	if err := store.DeleteKubeconfig(ctx, state.Name.ValueString()); err != nil {
		resp.Diagnostics.AddError("Cannot remove the cluster's kubeconfig from Vault", err.Error())
	}
}

func (r *clusterResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	id := clusterIdentity.importID(ctx, req, &resp.Diagnostics)
	if !clusterNamePattern.MatchString(id) {
		resp.Diagnostics.AddError("Invalid import ID", fmt.Sprintf("%q is not a cluster name (a DNS-1123 label); import idp_cluster by name.", id))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("name"), id)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), id)...)
}

func (r *clusterResource) IdentitySchema(_ context.Context, _ resource.IdentitySchemaRequest, resp *resource.IdentitySchemaResponse) {
	clusterIdentity.schema(resp)
}

// checkVaultPermissions refuses at plan what the Vault login may not do, as a team's login may not
// use another team's credentials or clusters: creating or registering a cluster writes its kubeconfig,
// and a cloud cluster reads its credentials. It asks Vault only when either is planned to happen.
func (r *clusterResource) checkVaultPermissions(ctx context.Context, plan, state clusterModel, creating bool) diag.Diagnostics {
	credentials := ""
	if isCloud(plan.Cloud.ValueString()) && !plan.Credentials.IsUnknown() && (creating || !plan.Credentials.Equal(state.Credentials)) {
		credentials = plan.Credentials.ValueString()
	}
	if plan.Name.IsUnknown() || plan.Cloud.IsUnknown() || (!creating && credentials == "") || !r.backends.vaultConfigured() {
		return nil
	}
	if credentials != "" && !vault.ValidCredentialsName(credentials) {
		return nil // ValidateConfig has said so
	}
	store, diags := r.backends.Vault(ctx)
	if diags.HasError() {
		return diags
	}
	name := plan.Name.ValueString()
	allowed, err := store.ClusterAccess(ctx, name, credentials)
	if errors.Is(err, vault.ErrPermissionDenied) {
		// A login without Vault's default policy may not ask; the reads and writes at apply still refuse.
		tflog.Debug(ctx, "the Vault login may not call sys/capabilities-self; permissions are checked at apply", map[string]any{"cluster": name})
		return nil
	}
	if err != nil {
		diags.Append(r.backends.vaultError("Cannot check what this Vault login may do", err, ""))
		return diags
	}
	if creating && !allowed.WriteKubeconfig {
		diags.Append(clusterNotPermitted(path.Root("name"), store.Identity(), name, store.KubeconfigLocation(name), vault.ErrPermissionDenied))
	}
	if credentials != "" && !allowed.ReadCredentials {
		diags.Append(credentialsNotPermitted(path.Root("credentials"), store.Identity(), credentials, store.CredentialsLocation(credentials)))
	}
	return diags
}
