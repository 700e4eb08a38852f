package provider

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/idp-platform/terraform-provider-idp/internal/keycloak"
	"github.com/idp-platform/terraform-provider-idp/internal/kube"
)

// reviewer answers every review with one decision, or fails, and remembers what it was asked.
type reviewer struct {
	decision kube.Decision
	err      error
	asked    []kube.Review
}

func (r *reviewer) ReviewAccess(_ context.Context, review kube.Review) (kube.Decision, error) {
	r.asked = append(r.asked, review)
	return r.decision, r.err
}

// realmUsers is a Keycloak realm's users and their groups.
type realmUsers struct {
	groups map[string][]string // by username
	err    error
}

func (r realmUsers) FindUser(_ context.Context, username string) (keycloak.User, bool, error) {
	if r.err != nil {
		return keycloak.User{}, false, r.err
	}
	if _, ok := r.groups[username]; !ok {
		return keycloak.User{}, false, nil
	}
	return keycloak.User{ID: "id-" + username, Username: username}, true, nil
}

func (r realmUsers) UserGroups(_ context.Context, userID string) ([]string, error) {
	return r.groups[userID[len("id-"):]], nil
}

func stringList(values ...string) types.List {
	elements := make([]attr.Value, 0, len(values))
	for _, v := range values {
		elements = append(elements, types.StringValue(v))
	}
	return types.ListValueMust(types.StringType, elements)
}

func TestAccessCheck(t *testing.T) {
	base := accessCheckModel{
		Cluster: str("payments"), User: str("alice"), Groups: types.ListNull(types.StringType), Verb: str("create"),
		Resource: str("deployments.apps"), Subresource: types.StringNull(), Namespace: str("shop"), Name: types.StringNull(),
	}
	with := func(change func(*accessCheckModel)) accessCheckModel {
		m := base
		change(&m)
		return m
	}
	realm := realmUsers{groups: map[string][]string{"alice": {"developers", "on-call"}, "carol": nil}}
	allowed := kube.Decision{Allowed: true, Reason: `RBAC: allowed by RoleBinding "idp:developers:edit/shop"`}
	cases := map[string]struct {
		reason     string
		model      accessCheckModel
		realm      realmUsers
		keycloak   bool // whether the keycloak block is configured
		cluster    reviewer
		wantReview *kube.Review
		want       accessCheckModel
		wantDiags  []diagSummary
	}{
		"GroupsFromKeycloak": {
			reason:   "Without groups the user's Keycloak groups are asked about, prefixed as in a token, with system:authenticated.",
			model:    base,
			realm:    realm,
			keycloak: true,
			cluster:  reviewer{decision: allowed},
			wantReview: &kube.Review{
				User: "oidc:alice", Groups: []string{"oidc:developers", "oidc:on-call", "system:authenticated"},
				Verb: "create", APIGroup: "apps", Resource: "deployments", Namespace: "shop",
			},
			want: with(func(m *accessCheckModel) {
				m.Groups = stringList("developers", "on-call")
				m.ID, m.Subject = str("payments/alice/create/deployments.apps/shop/"), str("oidc:alice")
				m.Allowed, m.Reason = types.BoolValue(true), str(allowed.Reason)
			}),
		},
		"UserWithoutGroups": {
			reason:     "A user in no group is asked about with system:authenticated alone, and groups is an empty list.",
			model:      with(func(m *accessCheckModel) { m.User = str("carol") }),
			realm:      realm,
			keycloak:   true,
			wantReview: &kube.Review{User: "oidc:carol", Groups: []string{"system:authenticated"}, Verb: "create", APIGroup: "apps", Resource: "deployments", Namespace: "shop"},
			want: with(func(m *accessCheckModel) {
				m.User, m.Groups = str("carol"), stringList()
				m.ID, m.Subject = str("payments/carol/create/deployments.apps/shop/"), str("oidc:carol")
				m.Allowed, m.Reason = types.BoolValue(false), str("")
			}),
		},
		"ExplicitGroups": {
			reason: "Given groups are asked about instead of Keycloak's, so no keycloak block is needed; the core group is empty.",
			model: with(func(m *accessCheckModel) {
				m.User, m.Groups = str("dave"), stringList("sre")
				m.Verb, m.Resource, m.Subresource, m.Name = str("get"), str("pods"), str("log"), str("api-0")
			}),
			cluster: reviewer{decision: kube.Decision{Denied: true, Reason: "denied by policy"}},
			wantReview: &kube.Review{
				User: "oidc:dave", Groups: []string{"oidc:sre", "system:authenticated"}, Verb: "get", Resource: "pods",
				Subresource: "log", Namespace: "shop", Name: "api-0",
			},
			want: with(func(m *accessCheckModel) {
				m.User, m.Groups = str("dave"), stringList("sre")
				m.Verb, m.Resource, m.Subresource, m.Name = str("get"), str("pods"), str("log"), str("api-0")
				m.ID, m.Subject = str("payments/dave/get/pods/log/shop/api-0"), str("oidc:dave")
				m.Allowed, m.Reason = types.BoolValue(false), str("denied by policy")
			}),
		},
		"NoKeycloakBlock": {
			reason:    "Groups from Keycloak need the keycloak block; the diagnostic names it and the cluster is not asked.",
			model:     base,
			want:      base,
			wantDiags: []diagSummary{{Summary: "The provider's keycloak block is not configured"}},
		},
		"UnknownUser": {
			reason:    "A username Keycloak does not know is an error on user, not a user without access.",
			model:     with(func(m *accessCheckModel) { m.User = str("mallory") }),
			realm:     realm,
			keycloak:  true,
			want:      with(func(m *accessCheckModel) { m.User = str("mallory") }),
			wantDiags: []diagSummary{{Path: "user", Summary: "Unknown user"}},
		},
		"KeycloakFails": {
			reason:    "A failed lookup says what the credentials need.",
			model:     base,
			realm:     realmUsers{err: errors.New("403 Forbidden")},
			keycloak:  true,
			want:      base,
			wantDiags: []diagSummary{{Summary: "Cannot read the user from Keycloak"}},
		},
		"ReviewFails": {
			reason:  "A failed review is the cluster's error.",
			model:   with(func(m *accessCheckModel) { m.Groups = stringList() }),
			cluster: reviewer{err: errors.New("subjectaccessreviews.authorization.k8s.io is forbidden")},
			want:    with(func(m *accessCheckModel) { m.Groups = stringList() }),
			wantReview: &kube.Review{
				User: "oidc:alice", Groups: []string{"system:authenticated"}, Verb: "create", APIGroup: "apps", Resource: "deployments", Namespace: "shop",
			},
			wantDiags: []diagSummary{{Summary: "Cannot review access on the cluster"}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var configs backendConfigs
			if tc.keycloak {
				configs.keycloak = &keycloak.Config{URL: "https://keycloak.example.com", Realm: "idp"}
			}
			d := &accessCheckDataSource{backends: newBackends(configs)}
			users := func(context.Context) (userGroupsAPI, diag.Diagnostics) {
				if !tc.keycloak {
					return nil, notConfigured("keycloak", "url = \"https://keycloak.example.com\"", "IDP_KEYCLOAK_URL")
				}
				return tc.realm, nil
			}
			got, diags := d.check(context.Background(), tc.model, &tc.cluster, users)
			if diff := cmp.Diff(tc.wantDiags, summarize(diags)); diff != "" {
				t.Errorf("%s\ndiagnostics: -want, +got:\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nmodel: -want, +got:\n%s", tc.reason, diff)
			}
			var wantAsked []kube.Review
			if tc.wantReview != nil {
				wantAsked = []kube.Review{*tc.wantReview}
			}
			if diff := cmp.Diff(wantAsked, tc.cluster.asked); diff != "" {
				t.Errorf("%s\nreviews asked: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestAccessCheckValidators(t *testing.T) {
	cases := map[string]struct {
		reason    string
		validator validator.String
		value     string
		wantError bool
	}{
		"CoreResource":       {reason: "A core resource has no group.", validator: resourceValidator{}, value: "pods"},
		"GroupedResource":    {reason: "kubectl's resource.group form.", validator: resourceValidator{}, value: "deployments.apps"},
		"DottedGroup":        {reason: "A group is a DNS subdomain.", validator: resourceValidator{}, value: "ingresses.networking.k8s.io"},
		"EveryResource":      {reason: "* asks about every resource.", validator: resourceValidator{}, value: "*"},
		"EveryOfAGroup":      {reason: "*.apps asks about every resource of the group.", validator: resourceValidator{}, value: "*.apps"},
		"StarInName":         {reason: "* is a whole resource name, not a pattern.", validator: resourceValidator{}, value: "pod*", wantError: true},
		"Subresource":        {reason: "A subresource has its own attribute.", validator: resourceValidator{}, value: "pods/log", wantError: true},
		"Kind":               {reason: "A kind is not a resource.", validator: resourceValidator{}, value: "Deployment.apps", wantError: true},
		"EmptyGroup":         {reason: "A trailing dot names no group.", validator: resourceValidator{}, value: "deployments.", wantError: true},
		"KeycloakName":       {reason: "Keycloak names are given bare.", validator: withoutSubjectPrefix{}, value: "alice"},
		"AlreadyPrefixed":    {reason: "The provider adds the prefix itself.", validator: withoutSubjectPrefix{}, value: "oidc:alice", wantError: true},
		"SystemGroupAllowed": {reason: "Other colons are the name's own.", validator: withoutSubjectPrefix{}, value: "team:payments"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			resp := &validator.StringResponse{}
			tc.validator.ValidateString(context.Background(), validator.StringRequest{Path: path.Root("x"), ConfigValue: types.StringValue(tc.value)}, resp)
			if resp.Diagnostics.HasError() != tc.wantError {
				t.Errorf("%s\n%q: want error %t, got %v", tc.reason, tc.value, tc.wantError, resp.Diagnostics)
			}
		})
	}
}

func TestSplitResource(t *testing.T) {
	cases := map[string]struct {
		reason                  string
		value                   string
		wantGroup, wantResource string
	}{
		"Core":          {reason: "No dot is the core group.", value: "pods", wantResource: "pods"},
		"Apps":          {reason: "The group follows the first dot.", value: "deployments.apps", wantGroup: "apps", wantResource: "deployments"},
		"Dotted":        {reason: "A group keeps its own dots.", value: "certificatesigningrequests.certificates.k8s.io", wantGroup: "certificates.k8s.io", wantResource: "certificatesigningrequests"},
		"Everything":    {reason: "A bare * is every resource of every group, not only of the core group.", value: "*", wantGroup: "*", wantResource: "*"},
		"EveryOfAGroup": {reason: "*.apps is every resource of the group.", value: "*.apps", wantGroup: "apps", wantResource: "*"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			group, resource := splitResource(tc.value)
			if diff := cmp.Diff([2]string{tc.wantGroup, tc.wantResource}, [2]string{group, resource}); diff != "" {
				t.Errorf("%s\n(group, resource): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
