package provider

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/idp-platform/terraform-provider-idp/internal/crossplane"
	"github.com/idp-platform/terraform-provider-idp/internal/vault"
)

func newClustersDataSource() datasource.DataSource { return &clustersDataSource{} }

// clustersDataSource lists every cluster the platform knows: the composites of the management cluster
// and the registrations in Vault.
type clustersDataSource struct {
	backends *backends
}

type clustersDataModel struct {
	Cloud    types.String `tfsdk:"cloud"`
	Clusters types.List   `tfsdk:"clusters"`
}

// Statuses of a listed cluster.
const (
	listedReady      = "Ready"
	listedCreating   = "Creating"
	listedNotReady   = "NotReady"
	listedRegistered = "Registered"
)

var listedClusterType = types.ObjectType{AttrTypes: map[string]attr.Type{
	"name": types.StringType, "cloud": types.StringType, "region": types.StringType, "kubernetes_version": types.StringType,
	"status": types.StringType, "message": types.StringType, "endpoint": types.StringType, "kubeconfig_path": types.StringType,
	"tags": types.MapType{ElemType: types.StringType},
}}

func (d *clustersDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_clusters"
}

func (d *clustersDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	computed := func(description string) schema.StringAttribute {
		return schema.StringAttribute{Computed: true, MarkdownDescription: description}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Lists every cluster the platform knows: those it creates (the `KubernetesCluster` composites of the " +
			"management cluster, one list request) and those registered in Vault (one list request of " +
			"`<kv_mount>/metadata/<prefix>/clusters`, plus one kubeconfig read per cluster that has no composite, for its " +
			"endpoint). Nothing secret is returned. With only one of the two backends configured, it lists what that one knows. " +
			"The Vault login needs `list` on that metadata path, which every team's policy (`idp_team`) grants.",
		Attributes: map[string]schema.Attribute{
			"cloud": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Only clusters on this cloud: `aws`, `azure`, `gcp` or `existing` (registered).",
				Validators:          []validator.String{stringvalidator.OneOf(append([]string{cloudExisting}, crossplane.Clouds...)...)},
			},
			"clusters": schema.ListNestedAttribute{
				Computed:            true,
				MarkdownDescription: "The clusters, by name.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"name":               computed("Cluster name, as `idp_cluster` and `idp_app` take it."),
					"cloud":              computed("`aws`, `azure` or `gcp` for a cluster the platform creates, `existing` for a registered one."),
					"region":             computed("Region of a created cluster; null for a registered one."),
					"kubernetes_version": computed("Kubernetes minor version a created cluster is asked for; null for a registered one."),
					"status": computed("`Ready` (the cloud reports it ready), `Creating` (a create has not finished), `NotReady` " +
						"(see `message`) for a created cluster; `Registered` for a registered one, and for a created one when the " +
						"management cluster is not configured."),
					"message":         computed("Why a created cluster is not ready, from its composite's conditions; empty otherwise."),
					"endpoint":        computed("URL of the cluster's API server, once known."),
					"kubeconfig_path": computed("Vault path of the admin kubeconfig; null while Vault holds none."),
					"tags":            schema.MapAttribute{Computed: true, ElementType: types.StringType, MarkdownDescription: "Cloud tags of a created cluster."},
				}},
			},
		},
	}
}

func (d *clustersDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.backends = backendsFrom(req.ProviderData, &resp.Diagnostics)
}

func (d *clustersDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var model clustersDataModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &model)...)
	if resp.Diagnostics.HasError() || d.backends == nil {
		return
	}
	if !d.backends.managementClusterConfigured() && !d.backends.vaultConfigured() {
		resp.Diagnostics.AddError("Nothing to list clusters from",
			"idp_clusters lists the management cluster's composites and the registrations in Vault: configure management_cluster, vault, or both.")
		return
	}
	listed, diags := d.backends.listClusters(ctx)
	if resp.Diagnostics.Append(diags...); diags.HasError() {
		return
	}
	var values []attr.Value
	for _, cluster := range listed {
		if !model.Cloud.IsNull() && cluster.cloud != model.Cloud.ValueString() {
			continue
		}
		value, diags := cluster.value()
		if resp.Diagnostics.Append(diags...); diags.HasError() {
			return
		}
		values = append(values, value)
	}
	clusters, diags := types.ListValue(listedClusterType, values)
	if resp.Diagnostics.Append(diags...); diags.HasError() {
		return
	}
	model.Clusters = clusters
	resp.Diagnostics.Append(resp.State.Set(ctx, &model)...)
}

// listedCluster is one cluster as idp_clusters reports it.
type listedCluster struct {
	name, cloud, region, kubernetesVersion, status, message, endpoint, kubeconfigPath string
	tags                                                                              map[string]string
}

func (c listedCluster) value() (attr.Value, diag.Diagnostics) {
	orNull := func(s string) types.String {
		if s == "" {
			return types.StringNull()
		}
		return types.StringValue(s)
	}
	tags, diags := types.MapValueFrom(context.Background(), types.StringType, c.tags)
	if c.tags == nil {
		tags = types.MapNull(types.StringType)
	}
	if diags.HasError() {
		return nil, diags
	}
	return types.ObjectValue(listedClusterType.AttrTypes, map[string]attr.Value{
		"name": types.StringValue(c.name), "cloud": types.StringValue(c.cloud), "region": orNull(c.region),
		"kubernetes_version": orNull(c.kubernetesVersion), "status": types.StringValue(c.status), "message": types.StringValue(c.message),
		"endpoint": orNull(c.endpoint), "kubeconfig_path": orNull(c.kubeconfigPath), "tags": tags,
	})
}

// listClusters merges the management cluster's composites with Vault's registrations, by name.
func (b *backends) listClusters(ctx context.Context) ([]listedCluster, diag.Diagnostics) {
	var diags diag.Diagnostics
	byName := map[string]*listedCluster{}
	if b.managementClusterConfigured() {
		xp, d := b.Crossplane()
		if diags.Append(d...); d.HasError() {
			return nil, diags
		}
		clusters, statuses, err := xp.ListClusters(ctx)
		if err != nil {
			diags.Append(b.managementClusterError("Cannot list the platform's clusters", err, ""))
			return nil, diags
		}
		for i, cluster := range clusters {
			byName[cluster.Name] = createdCluster(cluster, statuses[i])
		}
	}
	if b.vaultConfigured() {
		store, d := b.Vault(ctx)
		if diags.Append(d...); d.HasError() {
			return nil, diags
		}
		names, err := store.ListClusters(ctx)
		if err != nil {
			diags.Append(b.vaultError("Cannot list the clusters registered in Vault", err,
				"The provider's Vault login needs list on <kv_mount>/metadata/<prefix>/clusters."))
			return nil, diags
		}
		for _, name := range names {
			if cluster, ok := byName[name]; ok {
				cluster.kubeconfigPath = store.KubeconfigLocation(name)
				continue
			}
			registered := &listedCluster{name: name, cloud: cloudExisting, status: listedRegistered, kubeconfigPath: store.KubeconfigLocation(name)}
			stored, err := store.GetKubeconfig(ctx, name)
			switch {
			case errors.Is(err, vault.ErrNotFound):
				continue // deleted since the list
			case errors.Is(err, vault.ErrPermissionDenied):
				// The login may list the clusters but not read this one: its name is all there is to say.
			case err != nil:
				diags.Append(b.vaultError("Cannot read a registered cluster's kubeconfig from Vault", err, ""))
				return nil, diags
			default:
				registered.endpoint = stored.Endpoint
				if isCloud(stored.Origin) {
					// A kubeconfig the provider copied from a cluster it created.
					registered.cloud = stored.Origin
					if b.managementClusterConfigured() {
						registered.status, registered.message = listedNotReady, "its composite is not in the management cluster"
					}
				}
			}
			byName[name] = registered
		}
	}
	listed := make([]listedCluster, 0, len(byName))
	for _, cluster := range byName {
		listed = append(listed, *cluster)
	}
	slices.SortFunc(listed, func(a, b listedCluster) int { return strings.Compare(a.name, b.name) })
	return listed, diags
}

// createdCluster is a cluster the platform creates, as its composite reports it.
func createdCluster(cluster crossplane.Cluster, status crossplane.Status) *listedCluster {
	listed := &listedCluster{
		name: cluster.Name, cloud: cluster.Cloud, region: cluster.Region, kubernetesVersion: cluster.KubernetesVersion,
		endpoint: status.Endpoint, tags: cluster.Tags, status: listedReady,
	}
	switch {
	case status.Creating != "":
		listed.status, listed.message = listedCreating, status.Message
	case !status.Ready:
		listed.status, listed.message = listedNotReady, status.Message
	}
	return listed
}
