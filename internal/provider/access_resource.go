package provider

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/setplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/idp-platform/terraform-provider-idp/internal/access"
)

var (
	_ resource.ResourceWithConfigure      = (*accessResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*accessResource)(nil)
	_ resource.ResourceWithImportState    = (*accessResource)(nil)
	_ resource.ResourceWithIdentity       = (*accessResource)(nil)
	_ resource.ResourceWithValidateConfig = (*accessResource)(nil)
)

func newAccessResource() resource.Resource { return &accessResource{} }

// accessResource is idp_access: a Keycloak group's role on a platform cluster.
type accessResource struct{ backends *backends }

type accessModel struct {
	ID                types.String   `tfsdk:"id"`
	Cluster           types.String   `tfsdk:"cluster"`
	Group             types.String   `tfsdk:"group"`
	ManageGroup       types.Bool     `tfsdk:"manage_group"`
	Members           types.Set      `tfsdk:"members"`
	Role              types.String   `tfsdk:"role"`
	AllowClusterAdmin types.Bool     `tfsdk:"allow_cluster_admin"`
	Namespaces        types.Set      `tfsdk:"namespaces"`
	ExpiresAt         types.String   `tfsdk:"expires_at"`
	Bindings          types.List     `tfsdk:"bindings"`
	Subjects          types.List     `tfsdk:"subjects"`
	Status            types.String   `tfsdk:"status"`
	Timeouts          timeouts.Value `tfsdk:"timeouts"`
}

// accessBindingTypes are the attributes of one entry of bindings.
var accessBindingTypes = map[string]attr.Type{
	"kind": types.StringType, "namespace": types.StringType, "name": types.StringType, "role": types.StringType,
	"subjects": types.ListType{ElemType: types.StringType},
}

// Statuses of a grant.
const (
	accessActive  = "active"
	accessExpired = "expired"
)

// Names that reach Keycloak paths, binding names and label values: a group is a DNS-1123 label (it is
// also the value of the platform.idp.dev/access label), a user a Keycloak username.
var (
	accessGroupPattern = clusterNamePattern
	// At most access.MaxUsernameLength characters: the grant's bookkeeping in Keycloak keeps each
	// member in a value of 255.
	accessUserPattern = regexp.MustCompile(fmt.Sprintf(`^[a-z0-9][a-z0-9._@-]{0,%d}$`, access.MaxUsernameLength-1))
	accessRolePattern = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.:]{0,251}[a-z0-9])?$`)
)

func (r *accessResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_access"
}

func (r *accessResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	notSystem := notSystemName{}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Access to a platform cluster for a Keycloak group: the group (and the members this grant lists) in Keycloak, " +
			"and a RoleBinding per namespace, or one ClusterRoleBinding, that binds the group's OIDC subject `oidc:<group>` to a " +
			"ClusterRole. Users log in with `idp_kubeconfig` (kubelogin); no token or secret is stored anywhere. With `expires_at` " +
			"the grant ends by itself: the platform's access controller deletes the bindings, removes the members and logs their " +
			"Keycloak sessions out at that time, whether or not Terraform runs. Import with `cluster/group/scope`, where scope is " +
			"`cluster` or the namespaces joined by commas.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed: true, MarkdownDescription: "`cluster/group/scope`.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"cluster": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Cluster the access is to (`idp_cluster.<x>.id`).",
				Validators:          clusterNameValidators(),
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"group": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "Keycloak group (top-level) whose members get the access; the cluster sees it as `oidc:<group>`. " +
					"Lowercase letters, digits and `-`, at most 63; `system:` names are refused.",
				Validators:    []validator.String{notSystem, stringvalidator.RegexMatches(accessGroupPattern, "must be a DNS-1123 label: lowercase letters, digits and '-', at most 63 characters")},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"manage_group": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(true),
				MarkdownDescription: "Create the group when it does not exist (default `true`); a group a grant created is deleted with the " +
					"last grant that uses it. With `false` the group must exist and is never created or deleted.",
			},
			"members": schema.SetAttribute{
				Optional: true, ElementType: types.StringType,
				MarkdownDescription: "Keycloak usernames to put in the group. Authoritative only for the members it lists: a member " +
					"removed from the list is removed from the group (and logged out) unless another grant of the group lists them; " +
					"members added elsewhere are left alone.",
				Validators: []validator.Set{setvalidator.ValueStringsAre(stringvalidator.RegexMatches(accessUserPattern,
					"must be a Keycloak username: lowercase letters, digits and . _ @ -"))},
			},
			"role": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "ClusterRole to bind: `view`, `edit`, `admin`, `cluster-admin` (needs `allow_cluster_admin`) or a " +
					"custom ClusterRole of the cluster. `system:` roles are refused.",
				Validators: []validator.String{notSystem, stringvalidator.RegexMatches(accessRolePattern, "must be a ClusterRole name")},
			},
			"allow_cluster_admin": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(false),
				MarkdownDescription: "Must be `true` for `role = \"cluster-admin\"`: full control of the cluster is never granted by accident.",
			},
			"namespaces": schema.SetAttribute{
				Optional: true, ElementType: types.StringType,
				MarkdownDescription: "Namespaces to bind the role in, one RoleBinding each; they must exist when the grant is applied. " +
					"Omitted or empty: one ClusterRoleBinding, cluster-wide.",
				Validators: []validator.Set{setvalidator.ValueStringsAre(stringvalidator.RegexMatches(clusterNamePattern,
					"must be a namespace name (DNS-1123 label)"))},
				// The scope is part of the ID: a new scope is a new grant. Null and empty are the same scope.
				PlanModifiers: []planmodifier.Set{setplanmodifier.RequiresReplaceIf(scopeChanged,
					"A grant's namespaces are its scope, part of its ID.", "A grant's namespaces are its scope, part of its ID.")},
			},
			"expires_at": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "When the grant ends, in RFC 3339 (`2026-12-31T18:00:00Z`). The access controller in the management " +
					"cluster revokes it then. An expired grant plans no change while its `expires_at` stays; set a later one (or remove " +
					"it) to grant again.",
				Validators: []validator.String{rfc3339Validator{}},
			},
			"bindings": schema.ListNestedAttribute{
				Computed:            true,
				MarkdownDescription: "The bindings in the cluster. A binding deleted or edited outside Terraform is planned back.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"kind":      schema.StringAttribute{Computed: true, MarkdownDescription: "`RoleBinding` or `ClusterRoleBinding`."},
					"namespace": schema.StringAttribute{Computed: true, MarkdownDescription: "Namespace of a RoleBinding; empty for a ClusterRoleBinding."},
					"name":      schema.StringAttribute{Computed: true, MarkdownDescription: "`idp:<group>:<role>`."},
					"role":      schema.StringAttribute{Computed: true, MarkdownDescription: "The ClusterRole it binds."},
					"subjects":  schema.ListAttribute{Computed: true, ElementType: types.StringType, MarkdownDescription: "The groups it binds."},
				}},
			},
			"subjects": schema.ListAttribute{
				Computed: true, ElementType: types.StringType,
				MarkdownDescription: "The Kubernetes subjects that get the role: `oidc:<group>`.",
			},
			"status": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "`active`, or `expired` once the access controller revoked the grant at `expires_at`.",
			},
			"timeouts": timeouts.Attributes(ctx, timeouts.Opts{Create: true, Read: true, Update: true, Delete: true}),
		},
	}
}

func (r *accessResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.backends = backendsFrom(req.ProviderData, &resp.Diagnostics)
}

func (r *accessResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var config accessModel
	if resp.Diagnostics.Append(req.Config.Get(ctx, &config)...); resp.Diagnostics.HasError() {
		return
	}
	if config.AllowClusterAdmin.IsUnknown() || config.AllowClusterAdmin.ValueBool() || config.Role.IsUnknown() || config.Namespaces.IsUnknown() {
		return
	}
	var namespaces []string
	resp.Diagnostics.Append(config.Namespaces.ElementsAs(ctx, &namespaces, false)...)
	if reason := needsClusterAdmin(config.Role.ValueString(), namespaces); reason != "" {
		resp.Diagnostics.AddAttributeError(path.Root("role"), "This grant needs allow_cluster_admin",
			reason+" Set allow_cluster_admin = true if that is meant, or grant view, or bind the role in the team's namespaces.")
	}
}

// needsClusterAdmin says why a grant amounts to control of the whole cluster, or "" when it does not:
// cluster-admin anywhere, admin or edit cluster-wide (they read every Secret and run pods as any
// service account), or any role in kube-system.
func needsClusterAdmin(role string, namespaces []string) string {
	switch {
	case role == "cluster-admin":
		return "cluster-admin gives the group full control of the cluster."
	case len(namespaces) == 0 && (role == "admin" || role == "edit"):
		return fmt.Sprintf("%s bound cluster-wide lets the group read every Secret and run pods as any service account: control of the cluster.", role)
	case slices.Contains(namespaces, "kube-system"):
		return "A role in kube-system reaches the cluster's own components and their credentials."
	}
	return ""
}

// scopeChanged replaces a grant whose namespaces change, but not one whose namespaces go from null to
// empty or back: both are the cluster-wide scope.
func scopeChanged(ctx context.Context, req planmodifier.SetRequest, resp *setplanmodifier.RequiresReplaceIfFuncResponse) {
	var before, after []string
	resp.Diagnostics.Append(req.StateValue.ElementsAs(ctx, &before, false)...)
	resp.Diagnostics.Append(req.PlanValue.ElementsAs(ctx, &after, false)...)
	resp.RequiresReplace = !slices.Equal(access.Grant{Namespaces: before}.Normalized().Namespaces, access.Grant{Namespaces: after}.Normalized().Namespaces)
}

// accessGrant is the grant a model describes; ok is false while a part of it is unknown.
func accessGrant(ctx context.Context, m accessModel) (grant access.Grant, ok bool, diags diag.Diagnostics) {
	if m.Cluster.IsUnknown() || m.Group.IsUnknown() || m.Role.IsUnknown() || m.Members.IsUnknown() ||
		m.Namespaces.IsUnknown() || m.ExpiresAt.IsUnknown() || m.ManageGroup.IsUnknown() {
		return grant, false, nil
	}
	grant = access.Grant{Cluster: m.Cluster.ValueString(), Group: m.Group.ValueString(), Role: m.Role.ValueString(), ManageGroup: m.ManageGroup.ValueBool()}
	diags.Append(m.Members.ElementsAs(ctx, &grant.Members, false)...)
	diags.Append(m.Namespaces.ElementsAs(ctx, &grant.Namespaces, false)...)
	if at := m.ExpiresAt.ValueString(); at != "" {
		expires, err := time.Parse(time.RFC3339, at)
		if err != nil {
			diags.AddAttributeError(path.Root("expires_at"), "Invalid expires_at", err.Error())
		}
		expires = expires.UTC()
		grant.ExpiresAt = &expires
	}
	return grant.Normalized(), !diags.HasError(), diags
}

// plannedBindings and plannedSubjects are what the grant makes, as the computed attributes hold them.
func plannedBindings(grant access.Grant) types.List {
	var values []attr.Value
	for _, b := range access.DesiredBindings(grant) {
		values = append(values, bindingValue(b.Namespace, b.Name, b.Role, b.Groups))
	}
	return types.ListValueMust(types.ObjectType{AttrTypes: accessBindingTypes}, values)
}

func bindingValue(namespace, name, role string, subjects []string) attr.Value {
	kind := "ClusterRoleBinding"
	if namespace != "" {
		kind = "RoleBinding"
	}
	subjectValues := make([]attr.Value, 0, len(subjects))
	for _, s := range subjects {
		subjectValues = append(subjectValues, types.StringValue(s))
	}
	return types.ObjectValueMust(accessBindingTypes, map[string]attr.Value{
		"kind": types.StringValue(kind), "namespace": types.StringValue(namespace), "name": types.StringValue(name),
		"role": types.StringValue(role), "subjects": types.ListValueMust(types.StringType, subjectValues),
	})
}

func plannedSubjects(grant access.Grant) types.List {
	return types.ListValueMust(types.StringType, []attr.Value{types.StringValue(grant.Subject())})
}

func (r *accessResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	// The policies see the plan as this method leaves it.
	defer func() {
		r.backends.checkPolicy(ctx, "idp_access", policyClusterFrom(ctx, req, "cluster", false), req, resp)
	}()
	if req.Plan.Raw.IsNull() {
		return // destroy
	}
	var plan accessModel
	if resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...); resp.Diagnostics.HasError() {
		return
	}
	var state *accessModel
	if !req.State.Raw.IsNull() {
		state = &accessModel{}
		if resp.Diagnostics.Append(req.State.Get(ctx, state)...); resp.Diagnostics.HasError() {
			return
		}
	}
	grant, known, diags := accessGrant(ctx, plan)
	if resp.Diagnostics.Append(diags...); diags.HasError() || !known {
		return
	}
	plan.ID = types.StringValue(grant.ID())
	plan.Bindings, plan.Subjects, plan.Status = plannedBindings(grant), plannedSubjects(grant), types.StringValue(accessActive)
	expiresChanged := state == nil || !state.ExpiresAt.Equal(plan.ExpiresAt)
	if grant.ExpiresAt != nil && state != nil && state.Status.ValueString() == accessExpired && !expiresChanged {
		// Revoked at its expiry, and the configuration still says it ends then: nothing to do.
		plan.Bindings, plan.Status = state.Bindings, state.Status
		resp.Diagnostics.AddAttributeWarning(path.Root("expires_at"), "Grant expired",
			fmt.Sprintf("The grant %s ended at %s: its bindings and memberships are gone. Set a later expires_at, or remove it, to grant the access again.",
				grant.ID(), plan.ExpiresAt.ValueString()))
	}
	if grant.ExpiresAt != nil && expiresChanged && !grant.ExpiresAt.After(time.Now()) {
		resp.Diagnostics.AddAttributeError(path.Root("expires_at"), "expires_at is in the past",
			fmt.Sprintf("%s has passed: the grant would end as soon as it is made. Choose a time in the future.", plan.ExpiresAt.ValueString()))
		return
	}
	if grant.ExpiresAt != nil && r.backends != nil && !r.backends.managementClusterConfigured() {
		resp.Diagnostics.AddAttributeError(path.Root("expires_at"), "A time-bound grant needs the management cluster",
			"The access controller that ends grants at expires_at runs in the management cluster, where the grant's expiry is recorded: "+
				"configure the provider's management_cluster block, or leave expires_at out.")
		return
	}
	if r.backends != nil && accessInputChanged(state, plan) {
		resp.Diagnostics.Append(r.checkBackends(ctx, grant)...)
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
}

// accessInputChanged tells whether the plan asks for something the backends must be asked about; a
// plan that changes nothing reads nothing more than the refresh did.
func accessInputChanged(state *accessModel, plan accessModel) bool {
	return state == nil || !state.Role.Equal(plan.Role) || !state.Members.Equal(plan.Members) ||
		!state.Group.Equal(plan.Group) || !state.ManageGroup.Equal(plan.ManageGroup) || !state.Cluster.Equal(plan.Cluster)
}

// checkBackends finds at plan what apply would fail on: an unknown cluster or ClusterRole, a member
// Keycloak does not know, a missing group the grant may not create.
func (r *accessResource) checkBackends(ctx context.Context, grant access.Grant) diag.Diagnostics {
	_, cluster, diags := r.backends.ClusterClient(ctx, grant.Cluster, path.Root("cluster"))
	if diags.HasError() {
		return diags
	}
	exists, err := cluster.ClusterRoleExists(ctx, grant.Role)
	if err != nil {
		diags.Append(r.backends.workloadClusterError(grant.Cluster, "Cannot check the role", err, ""))
		return diags
	}
	if !exists {
		diags.AddAttributeError(path.Root("role"), "Unknown ClusterRole",
			fmt.Sprintf("Cluster %q has no ClusterRole %q. Use view, edit, admin or a ClusterRole the cluster has (kubectl get clusterroles).", grant.Cluster, grant.Role))
	}
	realm, kcDiags := r.backends.Keycloak(ctx)
	if diags.Append(kcDiags...); kcDiags.HasError() {
		return diags
	}
	for _, username := range grant.Members {
		_, found, err := realm.FindUser(ctx, username)
		if err != nil {
			diags.Append(r.backends.keycloakError("Cannot look up a member in Keycloak", err, ""))
			return diags
		}
		if !found {
			diags.AddAttributeError(path.Root("members"), "Unknown Keycloak user",
				fmt.Sprintf("Realm %q has no user %q. Members must be existing Keycloak usernames.", r.backends.configs.keycloak.Realm, username))
		}
	}
	if !grant.ManageGroup {
		_, found, err := realm.FindGroup(ctx, grant.Group)
		if err != nil {
			diags.Append(r.backends.keycloakError("Cannot look up the group in Keycloak", err, ""))
			return diags
		}
		if !found {
			diags.AddAttributeError(path.Root("group"), "Unknown Keycloak group",
				fmt.Sprintf("Realm %q has no group %q, and manage_group = false forbids creating it. Create the group, or set manage_group = true.",
					r.backends.configs.keycloak.Realm, grant.Group))
		}
	}
	return diags
}

func (r *accessResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	defer accessIdentity.record(ctx, &resp.State, resp.Identity, &resp.Diagnostics)
	var plan accessModel
	if resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...); resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := plan.Timeouts.Create(ctx, defaultAccessTimeout)
	if resp.Diagnostics.Append(diags...); diags.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	resp.Diagnostics.Append(r.applyGrant(ctx, &plan, nil)...)
	if !resp.Diagnostics.HasError() {
		resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	}
}

func (r *accessResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	defer accessIdentity.record(ctx, &resp.State, resp.Identity, &resp.Diagnostics)
	var plan, state accessModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := plan.Timeouts.Update(ctx, defaultAccessTimeout)
	if resp.Diagnostics.Append(diags...); diags.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	previous, _, diags := accessGrant(ctx, state)
	if resp.Diagnostics.Append(diags...); diags.HasError() {
		return
	}
	if state.Status.ValueString() == accessExpired && plan.Status.ValueString() == accessExpired {
		// The grant ended and its end stays: a change of members or role waits for a new expires_at,
		// rather than granting the access again until the controller's next round.
		resp.Diagnostics.AddAttributeWarning(path.Root("expires_at"), "Grant expired",
			fmt.Sprintf("Grant %s ended at %s; the change is recorded and takes effect when expires_at is set later or removed.", previous.ID(), state.ExpiresAt.ValueString()))
		resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
		return
	}
	resp.Diagnostics.Append(r.applyGrant(ctx, &plan, &previous)...)
	if !resp.Diagnostics.HasError() {
		resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	}
}

// defaultAccessTimeout bounds an apply of a grant: a few calls to Keycloak and the cluster, each
// bounded by its backend's request_timeout.
const defaultAccessTimeout = 5 * time.Minute

// applyGrant makes the grant in Keycloak and the cluster, records its expiry (or drops the record of
// one no longer set), and reads back what it made into the model.
func (r *accessResource) applyGrant(ctx context.Context, m *accessModel, previous *access.Grant) diag.Diagnostics {
	grant, _, diags := accessGrant(ctx, *m)
	if diags.HasError() {
		return diags
	}
	engine, registered, cluster, diags := r.backends.AccessEngine(ctx, grant.Cluster)
	if diags.HasError() {
		return diags
	}
	if !registered {
		return unknownCluster(path.Root("cluster"), grant.Cluster, r.backends.clusterLocation(ctx, grant.Cluster), "")
	}
	// The expiry is recorded before anything is granted: a grant whose record could not be written
	// must not stand without its end.
	diags.Append(r.backends.RecordAccessExpiry(ctx, grant, registered)...)
	if diags.HasError() {
		return diags
	}
	tflog.Info(ctx, "applying access grant", map[string]any{"id": grant.ID(), "role": grant.Role, "members": len(grant.Members)})
	if err := engine.Apply(ctx, cluster, grant, previous); err != nil {
		diags.Append(r.backends.accessError(grant, "Cannot apply the grant", err))
		return diags
	}
	observed, err := engine.Observe(ctx, cluster, grant)
	if err != nil {
		diags.Append(r.backends.accessError(grant, "Cannot read the grant back", err))
		return diags
	}
	setObserved(m, grant, observed, false)
	return diags
}

// setObserved writes what Observe found into the model. expired keeps the bindings as last applied:
// the controller deleted them on purpose, which is not drift.
func setObserved(m *accessModel, grant access.Grant, observed access.Observed, expired bool) {
	m.ID = types.StringValue(grant.ID())
	m.Subjects = plannedSubjects(grant)
	if observed.ClaimMissing && !expired {
		// Without the groups claim the cluster sees no one in the group: planned back as a change.
		m.Subjects = types.ListValueMust(types.StringType, []attr.Value{})
	}
	if expired {
		m.Status = types.StringValue(accessExpired)
		return
	}
	m.Status = types.StringValue(accessActive)
	var bindings []attr.Value
	for _, b := range observed.Bindings {
		bindings = append(bindings, bindingValue(b.Namespace, b.Name, b.Role, append(slices.Clone(b.Groups), b.OtherSubjects...)))
	}
	m.Bindings = types.ListValueMust(types.ObjectType{AttrTypes: accessBindingTypes}, bindings)
	if !m.Members.IsNull() || len(observed.Members) > 0 {
		m.Members = stringSet(observed.Members)
	}
}

func stringSet(values []string) types.Set {
	elements := make([]attr.Value, 0, len(values))
	for _, v := range values {
		elements = append(elements, types.StringValue(v))
	}
	return types.SetValueMust(types.StringType, elements)
}

func (r *accessResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	defer accessIdentity.record(ctx, &resp.State, resp.Identity, &resp.Diagnostics)
	var state accessModel
	if resp.Diagnostics.Append(req.State.Get(ctx, &state)...); resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := state.Timeouts.Read(ctx, defaultAccessTimeout)
	if resp.Diagnostics.Append(diags...); diags.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	imported := state.Role.IsNull()
	if imported {
		resp.Diagnostics.Append(r.readImported(ctx, &state)...)
		if resp.Diagnostics.HasError() || state.ID.IsNull() {
			resp.State.RemoveResource(ctx)
			return
		}
	}
	grant, _, diags := accessGrant(ctx, state)
	if resp.Diagnostics.Append(diags...); diags.HasError() {
		return
	}
	engine, registered, cluster, diags := r.backends.AccessEngine(ctx, grant.Cluster)
	if resp.Diagnostics.Append(diags...); diags.HasError() {
		return
	}
	if !registered {
		// The group, its members and the bookkeeping are in Keycloak whatever became of the cluster:
		// the grant stays in state, without bindings, so that a destroy still cleans them up.
		resp.Diagnostics.AddWarning("Cluster no longer registered",
			fmt.Sprintf("Vault holds no kubeconfig for cluster %q, so the bindings of grant %s cannot be read. Register the cluster "+
				"again, or remove the grant from the configuration: its destroy removes what it made in Keycloak.", grant.Cluster, grant.ID()))
		state.Bindings = types.ListValueMust(types.ObjectType{AttrTypes: accessBindingTypes}, []attr.Value{})
		resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
		return
	}
	observed, err := engine.Observe(ctx, cluster, grant)
	if err != nil {
		resp.Diagnostics.Append(r.backends.accessError(grant, "Cannot read the grant", err))
		return
	}
	if !observed.GroupFound && len(observed.Bindings) == 0 {
		resp.State.RemoveResource(ctx)
		return
	}
	setObserved(&state, grant, observed, observed.Expired)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// readImported fills an imported grant's inputs from what it made: the ID gives cluster, group and
// scope, the group's bookkeeping the role and members, the expiry record the end.
func (r *accessResource) readImported(ctx context.Context, state *accessModel) diag.Diagnostics {
	var diags diag.Diagnostics
	cluster, group, scope, err := parseAccessID(state.ID.ValueString())
	if err != nil {
		diags.AddError("Invalid import ID", err.Error())
		return diags
	}
	grant := access.Grant{Cluster: cluster, Group: group}
	if scope != access.ClusterScope {
		grant.Namespaces = strings.Split(scope, ",")
	}
	engine, registered, client, d := r.backends.AccessEngine(ctx, cluster)
	if diags.Append(d...); diags.HasError() {
		return diags
	}
	if !registered {
		diags.AddError("Cannot import the grant", fmt.Sprintf("Vault holds no kubeconfig for cluster %q.", cluster))
		return diags
	}
	observed, err := engine.Observe(ctx, client, grant)
	if err != nil {
		diags.Append(r.backends.accessError(grant, "Cannot read the grant", err))
		return diags
	}
	switch {
	case observed.Recorded != nil:
		grant.Role, grant.Members, grant.ManageGroup = observed.Recorded.Role, observed.Recorded.Members, observed.Recorded.ManageGroup
	case len(observed.Bindings) > 0:
		grant.Role = observed.Bindings[0].Role
	default:
		diags.AddError("Cannot import the grant", fmt.Sprintf("No grant %s was found: group %q holds no record of it and cluster %q has no binding of it.",
			grant.ID(), group, cluster))
		return diags
	}
	state.Cluster, state.Group, state.Role = types.StringValue(cluster), types.StringValue(group), types.StringValue(grant.Role)
	state.ManageGroup, state.AllowClusterAdmin = types.BoolValue(grant.ManageGroup), types.BoolValue(needsClusterAdmin(grant.Role, grant.Namespaces) != "")
	state.Members, state.Namespaces = types.SetNull(types.StringType), types.SetNull(types.StringType)
	if len(grant.Members) > 0 {
		state.Members = stringSet(grant.Members)
	}
	if len(grant.Namespaces) > 0 {
		state.Namespaces = stringSet(grant.Namespaces)
	}
	expires, d := r.backends.AccessExpiry(ctx, grant)
	if diags.Append(d...); diags.HasError() {
		return diags
	}
	state.ExpiresAt = types.StringNull()
	if expires != nil {
		state.ExpiresAt = types.StringValue(expires.Format(time.RFC3339))
	}
	state.Bindings = types.ListNull(types.ObjectType{AttrTypes: accessBindingTypes})
	state.Timeouts = timeouts.Value{Object: types.ObjectNull(state.Timeouts.AttributeTypes(ctx))}
	return diags
}

// parseAccessID splits cluster/group/scope and validates each part before it names anything.
func parseAccessID(id string) (cluster, group, scope string, err error) {
	parts := strings.Split(id, "/")
	if len(parts) != 3 {
		return "", "", "", fmt.Errorf("%q is not cluster/group/scope (scope: `cluster`, or the namespaces joined by commas)", id)
	}
	cluster, group, scope = parts[0], parts[1], parts[2]
	if !clusterNamePattern.MatchString(cluster) {
		return "", "", "", fmt.Errorf("%q: %q is not a cluster name", id, cluster)
	}
	if !accessGroupPattern.MatchString(group) {
		return "", "", "", fmt.Errorf("%q: %q is not a group name (DNS-1123 label)", id, group)
	}
	if scope != access.ClusterScope {
		for _, namespace := range strings.Split(scope, ",") {
			if !clusterNamePattern.MatchString(namespace) {
				return "", "", "", fmt.Errorf("%q: %q is not a namespace name", id, namespace)
			}
		}
	}
	return cluster, group, scope, nil
}

func (r *accessResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state accessModel
	if resp.Diagnostics.Append(req.State.Get(ctx, &state)...); resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := state.Timeouts.Delete(ctx, defaultAccessTimeout)
	if resp.Diagnostics.Append(diags...); diags.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	grant, _, diags := accessGrant(ctx, state)
	if resp.Diagnostics.Append(diags...); diags.HasError() {
		return
	}
	engine, registered, cluster, diags := r.backends.AccessEngine(ctx, grant.Cluster)
	if resp.Diagnostics.Append(diags...); diags.HasError() {
		return
	}
	if !registered {
		cluster = nil // the bindings went with the cluster
	}
	if err := engine.Revoke(ctx, cluster, grant, true); err != nil {
		resp.Diagnostics.Append(r.backends.accessError(grant, "Cannot revoke the grant", err))
		return
	}
	grant.ExpiresAt = nil
	resp.Diagnostics.Append(r.backends.RecordAccessExpiry(ctx, grant, registered)...)
}

func (r *accessResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	id := accessIdentity.importID(ctx, req, &resp.Diagnostics)
	if _, _, _, err := parseAccessID(id); err != nil {
		resp.Diagnostics.AddError("Invalid import ID", err.Error())
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), id)...)
}

func (r *accessResource) IdentitySchema(_ context.Context, _ resource.IdentitySchemaRequest, resp *resource.IdentitySchemaResponse) {
	accessIdentity.schema(resp)
}

// notSystemName refuses names in Kubernetes' own system: namespace of users, groups and roles.
type notSystemName struct{}

func (notSystemName) Description(context.Context) string {
	return "must not start with `system:`"
}
func (v notSystemName) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }
func (notSystemName) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if strings.HasPrefix(req.ConfigValue.ValueString(), "system:") {
		resp.Diagnostics.AddAttributeError(req.Path, "Reserved name",
			fmt.Sprintf("%q starts with system:, which Kubernetes reserves for its own users, groups and roles; a grant never binds or names them.", req.ConfigValue.ValueString()))
	}
}

// rfc3339Validator checks a timestamp such as 2026-12-31T18:00:00Z.
type rfc3339Validator struct{}

func (rfc3339Validator) Description(context.Context) string {
	return "must be an RFC 3339 timestamp"
}
func (v rfc3339Validator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }
func (rfc3339Validator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if _, err := time.Parse(time.RFC3339, req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid timestamp",
			fmt.Sprintf("%q is not an RFC 3339 timestamp such as 2026-12-31T18:00:00Z: %v", req.ConfigValue.ValueString(), err))
	}
}
