package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

func newClusterDataSource() datasource.DataSource { return &clusterDataSource{} }

// clusterDataSource reports a platform cluster's status without managing it.
type clusterDataSource struct {
	backends *backends
}

type clusterDataModel struct {
	Name                    types.String `tfsdk:"name"`
	Endpoint                types.String `tfsdk:"endpoint"`
	CACertificate           types.String `tfsdk:"ca_certificate"`
	Status                  types.String `tfsdk:"status"`
	KubernetesVersionActual types.String `tfsdk:"kubernetes_version_actual"`
	KubeconfigPath          types.String `tfsdk:"kubeconfig_path"`
}

func (d *clusterDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_cluster"
}

func (d *clusterDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	computed := func(description string) schema.StringAttribute {
		return schema.StringAttribute{Computed: true, MarkdownDescription: description}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Reads a platform cluster's status: where its API server is, whether it answers, and where its kubeconfig is in Vault.",
		Attributes: map[string]schema.Attribute{
			"name": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Cluster name.",
				Validators:          []validator.String{clusterNameValidators()[0]},
			},
			"endpoint":                  computed("URL of the cluster's API server."),
			"ca_certificate":            computed("PEM CA certificate of the API server."),
			"status":                    computed("`Ready` when the API server answers, `Unreachable` otherwise."),
			"kubernetes_version_actual": computed("Kubernetes version the API server reports; null when unreachable."),
			"kubeconfig_path":           computed("Vault path of the admin kubeconfig."),
		},
	}
}

func (d *clusterDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.backends = backendsFrom(req.ProviderData, &resp.Diagnostics)
}

func (d *clusterDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var model clusterDataModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &model)...)
	if resp.Diagnostics.HasError() {
		return
	}
	name := model.Name.ValueString()
	cluster, client, diags := d.backends.ClusterClient(ctx, name, path.Root("name"))
	if resp.Diagnostics.Append(diags...); diags.HasError() {
		return
	}
	model.Endpoint = types.StringValue(cluster.kubeconfig.Endpoint)
	model.CACertificate = types.StringValue(cluster.kubeconfig.CA)
	model.KubeconfigPath = types.StringValue(cluster.location)
	model.Status, model.KubernetesVersionActual = probe(ctx, client)
	resp.Diagnostics.Append(resp.State.Set(ctx, &model)...)
}
