package provider

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"sync"
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
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/idp-platform/terraform-provider-idp/crossplane"
	"github.com/idp-platform/terraform-provider-idp/internal/kube"
	"github.com/idp-platform/terraform-provider-idp/internal/sandbox"
)

var (
	kubernetesClusters  = schema.GroupVersionResource{Group: "platform.idp.dev", Version: "v1alpha1", Resource: "kubernetesclusters"}
	kubernetesNodePools = schema.GroupVersionResource{Group: "platform.idp.dev", Version: "v1alpha1", Resource: "kubernetesnodepools"}
	awsProviderConfigs  = schema.GroupVersionResource{Group: "aws.upbound.io", Version: "v1beta1", Resource: "providerconfigs"}
	platformOnce        sync.Once
	errPlatform         error
)

func managementDynamic(t *testing.T) (dynamic.Interface, *rest.Config) {
	t.Helper()
	config, err := clientcmd.BuildConfigFromFlags("", os.Getenv("IDP_MANAGEMENT_CLUSTER_KUBECONFIG_PATH"))
	if err != nil {
		t.Fatal(err)
	}
	client, err := dynamic.NewForConfig(config)
	if err != nil {
		t.Fatal(err)
	}
	return client, config
}

// installPlatform makes the sandbox's management cluster what a platform team's is: the providers' CRDs
// and the platform's definitions and compositions (crossplane/).
func installPlatform(t *testing.T) {
	t.Helper()
	platformOnce.Do(func() {
		_, config := managementDynamic(t)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		manifests, order, err := crossplane.Manifests()
		if err != nil {
			errPlatform = err
			return
		}
		errPlatform = sandbox.InstallPlatformManifests(ctx, config, manifests, order)
	})
	if errPlatform != nil {
		t.Fatalf("cannot install the platform's Crossplane manifests: %v", errPlatform)
	}
}

// storeCredentials writes cloud credentials to Vault where idp_cluster's credentials attribute names them.
func storeCredentials(t *testing.T, name string, fields map[string]any) {
	t.Helper()
	if _, err := sandboxVault(t).Put(context.Background(), "idp/credentials/"+name, fields); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sandboxVault(t).DeleteMetadata(context.Background(), "idp/credentials/"+name) })
}

func awsClusterConfig(name, region, version, pools string) string {
	return fmt.Sprintf(`
provider "idp" {}

resource "idp_cluster" "payments" {
  name               = %q
  cloud              = "aws"
  region             = %q
  kubernetes_version = %q
  credentials        = "aws/acc-team"
  node_pools         = %s
  tags               = { team = "payments" }
}
`, name, region, version, pools)
}

// checkVaultKubeconfigReaches passes when the kubeconfig Vault holds for cluster reaches a working API server.
func checkVaultKubeconfigReaches(t *testing.T, cluster string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		raw := storedKubeconfig(t, cluster)
		if raw == "" {
			return fmt.Errorf("Vault holds no kubeconfig for %s", cluster)
		}
		client, err := kube.NewClient(kube.Config{Kubeconfig: []byte(raw)})
		if err != nil {
			return err
		}
		_, err = client.ServerVersion(context.Background())
		return err
	}
}

func checkPool(t *testing.T, cluster, pool string, maxSize int64) resource.TestCheckFunc {
	return func(*terraform.State) error {
		client, _ := managementDynamic(t)
		xr, err := client.Resource(kubernetesNodePools).Get(context.Background(), cluster+"-"+pool, metav1.GetOptions{})
		if err != nil {
			return err
		}
		got, _, _ := unstructured.NestedInt64(xr.Object, "spec", "maxSize")
		if got != maxSize {
			return fmt.Errorf("node pool %s has maxSize %d, want %d", pool, got, maxSize)
		}
		return nil
	}
}

// checkCompositeGone says what is left in the management cluster of a cloud cluster that was destroyed:
// its KubernetesCluster composite or its node pools.
func checkCompositeGone(t *testing.T, cluster string) error {
	client, _ := managementDynamic(t)
	ctx := context.Background()
	if _, err := client.Resource(kubernetesClusters).Get(ctx, cluster, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		return fmt.Errorf("KubernetesCluster %s is left (get: %w)", cluster, err)
	}
	pools, err := client.Resource(kubernetesNodePools).List(ctx, metav1.ListOptions{LabelSelector: "platform.idp.dev/cluster=" + cluster})
	if err != nil || len(pools.Items) > 0 {
		return fmt.Errorf("node pools of %s are left (list: %w)", cluster, err)
	}
	return nil
}

// checkCloudClusterGone is the CheckDestroy of a created cluster: no composites, no managed resources
// composed for them, no ProviderConfig and no kubeconfig in Vault.
func checkCloudClusterGone(t *testing.T, cluster, providerConfig string) resource.TestCheckFunc {
	return func(state *terraform.State) error {
		if err := checkCompositeGone(t, cluster); err != nil {
			return err
		}
		client, _ := managementDynamic(t)
		ctx := context.Background()
		for _, gvr := range []schema.GroupVersionResource{
			{Group: "eks.aws.upbound.io", Version: "v1beta1", Resource: "clusters"},
			{Group: "eks.aws.upbound.io", Version: "v1beta1", Resource: "nodegroups"},
			{Group: "ec2.aws.upbound.io", Version: "v1beta1", Resource: "vpcs"},
		} {
			list, err := client.Resource(gvr).List(ctx, metav1.ListOptions{LabelSelector: "platform.idp.dev/cluster=" + cluster})
			if err != nil || len(list.Items) > 0 {
				return fmt.Errorf("%s of %s are left (%w)", gvr.Resource, cluster, err)
			}
		}
		if _, err := client.Resource(awsProviderConfigs).Get(ctx, providerConfig, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			return fmt.Errorf("ProviderConfig %s is left (%w)", providerConfig, err)
		}
		return checkClustersGone(t, cluster)(state)
	}
}

// TestAccClusterAWS creates an EKS cluster through the platform's composition, real Crossplane and the
// sandbox's cloud simulator, then scales it, adds a pool, upgrades it, restores drift, imports it and
// replaces it on a region change.
func TestAccClusterAWS(t *testing.T) {
	requireAcc(t)
	installPlatform(t)
	storeCredentials(t, "aws/acc-team", map[string]any{"aws_access_key_id": "AKIASANDBOX", "aws_secret_access_key": "sandbox-secret-key"})
	const name = "acc-eks"
	address := "idp_cluster.payments"
	onePool := `{ default = { instance_type = "m6i.large", min_size = 1, max_size = 3 } }`
	twoPools := `{
    default = { instance_type = "m6i.large", min_size = 1, max_size = 5 }
    batch   = { instance_type = "c6i.2xlarge", min_size = 0, max_size = 10, labels = { workload = "batch" } }
  }`
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             checkCloudClusterGone(t, name, "idp-aws-aws-acc-team"),
		Steps: []resource.TestStep{
			{
				Config: awsClusterConfig(name, "eu-west-1", "1.33", onePool),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(address, tfjsonpath.New("status"), knownvalue.StringExact("Ready")),
					statecheck.ExpectKnownValue(address, tfjsonpath.New("endpoint"), knownvalue.StringRegexp(regexp.MustCompile(`^https://127\.0\.0\.1:\d+$`))),
					statecheck.ExpectKnownValue(address, tfjsonpath.New("kubeconfig_path"), knownvalue.StringExact("secret/idp/clusters/"+name+"/kubeconfig")),
					statecheck.ExpectKnownValue(address, tfjsonpath.New("kubernetes_version_actual"), knownvalue.StringExact("1.33")),
					stateHasNoSecrets(),
					stateLacks{"the AWS secret key": "sandbox-secret-key", "the AWS key id": "AKIASANDBOX"},
				},
				Check: resource.ComposeTestCheckFunc(checkVaultKubeconfigReaches(t, name), checkPool(t, name, "default", 3)),
			},
			{
				// Pool sizes and a new pool change in place.
				Config: awsClusterConfig(name, "eu-west-1", "1.33", twoPools),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(address, plancheck.ResourceActionUpdate),
				}},
				Check: resource.ComposeTestCheckFunc(checkPool(t, name, "default", 5), checkPool(t, name, "batch", 10)),
			},
			{
				// An upgrade one minor version up, in place.
				Config: awsClusterConfig(name, "eu-west-1", "1.34", twoPools),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(address, plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(address, tfjsonpath.New("kubernetes_version"), knownvalue.StringExact("1.34")),
				},
			},
			{
				Config:      awsClusterConfig(name, "eu-west-1", "1.32", twoPools),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`does not downgrade`),
			},
			{
				// Drift: a pool resized out of band shows in the plan, and the apply restores it.
				PreConfig: func() {
					client, _ := managementDynamic(t)
					patch := []byte(`{"spec":{"maxSize":9}}`)
					if _, err := client.Resource(kubernetesNodePools).Patch(context.Background(), name+"-default", types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
						t.Fatal(err)
					}
				},
				Config: awsClusterConfig(name, "eu-west-1", "1.34", twoPools),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(address, plancheck.ResourceActionUpdate),
				}},
				Check: checkPool(t, name, "default", 5),
			},
			{
				ResourceName:            address,
				ImportState:             true,
				ImportStateId:           name,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"credentials", "timeouts", "status", "kubernetes_version_actual"},
			},
			{
				// Import by identity: an import block's identity = {...}, which plans a no-op import of the same identity.
				ResourceName:    address,
				ImportState:     true,
				ImportStateKind: resource.ImportBlockWithResourceIdentity,
				// What an import cannot read back (credentials, timeouts) the configuration sets again.
				ExpectNonEmptyPlan: true,
				ImportPlanChecks:   resource.ImportPlanChecks{PreApply: []plancheck.PlanCheck{importChangesOnly(address, "credentials", "timeouts")}},
			},
			{
				// A new region is a new cluster.
				Config: awsClusterConfig(name, "eu-central-1", "1.34", twoPools),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(address, plancheck.ResourceActionDestroyBeforeCreate),
				}},
				Check: checkVaultKubeconfigReaches(t, name),
			},
		},
	})
}

// TestAccClusterAzure creates an AKS cluster (its first pool by name is the system pool), then deletes
// its composite out of band: the next plan creates it again, without an error, and the apply does.
func TestAccClusterAzure(t *testing.T) {
	requireAcc(t)
	installPlatform(t)
	storeCredentials(t, "azure/acc-team", map[string]any{"clientId": "sandbox-client", "clientSecret": "sandbox-azure-secret", "subscriptionId": "0000", "tenantId": "1111"})
	const name = "acc-aks"
	config := fmt.Sprintf(`
provider "idp" {}

resource "idp_cluster" "payments" {
  name               = %q
  cloud              = "azure"
  region             = "westeurope"
  kubernetes_version = "1.33"
  credentials        = "azure/acc-team"
  node_pools = {
    batch  = { instance_type = "Standard_F8s_v2", min_size = 0, max_size = 10, labels = { workload = "batch" } }
    system = { instance_type = "Standard_D4s_v5", min_size = 1, max_size = 3 }
  }
}
`, name)
	deleteComposite := func() {
		client, _ := managementDynamic(t)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := client.Resource(kubernetesClusters).Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		for {
			if _, err := client.Resource(kubernetesClusters).Get(ctx, name, metav1.GetOptions{}); apierrors.IsNotFound(err) {
				return
			}
			select {
			case <-ctx.Done():
				t.Fatal("the composite was not deleted")
			case <-time.After(250 * time.Millisecond):
			}
		}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             checkClustersGone(t, name),
		Steps: []resource.TestStep{
			{
				Config: config,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("idp_cluster.payments", tfjsonpath.New("status"), knownvalue.StringExact("Ready")),
					stateLacks{"the Azure client secret": "sandbox-azure-secret"},
				},
				// AKS: "batch" is the system pool (first by name); "system" is a pool composite of its own.
				Check: resource.ComposeTestCheckFunc(checkVaultKubeconfigReaches(t, name), checkPool(t, name, "system", 3)),
			},
			{
				PreConfig:          deleteComposite,
				Config:             config,
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{
				Config: config,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("idp_cluster.payments", tfjsonpath.New("status"), knownvalue.StringExact("Ready")),
				},
				Check: checkVaultKubeconfigReaches(t, name),
			},
		},
	})
}

// TestAccClusterGCP creates two GKE clusters with the same credentials; credentials missing from Vault
// fail the apply on the credentials attribute first. The clusters share one ProviderConfig, which stays
// while one of them does and goes with the last.
func TestAccClusterGCP(t *testing.T) {
	requireAcc(t)
	installPlatform(t)
	const name, other = "acc-gke", "acc-gke-two"
	gcpProviderConfigs := schema.GroupVersionResource{Group: "gcp.upbound.io", Version: "v1beta1", Resource: "providerconfigs"}
	const providerConfig = "idp-gcp-gcp-acc-team"
	cluster := func(resourceName, clusterName string) string {
		return fmt.Sprintf(`
resource "idp_cluster" %q {
  name               = %q
  cloud              = "gcp"
  region             = "europe-west1"
  kubernetes_version = "1.34"
  credentials        = "gcp/acc-team"
  node_pools         = { default = { instance_type = "e2-standard-4", min_size = 1, max_size = 4, labels = { tier = "web" } } }
  tags               = { team = "payments" }
}
`, resourceName, clusterName)
	}
	one := "provider \"idp\" {}\n" + cluster("payments", name)
	two := one + cluster("other", other)
	checkProviderConfig := func(want bool) resource.TestCheckFunc {
		return func(*terraform.State) error {
			client, _ := managementDynamic(t)
			_, err := client.Resource(gcpProviderConfigs).Get(context.Background(), providerConfig, metav1.GetOptions{})
			switch {
			case want && err != nil:
				return fmt.Errorf("ProviderConfig %s is missing: %w", providerConfig, err)
			case !want && !apierrors.IsNotFound(err):
				return fmt.Errorf("ProviderConfig %s is left (%w)", providerConfig, err)
			}
			return nil
		}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             resource.ComposeTestCheckFunc(checkClustersGone(t, name, other), checkProviderConfig(false)),
		Steps: []resource.TestStep{
			{
				Config:      one,
				ExpectError: regexp.MustCompile(`(?s)Unknown credentials.*secret/idp/credentials/gcp/acc-team`),
			},
			{
				PreConfig: func() {
					storeCredentials(t, "gcp/acc-team", map[string]any{"credentials": `{"type":"service_account","project_id":"acme-sandbox","private_key":"sandbox-gcp-key"}`})
				},
				Config: two,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("idp_cluster.payments", tfjsonpath.New("status"), knownvalue.StringExact("Ready")),
					statecheck.ExpectKnownValue("idp_cluster.other", tfjsonpath.New("status"), knownvalue.StringExact("Ready")),
					stateLacks{"the GCP key": "sandbox-gcp-key"},
				},
				Check: resource.ComposeTestCheckFunc(checkVaultKubeconfigReaches(t, name), checkVaultKubeconfigReaches(t, other),
					checkPool(t, name, "default", 4), checkProviderConfig(true)),
			},
			{
				// One cluster goes; the other still uses the ProviderConfig.
				Config: one,
				Check:  resource.ComposeTestCheckFunc(checkClustersGone(t, other), checkProviderConfig(true)),
			},
		},
	})
}
