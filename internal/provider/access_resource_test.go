package provider

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/echoprovider"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/idp-platform/terraform-provider-idp/internal/access"
	"github.com/idp-platform/terraform-provider-idp/internal/keycloak"
	"github.com/idp-platform/terraform-provider-idp/internal/sandbox"
)

// sandboxPassword is the password of a sandbox Keycloak user.
func sandboxPassword(t *testing.T, username string) string {
	t.Helper()
	for _, entry := range strings.Split(os.Getenv(sandbox.EnvKeycloakUsers), ",") {
		if parts := strings.SplitN(entry, ":", 3); len(parts) == 3 && parts[0] == username {
			return parts[1]
		}
	}
	t.Fatalf("the sandbox has no Keycloak user %q", username)
	return ""
}

// issuerClient reaches Keycloak's https issuer, whose tokens the workload clusters accept (a token
// fetched from the http address names another issuer).
func issuerClient(t *testing.T) *http.Client {
	t.Helper()
	caPEM, err := os.ReadFile(os.Getenv(sandbox.EnvKeycloakCAFile))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
}

type oidcTokens struct {
	IDToken      string `json:"id_token"`
	RefreshToken string `json:"refresh_token"`
}

// tokenRequest posts to the issuer's token endpoint as the kubernetes client; an error carries
// Keycloak's answer.
func tokenRequest(t *testing.T, form url.Values) (oidcTokens, error) {
	t.Helper()
	form.Set("client_id", sandbox.KeycloakKubernetesClient)
	resp, err := issuerClient(t).PostForm(os.Getenv(sandbox.EnvKeycloakIssuer)+"/protocol/openid-connect/token", form)
	if err != nil {
		return oidcTokens{}, err
	}
	defer resp.Body.Close()
	var tokens oidcTokens
	if resp.StatusCode != http.StatusOK {
		var answer map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&answer)
		return tokens, fmt.Errorf("%s: %v", resp.Status, answer)
	}
	if err := json.NewDecoder(resp.Body).Decode(&tokens); err != nil {
		return tokens, err
	}
	return tokens, nil
}

// logIn is a user's password log-in, as kubelogin's password grant makes it.
func logIn(t *testing.T, username string) oidcTokens {
	t.Helper()
	tokens, err := tokenRequest(t, url.Values{"grant_type": {"password"}, "username": {username}, "password": {sandboxPassword(t, username)}, "scope": {"openid"}})
	if err != nil || tokens.IDToken == "" {
		t.Fatalf("%s cannot log in to Keycloak: %v", username, err)
	}
	return tokens
}

// mayListPods calls the workload cluster with a user's ID token: true when listing pods in namespace
// is allowed, false when forbidden; a token the cluster does not accept is an error.
func mayListPods(t *testing.T, idToken, namespace string) (bool, error) {
	t.Helper()
	admin, err := clientcmd.BuildConfigFromFlags("", os.Getenv(sandbox.EnvWorkloadKubeconfig))
	if err != nil {
		return false, err
	}
	config := rest.AnonymousClientConfig(admin)
	config.BearerToken = idToken
	clientset, err := kubernetes.NewForConfig(config)
	if err != nil {
		return false, err
	}
	// An API server fetches the issuer's keys in the background after it starts, and takes no token
	// until it has them: a cluster just started answers Unauthorized for a while.
	deadline := time.Now().Add(time.Minute)
	for {
		_, err = clientset.CoreV1().Pods(namespace).List(context.Background(), metav1.ListOptions{Limit: 1})
		switch {
		case err == nil:
			return true, nil
		case apierrors.IsForbidden(err):
			return false, nil
		case apierrors.IsUnauthorized(err) && time.Now().Before(deadline):
			time.Sleep(250 * time.Millisecond)
			continue
		}
		return false, fmt.Errorf("the workload cluster did not take the token: %w", err)
	}
}

// checkPods passes when a fresh log-in of each user may (or may not) list pods in the namespace.
func checkPods(t *testing.T, namespace string, allowed bool, usernames ...string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		for _, username := range usernames {
			got, err := mayListPods(t, logIn(t, username).IDToken, namespace)
			if err != nil {
				return fmt.Errorf("%s: %w", username, err)
			}
			if got != allowed {
				return fmt.Errorf("%s may list pods in %s: %t, want %t", username, namespace, got, allowed)
			}
		}
		return nil
	}
}

// realmAdmin is a client of the sandbox realm with the provider's credentials, for the tests' own
// look at Keycloak.
func realmAdmin(t *testing.T) *keycloak.Client {
	t.Helper()
	client, err := keycloak.NewClient(context.Background(), keycloak.Config{
		URL: os.Getenv("IDP_KEYCLOAK_URL"), Realm: os.Getenv("IDP_KEYCLOAK_REALM"), AuthRealm: os.Getenv("IDP_KEYCLOAK_REALM"),
		ClientID: os.Getenv("IDP_KEYCLOAK_CLIENT_ID"), ClientSecret: os.Getenv("IDP_KEYCLOAK_CLIENT_SECRET"),
	})
	if err != nil {
		t.Fatal(err)
	}
	return client
}

func groupMembers(t *testing.T, name string) ([]string, bool, error) {
	ctx := context.Background()
	realm := realmAdmin(t)
	group, found, err := realm.FindGroup(ctx, name)
	if err != nil || !found {
		return nil, found, err
	}
	users, err := realm.GroupMembers(ctx, group.ID)
	var names []string
	for _, u := range users {
		names = append(names, u.Username)
	}
	slices.Sort(names)
	return names, true, err
}

func checkMembers(t *testing.T, group string, want ...string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		got, found, err := groupMembers(t, group)
		if err != nil {
			return err
		}
		if !found {
			return fmt.Errorf("Keycloak has no group %q", group)
		}
		if !slices.Equal(got, want) {
			return fmt.Errorf("members of %q: %v, want %v", group, got, want)
		}
		return nil
	}
}

// checkAccessGone is the CheckDestroy of grants: no group the grants created, no binding labelled for
// it in the workload cluster, no AccessGrant record, and no groups claim mapper the provider added.
func checkAccessGone(t *testing.T, grants ...access.Grant) resource.TestCheckFunc {
	return func(*terraform.State) error {
		ctx := context.Background()
		for _, grant := range grants {
			if _, found, err := realmAdmin(t).FindGroup(ctx, grant.Group); err != nil || found {
				return fmt.Errorf("group %q is left in Keycloak (err: %w)", grant.Group, err)
			}
			selector := metav1.ListOptions{LabelSelector: access.LabelAccess + "=" + grant.Group}
			crbs, err := workloadClient(t).RbacV1().ClusterRoleBindings().List(ctx, selector)
			if err != nil {
				return err
			}
			rbs, err := workloadClient(t).RbacV1().RoleBindings("").List(ctx, selector)
			if err != nil {
				return err
			}
			if len(crbs.Items)+len(rbs.Items) > 0 {
				return fmt.Errorf("group %q still has %d ClusterRoleBindings and %d RoleBindings", grant.Group, len(crbs.Items), len(rbs.Items))
			}
			management, _ := managementDynamic(t)
			if _, err := management.Resource(accessGrants).Get(ctx, grant.Name(), metav1.GetOptions{}); !apierrors.IsNotFound(err) {
				return fmt.Errorf("AccessGrant %s of %s is left (err: %w)", grant.Name(), grant.ID(), err)
			}
		}
		remaining, err := realmAdmin(t).GroupsWithAttribute(ctx, "idp-access", "true")
		if err != nil {
			return err
		}
		if len(remaining) == 0 {
			if present, err := realmAdmin(t).HasGroupsClaim(ctx, sandbox.KeycloakKubernetesClient); err != nil || present {
				return fmt.Errorf("no grant is left, yet the login client still has a groups claim (err: %w)", err)
			}
		}
		return nil
	}
}

var accessGrants = schema.GroupVersionResource{Group: access.RecordGroup, Version: access.RecordVersion, Resource: access.RecordResource}

// ensureNamespace creates a namespace of the workload cluster for the test and deletes it afterwards.
func ensureNamespace(t *testing.T, name string) {
	t.Helper()
	ctx := context.Background()
	_, err := workloadClient(t).CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = workloadClient(t).CoreV1().Namespaces().Delete(context.Background(), name, metav1.DeleteOptions{})
	})
}

func accessConfig(cluster, body string) string {
	return fmt.Sprintf(`
provider "idp" {}

resource "idp_cluster" "workload" {
  name          = %q
  cloud         = "existing"
  kubeconfig_wo = file(%q)
}

resource "idp_access" "test" {
  cluster = idp_cluster.workload.id
%s
}
`, cluster, os.Getenv(sandbox.EnvWorkloadKubeconfig), body)
}

// TestAccAccess grants a group edit in a namespace and follows the grant through real log-ins: members
// may list pods there and nowhere else, non-members may not, a removed member is denied and logged out,
// and a binding or membership changed outside Terraform is planned back.
func TestAccAccess(t *testing.T) {
	requireAcc(t)
	const cluster, group, namespace = "acc-access", "acc-payments-developers", "acc-payments"
	ensureNamespace(t, namespace)
	grant := access.Grant{Cluster: cluster, Group: group, Role: "edit", Namespaces: []string{namespace}}
	members := func(names ...string) string {
		return fmt.Sprintf("  group = %q\n  role = \"edit\"\n  namespaces = [%q]\n  members = [%s]\n", group, namespace, `"`+strings.Join(names, `", "`)+`"`)
	}
	var aliceRefresh string
	keycloakProcess := newFreezer(t, "keycloak")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		TerraformVersionChecks:   writeOnlyCLIs,
		CheckDestroy:             resource.ComposeTestCheckFunc(checkAccessGone(t, grant), checkClustersGone(t, cluster)),
		Steps: []resource.TestStep{
			{
				Config: accessConfig(cluster, members("alice")),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("idp_access.test", tfjsonpath.New("id"), knownvalue.StringExact(cluster+"/"+group+"/"+namespace)),
					statecheck.ExpectKnownValue("idp_access.test", tfjsonpath.New("subjects"), knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("oidc:" + group)})),
					statecheck.ExpectKnownValue("idp_access.test", tfjsonpath.New("bindings"), knownvalue.ListExact([]knownvalue.Check{knownvalue.ObjectExact(map[string]knownvalue.Check{
						"kind": knownvalue.StringExact("RoleBinding"), "namespace": knownvalue.StringExact(namespace), "name": knownvalue.StringExact("idp:" + group + ":edit"),
						"role": knownvalue.StringExact("edit"), "subjects": knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("oidc:" + group)}),
					})})),
					statecheck.ExpectKnownValue("idp_access.test", tfjsonpath.New("status"), knownvalue.StringExact("active")),
				},
				Check: resource.ComposeTestCheckFunc(
					checkMembers(t, group, "alice"),
					checkPods(t, namespace, true, "alice"),
					checkPods(t, "kube-system", false, "alice"),
					checkPods(t, namespace, false, "bob"),
				),
			},
			{
				Config: accessConfig(cluster, members("alice", "bob")),
				Check: resource.ComposeTestCheckFunc(
					checkMembers(t, group, "alice", "bob"),
					checkPods(t, namespace, true, "alice", "bob"),
					func(*terraform.State) error { aliceRefresh = logIn(t, "alice").RefreshToken; return nil },
				),
			},
			{
				// alice leaves: a fresh log-in is denied at once, and her session is over, so the token
				// she has cannot be refreshed into one that still names the group.
				Config: accessConfig(cluster, members("bob")),
				Check: resource.ComposeTestCheckFunc(
					checkMembers(t, group, "bob"),
					checkPods(t, namespace, false, "alice"),
					checkPods(t, namespace, true, "bob"),
					func(*terraform.State) error {
						if _, err := tokenRequest(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {aliceRefresh}}); err == nil {
							return errors.New("alice's refresh token still works after she was removed: her session was not logged out")
						}
						return nil
					},
				),
			},
			{ResourceName: "idp_access.test", ImportState: true, ImportStateVerify: true, ImportStateVerifyIgnore: []string{"timeouts"}},
			{
				// Import by identity: an import block's identity = {...}, which plans a no-op import of the same identity.
				ResourceName:    "idp_access.test",
				ImportState:     true,
				ImportStateKind: resource.ImportBlockWithResourceIdentity,
			},
			{
				// Drift: the RoleBinding deleted and bob taken out of the group behind Terraform's back.
				PreConfig: func() {
					ctx := context.Background()
					if err := workloadClient(t).RbacV1().RoleBindings(namespace).Delete(ctx, "idp:"+group+":edit", metav1.DeleteOptions{}); err != nil {
						t.Fatal(err)
					}
					realm := realmAdmin(t)
					g, _, err := realm.FindGroup(ctx, group)
					if err != nil {
						t.Fatal(err)
					}
					bob, _, err := realm.FindUser(ctx, "bob")
					if err != nil {
						t.Fatal(err)
					}
					if err := realm.RemoveMember(ctx, g.ID, bob.ID); err != nil {
						t.Fatal(err)
					}
				},
				Config: accessConfig(cluster, members("bob")),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("idp_access.test", plancheck.ResourceActionUpdate)},
				},
				Check: resource.ComposeTestCheckFunc(checkMembers(t, group, "bob"), checkPods(t, namespace, true, "bob")),
			},
			{
				// Drift: the binding edited to let a user in.
				PreConfig: func() {
					ctx := context.Background()
					binding, err := workloadClient(t).RbacV1().RoleBindings(namespace).Get(ctx, "idp:"+group+":edit", metav1.GetOptions{})
					if err != nil {
						t.Fatal(err)
					}
					binding.Subjects = append(binding.Subjects, rbacv1.Subject{Kind: "User", APIGroup: rbacv1.GroupName, Name: "oidc:mallory"})
					if _, err := workloadClient(t).RbacV1().RoleBindings(namespace).Update(ctx, binding, metav1.UpdateOptions{}); err != nil {
						t.Fatal(err)
					}
				},
				Config: accessConfig(cluster, members("bob")),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("idp_access.test", plancheck.ResourceActionUpdate)},
				},
				Check: func(*terraform.State) error {
					binding, err := workloadClient(t).RbacV1().RoleBindings(namespace).Get(context.Background(), "idp:"+group+":edit", metav1.GetOptions{})
					if err != nil {
						return err
					}
					if len(binding.Subjects) != 1 || binding.Subjects[0].Name != "oidc:"+group {
						return fmt.Errorf("the edited binding was not restored: subjects %v", binding.Subjects)
					}
					return nil
				},
			},
			{
				// Keycloak stopped: the refresh fails within the request timeout, naming Keycloak.
				PreConfig: keycloakProcess.freeze,
				Config: strings.Replace(accessConfig(cluster, members("bob")), `provider "idp" {}`,
					fmt.Sprintf("provider \"idp\" {\n  keycloak {\n    request_timeout = %q\n  }\n}", faultTimeout), 1),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`Keycloak did not answer(.|\n)*keycloak\.request_timeout`),
			},
			{
				PreConfig: keycloakProcess.resume,
				Config:    accessConfig(cluster, members("bob")),
				PlanOnly:  true,
			},
		},
	})
}

// accessRecordPhase is the phase of a grant's AccessGrant record; "" when there is none.
func accessRecordPhase(t *testing.T, grant access.Grant) (string, error) {
	management, _ := managementDynamic(t)
	record, err := management.Resource(accessGrants).Get(context.Background(), grant.Name(), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	phase, _, _ := unstructuredString(record.Object, "status", "phase")
	return phase, nil
}

func unstructuredString(object map[string]any, fields ...string) (string, bool, error) {
	var value any = object
	for _, field := range fields {
		m, ok := value.(map[string]any)
		if !ok {
			return "", false, nil
		}
		value = m[field]
	}
	s, ok := value.(string)
	return s, ok, nil
}

// TestAccAccessExpiry makes a grant that ends a few seconds after it is made: the access controller
// revokes it by itself (binding gone, member out, access denied), the unchanged configuration then
// plans nothing, and moving expires_at out grants the access again.
func TestAccAccessExpiry(t *testing.T) {
	requireAcc(t)
	const cluster, group = "acc-access-expiry", "acc-expiring"
	// Far enough ahead for the first step's apply and log-ins on a slow machine.
	expires := time.Now().Add(60 * time.Second).UTC().Truncate(time.Second)
	grant := access.Grant{Cluster: cluster, Group: group, Role: "view"}
	body := func(expiry string) string {
		return fmt.Sprintf("  group = %q\n  role = \"view\"\n  members = [\"bob\"]\n%s", group, expiry)
	}
	timeBound := body(fmt.Sprintf("  expires_at = %q\n", expires.Format(time.RFC3339)))
	waitExpired := func() {
		deadline := time.Now().Add(3 * time.Minute)
		for {
			phase, err := accessRecordPhase(t, grant)
			if err != nil {
				t.Fatal(err)
			}
			if phase == access.PhaseExpired {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("grant %s, expiring at %s, is still %q: the access controller did not revoke it", grant.ID(), expires, phase)
			}
			time.Sleep(time.Second)
		}
	}
	var bobRefresh string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		TerraformVersionChecks:   writeOnlyCLIs,
		CheckDestroy:             resource.ComposeTestCheckFunc(checkAccessGone(t, grant), checkClustersGone(t, cluster)),
		Steps: []resource.TestStep{
			{
				Config: accessConfig(cluster, timeBound),
				Check: resource.ComposeTestCheckFunc(
					checkMembers(t, group, "bob"),
					checkPods(t, "kube-system", true, "bob"),
					func(*terraform.State) error { bobRefresh = logIn(t, "bob").RefreshToken; return nil },
					func(*terraform.State) error {
						if phase, err := accessRecordPhase(t, grant); err != nil || phase != access.PhaseActive {
							return fmt.Errorf("AccessGrant %s is %q, want %s (err: %w)", grant.Name(), phase, access.PhaseActive, err)
						}
						return nil
					},
				),
			},
			{
				PreConfig: waitExpired,
				Config:    accessConfig(cluster, timeBound),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("idp_access.test", tfjsonpath.New("status"), knownvalue.StringExact("expired")),
				},
				Check: resource.ComposeTestCheckFunc(
					checkMembers(t, group),
					checkPods(t, "kube-system", false, "bob"),
					func(*terraform.State) error {
						if _, err := tokenRequest(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {bobRefresh}}); err == nil {
							return errors.New("bob's refresh token still works after his grant expired: his session was not logged out")
						}
						return nil
					},
					func(*terraform.State) error {
						list, err := workloadClient(t).RbacV1().ClusterRoleBindings().List(context.Background(), metav1.ListOptions{LabelSelector: access.LabelGrant + "=" + grant.Name()})
						if err != nil || len(list.Items) > 0 {
							return fmt.Errorf("the expired grant's ClusterRoleBinding is left (err: %w)", err)
						}
						return nil
					},
				),
			},
			{
				Config: accessConfig(cluster, body("")),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("idp_access.test", plancheck.ResourceActionUpdate)},
				},
				Check: resource.ComposeTestCheckFunc(
					checkMembers(t, group, "bob"),
					checkPods(t, "kube-system", true, "bob"),
					func(*terraform.State) error {
						if phase, err := accessRecordPhase(t, grant); err != nil || phase != "" {
							return fmt.Errorf("the grant has no expiry any more, yet its AccessGrant is %q (err: %w)", phase, err)
						}
						return nil
					},
				),
			},
		},
	})
}

// TestAccAccessBadInput checks that what a grant cannot be made with fails at plan, on its attribute.
func TestAccAccessBadInput(t *testing.T) {
	requireAcc(t)
	const cluster = "acc-access-bad"
	registered := accessConfig(cluster, "  group = \"acc-bad\"\n  role = \"view\"\n  count = 0")
	step := func(body, want string) resource.TestStep {
		return resource.TestStep{Config: accessConfig(cluster, body), PlanOnly: true, ExpectError: regexp.MustCompile(want)}
	}
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		TerraformVersionChecks:   writeOnlyCLIs,
		CheckDestroy:             checkClustersGone(t, cluster),
		Steps: []resource.TestStep{
			// The cluster first, so that the grants below name a known cluster at plan.
			{Config: registered},
			step(`  group = "system:masters"
  role = "view"`, `Reserved name(.|\n)*system:`),
			step(`  group = "acc-bad"
  role = "cluster-admin"`, `needs allow_cluster_admin(.|\n)*cluster-admin gives the group full control`),
			step(`  group = "acc-bad"
  role = "edit"`, `needs allow_cluster_admin(.|\n)*edit bound cluster-wide`),
			step(`  group = "acc-bad"
  role = "view"
  namespaces = ["kube-system"]`, `needs allow_cluster_admin(.|\n)*kube-system`),
			step(`  group = "acc-bad"
  role = "view"
  members = ["nobody-at-all"]`, `Unknown Keycloak user(.|\n)*nobody-at-all`),
			step(`  group = "acc-bad"
  role = "no-such-role"`, `Unknown ClusterRole(.|\n)*no-such-role`),
			step(`  group = "acc-bad"
  role = "view"
  expires_at = "2020-01-01T00:00:00Z"`, `expires_at is in the past`),
			step(`  group = "acc-bad"
  role = "view"
  expires_at = "tomorrow"`, `Invalid timestamp`),
			step(`  group = "acc-no-such-group"
  manage_group = false
  role = "view"
  expires_at = "`+future+`"`, `Unknown Keycloak group(.|\n)*manage_group`),
			step(`  group = "acc-bad"
  role = "view"
  namespaces = ["Bad_NS"]`, `namespace name`),
			step(`  group = "Payments Team"
  role = "view"`, `DNS-1123`),
			{Config: accessConfig(cluster, "  group = \"acc-bad\"\n  role = \"view\""), ResourceName: "idp_access.test", ImportState: true, ImportStateId: "only/two", ExpectError: regexp.MustCompile(`not cluster/group/scope`)},
			// The destroy after the last step plans with its configuration, which must be valid.
			{Config: registered},
		},
	})
}

// TestAccKubeconfigLogin logs in the way users do: the kubeconfig idp_kubeconfig builds, its exec
// plugin run by client-go with the real kubelogin (its password grant, the non-interactive path),
// against Keycloak and the workload cluster. idp_access_check answers from the same grant.
func TestAccKubeconfigLogin(t *testing.T) {
	requireAcc(t)
	const cluster, group = "acc-kubeconfig", "acc-kubeconfig-viewers"
	grant := access.Grant{Cluster: cluster, Group: group, Role: "view"}
	config := accessConfig(cluster, fmt.Sprintf("  group = %q\n  role = \"view\"\n  members = [\"alice\"]\n", group)) + `
ephemeral "idp_kubeconfig" "me" {
  cluster = idp_cluster.workload.id
}

provider "echo" {
  data = {
    kubeconfig = ephemeral.idp_kubeconfig.me.kubeconfig
    issuer_url = ephemeral.idp_kubeconfig.me.issuer_url
  }
}

resource "echo" "kubeconfig" {}

data "idp_access_check" "alice" {
  cluster    = idp_access.test.cluster
  user       = "alice"
  verb       = "list"
  resource   = "pods"
  namespace  = "kube-system"
  depends_on = [idp_access.test]
}

data "idp_access_check" "bob" {
  cluster    = idp_access.test.cluster
  user       = "bob"
  verb       = "list"
  resource   = "pods"
  namespace  = "kube-system"
  depends_on = [idp_access.test]
}

data "idp_access_check" "alice_delete" {
  cluster    = idp_access.test.cluster
  user       = "alice"
  verb       = "delete"
  resource   = "deployments.apps"
  namespace  = "kube-system"
  depends_on = [idp_access.test]
}
`
	kubelogin := os.Getenv(sandbox.EnvKubelogin)
	if kubelogin == "" {
		t.Fatalf("the sandbox's environment has no %s", sandbox.EnvKubelogin)
	}
	loginAs := func(username string) resource.TestCheckFunc {
		return func(s *terraform.State) error {
			raw := s.RootModule().Resources["echo.kubeconfig"].Primary.Attributes["data.kubeconfig"]
			kubeconfig, err := clientcmd.Load([]byte(raw))
			if err != nil {
				return fmt.Errorf("the kubeconfig does not load: %w", err)
			}
			for _, user := range kubeconfig.AuthInfos {
				if user.Token != "" || user.ClientKeyData != nil || user.Exec == nil {
					return fmt.Errorf("the kubeconfig's user is not an exec plugin without credentials: %+v", user)
				}
				// kubectl runs its plugin kubectl-oidc_login for "kubectl oidc-login"; client-go runs it
				// directly, with the password grant a user would not use at a terminal.
				if user.Exec.Command == "kubectl" {
					user.Exec.Command, user.Exec.Args = kubelogin, slices.Delete(slices.Clone(user.Exec.Args), 0, 1)
				}
				user.Exec.Args = append(user.Exec.Args, "--grant-type=password", "--username="+username,
					"--password="+sandboxPassword(t, username), "--token-cache-dir="+t.TempDir())
			}
			restConfig, err := clientcmd.NewDefaultClientConfig(*kubeconfig, nil).ClientConfig()
			if err != nil {
				return err
			}
			clientset, err := kubernetes.NewForConfig(restConfig)
			if err != nil {
				return err
			}
			_, err = clientset.CoreV1().Pods("kube-system").List(context.Background(), metav1.ListOptions{Limit: 1})
			switch {
			case username == "alice" && err != nil:
				return fmt.Errorf("alice, a member, cannot list pods through the kubeconfig: %w", err)
			case username == "bob" && !apierrors.IsForbidden(err):
				return fmt.Errorf("bob, not a member, was not forbidden to list pods through the kubeconfig (err: %w)", err)
			}
			return nil
		}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: map[string]func() (tfprotov6.ProviderServer, error){
			"idp":  testProviders["idp"],
			"echo": echoprovider.NewProviderServer(),
		},
		TerraformVersionChecks: writeOnlyCLIs,
		CheckDestroy:           resource.ComposeTestCheckFunc(checkAccessGone(t, grant), checkClustersGone(t, cluster)),
		Steps: []resource.TestStep{{
			Config: config,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("echo.kubeconfig", tfjsonpath.New("data").AtMapKey("issuer_url"), knownvalue.StringExact(os.Getenv(sandbox.EnvKeycloakIssuer))),
				statecheck.ExpectKnownValue("data.idp_access_check.alice", tfjsonpath.New("allowed"), knownvalue.Bool(true)),
				statecheck.ExpectKnownValue("data.idp_access_check.alice", tfjsonpath.New("subject"), knownvalue.StringExact("oidc:alice")),
				statecheck.ExpectKnownValue("data.idp_access_check.bob", tfjsonpath.New("allowed"), knownvalue.Bool(false)),
				statecheck.ExpectKnownValue("data.idp_access_check.alice_delete", tfjsonpath.New("allowed"), knownvalue.Bool(false)),
				stateHasNoSecrets(),
			},
			Check: resource.ComposeTestCheckFunc(loginAs("alice"), loginAs("bob")),
		}},
	})
}
