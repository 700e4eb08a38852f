package provider

import (
	"context"
	"errors"
	"slices"

	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/idp-platform/terraform-provider-idp/internal/access"
	"github.com/idp-platform/terraform-provider-idp/internal/backstage"
	"github.com/idp-platform/terraform-provider-idp/internal/vault"
)

func newCatalogDataSource() datasource.DataSource { return &catalogDataSource{} }

// catalogDataSource describes what the platform runs as Backstage catalog entities.
type catalogDataSource struct {
	backends *backends
}

type catalogDataModel struct {
	Namespace         types.String `tfsdk:"namespace"`
	ManagementCluster types.String `tfsdk:"management_cluster"`
	DefaultOwner      types.String `tfsdk:"default_owner"`
	AppClusters       types.Set    `tfsdk:"app_clusters"`
	Entities          types.List   `tfsdk:"entities"`
	YAML              types.String `tfsdk:"yaml"`
}

const (
	catalogDefaultNamespace         = "default"
	catalogDefaultManagementCluster = "idp-management"
	catalogDefaultOwner             = "group:default/platform-team"
)

var catalogEntityType = types.ObjectType{AttrTypes: map[string]attr.Type{
	"kind": types.StringType, "name": types.StringType, "ref": types.StringType, "json": types.StringType,
}}

func (d *catalogDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_catalog"
}

func (d *catalogDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	computed := func(description string) schema.StringAttribute {
		return schema.StringAttribute{Computed: true, MarkdownDescription: description}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Describes what the platform runs as [Backstage](https://backstage.io) catalog entities, ready to be " +
			"written as `catalog-info.yaml` (the `backstage-catalog` module does):\n\n" +
			"- a `Group` (type `team`) and a `System` per team: the teams `idp_team` made, from Vault's team policies and " +
			"Keycloak's groups marked as a team's;\n" +
			"- a `Resource` (type `kubernetes-cluster`) per cluster, as `idp_clusters` lists them, with its cloud, region " +
			"and Kubernetes version as labels, its Vault folder as `vault.io/secrets-path`, the team that owns it (its Vault " +
			"policy, else its `team` tag) as owner and system, and, for a cluster the platform created, `dependsOn` the " +
			"management cluster's `Resource`;\n" +
			"- a `Component` per application on the `app_clusters`: the Helm releases of one name on one team's clusters are " +
			"one component, annotated `backstage.io/kubernetes-id` with the release name (the catalog charts label what they " +
			"release with it, so the Backstage Kubernetes plugin finds the objects), `dependsOn` its clusters.\n\n" +
			"Each backend is read only when configured: Vault and the management cluster for clusters and teams, Keycloak for " +
			"teams' groups. Reading teams from Vault needs a login that may list `sys/policies/acl` and read the teams' policies; " +
			"a login that may not (a team's) gets a warning, the teams Keycloak knows, and clusters owned by their `team` tag. " +
			"Nothing secret is returned.",
		Attributes: map[string]schema.Attribute{
			"namespace": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Backstage namespace of every entity. Default `" + catalogDefaultNamespace + "`.",
				Validators: []validator.String{stringvalidator.RegexMatches(clusterNamePattern,
					"must be a Backstage namespace: lowercase letters, digits and dashes, at most 63 characters")},
			},
			"management_cluster": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Name of the `Resource` that stands for the management cluster, emitted when the provider " +
					"configures one. Default `" + catalogDefaultManagementCluster + "`.",
				Validators: []validator.String{stringvalidator.LengthAtMost(63), stringvalidator.RegexMatches(backstage.NamePattern,
					"must be a Backstage entity name: letters and digits, separated by one of -_.")},
			},
			"default_owner": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Owner of what no team owns, as an entity reference. Default `" + catalogDefaultOwner +
					"`.",
				Validators: []validator.String{stringvalidator.RegexMatches(backstage.ReferencePattern,
					"must be a Backstage entity reference such as group:default/platform-team")},
			},
			"app_clusters": schema.SetAttribute{
				Optional:    true,
				ElementType: types.StringType,
				MarkdownDescription: "Clusters whose Helm releases become components, one list request each. None when " +
					"unset: a cluster is reached only when asked for.",
				Validators: []validator.Set{setvalidator.ValueStringsAre(dnsLabel())},
			},
			"entities": schema.ListNestedAttribute{
				Computed:            true,
				MarkdownDescription: "The entities: Groups, Systems, Resources, then Components, each by name.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"kind": computed("`Group`, `System`, `Resource` or `Component`."),
					"name": computed("The entity's name."),
					"ref":  computed("The entity's reference, `kind:namespace/name`."),
					"json": computed("The whole entity, as JSON."),
				}},
			},
			"yaml": computed("Every entity, one YAML document each: the content of a `catalog-info.yaml`."),
		},
	}
}

func (d *catalogDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.backends = backendsFrom(req.ProviderData, &resp.Diagnostics)
}

func (d *catalogDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var model catalogDataModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &model)...)
	if resp.Diagnostics.HasError() || d.backends == nil {
		return
	}
	platform, diags := d.backends.catalogPlatform(ctx, model)
	if resp.Diagnostics.Append(diags...); diags.HasError() {
		return
	}
	entities := backstage.Entities(platform)
	values := make([]attr.Value, 0, len(entities))
	for _, entity := range entities {
		doc, err := entity.JSON()
		if err != nil {
			resp.Diagnostics.AddError("Cannot write the catalog", err.Error())
			return
		}
		value, diags := types.ObjectValue(catalogEntityType.AttrTypes, map[string]attr.Value{
			"kind": types.StringValue(entity.Kind), "name": types.StringValue(entity.Metadata.Name),
			"ref": types.StringValue(entity.Ref()), "json": types.StringValue(doc),
		})
		if resp.Diagnostics.Append(diags...); diags.HasError() {
			return
		}
		values = append(values, value)
	}
	list, diags := types.ListValue(catalogEntityType, values)
	if resp.Diagnostics.Append(diags...); diags.HasError() {
		return
	}
	doc, err := backstage.YAML(entities)
	if err != nil {
		resp.Diagnostics.AddError("Cannot write the catalog", err.Error())
		return
	}
	model.Entities, model.YAML = list, types.StringValue(doc)
	resp.Diagnostics.Append(resp.State.Set(ctx, &model)...)
}

// catalogPlatform gathers what the catalog describes from the configured backends.
func (b *backends) catalogPlatform(ctx context.Context, model catalogDataModel) (backstage.Platform, diag.Diagnostics) {
	platform := backstage.Platform{
		Namespace:    stringOr(model.Namespace, catalogDefaultNamespace),
		DefaultOwner: stringOr(model.DefaultOwner, catalogDefaultOwner),
	}
	var diags diag.Diagnostics
	if !b.managementClusterConfigured() && !b.vaultConfigured() && !b.keycloakConfigured() {
		diags.AddError("Nothing to describe",
			"idp_catalog reads the management cluster, Vault and Keycloak: configure management_cluster, vault or keycloak.")
		return platform, diags
	}
	if b.managementClusterConfigured() {
		platform.ManagementCluster = stringOr(model.ManagementCluster, catalogDefaultManagementCluster)
	}
	teams, owners, store, d := b.catalogTeams(ctx)
	if diags.Append(d...); d.HasError() {
		return platform, diags
	}
	if store != nil {
		platform.VaultMount = store.KVMountPath()
	}
	for _, team := range teams {
		platform.Teams = append(platform.Teams, *team)
	}
	if b.managementClusterConfigured() || b.vaultConfigured() {
		listed, d := b.listClusters(ctx)
		if diags.Append(d...); d.HasError() {
			return platform, diags
		}
		for _, cluster := range listed {
			platform.Clusters = append(platform.Clusters, catalogCluster(cluster, store, owners, teams))
		}
	}
	var appClusters []string
	diags.Append(model.AppClusters.ElementsAs(ctx, &appClusters, false)...)
	slices.Sort(appClusters)
	for _, cluster := range appClusters {
		apps, d := b.catalogApps(ctx, cluster)
		if diags.Append(d...); d.HasError() {
			return platform, diags
		}
		platform.Apps = append(platform.Apps, apps...)
	}
	return platform, diags
}

// catalogTeams finds the platform's teams: those idp_team wrote into Vault, with the clusters they own,
// and those whose Keycloak group is marked as theirs. store is nil when Vault is not configured.
func (b *backends) catalogTeams(ctx context.Context) (teams map[string]*backstage.Team, owners []vault.TeamClusters, store vaultAPI, diags diag.Diagnostics) {
	teams = map[string]*backstage.Team{}
	if b.vaultConfigured() {
		var d diag.Diagnostics
		store, d = b.Vault(ctx)
		if diags.Append(d...); d.HasError() {
			return nil, nil, nil, diags
		}
		listed, err := store.Teams(ctx)
		switch {
		case errors.Is(err, vault.ErrPermissionDenied):
			// A team's login may not list policies: the catalog then has the teams Keycloak knows, and
			// clusters owned by their team tag.
			diags.AddWarning("Teams not read from Vault",
				"The Vault login may not list sys/policies/acl, so the catalog's teams come from Keycloak alone and clusters are "+
					"owned by their team tag: "+err.Error())
		case err != nil:
			diags.Append(b.vaultError("Cannot list the platform's teams", err,
				"The provider's Vault login needs list on sys/policies/acl and read on the idp-team-* policies."))
			return nil, nil, nil, diags
		}
		for _, team := range listed {
			teams[team.Name] = &backstage.Team{Name: team.Name, SecretsPath: store.TeamSecretsPath(team.Name)}
			owners = append(owners, team)
		}
	}
	if b.keycloakConfigured() {
		realm, d := b.Keycloak(ctx)
		if diags.Append(d...); d.HasError() {
			return nil, nil, nil, diags
		}
		groups, err := realm.Groups(ctx)
		if err != nil {
			diags.Append(b.keycloakError("Cannot list the teams' groups", err, ""))
			return nil, nil, nil, diags
		}
		for _, group := range groups {
			name, ok := access.TeamOfGroup(group)
			if !ok {
				continue
			}
			if teams[name] == nil {
				teams[name] = &backstage.Team{Name: name}
			}
			teams[name].KeycloakGroup = group.Name
		}
	}
	return teams, owners, store, diags
}

// catalogCluster is a listed cluster with its owner: the team whose Vault policy owns it, else the team
// its team tag names, when there is one of that name.
func catalogCluster(cluster listedCluster, store vaultAPI, owners []vault.TeamClusters, teams map[string]*backstage.Team) backstage.Cluster {
	described := backstage.Cluster{
		Name: cluster.name, Cloud: cluster.cloud, Region: cluster.region, KubernetesVersion: cluster.kubernetesVersion,
		Endpoint: cluster.endpoint, Created: cluster.cloud != cloudExisting, Tags: cluster.tags, KubeconfigPath: cluster.kubeconfigPath,
	}
	if store != nil && cluster.kubeconfigPath != "" {
		described.SecretsPath = store.ClusterSecretsPath(cluster.name)
	}
	for _, team := range owners {
		if team.Owns(cluster.name) {
			described.Team = team.Name
			return described
		}
	}
	if teams[cluster.tags["team"]] != nil {
		described.Team = cluster.tags["team"]
	}
	return described
}

// catalogApps lists a cluster's Helm releases for the catalog.
func (b *backends) catalogApps(ctx context.Context, cluster string) ([]backstage.App, diag.Diagnostics) {
	at := path.Root("app_clusters")
	engine, diags := b.ClusterEngine(ctx, cluster, at)
	if diags.HasError() {
		return nil, diags
	}
	releases, err := engine.List(ctx, "")
	if err != nil {
		diags.Append(b.workloadClusterError(cluster, "Cannot list the cluster's Helm releases", err,
			"The cluster's kubeconfig must allow listing Secrets in every namespace."))
		return nil, diags
	}
	apps := make([]backstage.App, 0, len(releases))
	for _, rel := range releases {
		apps = append(apps, backstage.App{Cluster: cluster, Namespace: rel.Namespace, Release: rel.Name, Chart: rel.ChartName, ChartVersion: rel.ChartVersion})
	}
	return apps, diags
}

func stringOr(value types.String, fallback string) string {
	if value.IsNull() || value.IsUnknown() || value.ValueString() == "" {
		return fallback
	}
	return value.ValueString()
}
