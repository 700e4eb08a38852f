package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/idp-platform/terraform-provider-idp/internal/access"
	"github.com/idp-platform/terraform-provider-idp/internal/keycloak"
	"github.com/idp-platform/terraform-provider-idp/internal/kube"
)

func newAccessCheckDataSource() datasource.DataSource { return &accessCheckDataSource{} }

// accessCheckDataSource asks a workload cluster whether a Keycloak user may do something there, as the
// cluster would decide for the user's token: the user and groups with the clusters' OIDC prefix.
type accessCheckDataSource struct {
	backends *backends
}

var _ datasource.DataSourceWithConfigure = &accessCheckDataSource{}

type accessCheckModel struct {
	ID          types.String `tfsdk:"id"`
	Cluster     types.String `tfsdk:"cluster"`
	User        types.String `tfsdk:"user"`
	Groups      types.List   `tfsdk:"groups"`
	Verb        types.String `tfsdk:"verb"`
	Resource    types.String `tfsdk:"resource"`
	Subresource types.String `tfsdk:"subresource"`
	Namespace   types.String `tfsdk:"namespace"`
	Name        types.String `tfsdk:"name"`
	Allowed     types.Bool   `tfsdk:"allowed"`
	Reason      types.String `tfsdk:"reason"`
	Subject     types.String `tfsdk:"subject"`
}

// accessReviewer is what the check needs of a workload cluster; *kube.Client implements it.
type accessReviewer interface {
	ReviewAccess(ctx context.Context, review kube.Review) (kube.Decision, error)
}

// userGroupsAPI is what the check needs of Keycloak to find a user's groups; *keycloak.Client
// implements it.
type userGroupsAPI interface {
	FindUser(ctx context.Context, username string) (keycloak.User, bool, error)
	// UserGroups are the names of the groups the user is a member of, as the groups claim of the
	// user's tokens lists them.
	UserGroups(ctx context.Context, userID string) ([]string, error)
}

// authenticatedGroup is the group the API server adds to every authenticated user, whatever the token
// says; bindings to it (discovery, self-reviews) apply to every Keycloak user.
const authenticatedGroup = "system:authenticated"

func (d *accessCheckDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_access_check"
}

func (d *accessCheckDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	label := []validator.String{dnsLabel()}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Asks a platform cluster whether a Keycloak user may do something there: a SubjectAccessReview " +
			"for the user and groups as the cluster sees them in the user's token, with the `" + access.SubjectPrefix + "` prefix " +
			"of the platform's clusters (user `alice` is `" + access.SubjectPrefix + "alice`, group `developers` is `" +
			access.SubjectPrefix + "developers`), and `" + authenticatedGroup + "`, which the API server adds to every user. " +
			"Without `groups` the user's groups are read from Keycloak, so the answer is the cluster's for the user's next " +
			"token (a token issued before a membership changed carries the groups of then until it expires). The check asks " +
			"the cluster's authorizers (RBAC, and any webhook) and logs in as no one. It needs the provider's `keycloak` block " +
			"unless `groups` is set.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "`<cluster>/<user>/<verb>/<resource>[/<subresource>]/<namespace>/<name>`.",
			},
			"cluster": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Name of the platform cluster (`idp_cluster.<x>.name`).",
				Validators:          clusterNameValidators(),
			},
			"user": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "Keycloak username, without a prefix: the provider asks about `" + access.SubjectPrefix +
					"<user>`, the cluster's name for the user.",
				Validators: []validator.String{stringvalidator.LengthAtLeast(1), withoutSubjectPrefix{}},
			},
			"groups": schema.ListAttribute{
				Optional:    true,
				Computed:    true,
				ElementType: types.StringType,
				MarkdownDescription: "Keycloak group names, without a prefix, to ask about instead of the user's groups in Keycloak " +
					"(e.g. to see what a membership would allow before making it); `[]` asks about the user alone. When not " +
					"set, the groups the user is a member of in Keycloak, read at each refresh (the provider's Keycloak " +
					"credentials need the realm-management role view-users).",
				Validators: []validator.List{listvalidator.ValueStringsAre(stringvalidator.LengthAtLeast(1), withoutSubjectPrefix{})},
			},
			"verb": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Kubernetes API verb, e.g. `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`, or `*`.",
				Validators: []validator.String{stringvalidator.RegexMatches(verbPattern,
					"must be a lower-case API verb such as get, list or create, or *")},
			},
			"resource": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "Resource, as `kubectl` names it with its API group: `pods` (the core group), " +
					"`deployments.apps`, `certificates.cert-manager.io`; `*.apps` for every resource of a group, `*` for every " +
					"resource of every group.",
				Validators: []validator.String{resourceValidator{}},
			},
			"subresource": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Subresource, e.g. `log` of `pods`, or `scale` of `deployments.apps`.",
				Validators:          []validator.String{stringvalidator.RegexMatches(resourceNamePattern, "must be a subresource name such as log or scale")},
			},
			"namespace": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Namespace of the request; not set asks about all namespaces, or a cluster-scoped resource.",
				Validators:          label,
			},
			"name": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Name of the object; not set asks about any object (as `list` or `create` do).",
				Validators:          []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"allowed": schema.BoolAttribute{
				Computed:            true,
				MarkdownDescription: "Whether the cluster allows the request.",
			},
			"reason": schema.StringAttribute{
				Computed: true,
				MarkdownDescription: "The authorizers' reason, e.g. the binding that allows the request; often empty when " +
					"nothing allows it.",
			},
			"subject": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "The user as the cluster names it, e.g. `" + access.SubjectPrefix + "alice`.",
			},
		},
	}
}

func (d *accessCheckDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.backends = backendsFrom(req.ProviderData, &resp.Diagnostics)
}

func (d *accessCheckDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var model accessCheckModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &model)...)
	if resp.Diagnostics.HasError() {
		return
	}
	_, client, diags := d.backends.ClusterClient(ctx, model.Cluster.ValueString(), path.Root("cluster"))
	if resp.Diagnostics.Append(diags...); diags.HasError() {
		return
	}
	model, diags = d.check(ctx, model, client, d.keycloakUsers)
	if resp.Diagnostics.Append(diags...); diags.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &model)...)
}

// keycloakUsers is the provider's Keycloak client as the check uses it.
func (d *accessCheckDataSource) keycloakUsers(ctx context.Context) (userGroupsAPI, diag.Diagnostics) {
	return d.backends.Keycloak(ctx)
}

// check answers the model's question on the cluster; users is called only when the groups come from
// Keycloak, so a check with its own groups needs no keycloak block.
func (d *accessCheckDataSource) check(ctx context.Context, model accessCheckModel, cluster accessReviewer,
	users func(context.Context) (userGroupsAPI, diag.Diagnostics),
) (accessCheckModel, diag.Diagnostics) {
	var diags diag.Diagnostics
	clusterName, username := model.Cluster.ValueString(), model.User.ValueString()
	var groups []string
	if model.Groups.IsNull() {
		realm, more := users(ctx)
		if diags.Append(more...); diags.HasError() {
			return model, diags
		}
		groups, more = d.userGroups(ctx, realm, username)
		if diags.Append(more...); diags.HasError() {
			return model, diags
		}
		list, more := types.ListValueFrom(ctx, types.StringType, groups)
		if diags.Append(more...); diags.HasError() {
			return model, diags
		}
		model.Groups = list
	} else if diags.Append(model.Groups.ElementsAs(ctx, &groups, false)...); diags.HasError() {
		return model, diags
	}
	review := accessReview(model, groups)
	decision, err := cluster.ReviewAccess(ctx, review)
	if err != nil {
		diags.Append(d.backends.workloadClusterError(clusterName, "Cannot review access on the cluster", err,
			"The cluster's admin kubeconfig in Vault must be allowed to create subjectaccessreviews.authorization.k8s.io."))
		return model, diags
	}
	model.ID = types.StringValue(strings.Join([]string{
		clusterName, username, model.Verb.ValueString(), resourceWithSubresource(model), model.Namespace.ValueString(), model.Name.ValueString(),
	}, "/"))
	model.Subject = types.StringValue(review.User)
	model.Allowed = types.BoolValue(decision.Allowed)
	model.Reason = types.StringValue(decision.Reason)
	return model, diags
}

// userGroups reads the names of the user's groups from Keycloak.
func (d *accessCheckDataSource) userGroups(ctx context.Context, realm userGroupsAPI, username string) ([]string, diag.Diagnostics) {
	var diags diag.Diagnostics
	const advice = "The provider's Keycloak credentials need the view-users role of the realm's realm-management client."
	user, found, err := realm.FindUser(ctx, username)
	if err != nil {
		diags.Append(d.backends.keycloakError("Cannot read the user from Keycloak", err, advice))
		return nil, diags
	}
	if !found {
		diags.AddAttributeError(path.Root("user"), "Unknown user",
			fmt.Sprintf("Keycloak's realm %q has no user %q. Give the username users log in with, or set groups to check "+
				"what a user with those groups may do.", d.backends.configs.keycloak.Realm, username))
		return nil, diags
	}
	groups, err := realm.UserGroups(ctx, user.ID)
	if err != nil {
		diags.Append(d.backends.keycloakError("Cannot read the user's groups from Keycloak", err, advice))
		return nil, diags
	}
	if groups == nil {
		groups = []string{}
	}
	return groups, diags
}

// accessReview is the model's question as the cluster is asked it: the Keycloak names with the
// clusters' prefix, and the group every authenticated user has.
func accessReview(model accessCheckModel, groups []string) kube.Review {
	subjectGroups := make([]string, 0, len(groups)+1)
	for _, group := range groups {
		subjectGroups = append(subjectGroups, access.SubjectPrefix+group)
	}
	subjectGroups = append(subjectGroups, authenticatedGroup)
	apiGroup, resource := splitResource(model.Resource.ValueString())
	return kube.Review{
		User:        access.SubjectPrefix + model.User.ValueString(),
		Groups:      subjectGroups,
		Verb:        model.Verb.ValueString(),
		APIGroup:    apiGroup,
		Resource:    resource,
		Subresource: model.Subresource.ValueString(),
		Namespace:   model.Namespace.ValueString(),
		Name:        model.Name.ValueString(),
	}
}

func resourceWithSubresource(model accessCheckModel) string {
	if model.Subresource.ValueString() == "" {
		return model.Resource.ValueString()
	}
	return model.Resource.ValueString() + "/" + model.Subresource.ValueString()
}

// splitResource reads kubectl's resource.group form: the resource is up to the first dot, the API
// group the rest ("" is the core group). A bare * is every resource of every group.
func splitResource(value string) (apiGroup, resource string) {
	if value == "*" {
		return "*", "*"
	}
	resource, apiGroup, _ = strings.Cut(value, ".")
	return apiGroup, resource
}

var (
	verbPattern = regexp.MustCompile(`^(\*|[a-z]+)$`)
	// resourceNamePattern is a resource's or subresource's name: lower-case, as the API serves them.
	resourceNamePattern = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)
	// apiGroupPattern is a DNS-1123 subdomain, the form of every API group but the core one.
	apiGroupPattern = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
)

// resourceValidator accepts a resource in kubectl's resource.group form, or *.
type resourceValidator struct{}

func (resourceValidator) Description(context.Context) string {
	return "must be a resource with its API group, as in pods or deployments.apps, *.apps or *"
}

func (v resourceValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (resourceValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	value := req.ConfigValue.ValueString()
	if resource, subresource, found := strings.Cut(value, "/"); found {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid resource",
			fmt.Sprintf("%q names a subresource: set resource = %q and subresource = %q.", value, resource, subresource))
		return
	}
	apiGroup, resource := splitResource(value)
	validResource := resource == "*" || resourceNamePattern.MatchString(resource)
	if !validResource || (strings.Contains(value, ".") && !apiGroupPattern.MatchString(apiGroup)) {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid resource",
			fmt.Sprintf("%q is not a resource: name it as kubectl does, in lower case with its API group after a dot, e.g. "+
				"pods, deployments.apps or ingresses.networking.k8s.io.", value))
	}
}

// withoutSubjectPrefix refuses a name that already carries the clusters' OIDC prefix, which the
// provider adds: the check would otherwise ask about oidc:oidc:<name>.
type withoutSubjectPrefix struct{}

func (withoutSubjectPrefix) Description(context.Context) string {
	return "must be a Keycloak name, without the " + access.SubjectPrefix + " prefix"
}

func (v withoutSubjectPrefix) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (withoutSubjectPrefix) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if name, ok := strings.CutPrefix(req.ConfigValue.ValueString(), access.SubjectPrefix); ok {
		resp.Diagnostics.AddAttributeError(req.Path, "Name with the cluster prefix",
			fmt.Sprintf("Give the Keycloak name %q: the provider adds %q, as the clusters do to the names in a token.", name, access.SubjectPrefix))
	}
}
