package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/idp-platform/terraform-provider-idp/internal/addonstack"
	"github.com/idp-platform/terraform-provider-idp/internal/crossplane"
)

var (
	_ resource.ResourceWithConfigure   = (*addonStackResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*addonStackResource)(nil)
	_ resource.ResourceWithImportState = (*addonStackResource)(nil)
	_ resource.ResourceWithIdentity    = (*addonStackResource)(nil)
)

func newAddonStackResource() resource.Resource { return &addonStackResource{} }

// addonStackResource is idp_addon_stack: platform add-ons on one cluster, as an AddonStack composite
// that Crossplane keeps in place between applies.
type addonStackResource struct{ backends *backends }

type addonStackModel struct {
	ID             types.String   `tfsdk:"id"`
	Cluster        types.String   `tfsdk:"cluster"`
	Name           types.String   `tfsdk:"name"`
	Addons         types.Map      `tfsdk:"addons"`
	CatalogVersion types.String   `tfsdk:"catalog_version"`
	Status         types.Map      `tfsdk:"status"`
	Timeouts       timeouts.Value `tfsdk:"timeouts"`
}

// addonInputModel is one entry of addons.
type addonInputModel struct {
	Version types.String `tfsdk:"version"`
	Values  types.String `tfsdk:"values"`
}

var addonInputTypes = map[string]attr.Type{"version": types.StringType, "values": types.StringType}

// addonStatusTypes are the attributes of one entry of status.
var addonStatusTypes = map[string]attr.Type{
	"chart": types.StringType, "repository": types.StringType, "version": types.StringType, "digest": types.StringType,
	"namespace": types.StringType, "status": types.StringType, "gate": types.StringType, "message": types.StringType,
	"order": types.Int64Type,
}

func (r *addonStackResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_addon_stack"
}

func (r *addonStackResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	replace := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Platform add-ons (ingress, cert-manager, external-dns, storage classes, metrics-server, monitoring, " +
			"logging) on one platform cluster, from the curated add-on catalog (see the `idp_addon_catalog` data source). " +
			"The stack is an `AddonStack` composite in the management cluster; Crossplane installs each add-on with " +
			"provider-helm (charts) or provider-kubernetes (plain objects) and keeps it in place between applies: a release " +
			"uninstalled in the cluster is installed again, and a plain object deleted or edited is applied again, without " +
			"Terraform (within the providers' poll interval). Add-ons go in dependency order (an add-on waits until those it " +
			"depends on pass their readiness gates: CRDs Established, Deployments Available, webhook Services with endpoints), " +
			"are upgraded in place and are removed last installed first. A create that fails or is interrupted leaves the " +
			"stack in the management cluster, still reconciled; the next apply takes it over. Charts come from the provider's " +
			"`addon_chart_mirror` when set, else from their upstream repositories. Import with `cluster/stack`.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "`cluster/stack`.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"cluster": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Name of the platform cluster (`idp_cluster.<x>.id`); it must be registered in Vault.",
				Validators:          clusterNameValidators(),
				PlanModifiers:       replace,
			},
			"name": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Name of the stack on the cluster (a DNS label), e.g. `baseline`.",
				Validators:          clusterNameValidators(),
				PlanModifiers:       replace,
			},
			"addons": schema.MapNestedAttribute{
				Required: true,
				MarkdownDescription: "The add-ons, by catalog key (`ingress`, `cert_manager`, `external_dns`, `storage`, `metrics_server`, " +
					"`monitoring`, `logging`). Plan fails on an add-on the catalog lacks, a version it does not offer or that does " +
					"not support the cluster's Kubernetes version, a dependency left out while a dependent is in, and values the " +
					"chart's schema refuses.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"version": schema.StringAttribute{
						Optional:            true,
						MarkdownDescription: "Exact catalog version of the add-on; the catalog's default when unset, resolved when the stack is planned to change (a newer provider's catalog does not move an unchanged stack by itself).",
					},
					"values": schema.StringAttribute{
						Optional: true,
						MarkdownDescription: "YAML values (e.g. `yamlencode({...})`) merged over the catalog's defaults for the cluster's " +
							"cloud. They are stored in the management cluster's AddonStack composite, so keep secrets out of them.",
					},
				}},
			},
			"catalog_version": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "Version of the add-on catalog the stack was resolved from.",
			},
			"status": schema.MapNestedAttribute{
				Computed:            true,
				MarkdownDescription: "Per add-on (same keys as `addons`): what was resolved and how it is doing in the cluster, as of the last refresh.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"chart":      schema.StringAttribute{Computed: true, MarkdownDescription: "Chart name; empty for an add-on of plain objects."},
					"repository": schema.StringAttribute{Computed: true, MarkdownDescription: "Where the chart comes from: the mirror, or the upstream repository."},
					"version":    schema.StringAttribute{Computed: true, MarkdownDescription: "Resolved version."},
					"digest":     schema.StringAttribute{Computed: true, MarkdownDescription: "`sha256:` digest of the chart archive the repository served at plan."},
					"namespace":  schema.StringAttribute{Computed: true, MarkdownDescription: "Namespace of the add-on in the cluster."},
					"status":     schema.StringAttribute{Computed: true, MarkdownDescription: "`Ready`, `Progressing`, `Failed` or `Pending` (waiting for a dependency)."},
					"gate":       schema.StringAttribute{Computed: true, MarkdownDescription: "The readiness gate that does not hold yet; empty when Ready."},
					"message":    schema.StringAttribute{Computed: true, MarkdownDescription: "The cluster's message for that gate."},
					"order":      schema.Int64Attribute{Computed: true, MarkdownDescription: "Position, from 1, in which the add-on is installed."},
				}},
			},
			"timeouts": timeouts.Attributes(ctx, timeouts.Opts{Create: true, Update: true, Delete: true}),
		},
	}
}

func (r *addonStackResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	if req.ProviderData != nil {
		r.backends = backendsFrom(req.ProviderData, &resp.Diagnostics)
	}
}

func (r *addonStackResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	// The policies see the plan as this method leaves it.
	defer func() {
		r.backends.checkPolicy(ctx, "idp_addon_stack", policyClusterFrom(ctx, req, "cluster", false), req, resp)
	}()
	if req.Plan.Raw.IsNull() || req.Plan.Raw.Equal(req.State.Raw) || r.backends == nil {
		return
	}
	var plan addonStackModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() || plan.Cluster.IsUnknown() || plan.Name.IsUnknown() || plan.Addons.IsUnknown() {
		return // resolved at apply, once the cluster and the add-ons are known
	}
	resolved, diags := r.resolve(ctx, plan)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() || resolved == nil {
		return
	}
	plan.ID = types.StringValue(plan.Cluster.ValueString() + "/" + plan.Name.ValueString())
	plan.CatalogVersion = types.StringValue(resolved.catalogVersion)
	plan.Status = resolved.plannedStatus()
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
}

func (r *addonStackResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	defer addonStackIdentity.record(ctx, &resp.State, resp.Identity, &resp.Diagnostics)
	var plan addonStackModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := plan.Timeouts.Create(ctx, 20*time.Minute)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	resp.Diagnostics.Append(r.applyStack(ctx, &plan, timeout, true)...)
	if !resp.Diagnostics.HasError() {
		resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	}
}

func (r *addonStackResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	defer addonStackIdentity.record(ctx, &resp.State, resp.Identity, &resp.Diagnostics)
	var plan addonStackModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := plan.Timeouts.Update(ctx, 20*time.Minute)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	resp.Diagnostics.Append(r.applyStack(ctx, &plan, timeout, false)...)
	if !resp.Diagnostics.HasError() {
		resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	}
}

// applyStack resolves the plan, takes out the add-ons the stack no longer has (last installed first),
// applies the composite and waits until every add-on is Ready, filling the computed attributes. A
// create finds a composite this provider made (an apply interrupted before it saved state) and adopts it.
func (r *addonStackResource) applyStack(ctx context.Context, plan *addonStackModel, timeout time.Duration, creating bool) diag.Diagnostics {
	resolved, diags := r.resolve(ctx, *plan)
	if diags.HasError() {
		return diags
	}
	if resolved == nil {
		diags.AddError("Cannot resolve the add-on stack", "The cluster or the add-ons are still unknown at apply.")
		return diags
	}
	xp, d := r.backends.Crossplane()
	if diags.Append(d...); diags.HasError() {
		return diags
	}
	cluster, stack := plan.Cluster.ValueString(), plan.Name.ValueString()
	existing, err := xp.GetStack(ctx, cluster, stack)
	switch {
	case errors.Is(err, crossplane.ErrStackNotFound):
	case err != nil:
		diags.Append(r.backends.managementClusterError("Cannot read the add-on stack", err, ""))
		return diags
	case creating && !existing.ManagedByProvider:
		diags.AddError("Add-on stack already exists",
			fmt.Sprintf("The management cluster has an AddonStack %q that idp_addon_stack did not make; pick another stack name.", addonstack.CompositeName(cluster, stack)))
		return diags
	case creating && !existing.Creating:
		// A finished stack is in someone's state: taking it over would fight that configuration.
		diags.AddError("Add-on stack already exists",
			fmt.Sprintf("Stack %q of cluster %q exists and is managed elsewhere (another state or workspace). Import it (ID %s/%s) to manage it here, or pick another name.",
				stack, cluster, cluster, stack))
		return diags
	default:
		var remove []string
		for _, addon := range existing.Spec.Addons {
			if !resolved.has(addon.Name) {
				remove = append(remove, addon.Name)
			}
		}
		if len(remove) > 0 {
			tflog.Info(ctx, "removing add-ons, last installed first", map[string]any{"cluster": cluster, "stack": stack, "addons": remove})
			if _, err := xp.RemoveAddons(ctx, existing.Spec, existing.Requested, existing.Creating, remove); err != nil {
				diags.Append(r.backends.managementClusterError("Cannot remove add-ons from the stack", err,
					"Crossplane uninstalls a removed add-on through provider-helm or provider-kubernetes; check their Releases and Objects in the management cluster."))
				return diags
			}
		}
	}
	secret, err := xp.StackKubeconfigSecret(ctx, cluster, []byte(resolved.cluster.kubeconfig.Kubeconfig))
	if err != nil {
		diags.Append(r.backends.managementClusterError("Cannot give Crossplane the cluster's kubeconfig", err, ""))
		return diags
	}
	if d := resolved.matchesPlannedDigests(ctx, plan.Status); d.HasError() {
		return append(diags, d...)
	}
	spec := resolved.spec(cluster, stack, secret)
	if err := xp.ApplyStack(ctx, spec, resolved.requested, creating); err != nil {
		diags.Append(r.backends.managementClusterError("Cannot apply the add-on stack", err, ""))
		return diags
	}
	state, err := xp.WaitStack(ctx, cluster, stack, func(state crossplane.StackState) (bool, error) { return state.Ready(), nil },
		func(state crossplane.StackState) {
			for _, addon := range state.Status.Addons {
				tflog.Info(ctx, "waiting for the add-ons", map[string]any{"addon": addon.Name, "status": addon.Phase, "gate": addon.Gate, "message": addon.Message})
			}
		})
	if err != nil {
		diags.AddError("Add-ons are not Ready", notReadyDetail(cluster, spec, state, timeout, err))
		return diags
	}
	if creating {
		// Done: from now on the stack is this state's, and another create must not take it over.
		if err := xp.FinishStack(ctx, cluster, stack); err != nil {
			diags.Append(r.backends.managementClusterError("Cannot mark the add-on stack created", err, ""))
			return diags
		}
	}
	plan.ID = types.StringValue(cluster + "/" + stack)
	plan.CatalogVersion = types.StringValue(resolved.catalogVersion)
	plan.Status = resolved.status(state.Status)
	return diags
}

// notReadyDetail says which add-on is not Ready, at which gate, with the cluster's message.
func notReadyDetail(cluster string, spec addonstack.Spec, state crossplane.StackState, timeout time.Duration, err error) string {
	var lines []string
	for _, addon := range spec.Addons {
		status, ok := state.AddonStatus(addon.Name)
		switch {
		case !ok:
			lines = append(lines, fmt.Sprintf("- %s: not reported by the composition yet", addon.Name))
		case status.Phase != addonstack.PhaseReady:
			line := fmt.Sprintf("- %s: %s", addon.Name, status.Phase)
			if status.Gate != "" {
				line += ", gate " + status.Gate
			}
			if status.Message != "" {
				line += ": " + status.Message
			}
			lines = append(lines, line)
		}
	}
	if state.Message != "" {
		lines = append(lines, "- composite: "+state.Message)
	}
	return fmt.Sprintf("Within %s (timeouts), these add-ons of cluster %q did not become Ready:\n%s\n\n(%v)\nThe stack stays in the management cluster and Crossplane keeps reconciling it; "+
		"fix the cause (kubectl describe the add-on's Release or Object there, or look in the cluster) and apply again.",
		timeout, cluster, strings.Join(lines, "\n"), err)
}

func (r *addonStackResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	defer addonStackIdentity.record(ctx, &resp.State, resp.Identity, &resp.Diagnostics)
	var state addonStackModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	cluster, stack := state.Cluster.ValueString(), state.Name.ValueString()
	_, found, diags := r.backends.Cluster(ctx, cluster, path.Root("cluster"))
	if resp.Diagnostics.Append(diags...); resp.Diagnostics.HasError() {
		return
	}
	xp, diags := r.backends.Crossplane()
	if resp.Diagnostics.Append(diags...); resp.Diagnostics.HasError() {
		return
	}
	if !found {
		if err := xp.ReleaseStack(ctx, cluster, stack); err != nil {
			resp.Diagnostics.Append(r.backends.managementClusterError("Cannot read the add-on stack", err, ""))
			return
		}
		resp.Diagnostics.AddWarning("The stack's cluster is gone",
			fmt.Sprintf("Vault no longer registers cluster %q, so add-on stack %q is planned to be created again once it is back. "+
				"Its AddonStack %q stays in the management cluster, and that create takes it over; if you drop the stack from the "+
				"configuration instead, delete that composite yourself.", cluster, stack, addonstack.CompositeName(cluster, stack)))
		resp.State.RemoveResource(ctx)
		return
	}
	current, err := xp.GetStack(ctx, cluster, stack)
	if errors.Is(err, crossplane.ErrStackNotFound) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.Append(r.backends.managementClusterError("Cannot read the add-on stack", err, ""))
		return
	}
	recorded, err := parseRequested(current.Requested)
	if err != nil {
		resp.Diagnostics.AddError("Cannot read the add-on stack", fmt.Sprintf("AddonStack %q: %v", addonstack.CompositeName(cluster, stack), err))
		return
	}
	state.ID = types.StringValue(cluster + "/" + stack)
	state.Addons = recorded.addonsValue()
	state.CatalogVersion = types.StringValue(recorded.CatalogVersion)
	state.Status = recorded.status(current.Spec, current.Status)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *addonStackResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state addonStackModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := state.Timeouts.Delete(ctx, 10*time.Minute)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	xp, diags := r.backends.Crossplane()
	if resp.Diagnostics.Append(diags...); resp.Diagnostics.HasError() {
		return
	}
	cluster, stack := state.Cluster.ValueString(), state.Name.ValueString()
	if err := xp.DeleteStack(ctx, cluster, stack); err != nil {
		resp.Diagnostics.Append(r.backends.managementClusterError("Cannot delete the add-on stack", err,
			"Add-ons are removed last installed first; check the stack's Releases and Objects in the management cluster."))
		return
	}
	if err := xp.ReleaseStackKubeconfigSecret(ctx, cluster); err != nil {
		resp.Diagnostics.Append(r.backends.managementClusterError("Cannot remove the cluster's kubeconfig secret", err, ""))
	}
}

func (r *addonStackResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	id := addonStackIdentity.importID(ctx, req, &resp.Diagnostics)
	cluster, stack, ok := strings.Cut(id, "/")
	if !ok || !clusterNamePattern.MatchString(cluster) || !clusterNamePattern.MatchString(stack) {
		resp.Diagnostics.AddError("Invalid import ID", fmt.Sprintf("%q is not cluster/stack.", id))
		return
	}
	for attr, value := range map[string]string{"id": id, "cluster": cluster, "name": stack} {
		resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root(attr), value)...)
	}
}

func (r *addonStackResource) IdentitySchema(_ context.Context, _ resource.IdentitySchemaRequest, resp *resource.IdentitySchemaResponse) {
	addonStackIdentity.schema(resp)
}
