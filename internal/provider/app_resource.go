package provider

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"
	chart "helm.sh/helm/v4/pkg/chart/v2"

	"github.com/idp-platform/terraform-provider-idp/internal/catalog"
	"github.com/idp-platform/terraform-provider-idp/internal/helm"
)

func newAppResource() resource.Resource { return &appResource{} }

// appResource is an application: a Helm release in a platform cluster, from a catalog chart or a local
// chart directory or archive.
type appResource struct {
	backends *backends
}

var (
	_ resource.ResourceWithConfigure      = &appResource{}
	_ resource.ResourceWithImportState    = &appResource{}
	_ resource.ResourceWithIdentity       = &appResource{}
	_ resource.ResourceWithModifyPlan     = &appResource{}
	_ resource.ResourceWithValidateConfig = &appResource{}
)

type appModel struct {
	ID             types.String   `tfsdk:"id"`
	Cluster        types.String   `tfsdk:"cluster"`
	Namespace      types.String   `tfsdk:"namespace"`
	Name           types.String   `tfsdk:"name"`
	Chart          *appChartModel `tfsdk:"chart"`
	Values         types.String   `tfsdk:"values"`
	SensitiveWO    types.String   `tfsdk:"sensitive_values_wo"`
	SensitiveWOVer types.Int64    `tfsdk:"sensitive_values_wo_version"`
	Wait           types.Bool     `tfsdk:"wait"`
	Atomic         types.Bool     `tfsdk:"atomic"`
	MaxHistory     types.Int64    `tfsdk:"max_history"`
	RollbackTo     types.Int64    `tfsdk:"rollback_to_revision"`
	Revision       types.Int64    `tfsdk:"revision"`
	Status         types.String   `tfsdk:"status"`
	ChartVersion   types.String   `tfsdk:"chart_version"`
	AppVersion     types.String   `tfsdk:"app_version"`
	ManifestSHA256 types.String   `tfsdk:"manifest_sha256"`
	Resources      types.List     `tfsdk:"resources"`
	Drift          types.List     `tfsdk:"drift"`
	Timeouts       timeouts.Value `tfsdk:"timeouts"`
}

func (r *appResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_app"
}

func (r *appResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	replace := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	label := []validator.String{dnsLabel()}
	computedString := func(description string) schema.StringAttribute {
		return schema.StringAttribute{Computed: true, MarkdownDescription: description}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "An application: a Helm release (Helm v4) in a platform cluster, reached through the cluster's " +
			"kubeconfig in Vault. Charts come from the platform's catalog of standardized charts or from a local " +
			"directory or archive. Values are checked against the chart's `values.schema.json` at plan. Releases are " +
			"stored as Helm stores them, so a release made by the helm CLI or the helm provider is imported by " +
			"`cluster/namespace/name`. An import does not read the release's values into state (they may hold secrets): " +
			"state keeps their digest, so a configuration that states the release's chart, version and values exactly " +
			"plans nothing, and any other plans one upgrade to the configuration.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "`cluster/namespace/name`.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"cluster": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Name of the platform cluster (`idp_cluster.<x>.name`).",
				Validators:          label,
				PlanModifiers:       replace,
			},
			"namespace": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Namespace of the release; created when missing.",
				Validators:          label,
				PlanModifiers:       replace,
			},
			"name": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Release name.",
				Validators:          append(label, stringvalidator.LengthAtMost(maxReleaseName)),
				PlanModifiers:       replace,
			},
			"chart": schema.SingleNestedAttribute{
				Required:            true,
				MarkdownDescription: "The chart, from one source: `catalog`, `repository` with `name`, `oci`, or `path`.",
				Attributes: map[string]schema.Attribute{
					"catalog": schema.StringAttribute{
						Optional:            true,
						MarkdownDescription: fmt.Sprintf("Name of a standardized chart of the platform's catalog: %s.", strings.Join(catalog.Names(), ", ")),
					},
					"repository": schema.StringAttribute{
						Optional: true,
						MarkdownDescription: "URL of an HTTP(S) chart repository (the directory of its `index.yaml`), with `name` and `version`. " +
							"The archive must match the digest the index gives.",
						Validators: []validator.String{stringvalidator.RegexMatches(regexp.MustCompile(`^https?://[^/\s]+`), "must be an http:// or https:// URL")},
					},
					"name": schema.StringAttribute{
						Optional:            true,
						MarkdownDescription: "Name of the chart in `repository`.",
					},
					"oci": schema.StringAttribute{
						Optional: true,
						MarkdownDescription: "OCI reference of the chart, `oci://host/path/chart`, with `version` (no tag or digest in the " +
							"reference). Registries on loopback may speak plain HTTP; others must use TLS.",
						Validators: []validator.String{ociReference{}},
					},
					"path": schema.StringAttribute{
						Optional:            true,
						MarkdownDescription: "Path of a local chart directory or `.tgz` archive.",
					},
					"version": schema.StringAttribute{
						Optional: true,
						MarkdownDescription: "Exact version of the chart: required for `repository` and `oci`; for `catalog`, the " +
							"shipped version when empty; not used with `path` (its `Chart.yaml` says).",
					},
					"digest": schema.StringAttribute{
						Optional: true,
						MarkdownDescription: "`sha256:<hex>` of the chart archive, for `repository` and `oci`: the apply fails unless " +
							"the downloaded archive has this digest, so a re-published version cannot slip in.",
						Validators: []validator.String{stringvalidator.RegexMatches(regexp.MustCompile(`^sha256:[0-9a-f]{64}$`), "must be sha256: followed by 64 lowercase hex digits")},
					},
				},
			},
			"values": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Values as YAML (e.g. `yamlencode({...})`), checked against the chart's schema at plan.",
			},
			"sensitive_values_wo": schema.StringAttribute{
				Optional:  true,
				WriteOnly: true,
				Sensitive: true,
				MarkdownDescription: "Secret values as YAML, merged over `values`. Write-only: never in plan or state (Helm keeps " +
					"them in its release secret in the cluster). Needs `sensitive_values_wo_version`; change it to apply new ones.",
				Validators: []validator.String{stringvalidator.AlsoRequires(path.MatchRoot("sensitive_values_wo_version"))},
			},
			"sensitive_values_wo_version": schema.Int64Attribute{
				Optional:            true,
				MarkdownDescription: "Any number; changing it upgrades the release with the current `sensitive_values_wo`.",
			},
			"wait": schema.BoolAttribute{
				Optional: true,
				Computed: true,
				Default:  booldefault.StaticBool(true),
				MarkdownDescription: "Wait, on install and upgrade, until every object of the release is ready (kstatus), up to the " +
					"`create` or `update` timeout; an install or upgrade whose objects are not ready by then fails. With `false`, " +
					"install and upgrade return as soon as the objects are applied (hooks still run to completion), and a failed " +
					"install is still uninstalled. Default `true`.",
			},
			"atomic": schema.BoolAttribute{
				Optional: true,
				Computed: true,
				Default:  booldefault.StaticBool(false),
				MarkdownDescription: "Roll a failed upgrade back to the latest successful revision, deleting the objects it " +
					"created. With `wait = true` an upgrade also fails when its objects are not ready within the `update` " +
					"timeout, and the rollback waits for the old objects to be ready; with `wait = false` only an upgrade that " +
					"cannot be applied fails, and the rollback does not wait either (unlike `helm upgrade --atomic`, `atomic` " +
					"does not turn waiting on). A failed install is always uninstalled, whatever `atomic` says. Default `false`.",
			},
			"max_history": schema.Int64Attribute{
				Optional:            true,
				Computed:            true,
				Default:             int64default.StaticInt64(10),
				MarkdownDescription: "Revisions of history kept. Default `10`.",
			},
			"rollback_to_revision": schema.Int64Attribute{
				Optional: true,
				MarkdownDescription: "Set, or change, to roll the release back to that revision on the next apply instead of " +
					"upgrading it. The rolled-back revision stays until `chart` or `values` change or this attribute is removed, " +
					"which upgrade to the configuration again.",
				Validators: []validator.Int64{int64validator.AtLeast(1)},
			},
			"revision": schema.Int64Attribute{
				Computed:            true,
				MarkdownDescription: "Revision of the release.",
			},
			"status":          computedString("Status of the release, e.g. `deployed`."),
			"chart_version":   computedString("Version of the chart released."),
			"app_version":     computedString("App version of the chart released."),
			"manifest_sha256": computedString("SHA-256 of the rendered manifest."),
			"resources": schema.ListAttribute{
				Computed:            true,
				ElementType:         types.StringType,
				MarkdownDescription: "Every object of the release, as `kind/namespace/name` (`kind/name` when cluster-scoped).",
			},
			"drift": schema.ListAttribute{
				Computed:    true,
				ElementType: types.StringType,
				Default:     listdefault.StaticValue(types.ListValueMust(types.StringType, []attr.Value{})),
				MarkdownDescription: "Differences between the release's manifest and the live objects found at the last refresh: " +
					"objects that are gone and fields the chart sets that were changed out of band. Always planned empty, " +
					"so drift shows in the plan as an update, which re-applies the release and restores the objects.",
			},
			"timeouts": timeouts.Attributes(ctx, timeouts.Opts{Create: true, Update: true, Delete: true}),
		},
	}
}

func (r *appResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.backends = backendsFrom(req.ProviderData, &resp.Diagnostics)
}

func (r *appResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var config appModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() || config.Chart == nil {
		return
	}
	c := config.Chart
	if c.anyUnknown() {
		return
	}
	chartPath := path.Root("chart")
	sources := 0
	for _, v := range []types.String{c.Catalog, c.Repository, c.OCI, c.Path} {
		if !v.IsNull() {
			sources++
		}
	}
	if sources != 1 {
		resp.Diagnostics.AddAttributeError(chartPath, "Invalid chart", "Set exactly one of chart.catalog, chart.repository, chart.oci and chart.path.")
		return
	}
	remote := !c.Repository.IsNull() || !c.OCI.IsNull()
	switch {
	case !c.Repository.IsNull() && c.Name.IsNull():
		resp.Diagnostics.AddAttributeError(chartPath.AtName("name"), "Invalid chart", "chart.repository needs chart.name, the chart's name in the repository.")
	case c.Repository.IsNull() && !c.Name.IsNull():
		resp.Diagnostics.AddAttributeError(chartPath.AtName("name"), "Invalid chart", "chart.name names a chart of chart.repository; set the repository or remove the name.")
	}
	switch {
	case remote && c.Version.IsNull():
		resp.Diagnostics.AddAttributeError(chartPath.AtName("version"), "Invalid chart",
			"A chart from a repository or registry needs an exact chart.version, so that every apply installs the same chart.")
	case !c.Path.IsNull() && !c.Version.IsNull():
		resp.Diagnostics.AddAttributeError(chartPath.AtName("version"), "Invalid chart",
			"chart.version selects a chart's version from a catalog, repository or registry; a local chart's version is in its Chart.yaml.")
	}
	if !remote && !c.Digest.IsNull() {
		resp.Diagnostics.AddAttributeError(chartPath.AtName("digest"), "Invalid chart",
			"chart.digest pins an archive downloaded from chart.repository or chart.oci; catalog and local charts are not downloaded.")
	}
}

// ModifyPlan loads the chart and checks the values against its schema and against the size Kubernetes
// stores, so that bad values fail the plan on the values attribute instead of the apply. A release whose
// chart and values are those it was applied with was checked then: it is not checked again, so that the
// plan of many unchanged releases loads no chart.
func (r *appResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	// The policies see the plan as this method leaves it.
	defer func() {
		r.backends.checkPolicy(ctx, "idp_app", policyClusterFrom(ctx, req, "cluster", false), req, resp)
	}()
	if req.Plan.Raw.IsNull() || req.Plan.Raw.Equal(req.State.Raw) {
		return // a destroy, or a release planned exactly as it is: nothing to check
	}
	var plan appModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() || plan.Chart == nil || plan.Values.IsUnknown() || plan.Chart.anyUnknown() || r.backends == nil {
		return
	}
	var state *appModel
	if !req.State.Raw.IsNull() {
		state = &appModel{}
		resp.Diagnostics.Append(req.State.Get(ctx, state)...)
		if resp.Diagnostics.HasError() || releaseInputsUnchanged(plan, *state) {
			return
		}
	}
	var config appModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() || config.SensitiveWO.IsUnknown() {
		return
	}
	ch, values, diags := r.loadChartAndValues(ctx, plan, config.SensitiveWO)
	if resp.Diagnostics.Append(diags...); diags.HasError() {
		return
	}
	if err := helm.ValidateValues(ch, values); err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("values"), "Values do not match the chart's schema", err.Error())
		return
	}
	size, tooLarge, err := helm.TooLargeToStore(ch, values)
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("values"), "Cannot encode the release", err.Error())
		return
	}
	if tooLarge {
		resp.Diagnostics.AddAttributeError(path.Root("values"), "Values too large",
			fmt.Sprintf("Helm stores a release, with its chart and values (sensitive_values_wo included), gzip-compressed and base64-encoded "+
				"in a Secret, and Kubernetes refuses a Secret over %d bytes; this release's would be at least %d bytes. Move the large "+
				"content out of the values (for example into a ConfigMap managed apart, or files the image holds), or shrink it.",
				helm.MaxStoredReleaseBytes, size))
	}
	if state != nil && !resp.Diagnostics.HasError() && importedReleaseMatches(plan, *state, values) {
		// The configuration describes the imported release exactly: keep the state as it is, so the plan
		// is empty and no revision is made. The digest stays in state until the next real change.
		tflog.Info(ctx, "the imported release matches the configuration", map[string]any{"release": appID(plan)})
		resp.Diagnostics.Append(resp.Plan.Set(ctx, state)...)
	}
}

// releaseInputsUnchanged reports whether plan asks for the chart and values state was applied with,
// sensitive values included (their version says whether they changed).
func releaseInputsUnchanged(plan, state appModel) bool {
	if state.Chart == nil || !plan.Values.Equal(state.Values) || !plan.SensitiveWOVer.Equal(state.SensitiveWOVer) {
		return false
	}
	p, s := plan.Chart, state.Chart
	return p.Catalog.Equal(s.Catalog) && p.Repository.Equal(s.Repository) && p.Name.Equal(s.Name) && p.OCI.Equal(s.OCI) &&
		p.Path.Equal(s.Path) && p.Version.Equal(s.Version) && p.Digest.Equal(s.Digest)
}

// releaseInputs resolves what an install or upgrade needs: the chart, the values with the sensitive
// ones merged in, and an engine for the cluster.
func (r *appResource) releaseInputs(ctx context.Context, plan appModel, sensitive types.String) (*chart.Chart, map[string]any, *helm.Engine, diag.Diagnostics) {
	ch, values, diags := r.loadChartAndValues(ctx, plan, sensitive)
	if diags.HasError() {
		return nil, nil, nil, diags
	}
	engine, engineDiags := r.backends.ClusterEngine(ctx, plan.Cluster.ValueString(), path.Root("cluster"))
	diags.Append(engineDiags...)
	return ch, values, engine, diags
}

func (r *appResource) spec(plan appModel, ch *chart.Chart, values map[string]any, timeout time.Duration) helm.Spec {
	return helm.Spec{
		Namespace:  plan.Namespace.ValueString(),
		Name:       plan.Name.ValueString(),
		Chart:      ch,
		Values:     values,
		Wait:       plan.Wait.ValueBool(),
		Atomic:     plan.Atomic.ValueBool(),
		Timeout:    timeout,
		MaxHistory: int(plan.MaxHistory.ValueInt64()),
	}
}

func (r *appResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	defer appIdentity.record(ctx, &resp.State, resp.Identity, &resp.Diagnostics)
	var plan, config appModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...) // write-only values are only in the configuration
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := plan.Timeouts.Create(ctx, 10*time.Minute)
	if resp.Diagnostics.Append(diags...); diags.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout+time.Minute)
	defer cancel()
	ch, values, engine, diags := r.releaseInputs(ctx, plan, config.SensitiveWO)
	if resp.Diagnostics.Append(diags...); diags.HasError() {
		return
	}
	namespace, name := plan.Namespace.ValueString(), plan.Name.ValueString()
	existing, err := engine.Get(ctx, namespace, name)
	switch {
	case errors.Is(err, helm.ErrReleaseNotFound):
	case err != nil:
		resp.Diagnostics.Append(r.backends.workloadClusterError(plan.Cluster.ValueString(), "Cannot check for an existing release", err, ""))
		return
	case existing.Pending() || existing.Status == "failed":
		// An apply interrupted during install, or an install that failed, left the name taken: clear it.
		tflog.Warn(ctx, "removing a release left by an interrupted or failed install", map[string]any{"release": namespace + "/" + name, "status": existing.Status})
		if err := engine.Uninstall(ctx, namespace, name, timeout); err != nil {
			resp.Diagnostics.AddError("Cannot clear the earlier failed release", err.Error())
			return
		}
	default:
		resp.Diagnostics.AddAttributeError(path.Root("name"), "Release already exists",
			fmt.Sprintf("Release %s/%s (%s, revision %d) already exists in cluster %q. To manage it here, import it: terraform import <address> %s.",
				namespace, name, existing.Status, existing.Revision, plan.Cluster.ValueString(), appID(plan)))
		return
	}
	tflog.Info(ctx, "installing release", map[string]any{"release": namespace + "/" + name, "chart": ch.Metadata.Name, "version": ch.Metadata.Version, "wait": plan.Wait.ValueBool()})
	rel, err := engine.Install(ctx, r.spec(plan, ch, values, timeout))
	if err != nil {
		resp.Diagnostics.AddError("Cannot install the release", installFailure(err, plan.Wait.ValueBool(), timeout))
		return
	}
	plan.ID = types.StringValue(appID(plan))
	resp.Diagnostics.Append(setReleaseAttributes(&plan, engine, rel)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// installFailure explains a failed install and what to do about it.
func installFailure(err error, wait bool, timeout time.Duration) string {
	if wait && errors.Is(err, context.DeadlineExceeded) {
		return fmt.Sprintf("The release's objects were not ready within the create timeout (%s): %s\n\n"+
			"The failed release was removed. Find out why the objects above are not ready (for Pods, their events: "+
			"kubectl describe), then apply again; raise timeouts.create if they need longer, or set wait = false "+
			"to return once the objects are applied.", timeout, err)
	}
	return err.Error() + "\n\nThe failed release was removed; the next apply installs it again."
}

func appID(m appModel) string {
	return releaseID(m.Cluster.ValueString(), m.Namespace.ValueString(), m.Name.ValueString())
}

// setReleaseAttributes maps a release onto the model's computed attributes.
func setReleaseAttributes(m *appModel, engine *helm.Engine, rel helm.Release) diag.Diagnostics {
	var diags diag.Diagnostics
	resources, err := engine.Resources(rel)
	if err != nil {
		diags.AddError("Cannot list the objects of the release", err.Error())
		return diags
	}
	names := make([]attr.Value, len(resources))
	for i, name := range resources {
		names[i] = types.StringValue(name)
	}
	m.Resources = types.ListValueMust(types.StringType, names)
	sum := sha256.Sum256([]byte(rel.Manifest))
	m.Revision = types.Int64Value(int64(rel.Revision))
	m.Status = types.StringValue(rel.Status)
	m.ChartVersion = types.StringValue(rel.ChartVersion)
	m.AppVersion = types.StringValue(rel.AppVersion)
	m.ManifestSHA256 = types.StringValue(hex.EncodeToString(sum[:]))
	m.Drift = types.ListValueMust(types.StringType, []attr.Value{})
	return diags
}

func (r *appResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	defer appIdentity.record(ctx, &resp.State, resp.Identity, &resp.Diagnostics)
	var state appModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	engine, registered, diags := r.backends.RegisteredClusterEngine(ctx, state.Cluster.ValueString(), path.Root("cluster"))
	if resp.Diagnostics.Append(diags...); diags.HasError() {
		return
	}
	if !registered {
		// Without the cluster's registration the release cannot be reached; the cluster is planned
		// for creation, so the release is planned with it rather than failing the refresh.
		resp.Diagnostics.AddWarning("Cluster no longer registered",
			fmt.Sprintf("Vault holds no kubeconfig for cluster %q, so release %s cannot be read and is treated as gone. "+
				"If the release still runs in that cluster, the next install of it will ask you to import it.", state.Cluster.ValueString(), appID(state)))
		resp.State.RemoveResource(ctx)
		return
	}
	// Find answers from one list of the namespace's releases, shared by every release refreshed in it.
	rel, err := engine.Find(ctx, state.Namespace.ValueString(), state.Name.ValueString())
	if errors.Is(err, helm.ErrReleaseNotFound) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.Append(r.backends.workloadClusterError(state.Cluster.ValueString(), "Cannot read the release", err, ""))
		return
	}
	if state.Chart == nil { // imported
		// The release's values are not read into state: they may hold what was given as sensitive. Their
		// digest stands in for them, so a configuration that states them exactly plans nothing.
		state.Chart = importedChart(rel)
		marker, err := importedValuesMarker(rel.Values, appID(state))
		if err != nil {
			resp.Diagnostics.AddError("Cannot read the values of the imported release", err.Error())
			return
		}
		state.Values = marker
	}
	state.ID = types.StringValue(appID(state))
	if resp.Diagnostics.Append(setReleaseAttributes(&state, engine, rel)...); resp.Diagnostics.HasError() {
		return
	}
	if rel.Status == "deployed" {
		drift, err := engine.Drift(ctx, rel)
		if err != nil {
			resp.Diagnostics.AddWarning("Cannot check the release for drift", err.Error())
		}
		if len(drift) > 0 {
			tflog.Info(ctx, "the release's objects drifted", map[string]any{"release": appID(state), "drift": drift})
			values := make([]attr.Value, len(drift))
			for i, d := range drift {
				values[i] = types.StringValue(d)
			}
			state.Drift = types.ListValueMust(types.StringType, values)
		}
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *appResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	defer appIdentity.record(ctx, &resp.State, resp.Identity, &resp.Diagnostics)
	var plan, config appModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := plan.Timeouts.Update(ctx, 10*time.Minute)
	if resp.Diagnostics.Append(diags...); diags.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout+time.Minute)
	defer cancel()
	ch, values, engine, diags := r.releaseInputs(ctx, plan, config.SensitiveWO)
	if resp.Diagnostics.Append(diags...); diags.HasError() {
		return
	}
	namespace, name := plan.Namespace.ValueString(), plan.Name.ValueString()
	current, err := engine.Get(ctx, namespace, name)
	if err != nil {
		resp.Diagnostics.Append(r.backends.workloadClusterError(plan.Cluster.ValueString(), "Cannot read the release before upgrading it", err, ""))
		return
	}
	if current.Pending() {
		// An apply interrupted mid-upgrade left the release locked; rolling back to the last revision
		// releases the lock and restores what was running, and the upgrade then proceeds.
		tflog.Warn(ctx, "rolling back a release left pending by an interrupted operation", map[string]any{"release": appID(plan), "status": current.Status, "revision": current.Revision})
		if _, err := engine.Rollback(ctx, namespace, name, 0, plan.Wait.ValueBool(), timeout); err != nil {
			resp.Diagnostics.AddError("Cannot recover the release from an interrupted operation", err.Error())
			return
		}
	}
	var state appModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !plan.RollbackTo.IsNull() && !plan.RollbackTo.Equal(state.RollbackTo) {
		revision := int(plan.RollbackTo.ValueInt64())
		tflog.Info(ctx, "rolling release back", map[string]any{"release": appID(plan), "revision": revision})
		rel, err := engine.Rollback(ctx, namespace, name, revision, plan.Wait.ValueBool(), timeout)
		if err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("rollback_to_revision"), "Cannot roll the release back", err.Error())
			return
		}
		resp.Diagnostics.Append(setReleaseAttributes(&plan, engine, rel)...)
		resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
		return
	}
	tflog.Info(ctx, "upgrading release", map[string]any{"release": appID(plan), "chart": ch.Metadata.Name, "version": ch.Metadata.Version})
	rel, err := engine.Upgrade(ctx, r.spec(plan, ch, values, timeout))
	if err != nil {
		detail := err.Error()
		if plan.Atomic.ValueBool() {
			detail += "\n\natomic is set: the release was rolled back to its last good revision."
		}
		resp.Diagnostics.AddError("Cannot upgrade the release", detail)
		return
	}
	resp.Diagnostics.Append(setReleaseAttributes(&plan, engine, rel)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *appResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state appModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := state.Timeouts.Delete(ctx, 10*time.Minute)
	if resp.Diagnostics.Append(diags...); diags.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout+time.Minute)
	defer cancel()
	engine, diags := r.backends.ClusterEngine(ctx, state.Cluster.ValueString(), path.Root("cluster"))
	if resp.Diagnostics.Append(diags...); diags.HasError() {
		return
	}
	if err := engine.Uninstall(ctx, state.Namespace.ValueString(), state.Name.ValueString(), timeout); err != nil {
		resp.Diagnostics.Append(r.backends.workloadClusterError(state.Cluster.ValueString(), "Cannot uninstall the release", err, ""))
	}
}

func (r *appResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	id := appIdentity.importID(ctx, req, &resp.Diagnostics)
	parts := strings.Split(id, "/")
	if len(parts) != 3 || !clusterNamePattern.MatchString(parts[0]) || !clusterNamePattern.MatchString(parts[1]) || parts[2] == "" {
		resp.Diagnostics.AddError("Invalid import ID", fmt.Sprintf("%q is not cluster/namespace/name.", id))
		return
	}
	for attr, value := range map[string]any{"id": id, "cluster": parts[0], "namespace": parts[1], "name": parts[2], "wait": true, "atomic": false, "max_history": int64(10)} {
		resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root(attr), value)...)
	}
}

func (r *appResource) IdentitySchema(_ context.Context, _ resource.IdentitySchemaRequest, resp *resource.IdentitySchemaResponse) {
	appIdentity.schema(resp)
}
