package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/idp-platform/terraform-provider-idp/internal/kube"
)

func newClusterCredentialsEphemeral() ephemeral.EphemeralResource {
	return &clusterCredentialsEphemeral{}
}

// clusterCredentialsEphemeral hands a cluster's admin credentials from Vault to other providers
// (kubernetes, helm) without writing them to plan or state.
type clusterCredentialsEphemeral struct {
	backends *backends
}

var _ ephemeral.EphemeralResourceWithConfigure = &clusterCredentialsEphemeral{}

type clusterCredentialsModel struct {
	Cluster              types.String `tfsdk:"cluster"`
	Kubeconfig           types.String `tfsdk:"kubeconfig"`
	Endpoint             types.String `tfsdk:"endpoint"`
	ClusterCACertificate types.String `tfsdk:"cluster_ca_certificate"`
	ClientCertificate    types.String `tfsdk:"client_certificate"`
	ClientKey            types.String `tfsdk:"client_key"`
	Token                types.String `tfsdk:"token"`
}

func (e *clusterCredentialsEphemeral) Metadata(_ context.Context, req ephemeral.MetadataRequest, resp *ephemeral.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_cluster_credentials"
}

func (e *clusterCredentialsEphemeral) Schema(_ context.Context, _ ephemeral.SchemaRequest, resp *ephemeral.SchemaResponse) {
	secret := func(description string) schema.StringAttribute {
		return schema.StringAttribute{Computed: true, Sensitive: true, MarkdownDescription: description}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "The admin credentials of a platform cluster, read from Vault at apply time for other " +
			"providers (kubernetes, helm). Ephemeral: never written to plan or state. Needs Terraform 1.10+ or OpenTofu 1.11+.",
		Attributes: map[string]schema.Attribute{
			"cluster": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "Name of the cluster. Use `idp_cluster.<x>.id`: it is known only once the cluster exists, so " +
					"when the cluster is created in the same run the credentials are opened at apply, after it (with `.name` they " +
					"would be opened at plan, before the cluster exists).",
				Validators: []validator.String{clusterNameValidators()[0]},
			},
			"kubeconfig":             secret("The admin kubeconfig."),
			"endpoint":               schema.StringAttribute{Computed: true, MarkdownDescription: "URL of the cluster's API server."},
			"cluster_ca_certificate": schema.StringAttribute{Computed: true, MarkdownDescription: "PEM CA certificate of the API server."},
			"client_certificate":     secret("PEM client certificate of the kubeconfig's user, when it uses one."),
			"client_key":             secret("PEM client key of the kubeconfig's user, when it uses one."),
			"token":                  secret("Bearer token of the kubeconfig's user, when it uses one."),
		},
	}
}

func (e *clusterCredentialsEphemeral) Configure(_ context.Context, req ephemeral.ConfigureRequest, resp *ephemeral.ConfigureResponse) {
	e.backends = backendsFrom(req.ProviderData, &resp.Diagnostics)
}

// openCluster finds the cluster an ephemeral resource opens. ok is false when Open is done: the
// cluster is unknown (an error on cluster), or planned in this run and the CLI can defer, in which
// case the resource opens at apply, once the cluster exists. what names what is opened, for the hint.
func (b *backends) openCluster(ctx context.Context, name, what string, req ephemeral.OpenRequest, resp *ephemeral.OpenResponse) (registeredCluster, bool) {
	cluster, found, diags := b.Cluster(ctx, name, path.Root("cluster"))
	if resp.Diagnostics.Append(diags...); diags.HasError() {
		return cluster, false
	}
	if found {
		return cluster, true
	}
	if req.ClientCapabilities.DeferralAllowed {
		resp.Deferred = &ephemeral.Deferred{Reason: ephemeral.DeferredReasonAbsentPrereq}
		return cluster, false
	}
	resp.Diagnostics.Append(unknownCluster(path.Root("cluster"), name, cluster.location,
		"If the idp_cluster is created in this run, set cluster = idp_cluster.<name>.id: the id is known only once the "+
			"cluster exists, so the "+what+" opened at apply, after it.")...)
	return cluster, false
}

func (e *clusterCredentialsEphemeral) Open(ctx context.Context, req ephemeral.OpenRequest, resp *ephemeral.OpenResponse) {
	var model clusterCredentialsModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &model)...)
	if resp.Diagnostics.HasError() {
		return
	}
	cluster, ok := e.backends.openCluster(ctx, model.Cluster.ValueString(), "credentials are", req, resp)
	if !ok {
		return
	}
	stored := cluster.kubeconfig
	summary, err := kube.ParseKubeconfig([]byte(stored.Kubeconfig))
	if err != nil {
		resp.Diagnostics.AddError("The kubeconfig in Vault is not usable", fmt.Sprintf("%s: %v", cluster.location, err))
		return
	}
	optional := func(s string) types.String {
		if s == "" {
			return types.StringNull()
		}
		return types.StringValue(s)
	}
	model.Kubeconfig = types.StringValue(stored.Kubeconfig)
	model.Endpoint = types.StringValue(summary.Endpoint)
	model.ClusterCACertificate = types.StringValue(summary.CACertificatePEM)
	model.ClientCertificate = optional(summary.ClientCertificate)
	model.ClientKey = optional(summary.ClientKey)
	model.Token = optional(summary.Token)
	resp.Diagnostics.Append(resp.Result.Set(ctx, &model)...)
}
