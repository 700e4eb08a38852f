package provider

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/idp-platform/terraform-provider-idp/internal/access"
	"github.com/idp-platform/terraform-provider-idp/internal/vault"
)

var (
	_ resource.ResourceWithConfigure   = (*teamResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*teamResource)(nil)
	_ resource.ResourceWithImportState = (*teamResource)(nil)
	_ resource.ResourceWithIdentity    = (*teamResource)(nil)
)

func newTeamResource() resource.Resource { return &teamResource{} }

// teamResource is idp_team: what a team's runs may reach, enforced by Vault and Keycloak.
type teamResource struct{ backends *backends }

type teamModel struct {
	ID              types.String   `tfsdk:"id"`
	Name            types.String   `tfsdk:"name"`
	Clusters        types.List     `tfsdk:"clusters"`
	KeycloakGroup   types.String   `tfsdk:"keycloak_group"`
	TokenTTL        types.String   `tfsdk:"token_ttl"`
	VaultPolicy     types.String   `tfsdk:"vault_policy"`
	PolicyDocument  types.String   `tfsdk:"vault_policy_document"`
	AppRoleMount    types.String   `tfsdk:"approle_mount"`
	AppRoleRoleID   types.String   `tfsdk:"approle_role_id"`
	CredentialsPath types.String   `tfsdk:"credentials_path"`
	KeycloakGroupID types.String   `tfsdk:"keycloak_group_id"`
	Timeouts        timeouts.Value `tfsdk:"timeouts"`
}

func (r *teamResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_team"
}

func (r *teamResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	computed := func(description string) schema.StringAttribute {
		return schema.StringAttribute{Computed: true, MarkdownDescription: description}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "A team on the platform, with permissions the backends enforce: a Vault policy `idp-team-<name>` that reaches " +
			"only the team's cloud credentials (`<prefix>/credentials/<name>/…`) and the kubeconfigs of the clusters it owns (and lists " +
			"the names of every cluster, for `idp_clusters`), an " +
			"AppRole role of the same name its runs log in with, and its Keycloak group. A provider configured with the team's " +
			"AppRole (`vault { approle_role_id = ..., approle_secret_id = ... }`) then plans only what the team may do: other " +
			"teams' credentials and clusters are refused at plan, on the attribute that names them. The role's secret IDs are " +
			"issued outside Terraform (`vault write -f auth/approle/role/idp-team-<name>/secret-id`, or the CI system's Vault " +
			"integration), so no secret reaches the state. The provider's own Vault login needs write access to " +
			"`sys/policies/acl/idp-team-*` and `auth/<approle_mount>/role/idp-team-*`, and list on `sys/policies/acl` (no two " +
			"teams may own one cluster): give it only to the platform team's runs. " +
			"Import with the team's name.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed: true, MarkdownDescription: "The team's name.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"name": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "The team's name: lowercase letters, digits and `-`, at most 54 characters.",
				Validators: []validator.String{stringvalidator.RegexMatches(vault.TeamNamePattern,
					"must be a DNS-1123 label of at most 54 characters (idp-team-<name> names its Vault policy)")},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"clusters": schema.ListAttribute{
				ElementType: types.StringType, Optional: true, Computed: true,
				MarkdownDescription: "Clusters the team owns: names, or a name prefix followed by `*` (default `[\"<name>-*\"]`). " +
					"The team may read their kubeconfigs and write them, as creating or registering a cluster does; other " +
					"clusters are out of its reach. No two teams' clusters may overlap (`pay-*` and `pay-ments`): refused at plan.",
				Validators: []validator.List{listvalidator.ValueStringsAre(stringvalidator.RegexMatches(vault.ClusterPattern,
					"must be a cluster name (a DNS-1123 label) or a prefix of one followed by '*'"))},
			},
			"keycloak_group": schema.StringAttribute{
				Optional: true, Computed: true,
				MarkdownDescription: "The team's Keycloak group (top-level), created when the realm has none of that name and deleted " +
					"with the team then (unless grants still use it); an existing group is only marked as the team's. Default " +
					"`team-<name>`, the group the `team` module grants access to.",
				Validators:    []validator.String{notSystemName{}, stringvalidator.RegexMatches(accessGroupPattern, "must be a DNS-1123 label")},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplaceIfConfigured()},
			},
			"token_ttl": schema.StringAttribute{
				Optional: true, Computed: true, Default: stringdefault.StaticString("1h"),
				MarkdownDescription: "How long a login of the team's AppRole lasts, from 1m to 24h (default `1h`).",
				Validators:          []validator.String{durationBetween{min: time.Minute, max: 24 * time.Hour}},
			},
			"vault_policy":          computed("Name of the team's Vault policy and AppRole role: `idp-team-<name>`."),
			"vault_policy_document": computed("The team's Vault policy as Vault holds it; a policy edited in Vault shows as drift."),
			"approle_mount":         computed("Mount of the AppRole auth method the team logs in with (the provider's `vault.approle_mount`)."),
			"approle_role_id":       computed("Role ID of the team's AppRole role: not a secret on its own; with a secret ID it logs in."),
			"credentials_path":      computed("Where the team's cloud credentials go, as `vault kv put` takes it; `idp_cluster.credentials` names them `<name>/<...>`."),
			"keycloak_group_id":     computed("ID of the team's Keycloak group."),
			"timeouts":              timeouts.Attributes(ctx, timeouts.Opts{Create: true, Read: true, Update: true, Delete: true}),
		},
	}
}

func (r *teamResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.backends = backendsFrom(req.ProviderData, &resp.Diagnostics)
}

// ModifyPlan fills the defaults that depend on the name and plans the policy document from the
// configuration, so a policy edited in Vault, or a role or group that is gone, plans an update.
func (r *teamResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	// The policies see the plan as this method leaves it; a team belongs to no one cluster.
	defer func() { r.backends.checkPolicy(ctx, "idp_team", policyCluster{}, req, resp) }()
	if req.Plan.Raw.IsNull() || r.backends == nil {
		return
	}
	var plan teamModel
	if resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...); resp.Diagnostics.HasError() || plan.Name.IsUnknown() {
		return
	}
	name := plan.Name.ValueString()
	// The defaults are planned whenever the configuration leaves them out, so that a policy or group
	// changed outside Terraform plans back to them.
	var configuredClusters types.List
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("clusters"), &configuredClusters)...)
	if configuredClusters.IsNull() {
		plan.Clusters = types.ListValueMust(types.StringType, []attr.Value{types.StringValue(name + "-*")})
	}
	var configuredGroup types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("keycloak_group"), &configuredGroup)...)
	if configuredGroup.IsNull() && plan.KeycloakGroup.IsUnknown() {
		plan.KeycloakGroup = types.StringValue("team-" + name)
	}
	plan.ID = types.StringValue(name)
	plan.VaultPolicy = types.StringValue(vault.TeamRole(name))
	if cfg := r.backends.configs.vault; cfg != nil {
		plan.AppRoleMount = types.StringValue(cfg.AppRoleMount)
		plan.CredentialsPath = types.StringValue(cfg.KVMount + "/" + cfg.Prefix + "/credentials/" + name + "/")
		if team, ok := teamFrom(ctx, plan, &resp.Diagnostics); ok {
			document, err := vault.TeamPolicy(cfg.KVMount, cfg.Prefix, team)
			if err != nil {
				resp.Diagnostics.AddAttributeError(path.Root("clusters"), "Invalid team", err.Error())
				return
			}
			plan.PolicyDocument = types.StringValue(document)
		}
	}
	var state teamModel
	if !req.State.Raw.IsNull() {
		resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	}
	if !plan.Clusters.IsUnknown() && (req.State.Raw.IsNull() || !plan.Clusters.Equal(state.Clusters)) {
		resp.Diagnostics.Append(r.checkClustersFree(ctx, plan)...)
	}
	if !req.State.Raw.IsNull() {
		keep := func(planned *types.String, prior types.String) {
			if prior.ValueString() == "" {
				*planned = types.StringUnknown()
			} else {
				*planned = prior
			}
		}
		keep(&plan.AppRoleRoleID, state.AppRoleRoleID)
		if state.KeycloakGroup.Equal(plan.KeycloakGroup) {
			keep(&plan.KeycloakGroupID, state.KeycloakGroupID)
		}
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
}

func (r *teamResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	defer teamIdentity.record(ctx, &resp.State, resp.Identity, &resp.Diagnostics)
	r.write(ctx, req.Plan, func(model teamModel) (time.Duration, diag.Diagnostics) {
		return model.Timeouts.Create(ctx, 2*time.Minute)
	}, &resp.State, &resp.Diagnostics)
}

func (r *teamResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	defer teamIdentity.record(ctx, &resp.State, resp.Identity, &resp.Diagnostics)
	r.write(ctx, req.Plan, func(model teamModel) (time.Duration, diag.Diagnostics) {
		return model.Timeouts.Update(ctx, 2*time.Minute)
	}, &resp.State, &resp.Diagnostics)
}

// write is Create and Update alike: both make Vault and Keycloak match the plan.
func (r *teamResource) write(ctx context.Context, planned tfsdk.Plan, timeout func(teamModel) (time.Duration, diag.Diagnostics), state *tfsdk.State, diags *diag.Diagnostics) {
	var plan teamModel
	if diags.Append(planned.Get(ctx, &plan)...); diags.HasError() {
		return
	}
	limit, d := timeout(plan)
	if diags.Append(d...); d.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	if diags.Append(r.apply(ctx, &plan)...); !diags.HasError() {
		diags.Append(state.Set(ctx, &plan)...)
	}
}

// clients are the two backends a team lives in.
func (r *teamResource) clients(ctx context.Context) (vaultAPI, keycloakAPI, diag.Diagnostics) {
	store, diags := r.backends.Vault(ctx)
	if diags.HasError() {
		return nil, nil, diags
	}
	realm, d := r.backends.Keycloak(ctx)
	diags.Append(d...)
	return store, realm, diags
}

// apply writes the team's Vault policy and role, then its group. Both steps replace what is there, so
// an apply interrupted between them converges on the next one.
func (r *teamResource) apply(ctx context.Context, plan *teamModel) diag.Diagnostics {
	store, realm, diags := r.clients(ctx)
	if diags.HasError() {
		return diags
	}
	team, ok := teamFrom(ctx, *plan, &diags)
	if !ok {
		return diags
	}
	stored, err := store.PutTeam(ctx, team)
	switch {
	case errors.Is(err, vault.ErrNotOurs):
		diags.AddAttributeError(path.Root("name"), "Vault policy exists", fmt.Sprintf("%v. Choose another team name, or remove that policy.", err))
		return diags
	case errors.Is(err, vault.ErrClustersTaken):
		diags.AddAttributeError(path.Root("clusters"), clustersTakenSummary, err.Error()+". "+clustersTakenAdvice)
		return diags
	case err != nil:
		diags.Append(r.backends.vaultError("Cannot write the team's Vault policy and role", err, teamVaultAdvice))
		return diags
	}
	engine := access.Engine{Realm: realm}
	group, err := engine.EnsureTeamGroup(ctx, team.Name, plan.KeycloakGroup.ValueString())
	switch {
	case errors.Is(err, access.ErrTeamGroupTaken):
		diags.AddAttributeError(path.Root("keycloak_group"), "Group belongs to another team", err.Error()+". Choose another keycloak_group.")
		return diags
	case err != nil:
		diags.Append(r.backends.keycloakError("Cannot set up the team's Keycloak group", err, ""))
		return diags
	}
	plan.AppRoleRoleID = types.StringValue(stored.RoleID)
	plan.PolicyDocument = types.StringValue(stored.Policy)
	plan.KeycloakGroupID = types.StringValue(group.ID)
	return diags
}

const (
	clustersTakenSummary = "Clusters owned by another team"
	clustersTakenAdvice  = "A cluster's kubeconfig is one team's: choose names or prefixes no other team's clusters match, or take them from that team first."
)

// checkClustersFree refuses at plan clusters that another team's policy already reaches, so that no
// two teams may write one cluster's kubeconfig (PutTeam checks again at apply).
func (r *teamResource) checkClustersFree(ctx context.Context, plan teamModel) diag.Diagnostics {
	var diags diag.Diagnostics
	team, ok := teamFrom(ctx, plan, &diags)
	if !ok || r.backends.configs.vault == nil {
		return diags
	}
	store, d := r.backends.Vault(ctx)
	if diags.Append(d...); d.HasError() {
		return diags
	}
	overlaps, err := store.ClusterOverlaps(ctx, team)
	if err != nil {
		diags.Append(r.backends.vaultError("Cannot read the other teams' Vault policies", err, teamVaultAdvice))
		return diags
	}
	for i, cluster := range plan.Clusters.Elements() {
		for _, overlap := range overlaps {
			if cluster.Equal(types.StringValue(overlap.Cluster)) {
				diags.AddAttributeError(path.Root("clusters").AtListIndex(i), clustersTakenSummary,
					fmt.Sprintf("Team %s: %s. %s", team.Name, overlap, clustersTakenAdvice))
			}
		}
	}
	return diags
}

const teamVaultAdvice = "The provider's Vault login needs write access to sys/policies/acl/idp-team-* and to the AppRole roles " +
	"auth/<approle_mount>/role/idp-team-*, and list on sys/policies/acl; check its policy, and that the AppRole auth method is enabled at vault.approle_mount."

func (r *teamResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	defer teamIdentity.record(ctx, &resp.State, resp.Identity, &resp.Diagnostics)
	var state teamModel
	if resp.Diagnostics.Append(req.State.Get(ctx, &state)...); resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := state.Timeouts.Read(ctx, time.Minute)
	if resp.Diagnostics.Append(diags...); diags.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	store, realm, diags := r.clients(ctx)
	if resp.Diagnostics.Append(diags...); diags.HasError() {
		return
	}
	name := state.Name.ValueString()
	stored, err := store.GetTeam(ctx, name)
	if errors.Is(err, vault.ErrNotFound) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.Append(r.backends.vaultError("Cannot read the team's Vault policy and role", err, teamVaultAdvice))
		return
	}
	engine := access.Engine{Realm: realm}
	if state.KeycloakGroup.IsNull() {
		// An import knows only the name: the group is the one marked as the team's.
		group, found, err := engine.FindTeamGroup(ctx, name)
		if err != nil {
			resp.Diagnostics.Append(r.backends.keycloakError("Cannot look up the team's Keycloak group", err, ""))
			return
		}
		if found {
			state.KeycloakGroup = types.StringValue(group)
		} else {
			state.KeycloakGroup = types.StringValue("team-" + name)
		}
	}
	group, found, err := engine.ObserveTeamGroup(ctx, name, state.KeycloakGroup.ValueString())
	if err != nil {
		resp.Diagnostics.Append(r.backends.keycloakError("Cannot read the team's Keycloak group", err, ""))
		return
	}
	state.ID = types.StringValue(name)
	state.VaultPolicy = types.StringValue(vault.TeamRole(name))
	state.AppRoleMount = types.StringValue(store.AppRoleMount())
	state.CredentialsPath = types.StringValue(store.CredentialsLocation(name) + "/")
	state.PolicyDocument = types.StringValue(stored.Policy)
	state.AppRoleRoleID = types.StringValue(stored.RoleID)
	state.KeycloakGroupID = types.StringValue(group.ID) // "" when the group is gone: the plan recreates it
	// Vault gives the clusters sorted; the state keeps the configured order while they are the same.
	var prior []string
	resp.Diagnostics.Append(state.Clusters.ElementsAs(ctx, &prior, true)...)
	prior = slices.Compact(slices.Sorted(slices.Values(prior)))
	if state.Clusters.IsNull() || !slices.Equal(prior, stored.Clusters) {
		clusters, d := types.ListValueFrom(ctx, types.StringType, stored.Clusters)
		resp.Diagnostics.Append(d...)
		if stored.Clusters == nil {
			clusters = types.ListValueMust(types.StringType, []attr.Value{})
		}
		state.Clusters = clusters
	}
	if ttl, err := time.ParseDuration(state.TokenTTL.ValueString()); err != nil || ttl != stored.TokenTTL {
		state.TokenTTL = types.StringValue(shortDuration(stored.TokenTTL))
	}
	if !slices.Contains(stored.TokenPolicies, vault.TeamRole(name)) {
		// A role that lost its policy reaches nothing of the team's: the plan writes it again.
		state.AppRoleRoleID = types.StringValue("")
	}
	if !found {
		tflog.Warn(ctx, "the team's Keycloak group is gone or no longer the team's", map[string]any{"team": name, "group": state.KeycloakGroup.ValueString()})
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *teamResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state teamModel
	if resp.Diagnostics.Append(req.State.Get(ctx, &state)...); resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := state.Timeouts.Delete(ctx, 2*time.Minute)
	if resp.Diagnostics.Append(diags...); diags.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	store, realm, diags := r.clients(ctx)
	if resp.Diagnostics.Append(diags...); diags.HasError() {
		return
	}
	// The group first: a team whose Vault role is gone but whose group is not can still be destroyed again.
	if err := (access.Engine{Realm: realm}).ReleaseTeamGroup(ctx, state.Name.ValueString(), state.KeycloakGroup.ValueString()); err != nil {
		resp.Diagnostics.Append(r.backends.keycloakError("Cannot release the team's Keycloak group", err, ""))
		return
	}
	if err := store.DeleteTeam(ctx, state.Name.ValueString()); err != nil {
		resp.Diagnostics.Append(r.backends.vaultError("Cannot delete the team's Vault policy and role", err, teamVaultAdvice))
	}
}

func (r *teamResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	id := teamIdentity.importID(ctx, req, &resp.Diagnostics)
	if !vault.ValidTeamName(id) {
		resp.Diagnostics.AddError("Invalid import ID", fmt.Sprintf("%q is not a team name: a DNS-1123 label of at most 54 characters.", id))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("name"), id)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), id)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("token_ttl"), "1h")...)
}

func (r *teamResource) IdentitySchema(_ context.Context, _ resource.IdentitySchemaRequest, resp *resource.IdentitySchemaResponse) {
	teamIdentity.schema(resp)
}

// shortDuration writes a duration as a configuration would, "30m" rather than "30m0s", so that an
// imported team plans no change to the token_ttl it was written with.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// teamFrom is the model as the Vault store takes it.
func teamFrom(ctx context.Context, model teamModel, diags *diag.Diagnostics) (vault.Team, bool) {
	if model.Clusters.IsUnknown() || model.TokenTTL.IsUnknown() {
		return vault.Team{}, false
	}
	for _, cluster := range model.Clusters.Elements() {
		if cluster.IsUnknown() {
			return vault.Team{}, false // known at apply
		}
	}
	var clusters []string
	if diags.Append(model.Clusters.ElementsAs(ctx, &clusters, false)...); diags.HasError() {
		return vault.Team{}, false
	}
	ttl, err := time.ParseDuration(model.TokenTTL.ValueString())
	if err != nil {
		diags.AddAttributeError(path.Root("token_ttl"), "Invalid duration", err.Error())
		return vault.Team{}, false
	}
	return vault.Team{Name: model.Name.ValueString(), Clusters: clusters, TokenTTL: ttl}, true
}

// durationBetween accepts a Go duration from min to max.
type durationBetween struct{ min, max time.Duration }

func (v durationBetween) Description(context.Context) string {
	return fmt.Sprintf("a duration from %s to %s, such as 1h", v.min, v.max)
}

func (v durationBetween) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v durationBetween) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	d, err := time.ParseDuration(req.ConfigValue.ValueString())
	if err != nil || d < v.min || d > v.max {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid duration",
			fmt.Sprintf("%q is not a duration from %s to %s, such as 1h.", req.ConfigValue.ValueString(), v.min, v.max))
	}
}
