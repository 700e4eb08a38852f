package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/idp-platform/terraform-provider-idp/internal/keycloak"
	"github.com/idp-platform/terraform-provider-idp/internal/kube"
)

func newKubeconfigEphemeral() ephemeral.EphemeralResource { return &kubeconfigEphemeral{} }

// kubeconfigEphemeral builds the kubeconfig people log in to a cluster with: the cluster's server and
// CA from its registration in Vault, and a kubelogin user for the Keycloak issuer the clusters trust.
type kubeconfigEphemeral struct {
	backends *backends
}

var _ ephemeral.EphemeralResourceWithConfigure = &kubeconfigEphemeral{}

type kubeconfigModel struct {
	Cluster    types.String `tfsdk:"cluster"`
	Kubeconfig types.String `tfsdk:"kubeconfig"`
	Endpoint   types.String `tfsdk:"endpoint"`
	IssuerURL  types.String `tfsdk:"issuer_url"`
	ClientID   types.String `tfsdk:"client_id"`
}

// defaultLoginClientID is the Keycloak client users log in to clusters with when the keycloak block
// names none.
const defaultLoginClientID = "kubernetes"

func (e *kubeconfigEphemeral) Metadata(_ context.Context, req ephemeral.MetadataRequest, resp *ephemeral.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_kubeconfig"
}

func (e *kubeconfigEphemeral) Schema(_ context.Context, _ ephemeral.SchemaRequest, resp *ephemeral.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A kubeconfig for people to log in to a platform cluster with their Keycloak account, through " +
			"[kubelogin](https://github.com/int128/kubelogin) (`kubectl oidc-login`): the cluster's API server and CA from its " +
			"registration in Vault, and a user whose token kubelogin gets from the issuer of the provider's `keycloak` block " +
			"(`issuer_url`, `login_client_id`) at each use. What the user may do is what their groups are granted " +
			"(`idp_access`). It holds no token or secret, so no attribute is sensitive and it may be shared, e.g. written to a " +
			"file or handed to a team. Ephemeral, so it is built at each run and follows the cluster's endpoint and CA. Needs " +
			"Terraform 1.10+ or OpenTofu 1.11+.",
		Attributes: map[string]schema.Attribute{
			"cluster": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "Name of the cluster. Use `idp_cluster.<x>.id`: it is known only once the cluster exists, so " +
					"when the cluster is created in the same run the kubeconfig is built at apply, after it.",
				Validators: []validator.String{clusterNameValidators()[0]},
			},
			"kubeconfig": schema.StringAttribute{
				Computed: true,
				MarkdownDescription: "The kubeconfig: one cluster, context (both named after the cluster, the current context) " +
					"and user `oidc@<cluster>`, whose exec plugin runs `kubectl oidc-login get-token` with the issuer and client " +
					"(and the issuer's CA when the keycloak block names one). Add kubelogin flags of your own, such as " +
					"`--token-cache-dir` or `--grant-type`, to the user's `exec.args`. Not sensitive: it holds no credential.",
			},
			"endpoint": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "URL of the cluster's API server.",
			},
			"issuer_url": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "The OIDC issuer kubelogin gets tokens from: the keycloak block's `issuer_url`.",
			},
			"client_id": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "The Keycloak client users log in with: the keycloak block's `login_client_id`.",
			},
		},
	}
}

func (e *kubeconfigEphemeral) Configure(_ context.Context, req ephemeral.ConfigureRequest, resp *ephemeral.ConfigureResponse) {
	e.backends = backendsFrom(req.ProviderData, &resp.Diagnostics)
}

func (e *kubeconfigEphemeral) Open(ctx context.Context, req ephemeral.OpenRequest, resp *ephemeral.OpenResponse) {
	var model kubeconfigModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &model)...)
	if resp.Diagnostics.HasError() {
		return
	}
	// The keycloak block is read before Vault, so a configuration without it fails before any backend
	// is reached.
	issuer, diags := loginIssuer(e.backends.configs.keycloak)
	if resp.Diagnostics.Append(diags...); diags.HasError() {
		return
	}
	cluster, ok := e.backends.openCluster(ctx, model.Cluster.ValueString(), "kubeconfig is", req, resp)
	if !ok {
		return
	}
	model, diags = oidcKubeconfigModel(model, cluster, issuer)
	if resp.Diagnostics.Append(diags...); diags.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.Result.Set(ctx, &model)...)
}

// oidcIssuer is where users log in to the platform's clusters.
type oidcIssuer struct {
	url      string
	caPEM    []byte
	clientID string
}

// loginIssuer is the issuer and login client of the keycloak block, whose defaults resolveIssuer applied.
func loginIssuer(cfg *keycloak.Config) (oidcIssuer, diag.Diagnostics) {
	if cfg == nil {
		return oidcIssuer{}, notConfigured("keycloak", "url = \"https://keycloak.example.com\"", "IDP_KEYCLOAK_URL")
	}
	return oidcIssuer{url: cfg.IssuerURL, caPEM: cfg.IssuerCAPEM, clientID: cfg.LoginClientID}, nil
}

// oidcKubeconfigModel fills the model from the cluster's registration and the issuer. The endpoint
// and CA come from the registration's fields, or from its kubeconfig when it has none.
func oidcKubeconfigModel(model kubeconfigModel, cluster registeredCluster, issuer oidcIssuer) (kubeconfigModel, diag.Diagnostics) {
	var diags diag.Diagnostics
	endpoint, ca := cluster.kubeconfig.Endpoint, cluster.kubeconfig.CA
	if endpoint == "" {
		summary, err := kube.ParseKubeconfig([]byte(cluster.kubeconfig.Kubeconfig))
		if err != nil {
			diags.AddError("The kubeconfig in Vault is not usable", fmt.Sprintf("%s: %v", cluster.location, err))
			return model, diags
		}
		endpoint, ca = summary.Endpoint, summary.CACertificatePEM
	}
	raw, err := kube.OIDCKubeconfig(kube.OIDCLogin{
		ClusterName: cluster.name, Server: endpoint, CAData: []byte(ca),
		IssuerURL: issuer.url, ClientID: issuer.clientID, IssuerCAData: issuer.caPEM,
	})
	if err != nil {
		diags.AddError("Cannot build the cluster's login kubeconfig",
			fmt.Sprintf("%v\n\nThe API server's endpoint and CA come from %s; the issuer and client from the provider's "+
				"keycloak block (issuer_url, issuer_ca_file, login_client_id).", err, cluster.location))
		return model, diags
	}
	model.Kubeconfig = types.StringValue(string(raw))
	model.Endpoint = types.StringValue(endpoint)
	model.IssuerURL = types.StringValue(issuer.url)
	model.ClientID = types.StringValue(issuer.clientID)
	return model, diags
}
