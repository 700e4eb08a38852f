package provider

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	releasecommon "helm.sh/helm/v4/pkg/release/common"
	releasev1 "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage/driver"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/idp-platform/terraform-provider-idp/internal/catalog"
	"github.com/idp-platform/terraform-provider-idp/internal/sandbox"
)

// workloadClient reaches the sandbox's workload cluster as its administrator.
func workloadClient(t *testing.T) kubernetes.Interface {
	t.Helper()
	config, err := clientcmd.BuildConfigFromFlags("", os.Getenv(sandbox.EnvWorkloadKubeconfig))
	if err != nil {
		t.Fatal(err)
	}
	clientset, err := kubernetes.NewForConfig(config)
	if err != nil {
		t.Fatal(err)
	}
	return clientset
}

// webServiceConfig registers the workload cluster and releases the catalog's web-service chart on it.
func webServiceConfig(cluster, namespace string, values string) string {
	return workloadClusterConfig(cluster) + fmt.Sprintf(`
resource "idp_app" "api" {
  cluster   = idp_cluster.workload.name
  namespace = %q
  name      = "api"
  chart     = { catalog = "web-service", version = "1.0.0" }
  values    = %s
}
`, namespace, values)
}

// webServiceValues are the values of the test releases of web-service, with replicas as HCL.
func webServiceValues(replicas string) string {
	return fmt.Sprintf(`yamlencode({ image = { repository = "ghcr.io/acme/api", tag = "2.3.1" }, replicas = %s })`, replicas)
}

// workloadClusterConfig registers the sandbox's workload cluster as idp_cluster.workload.
func workloadClusterConfig(name string) string {
	return fmt.Sprintf(`
provider "idp" {}

resource "idp_cluster" "workload" {
  name          = %q
  cloud         = "existing"
  kubeconfig_wo = file(%q)
}
`, name, os.Getenv(sandbox.EnvWorkloadKubeconfig))
}

// checkAvailable passes when the release's Deployment has want available replicas, which kwok only
// grants once the scheduler has placed every Pod.
func checkAvailable(t *testing.T, namespace, name string, want int32) resource.TestCheckFunc {
	return func(*terraform.State) error {
		deployment, err := workloadClient(t).AppsV1().Deployments(namespace).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if deployment.Status.AvailableReplicas != want {
			return fmt.Errorf("deployment %s/%s has %d available replicas, want %d", namespace, name, deployment.Status.AvailableReplicas, want)
		}
		return nil
	}
}

// scale changes a Deployment's replicas the way `kubectl scale` does, through the scale subresource.
func scale(t *testing.T, namespace, name string, replicas int32) {
	t.Helper()
	deployments := workloadClient(t).AppsV1().Deployments(namespace)
	current, err := deployments.GetScale(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	current.Spec.Replicas = replicas
	if _, err := deployments.UpdateScale(context.Background(), name, current, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// checkReplicas passes when the Deployment asks for want replicas.
func checkReplicas(t *testing.T, namespace, name string, want int32) resource.TestCheckFunc {
	return func(*terraform.State) error {
		deployment, err := workloadClient(t).AppsV1().Deployments(namespace).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if got := *deployment.Spec.Replicas; got != want {
			return fmt.Errorf("deployment %s/%s has spec.replicas %d, want %d", namespace, name, got, want)
		}
		return nil
	}
}

// checkReleaseGone is the CheckDestroy of an app: no release secrets and no Deployment are left.
func checkReleaseGone(t *testing.T, namespace, name string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		client := workloadClient(t)
		secrets, err := client.CoreV1().Secrets(namespace).List(context.Background(), metav1.ListOptions{LabelSelector: "owner=helm,name=" + name})
		if err != nil {
			return err
		}
		if len(secrets.Items) > 0 {
			return fmt.Errorf("%d release secrets of %s/%s are left", len(secrets.Items), namespace, name)
		}
		_, err = client.AppsV1().Deployments(namespace).Get(context.Background(), name, metav1.GetOptions{})
		if !apierrors.IsNotFound(err) {
			return fmt.Errorf("deployment %s/%s is left (get: %w)", namespace, name, err)
		}
		return nil
	}
}

func TestAccAppWebService(t *testing.T) {
	requireAcc(t)
	const cluster, namespace = "acc-apps", "payments"
	values := webServiceValues
	address := "idp_app.api"
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		TerraformVersionChecks:   writeOnlyCLIs,
		CheckDestroy:             resource.ComposeTestCheckFunc(checkReleaseGone(t, namespace, "api"), checkClustersGone(t, cluster)),
		Steps: []resource.TestStep{
			{
				Config: webServiceConfig(cluster, namespace, values("2")),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(address, tfjsonpath.New("id"), knownvalue.StringExact(cluster+"/"+namespace+"/api")),
					statecheck.ExpectKnownValue(address, tfjsonpath.New("revision"), knownvalue.Int64Exact(1)),
					statecheck.ExpectKnownValue(address, tfjsonpath.New("status"), knownvalue.StringExact("deployed")),
					statecheck.ExpectKnownValue(address, tfjsonpath.New("chart_version"), knownvalue.StringExact("1.0.0")),
					statecheck.ExpectKnownValue(address, tfjsonpath.New("manifest_sha256"), knownvalue.StringRegexp(regexp.MustCompile(`^[0-9a-f]{64}$`))),
					statecheck.ExpectKnownValue(address, tfjsonpath.New("resources"), knownvalue.ListExact([]knownvalue.Check{
						knownvalue.StringExact("Deployment/" + namespace + "/api"),
						knownvalue.StringExact("PodDisruptionBudget/" + namespace + "/api"),
						knownvalue.StringExact("Service/" + namespace + "/api"),
					})),
					stateHasNoSecrets(),
				},
				// wait = true: the apply returned only once the Pods were up.
				Check: checkAvailable(t, namespace, "api", 2),
			},
			{
				Config: webServiceConfig(cluster, namespace, values("3")),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(address, plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(address, tfjsonpath.New("revision"), knownvalue.Int64Exact(2)),
				},
				Check: checkAvailable(t, namespace, "api", 3),
			},
			{
				// Drift: the Deployment scaled out of band shows in the plan, and the apply restores it.
				PreConfig: func() {
					scale(t, namespace, "api", 5)
				},
				Config: webServiceConfig(cluster, namespace, values("3")),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(address, plancheck.ResourceActionUpdate),
				}},
				Check: checkReplicas(t, namespace, "api", 3),
			},
			{
				// Drift: a deleted object is put back.
				PreConfig: func() {
					if err := workloadClient(t).CoreV1().Services(namespace).Delete(context.Background(), "api", metav1.DeleteOptions{}); err != nil {
						t.Fatal(err)
					}
				},
				Config: webServiceConfig(cluster, namespace, values("3")),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(address, plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(address, tfjsonpath.New("drift"), knownvalue.ListExact([]knownvalue.Check{})),
				},
				Check: func(*terraform.State) error {
					_, err := workloadClient(t).CoreV1().Services(namespace).Get(context.Background(), "api", metav1.GetOptions{})
					return err
				},
			},
			{
				// An explicit rollback to revision 1 (two replicas) is a new revision; the configuration's
				// values do not undo it, since they did not change.
				Config: strings.Replace(webServiceConfig(cluster, namespace, values("3")), `name      = "api"`,
					"name                 = \"api\"\n  rollback_to_revision = 1", 1),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(address, tfjsonpath.New("revision"), knownvalue.Int64Exact(5)),
					statecheck.ExpectKnownValue(address, tfjsonpath.New("status"), knownvalue.StringExact("deployed")),
				},
				Check: checkReplicas(t, namespace, "api", 2),
			},
			{
				ResourceName:            address,
				ImportState:             true,
				ImportStateId:           cluster + "/" + namespace + "/api",
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"values", "timeouts", "rollback_to_revision"},
			},
			{
				// Import by identity: an import block's identity = {...}, which plans a no-op import of the same identity.
				ResourceName:    address,
				ImportState:     true,
				ImportStateKind: resource.ImportBlockWithResourceIdentity,
				// What an import cannot read back (values, timeouts, rollback_to_revision) the configuration sets again.
				ExpectNonEmptyPlan: true,
				ImportPlanChecks:   resource.ImportPlanChecks{PreApply: []plancheck.PlanCheck{importChangesOnly(address, "values", "timeouts", "rollback_to_revision")}},
			},
			{
				// Values that break the chart's schema fail the plan, on the values attribute, and change nothing.
				Config:      webServiceConfig(cluster, namespace, values(`"three"`)),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)Values do not match the chart's schema.*replicas`),
			},
		},
	})
}

func TestAccAppBadInput(t *testing.T) {
	requireAcc(t)
	base := `
provider "idp" {}

resource "idp_app" "api" {
  cluster   = "acc-none"
  namespace = "payments"
  name      = %q
  %s
}
`
	cases := map[string]struct {
		reason  string
		release string
		body    string
		want    *regexp.Regexp
		// writeOnly marks a case with a write-only attribute, which older CLIs do not know.
		writeOnly bool
	}{
		"CatalogAndPath": {
			reason: "A chart comes from the catalog or a path, not both.",
			body:   `chart = { catalog = "web-service", path = "./chart" }`,
			want:   regexp.MustCompile(`Set exactly one of chart.catalog, chart.repository, chart.oci and chart.path`),
		},
		"RepositoryWithoutName": {
			reason: "A repository chart needs its name in the repository.",
			body:   `chart = { repository = "https://charts.example.com", version = "1.0.0" }`,
			want:   regexp.MustCompile(`chart.repository needs chart.name`),
		},
		"RepositoryWithoutVersion": {
			reason: "A downloaded chart is pinned to an exact version.",
			body:   `chart = { repository = "https://charts.example.com", name = "api" }`,
			want:   regexp.MustCompile(`needs an exact chart.version`),
		},
		"RepositoryNotHTTP": {
			reason: "A chart repository is reached over http(s).",
			body:   `chart = { repository = "ftp://charts.example.com", name = "api", version = "1.0.0" }`,
			want:   regexp.MustCompile(`must be an http:// or https:// URL`),
		},
		"OCIWithTag": {
			reason: "The version of an OCI chart is chart.version, not a tag in the reference.",
			body:   `chart = { oci = "oci://ghcr.io/acme/api:1.0.0", version = "1.0.0" }`,
			want:   regexp.MustCompile(`(?s)Invalid OCI reference.*without a tag or digest`),
		},
		"DigestOnCatalog": {
			reason: "A digest pins a downloaded archive; the catalog's charts are not downloaded.",
			body:   `chart = { catalog = "web-service", digest = "sha256:0000000000000000000000000000000000000000000000000000000000000000" }`,
			want:   regexp.MustCompile(`chart.digest pins an archive downloaded`),
		},
		"MalformedDigest": {
			reason: "A digest is sha256: and 64 hex digits.",
			body:   `chart = { oci = "oci://ghcr.io/acme/api", version = "1.0.0", digest = "md5:abc" }`,
			want:   regexp.MustCompile(`must be sha256: followed by 64 lowercase hex digits`),
		},
		"UnknownCatalogChart": {
			reason: "An unknown catalog chart is named with what the catalog has.",
			body:   `chart = { catalog = "database" }`,
			want:   regexp.MustCompile(`(?s)Cannot load the chart.*web-service`),
		},
		"MissingImage": {
			reason: "The catalog chart's schema requires an image.",
			body:   "chart = { catalog = \"web-service\" }\n  values = yamlencode({ replicas = 2 })",
			want:   regexp.MustCompile(`(?s)Values do not match the chart's schema.*image`),
		},
		"TraversalArchive": {
			reason: "A chart archive with entries outside the chart is refused at plan.",
			body:   `chart = { path = "testdata/charts/traversal-0.1.0.tgz" }`,
			want:   regexp.MustCompile(`(?s)Cannot load the chart.*illegally`),
		},
		"SensitiveValuesWithoutVersion": {
			reason:    "Write-only values are applied when their version changes, so they need one.",
			body:      "chart = { catalog = \"web-service\" }\n  sensitive_values_wo = yamlencode({ env = { API_KEY = \"k\" } })",
			want:      regexp.MustCompile(`(?s)sensitive_values_wo_version.*must\s+be\s+specified`),
			writeOnly: true,
		},
		"ValuesTooLarge": {
			reason: "A release Kubernetes cannot store is refused at plan, on values, with its size.",
			body: "chart = { catalog = \"web-service\" }\n  values = yamlencode({ image = { repository = \"ghcr.io/acme/api\", tag = \"1\" }, " +
				"env = { for i in range(1000) : \"K${i}\" => join(\"\", [for j in range(40) : sha256(\"${i}-${j}\")]) } })",
			want: regexp.MustCompile(`(?s)Values\s+too\s+large.*at\s+least\s+\d+\s+bytes`),
		},
		"BadReleaseName": {
			reason:  "Release names are DNS-1123 labels.",
			release: "API_v2",
			body:    `chart = { catalog = "web-service" }`,
			want:    regexp.MustCompile(`must be a DNS-1123 label`),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			release := tc.release
			if release == "" {
				release = "api"
			}
			config := fmt.Sprintf(base, release, tc.body)
			testCase := resource.TestCase{
				ProtoV6ProviderFactories: testProviders,
				Steps:                    []resource.TestStep{{Config: config, PlanOnly: true, ExpectError: tc.want}},
			}
			if tc.writeOnly {
				testCase.TerraformVersionChecks = writeOnlyCLIs
			}
			resource.Test(t, testCase)
		})
	}
}

func pickyConfig(t *testing.T, schedulable bool, timeout string) string {
	t.Helper()
	chartPath, err := filepath.Abs(filepath.Join("testdata", "charts", "picky"))
	if err != nil {
		t.Fatal(err)
	}
	return workloadClusterConfig("acc-picky") + fmt.Sprintf(`
resource "idp_app" "picky" {
  cluster   = idp_cluster.workload.name
  namespace = "picky"
  name      = "picky"
  chart     = { path = %q }
  values    = yamlencode({ schedulable = %t })
  atomic    = true

  timeouts = {
    create = %q
    update = %q
  }
}
`, chartPath, schedulable, timeout, timeout)
}

// releaseRevision returns the latest revision of a release and its status, from Helm's own storage.
func releaseRevision(t *testing.T, namespace, name string) (int, string) {
	t.Helper()
	secrets, err := workloadClient(t).CoreV1().Secrets(namespace).List(context.Background(), metav1.ListOptions{LabelSelector: "owner=helm,name=" + name})
	if err != nil {
		t.Fatal(err)
	}
	revision, status := 0, ""
	for _, secret := range secrets.Items {
		if v, err := strconv.Atoi(secret.Labels["version"]); err == nil && v > revision {
			revision, status = v, secret.Labels["status"]
		}
	}
	return revision, status
}

func TestAccAppWaitTimeoutAndAtomicRollback(t *testing.T) {
	requireAcc(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		TerraformVersionChecks:   writeOnlyCLIs,
		CheckDestroy:             resource.ComposeTestCheckFunc(checkReleaseGone(t, "picky", "picky"), checkClustersGone(t, "acc-picky")),
		Steps: []resource.TestStep{
			{
				// Pods that can never be scheduled: the wait times out, the error says so, and the failed
				// install is removed so that the name is free.
				Config:      pickyConfig(t, false, "10s"),
				ExpectError: regexp.MustCompile(`(?s)Cannot install the release.*picky`),
			},
			{
				PreConfig: func() {
					if revision, status := releaseRevision(t, "picky", "picky"); revision != 0 {
						t.Fatalf("the failed install left revision %d (%s) behind", revision, status)
					}
				},
				Config: pickyConfig(t, true, "2m"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("idp_app.picky", tfjsonpath.New("revision"), knownvalue.Int64Exact(1)),
				},
				Check: checkAvailable(t, "picky", "picky", 1),
			},
			{
				// An upgrade that never becomes ready is rolled back (atomic), and state still says revision 1.
				Config:      pickyConfig(t, false, "10s"),
				ExpectError: regexp.MustCompile(`(?s)Cannot upgrade the release.*rolled back`),
			},
			{
				PreConfig: func() {
					revision, status := releaseRevision(t, "picky", "picky")
					if revision != 3 || status != "deployed" {
						t.Fatalf("after the atomic rollback the latest revision is %d (%s), want 3 (deployed)", revision, status)
					}
				},
				// Back to the good configuration: the rollback already restored it, so nothing is upgraded and
				// the refreshed state shows the rollback's revision.
				Config: pickyConfig(t, true, "2m"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("idp_app.picky", plancheck.ResourceActionNoop),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("idp_app.picky", tfjsonpath.New("revision"), knownvalue.Int64Exact(3)),
					statecheck.ExpectKnownValue("idp_app.picky", tfjsonpath.New("status"), knownvalue.StringExact("deployed")),
				},
				Check: checkAvailable(t, "picky", "picky", 1),
			},
		},
	})
}

func TestAccAppSensitiveValues(t *testing.T) {
	requireAcc(t)
	const cluster, namespace = "acc-sensitive", "billing"
	config := func(secret string, version int) string {
		return workloadClusterConfig(cluster) + fmt.Sprintf(`
resource "idp_app" "billing" {
  cluster                     = idp_cluster.workload.name
  namespace                   = %q
  name                        = "billing"
  chart                       = { catalog = "web-service" }
  values                      = yamlencode({ image = { repository = "ghcr.io/acme/billing", tag = "1.0.0" }, env = { MODE = "live" } })
  sensitive_values_wo         = yamlencode({ env = { API_KEY = %q } })
  sensitive_values_wo_version = %d
}
`, namespace, secret, version)
	}
	checkEnv := func(want map[string]string) resource.TestCheckFunc {
		return func(*terraform.State) error {
			deployment, err := workloadClient(t).AppsV1().Deployments(namespace).Get(context.Background(), "billing", metav1.GetOptions{})
			if err != nil {
				return err
			}
			got := map[string]string{}
			for _, env := range deployment.Spec.Template.Spec.Containers[0].Env {
				got[env.Name] = env.Value
			}
			if diff := cmp.Diff(want, got); diff != "" {
				return fmt.Errorf("container env: -want, +got:\n%s", diff)
			}
			return nil
		}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		TerraformVersionChecks:   writeOnlyCLIs,
		CheckDestroy:             resource.ComposeTestCheckFunc(checkReleaseGone(t, namespace, "billing"), checkClustersGone(t, cluster)),
		Steps: []resource.TestStep{
			{
				Config:            config("key-one-3f9a", 1),
				ConfigStateChecks: []statecheck.StateCheck{stateLacks{"the sensitive value": "key-one-3f9a"}},
				Check:             checkEnv(map[string]string{"MODE": "live", "API_KEY": "key-one-3f9a"}),
			},
			{
				// A new secret alone changes nothing until its version says so.
				Config:   config("key-two-77c1", 1),
				PlanOnly: true,
			},
			{
				Config: config("key-two-77c1", 2),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("idp_app.billing", plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{stateLacks{"the new sensitive value": "key-two-77c1"}},
				Check:             checkEnv(map[string]string{"MODE": "live", "API_KEY": "key-two-77c1"}),
			},
		},
	})
}

// leavePendingRelease writes a release record as an apply killed mid-operation leaves it: the latest
// revision stuck in a pending status, in Helm's own storage format.
func leavePendingRelease(t *testing.T, namespace, name string, revision int, status releasecommon.Status) {
	t.Helper()
	ch, err := catalog.Load("web-service", "")
	if err != nil {
		t.Fatal(err)
	}
	client := workloadClient(t)
	_, err = client.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	rel := &releasev1.Release{
		Name:      name,
		Namespace: namespace,
		Version:   revision,
		Chart:     ch,
		Config:    map[string]any{"image": map[string]any{"repository": "ghcr.io/acme/api", "tag": "2.3.1"}},
		Info:      &releasev1.Info{Status: status, Description: "interrupted by the test", FirstDeployed: time.Now(), LastDeployed: time.Now()},
	}
	key := fmt.Sprintf("sh.helm.release.v1.%s.v%d", name, revision)
	if err := driver.NewSecrets(client.CoreV1().Secrets(namespace)).Create(key, rel); err != nil {
		t.Fatal(err)
	}
}

func TestAccAppInterruptedOperations(t *testing.T) {
	requireAcc(t)
	const cluster, namespace = "acc-interrupted", "interrupted"
	values := func(replicas int) string { return webServiceValues(strconv.Itoa(replicas)) }
	address := "idp_app.api"
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		TerraformVersionChecks:   writeOnlyCLIs,
		CheckDestroy:             resource.ComposeTestCheckFunc(checkReleaseGone(t, namespace, "api"), checkClustersGone(t, cluster)),
		Steps: []resource.TestStep{
			{
				// An install killed half-way left "pending-install": the next apply clears it and installs,
				// and "cannot re-use a name" never reaches the user.
				PreConfig: func() { leavePendingRelease(t, namespace, "api", 1, releasecommon.StatusPendingInstall) },
				Config:    webServiceConfig(cluster, namespace, values(2)),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(address, tfjsonpath.New("revision"), knownvalue.Int64Exact(1)),
					statecheck.ExpectKnownValue(address, tfjsonpath.New("status"), knownvalue.StringExact("deployed")),
				},
				Check: checkAvailable(t, namespace, "api", 2),
			},
			{
				// An upgrade killed half-way left "pending-upgrade" on revision 2: the next apply rolls back
				// (revision 3) to release the lock, then upgrades (revision 4).
				PreConfig: func() { leavePendingRelease(t, namespace, "api", 2, releasecommon.StatusPendingUpgrade) },
				Config:    webServiceConfig(cluster, namespace, values(3)),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(address, tfjsonpath.New("revision"), knownvalue.Int64Exact(4)),
					statecheck.ExpectKnownValue(address, tfjsonpath.New("status"), knownvalue.StringExact("deployed")),
				},
				Check: checkAvailable(t, namespace, "api", 3),
			},
		},
	})
}

func TestAccAppMaxHistory(t *testing.T) {
	requireAcc(t)
	const cluster, namespace = "acc-history", "history"
	config := func(replicas int) string {
		return strings.Replace(webServiceConfig(cluster, namespace, webServiceValues(strconv.Itoa(replicas))),
			`name      = "api"`, "name        = \"api\"\n  max_history = 2", 1)
	}
	// checkHistory passes when Helm keeps exactly want revisions of the release.
	checkHistory := func(want int) resource.TestCheckFunc {
		return func(*terraform.State) error {
			secrets, err := workloadClient(t).CoreV1().Secrets(namespace).List(context.Background(), metav1.ListOptions{LabelSelector: "owner=helm,name=api"})
			if err != nil {
				return err
			}
			if len(secrets.Items) != want {
				return fmt.Errorf("helm keeps %d revisions of history/api, want %d", len(secrets.Items), want)
			}
			return nil
		}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		TerraformVersionChecks:   writeOnlyCLIs,
		CheckDestroy:             resource.ComposeTestCheckFunc(checkReleaseGone(t, namespace, "api"), checkClustersGone(t, cluster)),
		Steps: []resource.TestStep{
			{Config: config(1), Check: checkHistory(1)},
			{Config: config(2), Check: checkHistory(2)},
			{
				Config: config(3),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("idp_app.api", tfjsonpath.New("revision"), knownvalue.Int64Exact(3)),
				},
				Check: checkHistory(2),
			},
		},
	})
}

// TestAccAppClusterDeregistered: when the cluster's registration disappears from Vault, refreshing the
// app plans it anew (beside the cluster) instead of failing the plan; once the registration is back,
// nothing changes.
func TestAccAppClusterDeregistered(t *testing.T) {
	requireAcc(t)
	const cluster, namespace = "acc-deregistered", "deregistered"
	config := webServiceConfig(cluster, namespace, webServiceValues("1"))
	var saved map[string]any
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		TerraformVersionChecks:   writeOnlyCLIs,
		CheckDestroy:             resource.ComposeTestCheckFunc(checkReleaseGone(t, namespace, "api"), checkClustersGone(t, cluster)),
		Steps: []resource.TestStep{
			{Config: config},
			{
				PreConfig: func() {
					secret, err := sandboxVault(t).Get(context.Background(), kubeconfigPath(cluster))
					if err != nil {
						t.Fatal(err)
					}
					saved = secret.Data
					if err := sandboxVault(t).DeleteMetadata(context.Background(), kubeconfigPath(cluster)); err != nil {
						t.Fatal(err)
					}
				},
				Config:             config,
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{
				PreConfig: func() {
					if _, err := sandboxVault(t).Put(context.Background(), kubeconfigPath(cluster), saved); err != nil {
						t.Fatal(err)
					}
				},
				Config:   config,
				PlanOnly: true,
			},
		},
	})
}
