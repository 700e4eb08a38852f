// Package provider is the idp Terraform/OpenTofu provider: schemas, plan logic and the mapping between
// Terraform values and the backend packages. It holds no backend logic of its own.
package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	"github.com/hashicorp/terraform-plugin-framework/function"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"
)

// New returns the provider factory providerserver.Serve and the acceptance tests use.
func New(version string) func() provider.Provider {
	return func() provider.Provider { return &idpProvider{version: version} }
}

var (
	_ provider.ProviderWithEphemeralResources = &idpProvider{}
	_ provider.ProviderWithFunctions          = &idpProvider{}
)

type idpProvider struct {
	version string
}

func (p *idpProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "idp"
	resp.Version = p.version
}

func stringAttr(block, name, description string, sensitive bool) schema.StringAttribute {
	return schema.StringAttribute{
		Optional:            true,
		Sensitive:           sensitive,
		MarkdownDescription: description + fmt.Sprintf(" Also read from `%s`.", envVar(block, name)),
	}
}

// requestTimeoutAttr is the request_timeout of a backend's block; what to name it says what it bounds.
func requestTimeoutAttr(block, bounds, more string) schema.StringAttribute {
	attr := stringAttr(block, "request_timeout", "How long to wait for "+bounds+": a duration such as `30s` or `2m`, default `30s`. "+
		"A backend that does not answer in time fails the operation with a diagnostic that names it, instead of hanging. "+more, false)
	attr.Validators = []validator.String{requestTimeoutValidator{}}
	return attr
}

func (p *idpProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	const mc, v, kc = "management_cluster", "vault", "keycloak"
	resp.Schema = schema.Schema{
		MarkdownDescription: "The `idp` provider is an Internal Developer Platform: Kubernetes clusters through Crossplane, " +
			"platform add-ons, applications through Helm and access through Keycloak. It talks to long-lived platform " +
			"services only (the management cluster, Vault and Keycloak), so its configuration never depends on a " +
			"resource of the same apply. Each backend is connected on first use: configure only the blocks your " +
			"configuration needs. Every attribute can also come from an `IDP_<BLOCK>_<ATTRIBUTE>` environment variable; " +
			"when the configuration sets any attribute of a way of connecting or logging in, the environment variables " +
			"of that way are ignored.",
		Attributes: map[string]schema.Attribute{
			"addon_chart_mirror": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Where `idp_addon_stack` takes the add-on catalog's charts from instead of their upstream repositories, as " +
					"air-gapped platforms run: an OCI registry (`oci://registry.example.com/addons`, each chart at `<mirror>/<chart>:<version>`) " +
					"or an HTTP chart repository (`https://charts.example.com/addons`). Plain HTTP is used only for a loopback registry. " +
					"Also `IDP_ADDON_CHART_MIRROR`.",
				Validators: []validator.String{addonMirrorValidator{}},
			},
		},
		Blocks: map[string]schema.Block{
			mc: schema.SingleNestedBlock{
				MarkdownDescription: "The management cluster that runs Crossplane. Give `kubeconfig_path`, or `host` with `token` and `cluster_ca_certificate`. TLS is always verified.",
				Attributes: map[string]schema.Attribute{
					"kubeconfig_path":        stringAttr(mc, "kubeconfig_path", "Path of a kubeconfig file for the management cluster.", false),
					"kubeconfig_context":     stringAttr(mc, "kubeconfig_context", "Context of `kubeconfig_path` to use; its current context by default.", false),
					"host":                   stringAttr(mc, "host", "`https://` URL of the management cluster's API server, used with `token`.", false),
					"token":                  stringAttr(mc, "token", "Bearer token for `host`.", true),
					"cluster_ca_certificate": stringAttr(mc, "cluster_ca_certificate", "PEM CA certificate that signed the API server's certificate; the system roots when empty.", false),
					"request_timeout": requestTimeoutAttr(mc, "the API server to begin each answer",
						"Once an answer has begun it may take longer, so watches and long reads are not cut. The same bound applies to the "+
							"API servers of the workload clusters apps are released to."),
				},
			},
			v: schema.SingleNestedBlock{
				MarkdownDescription: "Vault, where cloud credentials and cluster kubeconfigs live. Log in with exactly one of `token`, an AppRole (`approle_role_id` + `approle_secret_id`) or a JWT role (`jwt_role` + `jwt`).",
				Attributes: map[string]schema.Attribute{
					"address":           stringAttr(v, "address", "Vault URL, e.g. `https://vault.example.com:8200`.", false),
					"ca_cert_file":      stringAttr(v, "ca_cert_file", "PEM CA file to verify Vault's certificate; the system roots when empty.", false),
					"token":             stringAttr(v, "token", "Vault token.", true),
					"approle_mount":     stringAttr(v, "approle_mount", "Mount path of the AppRole auth method. Default `approle`.", false),
					"approle_role_id":   stringAttr(v, "approle_role_id", "AppRole role ID.", false),
					"approle_secret_id": stringAttr(v, "approle_secret_id", "AppRole secret ID.", true),
					"jwt_mount":         stringAttr(v, "jwt_mount", "Mount path of the JWT auth method. Default `jwt`.", false),
					"jwt_role":          stringAttr(v, "jwt_role", "JWT auth role, e.g. for a CI job's OIDC token.", false),
					"jwt":               stringAttr(v, "jwt", "The JWT presented to `jwt_role`.", true),
					"kv_mount":          stringAttr(v, "kv_mount", "Mount path of the KV version 2 engine the platform stores secrets in. Default `secret`.", false),
					"prefix":            stringAttr(v, "prefix", "Path prefix inside `kv_mount` under which the platform keeps `clusters/` and `credentials/`. Default `idp`.", false),
					"request_timeout": requestTimeoutAttr(v, "each attempt of a Vault request",
						"A 5xx answer or a failed connection is retried up to 3 times with backoff; an attempt that got no answer is not."),
				},
			},
			"helm": schema.SingleNestedBlock{
				MarkdownDescription: "How `idp_app` treats charts it downloads from repositories and registries.",
				Attributes: map[string]schema.Attribute{
					"keyring": stringAttr("helm", "keyring", "Path of a PGP keyring (GnuPG `pubring.gpg`/`pubring.kbx` or armored public keys). When set, "+
						"every chart from a repository or registry must come with a provenance file signed by one of its keys, and "+
						"the archive must match the signed checksum; catalog and local charts are not downloaded and not checked.", false),
				},
			},
			"policy": schema.SingleNestedBlock{
				MarkdownDescription: "OPA/Rego policies evaluated on every planned change of the provider's resources, at plan: " +
					"`deny`/`violation` rules fail the plan with their message on the attribute they name, `warn` rules warn " +
					"(conftest's conventions; the same policies run in CI with conftest on `tofu show -json`). An empty block evaluates " +
					"the shipped library (`policy/`); policies that fail to load fail the plan. Without the block (and without " +
					"`IDP_POLICY_*`), nothing is evaluated.",
				Attributes: map[string]schema.Attribute{
					"paths": schema.ListAttribute{
						Optional: true, ElementType: types.StringType,
						MarkdownDescription: "Rego files or directories (and JSON/YAML data) evaluated beside the shipped library; data " +
							"under `idp_policy` overrides the library's settings. Also read from `IDP_POLICY_PATHS` (comma-separated).",
					},
					"bundle":      stringAttr("policy", "bundle", "An OPA bundle (`.tar.gz` or directory) evaluated beside the shipped library.", false),
					"enforcement": stringAttr("policy", "enforcement", "`mandatory` (default): a deny fails the plan; `advisory`: denies are warnings.", false),
					"team":        stringAttr("policy", "team", "The caller's team, as the policies see it (`input.idp.team`); e.g. only the platform team may grant cluster-admin. When the provider logs in to Vault with a team's role (`idp_team`), the team is that role's, and a different `team` here is an error; otherwise set it from the CI system's identity.", false),
					"identity":    stringAttr("policy", "identity", "The caller (a user or workload identity), as the policies see it (`input.idp.identity`).", false),
				},
			},
			kc: schema.SingleNestedBlock{
				MarkdownDescription: "Keycloak, whose groups grant cluster access. Log in as a confidential client with a service account (`client_id` + `client_secret`) or as an admin user (`username` + `password`).",
				Attributes: map[string]schema.Attribute{
					"url":           stringAttr(kc, "url", "Keycloak base URL, e.g. `https://keycloak.example.com`.", false),
					"realm":         stringAttr(kc, "realm", "Realm the platform manages groups and clients in.", false),
					"auth_realm":    stringAttr(kc, "auth_realm", "Realm to log in to: `realm` for client credentials, `master` for an admin user by default.", false),
					"client_id":     stringAttr(kc, "client_id", "Client ID of a confidential client whose service account may manage the realm.", false),
					"client_secret": stringAttr(kc, "client_secret", "Secret of `client_id`.", true),
					"username":      stringAttr(kc, "username", "Admin user name, as an alternative to client credentials.", false),
					"password":      stringAttr(kc, "password", "Password of `username`.", true),
					"issuer_url": stringAttr(kc, "issuer_url", "OIDC issuer the platform's clusters trust for user log-ins, as their API servers "+
						"are configured with it; default `<url>/realms/<realm>`. Set it when users reach Keycloak at another address than the provider "+
						"(API servers accept only an `https` issuer).", false),
					"issuer_ca_file": stringAttr(kc, "issuer_ca_file", "PEM file of the CA that signed the issuer's certificate, when it is a private "+
						"CA: `idp_kubeconfig` embeds it so kubelogin trusts the issuer.", false),
					"login_client_id": stringAttr(kc, "login_client_id", "Client users log in to clusters with (a public client whose ID tokens the "+
						"API servers accept); `idp_access` makes its tokens carry the `groups` claim. Default `kubernetes`.", false),
					"request_timeout": requestTimeoutAttr(kc, "each attempt of a Keycloak request",
						"A 5xx answer or a failed connection is retried up to 2 times with backoff; an attempt that got no answer is not."),
				},
			},
		},
	}
}

func (p *idpProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	// The release's version, in every log a bug report comes with.
	tflog.Info(ctx, "configuring terraform-provider-idp", map[string]any{"version": p.version})
	var model providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &model)...)
	if resp.Diagnostics.HasError() {
		return
	}
	configs, diags := resolveConfig(model, nil)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	b := newBackends(configs)
	resp.DataSourceData = b
	resp.ResourceData = b
	resp.EphemeralResourceData = b
}

func (p *idpProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{newClusterResource, newAppResource, newAddonStackResource, newAccessResource, newTeamResource}
}

func (p *idpProvider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{newPlatformDataSource, newClusterDataSource, newClustersDataSource, newAppsDataSource, newCatalogDataSource, newAddonCatalogDataSource, newAccessCheckDataSource}
}

func (p *idpProvider) Functions(context.Context) []func() function.Function {
	return []func() function.Function{newReleaseIDFunction, newKubeconfigPathFunction, newPolicyInputFunction}
}

func (p *idpProvider) EphemeralResources(context.Context) []func() ephemeral.EphemeralResource {
	return []func() ephemeral.EphemeralResource{newClusterCredentialsEphemeral, newKubeconfigEphemeral}
}
