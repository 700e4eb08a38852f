package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"
)

// crossplaneAPIGroup is served by the management cluster once Crossplane's CRDs are installed.
const crossplaneAPIGroup = "apiextensions.crossplane.io"

func newPlatformDataSource() datasource.DataSource { return &platformDataSource{} }

// platformDataSource reports what the provider reaches: it proves the wiring to each configured backend.
type platformDataSource struct {
	backends *backends
}

type platformModel struct {
	ManagementCluster *platformManagementClusterModel `tfsdk:"management_cluster"`
	Vault             *platformVaultModel             `tfsdk:"vault"`
	Keycloak          *platformKeycloakModel          `tfsdk:"keycloak"`
}

type platformManagementClusterModel struct {
	Host                types.String `tfsdk:"host"`
	KubernetesVersion   types.String `tfsdk:"kubernetes_version"`
	CrossplaneInstalled types.Bool   `tfsdk:"crossplane_installed"`
}

type platformVaultModel struct {
	Address     types.String `tfsdk:"address"`
	Version     types.String `tfsdk:"version"`
	ClusterName types.String `tfsdk:"cluster_name"`
	Initialized types.Bool   `tfsdk:"initialized"`
	Sealed      types.Bool   `tfsdk:"sealed"`
	KVMount     types.String `tfsdk:"kv_mount"`
	Prefix      types.String `tfsdk:"prefix"`
}

type platformKeycloakModel struct {
	Realm       types.String `tfsdk:"realm"`
	DisplayName types.String `tfsdk:"display_name"`
	Enabled     types.Bool   `tfsdk:"enabled"`
	IssuerURL   types.String `tfsdk:"issuer_url"`
}

func (d *platformDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_platform"
}

func (d *platformDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	computedString := func(description string) schema.StringAttribute {
		return schema.StringAttribute{Computed: true, MarkdownDescription: description}
	}
	computedBool := func(description string) schema.BoolAttribute {
		return schema.BoolAttribute{Computed: true, MarkdownDescription: description}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Reports what the provider reaches: the management cluster, Vault and Keycloak. Each backend " +
			"configured in the provider is contacted and must answer, so reading this data source proves the " +
			"provider's configuration; a backend that is not configured is reported as null.",
		Attributes: map[string]schema.Attribute{
			"management_cluster": schema.SingleNestedAttribute{
				Computed:            true,
				MarkdownDescription: "The management cluster, or null when the provider's `management_cluster` block is not configured.",
				Attributes: map[string]schema.Attribute{
					"host":                 computedString("URL of the management cluster's API server."),
					"kubernetes_version":   computedString("Kubernetes version the API server reports, e.g. `v1.34.4`."),
					"crossplane_installed": computedBool("Whether the cluster serves Crossplane's `apiextensions.crossplane.io` API."),
				},
			},
			"vault": schema.SingleNestedAttribute{
				Computed:            true,
				MarkdownDescription: "Vault, or null when the provider's `vault` block is not configured.",
				Attributes: map[string]schema.Attribute{
					"address":      computedString("Vault URL."),
					"version":      computedString("Vault server version."),
					"cluster_name": computedString("Name of the Vault cluster."),
					"initialized":  computedBool("Whether Vault is initialised."),
					"sealed":       computedBool("Whether Vault is sealed."),
					"kv_mount":     computedString("The KV version 2 mount the platform stores secrets in; checked to exist and be version 2."),
					"prefix":       computedString("Path prefix inside `kv_mount` the platform writes under."),
				},
			},
			"keycloak": schema.SingleNestedAttribute{
				Computed:            true,
				MarkdownDescription: "The Keycloak realm, or null when the provider's `keycloak` block is not configured.",
				Attributes: map[string]schema.Attribute{
					"realm":        computedString("Name of the realm the platform manages."),
					"display_name": computedString("Display name of the realm."),
					"enabled":      computedBool("Whether the realm is enabled."),
					"issuer_url":   computedString("OIDC issuer URL of the realm, which workload clusters trust."),
				},
			},
		},
	}
}

func (d *platformDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.backends = backendsFrom(req.ProviderData, &resp.Diagnostics)
}

func (d *platformDataSource) Read(ctx context.Context, _ datasource.ReadRequest, resp *datasource.ReadResponse) {
	var report platformModel
	if d.backends.managementClusterConfigured() {
		report.ManagementCluster = readManagementCluster(ctx, d.backends, &resp.Diagnostics)
	}
	if d.backends.vaultConfigured() {
		report.Vault = readVault(ctx, d.backends, &resp.Diagnostics)
	}
	if d.backends.keycloakConfigured() {
		report.Keycloak = readKeycloak(ctx, d.backends, &resp.Diagnostics)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &report)...)
}

func readManagementCluster(ctx context.Context, b *backends, diags *diag.Diagnostics) *platformManagementClusterModel {
	cluster, d := b.ManagementCluster()
	if diags.Append(d...); d.HasError() {
		return nil
	}
	version, err := cluster.ServerVersion(ctx)
	if err != nil {
		diags.Append(b.managementClusterError("Cannot reach the management cluster", err,
			"Check that the API server is running and that the management_cluster block's credentials are valid."))
		return nil
	}
	crossplane, err := cluster.HasAPIGroup(ctx, crossplaneAPIGroup)
	if err != nil {
		diags.Append(b.managementClusterError("Cannot read the management cluster's APIs", err, ""))
		return nil
	}
	tflog.Debug(ctx, "management cluster reached", map[string]any{"host": cluster.Host(), "version": version, "crossplane": crossplane})
	return &platformManagementClusterModel{
		Host:                types.StringValue(cluster.Host()),
		KubernetesVersion:   types.StringValue(version),
		CrossplaneInstalled: types.BoolValue(crossplane),
	}
}

func readVault(ctx context.Context, b *backends, diags *diag.Diagnostics) *platformVaultModel {
	client, d := b.Vault(ctx)
	if diags.Append(d...); d.HasError() {
		return nil
	}
	health, err := client.Health(ctx)
	if err != nil {
		diags.Append(b.vaultError("Cannot read Vault's health", err, ""))
		return nil
	}
	mount, err := client.KVMount(ctx)
	if err != nil {
		diags.Append(b.vaultError("Vault KV mount is not usable", err,
			"Set vault.kv_mount (or IDP_VAULT_KV_MOUNT) to a KV version 2 mount the provider's token may use."))
		return nil
	}
	tflog.Debug(ctx, "vault reached", map[string]any{"address": client.Address(), "version": health.Version, "sealed": health.Sealed})
	return &platformVaultModel{
		Address:     types.StringValue(client.Address()),
		Version:     types.StringValue(health.Version),
		ClusterName: types.StringValue(health.ClusterName),
		Initialized: types.BoolValue(health.Initialized),
		Sealed:      types.BoolValue(health.Sealed),
		KVMount:     types.StringValue(mount.Path),
		Prefix:      types.StringValue(mount.Prefix),
	}
}

func readKeycloak(ctx context.Context, b *backends, diags *diag.Diagnostics) *platformKeycloakModel {
	client, d := b.Keycloak(ctx)
	if diags.Append(d...); d.HasError() {
		return nil
	}
	realm, err := client.Realm(ctx)
	if err != nil {
		diags.Append(b.keycloakError("Cannot read the Keycloak realm", err,
			"Check keycloak.realm, and that the provider's client may view the realm (realm-management role view-realm)."))
		return nil
	}
	return &platformKeycloakModel{
		Realm:       types.StringValue(realm.Name),
		DisplayName: types.StringValue(realm.DisplayName),
		Enabled:     types.BoolValue(realm.Enabled),
		IssuerURL:   types.StringValue(realm.IssuerURL),
	}
}
