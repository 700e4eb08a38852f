package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

func newAppsDataSource() datasource.DataSource { return &appsDataSource{} }

// appsDataSource lists the Helm releases of a platform cluster, whoever made them: the basis for
// importing releases the helm CLI or another provider made.
type appsDataSource struct {
	backends *backends
}

type appsDataModel struct {
	Cluster   types.String `tfsdk:"cluster"`
	Namespace types.String `tfsdk:"namespace"`
	Apps      types.List   `tfsdk:"apps"`
}

var listedAppType = types.ObjectType{AttrTypes: map[string]attr.Type{
	"id": types.StringType, "name": types.StringType, "namespace": types.StringType, "chart": types.StringType,
	"chart_version": types.StringType, "app_version": types.StringType, "revision": types.Int64Type, "status": types.StringType,
}}

func (d *appsDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_apps"
}

func (d *appsDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	computed := func(description string) schema.StringAttribute {
		return schema.StringAttribute{Computed: true, MarkdownDescription: description}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Lists the Helm releases on a platform cluster, whoever made them (`idp_app`, the helm CLI, the helm " +
			"provider): the latest revision of each, read with one list request of Helm's release records. Each `id` is what " +
			"`idp_app` imports, so `import` blocks over this list bring releases made elsewhere under Terraform. Values are " +
			"never returned: they may hold secrets.",
		Attributes: map[string]schema.Attribute{
			"cluster": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Platform cluster name, registered in Vault.",
				Validators:          []validator.String{dnsLabel()},
			},
			"namespace": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Only releases in this namespace; every namespace when unset.",
				Validators:          []validator.String{dnsLabel()},
			},
			"apps": schema.ListNestedAttribute{
				Computed:            true,
				MarkdownDescription: "The releases, by namespace and name.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"id":            computed("`cluster/namespace/name`, the import ID of `idp_app` (`provider::idp::release_id`)."),
					"name":          computed("Release name."),
					"namespace":     computed("Namespace of the release."),
					"chart":         computed("Chart name."),
					"chart_version": computed("Chart version."),
					"app_version":   computed("The chart's app version."),
					"revision":      schema.Int64Attribute{Computed: true, MarkdownDescription: "Latest revision."},
					"status":        computed("Helm's status of the latest revision: `deployed`, `failed`, `pending-install`, ..."),
				}},
			},
		},
	}
}

func (d *appsDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.backends = backendsFrom(req.ProviderData, &resp.Diagnostics)
}

func (d *appsDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var model appsDataModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &model)...)
	if resp.Diagnostics.HasError() || d.backends == nil {
		return
	}
	cluster := model.Cluster.ValueString()
	engine, diags := d.backends.ClusterEngine(ctx, cluster, path.Root("cluster"))
	if resp.Diagnostics.Append(diags...); diags.HasError() {
		return
	}
	releases, err := engine.List(ctx, model.Namespace.ValueString())
	if err != nil {
		resp.Diagnostics.Append(d.backends.workloadClusterError(cluster, "Cannot list the cluster's Helm releases", err,
			"The cluster's kubeconfig must allow listing Secrets in the namespaces listed."))
		return
	}
	values := make([]attr.Value, 0, len(releases))
	for _, rel := range releases {
		value, diags := types.ObjectValue(listedAppType.AttrTypes, map[string]attr.Value{
			"id":   types.StringValue(releaseID(cluster, rel.Namespace, rel.Name)),
			"name": types.StringValue(rel.Name), "namespace": types.StringValue(rel.Namespace),
			"chart": types.StringValue(rel.ChartName), "chart_version": types.StringValue(rel.ChartVersion),
			"app_version": types.StringValue(rel.AppVersion), "revision": types.Int64Value(int64(rel.Revision)),
			"status": types.StringValue(rel.Status),
		})
		if resp.Diagnostics.Append(diags...); diags.HasError() {
			return
		}
		values = append(values, value)
	}
	apps, diags := types.ListValue(listedAppType, values)
	if resp.Diagnostics.Append(diags...); diags.HasError() {
		return
	}
	model.Apps = apps
	resp.Diagnostics.Append(resp.State.Set(ctx, &model)...)
}
