package provider

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"

	"github.com/idp-platform/terraform-provider-idp/internal/addonstack"
	"github.com/idp-platform/terraform-provider-idp/internal/kube"
	"github.com/idp-platform/terraform-provider-idp/internal/sandbox"
)

var (
	addonStacks = schema.GroupVersionResource{Group: addonstack.Group, Version: addonstack.Version, Resource: addonstack.Resource}
)

// addonMirror is the sandbox's registry, which its start filled with the project's fixture charts that
// stand in for the catalog's upstream charts (no internet here).
func addonMirror(t *testing.T) string {
	t.Helper()
	mirror := os.Getenv(sandbox.EnvAddonChartMirror)
	if mirror == "" {
		t.Fatalf("the sandbox's environment has no %s", sandbox.EnvAddonChartMirror)
	}
	return mirror
}

// addonStackConfig registers the workload cluster and puts a stack of addons (HCL map entries) on it.
func addonStackConfig(t *testing.T, cluster, addons string) string {
	return fmt.Sprintf(`
provider "idp" {
  addon_chart_mirror = %q
}

resource "idp_cluster" "workload" {
  name          = %q
  cloud         = "existing"
  kubeconfig_wo = file(%q)
}

resource "idp_addon_stack" "baseline" {
  cluster = idp_cluster.workload.id
  name    = "baseline"
  addons  = {
%s
  }
  timeouts = { create = "8m", update = "8m" }
}
`, addonMirror(t), cluster, os.Getenv(sandbox.EnvWorkloadKubeconfig), addons)
}

func checkDeployment(t *testing.T, client func() kubernetes.Interface, namespace, name string, present bool) resource.TestCheckFunc {
	return func(*terraform.State) error {
		_, err := client().AppsV1().Deployments(namespace).Get(context.Background(), name, metav1.GetOptions{})
		switch {
		case present && err != nil:
			return fmt.Errorf("deployment %s/%s: %w", namespace, name, err)
		case !present && err == nil:
			return fmt.Errorf("deployment %s/%s is still there", namespace, name)
		case !present && !apierrors.IsNotFound(err):
			return fmt.Errorf("cannot tell whether deployment %s/%s is gone: %w", namespace, name, err)
		}
		return nil
	}
}

// checkCreatedBefore passes when Deployment first was created no later than Deployment then: the
// stack's dependency order as the workload cluster saw it.
func checkCreatedBefore(t *testing.T, first, then [2]string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		client := workloadClient(t)
		a, err := client.AppsV1().Deployments(first[0]).Get(context.Background(), first[1], metav1.GetOptions{})
		if err != nil {
			return err
		}
		b, err := client.AppsV1().Deployments(then[0]).Get(context.Background(), then[1], metav1.GetOptions{})
		if err != nil {
			return err
		}
		if b.CreationTimestamp.Before(&a.CreationTimestamp) {
			return fmt.Errorf("%s/%s was created at %s, before %s/%s (%s), which it depends on", then[0], then[1], b.CreationTimestamp, first[0], first[1], a.CreationTimestamp)
		}
		return nil
	}
}

// checkStackGone is the CheckDestroy of a stack: no composite, nothing it composed, no kubeconfig
// secret for the registered cluster, and no add-on left in the workload cluster.
func checkStackGone(t *testing.T, cluster, stack string, client func() kubernetes.Interface, deployments ...[2]string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		management, _ := managementDynamic(t)
		ctx := context.Background()
		if _, err := management.Resource(addonStacks).Get(ctx, addonstack.CompositeName(cluster, stack), metav1.GetOptions{}); err == nil {
			return fmt.Errorf("AddonStack %s is left", addonstack.CompositeName(cluster, stack))
		} else if !apierrors.IsNotFound(err) {
			return fmt.Errorf("cannot tell whether AddonStack %s is gone: %w", addonstack.CompositeName(cluster, stack), err)
		}
		selector := addonstack.LabelCluster + "=" + cluster + "," + addonstack.LabelStack + "=" + stack
		for _, kind := range addonstack.ComposedResources {
			gvr := schema.GroupVersionResource{Group: kind.Group, Version: kind.Version, Resource: kind.Resource}
			list, err := management.Resource(gvr).List(ctx, metav1.ListOptions{LabelSelector: selector})
			if err != nil {
				return fmt.Errorf("cannot list %s: %w", gvr.GroupResource(), err)
			}
			if len(list.Items) > 0 {
				return fmt.Errorf("%d %s of the stack are left", len(list.Items), gvr.GroupResource())
			}
		}
		_, config := managementDynamic(t)
		core, err := kubernetes.NewForConfig(config)
		if err != nil {
			return err
		}
		if _, err := core.CoreV1().Secrets("crossplane-system").Get(ctx, "idp-registered-"+cluster+"-kubeconfig", metav1.GetOptions{}); err == nil {
			return errors.New("the registered cluster's kubeconfig secret is left")
		} else if !apierrors.IsNotFound(err) {
			return fmt.Errorf("cannot tell whether the registered cluster's kubeconfig secret is gone: %w", err)
		}
		if len(deployments) == 0 {
			return nil // the cluster went with the stack
		}
		for _, d := range deployments {
			if err := checkDeployment(t, client, d[0], d[1], false)(nil); err != nil {
				return err
			}
		}
		secrets, err := client().CoreV1().Secrets("").List(ctx, metav1.ListOptions{LabelSelector: "owner=helm"})
		if err != nil {
			return err
		}
		for _, secret := range secrets.Items {
			for _, d := range deployments {
				if secret.Namespace == d[0] {
					return fmt.Errorf("helm release secret %s/%s is left", secret.Namespace, secret.Name)
				}
			}
		}
		return nil
	}
}

// clusterClientFromVault reaches a cluster the platform created as its administrator, by the
// kubeconfig Vault holds for it.
func clusterClientFromVault(t *testing.T, cluster string) kubernetes.Interface {
	t.Helper()
	client, err := kube.NewClient(kube.Config{Kubeconfig: []byte(storedKubeconfig(t, cluster))})
	if err != nil {
		t.Fatal(err)
	}
	clientset, err := kubernetes.NewForConfig(client.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	return clientset
}

// uninstallOutOfBand removes a release the way someone with cluster access would, with the helm CLI.
func uninstallOutOfBand(t *testing.T, namespace, name string) {
	t.Helper()
	cmd := exec.Command(os.Getenv(sandbox.EnvHelm), "uninstall", name, "--namespace", namespace, "--kubeconfig", os.Getenv(sandbox.EnvWorkloadKubeconfig), "--wait", "--timeout", "2m")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("helm uninstall %s/%s: %v\n%s", namespace, name, err, out)
	}
}

// waitRestored waits, within a deadline, until Crossplane has brought a Deployment back.
func waitRestored(t *testing.T, namespace, name string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		if err := checkDeployment(t, func() kubernetes.Interface { return workloadClient(t) }, namespace, name, true)(nil); err == nil {
			return
		} else if time.Now().After(deadline) {
			t.Fatalf("Crossplane did not restore the add-on: %v", err)
		}
		time.Sleep(2 * time.Second)
	}
}

// waitStackReady waits, within a deadline, until the composition reports every add-on of a stack Ready.
func waitStackReady(t *testing.T, cluster, stack string) {
	t.Helper()
	management, _ := managementDynamic(t)
	deadline := time.Now().Add(3 * time.Minute)
	for {
		xr, err := management.Resource(addonStacks).Get(context.Background(), addonstack.CompositeName(cluster, stack), metav1.GetOptions{})
		if err == nil {
			addons, _, _ := unstructured.NestedSlice(xr.Object, "status", "addons")
			ready := len(addons) > 0
			for _, a := range addons {
				addon, _ := a.(map[string]any)
				ready = ready && addon["phase"] == string(addonstack.PhaseReady)
			}
			if ready {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("add-on stack %s/%s did not settle: %v", cluster, stack, err)
		}
		time.Sleep(2 * time.Second)
	}
}

// TestAccAddonStackRegisteredCluster puts a stack on a registered cluster with real Crossplane, provider-
// helm and provider-kubernetes: every add-on Ready in dependency order, one upgraded in place, one added
// and one removed, an add-on uninstalled out of band restored by Crossplane alone, import, and destroy
// leaving nothing in the management or the workload cluster.
func TestAccAddonStackRegisteredCluster(t *testing.T) {
	requireAcc(t)
	installPlatform(t)
	const cluster = "acc-addons"
	workload := func() kubernetes.Interface { return workloadClient(t) }
	certManager, ingress := [2]string{"cert-manager", "cert-manager-webhook"}, [2]string{"ingress-nginx", "ingress-nginx-controller"}
	metricsServer, externalDNS := [2]string{"kube-system", "metrics-server"}, [2]string{"external-dns", "external-dns"}
	var ingressUID, certManagerUID string
	stackAfterRemoval := addonStackConfig(t, cluster, `
    ingress      = { version = "4.12.1" }
    cert_manager = { values = yamlencode({ replicaCount = 2 }) }
    external_dns = { values = yamlencode({ provider = { name = "aws" }, domainFilters = ["payments.example.com"] }) }`)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		TerraformVersionChecks:   writeOnlyCLIs,
		CheckDestroy:             checkStackGone(t, cluster, "baseline", workload, certManager, ingress, metricsServer, externalDNS),
		Steps: []resource.TestStep{
			{
				Config: addonStackConfig(t, cluster, `
    ingress        = { version = "4.11.5" }
    cert_manager   = { values = yamlencode({ replicaCount = 2 }) }
    metrics_server = {}`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("idp_addon_stack.baseline", tfjsonpath.New("id"), knownvalue.StringExact(cluster+"/baseline")),
					statecheck.ExpectKnownValue("idp_addon_stack.baseline", tfjsonpath.New("status").AtMapKey("cert_manager").AtMapKey("order"), knownvalue.Int64Exact(1)),
					statecheck.ExpectKnownValue("idp_addon_stack.baseline", tfjsonpath.New("status").AtMapKey("ingress").AtMapKey("order"), knownvalue.Int64Exact(2)),
					statecheck.ExpectKnownValue("idp_addon_stack.baseline", tfjsonpath.New("status").AtMapKey("ingress").AtMapKey("status"), knownvalue.StringExact("Ready")),
					statecheck.ExpectKnownValue("idp_addon_stack.baseline", tfjsonpath.New("status").AtMapKey("ingress").AtMapKey("version"), knownvalue.StringExact("4.11.5")),
					statecheck.ExpectKnownValue("idp_addon_stack.baseline", tfjsonpath.New("status").AtMapKey("ingress").AtMapKey("digest"), knownvalue.StringRegexp(regexp.MustCompile(`^sha256:[0-9a-f]{64}$`))),
					stateHasNoSecrets(),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkDeployment(t, workload, certManager[0], certManager[1], true),
					checkDeployment(t, workload, ingress[0], ingress[1], true),
					checkDeployment(t, workload, metricsServer[0], metricsServer[1], true),
					checkCreatedBefore(t, certManager, ingress),
					func(*terraform.State) error {
						d, err := workload().AppsV1().Deployments(ingress[0]).Get(context.Background(), ingress[1], metav1.GetOptions{})
						if err != nil {
							return err
						}
						ingressUID = string(d.UID)
						webhook, err := workload().AppsV1().Deployments(certManager[0]).Get(context.Background(), certManager[1], metav1.GetOptions{})
						if err == nil {
							certManagerUID = string(webhook.UID)
						}
						return err
					},
				),
			},
			{
				// The upgrade is in place: the same Deployment, a new revision of the same release.
				Config: addonStackConfig(t, cluster, `
    ingress        = { version = "4.12.1" }
    cert_manager   = { values = yamlencode({ replicaCount = 2 }) }
    metrics_server = {}`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("idp_addon_stack.baseline", plancheck.ResourceActionUpdate)}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("idp_addon_stack.baseline", tfjsonpath.New("status").AtMapKey("ingress").AtMapKey("version"), knownvalue.StringExact("4.12.1")),
				},
				Check: func(*terraform.State) error {
					d, err := workload().AppsV1().Deployments(ingress[0]).Get(context.Background(), ingress[1], metav1.GetOptions{})
					if err != nil {
						return err
					}
					if string(d.UID) != ingressUID {
						return fmt.Errorf("the ingress controller was replaced (uid %s, was %s), not upgraded in place", d.UID, ingressUID)
					}
					if d.Labels["helm.sh/chart"] != "ingress-nginx-4.12.1" {
						return fmt.Errorf("the ingress controller is from chart %q, want ingress-nginx-4.12.1", d.Labels["helm.sh/chart"])
					}
					return nil
				},
			},
			{
				// metrics_server out, external_dns in.
				Config: stackAfterRemoval,
				Check: resource.ComposeAggregateTestCheckFunc(
					checkDeployment(t, workload, metricsServer[0], metricsServer[1], false),
					checkDeployment(t, workload, externalDNS[0], externalDNS[1], true),
				),
			},
			{
				// Someone uninstalls an add-on: Crossplane reinstalls it without Terraform, and the next plan is empty.
				PreConfig: func() {
					uninstallOutOfBand(t, externalDNS[0], "external-dns")
					waitRestored(t, externalDNS[0], externalDNS[1])
				},
				Config:   stackAfterRemoval,
				PlanOnly: true,
			},
			{
				// The reinstall above may still be reported as progressing: import once the stack has settled.
				PreConfig:               func() { waitStackReady(t, cluster, "baseline") },
				ResourceName:            "idp_addon_stack.baseline",
				ImportState:             true,
				ImportStateId:           cluster + "/baseline",
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"timeouts"},
			},
			{
				// Import by identity: an import block's identity = {...}, which plans a no-op import of the same identity.
				ResourceName:    "idp_addon_stack.baseline",
				ImportState:     true,
				ImportStateKind: resource.ImportBlockWithResourceIdentity,
				// What an import cannot read back (timeouts) the configuration sets again.
				ExpectNonEmptyPlan: true,
				ImportPlanChecks:   resource.ImportPlanChecks{PreApply: []plancheck.PlanCheck{importChangesOnly("idp_addon_stack.baseline", "timeouts")}},
			},
			{
				// Vault loses the cluster: refresh warns and plans the stack again; the apply registers the
				// cluster again and finds the stack's composite its own, so nothing is reinstalled by hand.
				PreConfig: func() {
					if err := sandboxVault(t).DeleteMetadata(context.Background(), kubeconfigPath(cluster)); err != nil {
						t.Fatal(err)
					}
				},
				Config: stackAfterRemoval,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("idp_addon_stack.baseline", plancheck.ResourceActionCreate),
				}},
				Check: func(*terraform.State) error {
					webhook, err := workload().AppsV1().Deployments(certManager[0]).Get(context.Background(), certManager[1], metav1.GetOptions{})
					if err != nil {
						return err
					}
					if string(webhook.UID) != certManagerUID {
						return fmt.Errorf("cert-manager was installed again (webhook uid %s, was %s); the create should have taken the stack over", webhook.UID, certManagerUID)
					}
					return checkDeployment(t, workload, externalDNS[0], externalDNS[1], true)(nil)
				},
			},
		},
	})
}

// TestAccAddonStackFailedAddon: an add-on whose pods cannot schedule fails the apply within the timeout,
// naming the add-on, where it stands and the cluster's message; the next apply with the cause fixed
// converges on the composite the failed one left, without an import.
func TestAccAddonStackFailedAddon(t *testing.T) {
	requireAcc(t)
	installPlatform(t)
	const cluster = "acc-addons-failing"
	workload := func() kubernetes.Interface { return workloadClient(t) }
	stack := func(cpu, timeout string) string {
		return strings.Replace(addonStackConfig(t, cluster, fmt.Sprintf(`
    metrics_server = { values = yamlencode({ resources = { requests = { cpu = %q } } }) }`, cpu)),
			`create = "8m"`, fmt.Sprintf("create = %q", timeout), 1)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		TerraformVersionChecks:   writeOnlyCLIs,
		CheckDestroy:             checkStackGone(t, cluster, "baseline", workload, [2]string{"kube-system", "metrics-server"}),
		Steps: []resource.TestStep{
			{
				// Pods asking for 5000 CPUs: the kwok nodes have far fewer.
				Config:      stack("5000", "90s"),
				ExpectError: regexp.MustCompile(`(?s)Add-ons are not Ready.*Within 1m30s.*metrics-server:\s+Progressing,\s+gate\s+DeploymentAvailable\s+kube-system/metrics-server:\s+Available=False`),
			},
			{
				Config: stack("10m", "8m"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("idp_addon_stack.baseline", plancheck.ResourceActionCreate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("idp_addon_stack.baseline", tfjsonpath.New("status").AtMapKey("metrics_server").AtMapKey("status"), knownvalue.StringExact("Ready")),
				},
			},
		},
	})
}

// TestAccAddonStackCloudCluster puts a stack with storage classes on an AWS cluster the platform
// created (the simulated cloud starts a real workload cluster), whose connection secret the stack uses.
func TestAccAddonStackCloudCluster(t *testing.T) {
	requireAcc(t)
	installPlatform(t)
	storeCredentials(t, "aws/acc-addons", map[string]any{"aws_access_key_id": "AKIASANDBOX", "aws_secret_access_key": "sandbox-secret-key"})
	const name = "acc-addons-aws"
	created := func() kubernetes.Interface { return clusterClientFromVault(t, name) }
	onePool := `{ default = { instance_type = "m6i.large", min_size = 1, max_size = 3 } }`
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		TerraformVersionChecks:   writeOnlyCLIs,
		CheckDestroy: resource.ComposeAggregateTestCheckFunc(
			checkStackGone(t, name, "baseline", created), checkCloudClusterGone(t, name, "idp-aws-aws-acc-addons")),
		Steps: []resource.TestStep{{
			Config: fmt.Sprintf("%s\nprovider \"idp\" {\n  addon_chart_mirror = %q\n}\n", strings.NewReplacer(`provider "idp" {}`, "", "aws/acc-team", "aws/acc-addons").Replace(awsClusterConfig(name, "eu-west-1", "1.34", onePool)), addonMirror(t)) + `
resource "idp_addon_stack" "baseline" {
  cluster = idp_cluster.payments.id
  name    = "baseline"
  addons  = {
    cert_manager = {}
    ingress      = {}
    storage      = {}
  }
}
`,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("idp_addon_stack.baseline", tfjsonpath.New("status").AtMapKey("storage").AtMapKey("status"), knownvalue.StringExact("Ready")),
				// ingress waits for cert_manager; ties go by key.
				statecheck.ExpectKnownValue("idp_addon_stack.baseline", tfjsonpath.New("status").AtMapKey("cert_manager").AtMapKey("order"), knownvalue.Int64Exact(1)),
				statecheck.ExpectKnownValue("idp_addon_stack.baseline", tfjsonpath.New("status").AtMapKey("ingress").AtMapKey("order"), knownvalue.Int64Exact(2)),
				statecheck.ExpectKnownValue("idp_addon_stack.baseline", tfjsonpath.New("status").AtMapKey("ingress").AtMapKey("status"), knownvalue.StringExact("Ready")),
			},
			Check: func(*terraform.State) error {
				class, err := created().StorageV1().StorageClasses().Get(context.Background(), "gp3", metav1.GetOptions{})
				if err != nil {
					return err
				}
				if class.Provisioner != "ebs.csi.aws.com" {
					return fmt.Errorf("storage class gp3 has provisioner %q", class.Provisioner)
				}
				return checkDeployment(t, created, "ingress-nginx", "ingress-nginx-controller", true)(nil)
			},
		}},
	})
}

// TestAccAddonStackBadInput: each mistake is a plan-time error on the attribute that holds it. The
// cluster is registered first, so that the plans know it.
func TestAccAddonStackBadInput(t *testing.T) {
	requireAcc(t)
	installPlatform(t)
	const cluster = "acc-addons-bad"
	registered := strings.SplitN(addonStackConfig(t, cluster, ""), `resource "idp_addon_stack"`, 2)[0]
	cases := []struct {
		reason, cluster, addons string
		want                    string
	}{
		{"an add-on the catalog lacks", "idp_cluster.workload.id", `service_mesh = {}`, `(?s)Unknown add-on.*"service_mesh" is not an add-on`},
		{"a version the catalog lacks", "idp_cluster.workload.id", `cert_manager = { version = "0.0.1" }`, `(?s)Unknown add-on version.*0\.0\.1`},
		{"a version that does not support the cluster's Kubernetes", "idp_cluster.workload.id", `cert_manager = { version = "v1.16.5" }`, `(?s)Add-on version does not support the cluster's\s+Kubernetes version.*v1\.16\.5`},
		{"a dependency left out", "idp_cluster.workload.id", `ingress = {}`, `(?s)Missing add-on dependency.*cert_manager`},
		{"values the chart's schema refuses", "idp_cluster.workload.id", `cert_manager = { values = yamlencode({ replicaCount = "two" }) }`, `(?s)Invalid add-on values.*replicaCount`},
		{"a cluster Vault does not register", `"no-such-cluster"`, `cert_manager = {}`, `(?s)Unknown cluster.*no-such-cluster`},
	}
	steps := []resource.TestStep{{Config: registered}}
	for _, tc := range cases {
		steps = append(steps, resource.TestStep{
			Config: registered + fmt.Sprintf(`
resource "idp_addon_stack" "bad" {
  cluster = %s
  name    = "bad"
  addons  = { %s }
}
`, tc.cluster, tc.addons),
			PlanOnly: true, ExpectError: regexp.MustCompile(tc.want),
		})
	}
	resource.Test(t, resource.TestCase{ProtoV6ProviderFactories: testProviders, TerraformVersionChecks: writeOnlyCLIs, Steps: steps})
}
