package provider

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/idp-platform/terraform-provider-idp/internal/sandbox"
)

// TestAccDiscovery finds what exists: idp_clusters lists a cluster the platform created on AWS (from its
// composite) beside a registered one (from Vault), idp_apps lists a release the helm CLI made with the
// ID idp_app imports, and the provider's functions compute that ID and the kubeconfig's Vault path as
// the resources do.
func TestAccDiscovery(t *testing.T) {
	requireAcc(t)
	installPlatform(t)
	storeCredentials(t, "aws/acc-discover", map[string]any{"aws_access_key_id": "AKIASANDBOX", "aws_secret_access_key": "sandbox-secret-key"})
	const registered, created, namespace, release = "acc-discover", "acc-discover-eks", "discovered", "cli-made"
	archive, _ := packagedWebService(t)
	t.Cleanup(func() {
		cmd := exec.Command(os.Getenv(sandbox.EnvHelm), "uninstall", release, "--namespace", namespace, "--kubeconfig", os.Getenv(sandbox.EnvWorkloadKubeconfig))
		cmd.Env = append(os.Environ(), "HELM_CONFIG_HOME="+t.TempDir())
		_ = cmd.Run()
	})
	config := workloadClusterConfig(registered) + fmt.Sprintf(`
resource "idp_cluster" "eks" {
  name               = %q
  cloud              = "aws"
  region             = "eu-west-1"
  kubernetes_version = "1.33"
  credentials        = "aws/acc-discover"
  node_pools         = { default = { instance_type = "m6i.large", min_size = 1, max_size = 3 } }
  tags               = { team = "discovery" }
}

data "idp_clusters" "all" {
  depends_on = [idp_cluster.workload, idp_cluster.eks]
}

data "idp_clusters" "aws" {
  cloud      = "aws"
  depends_on = [idp_cluster.workload, idp_cluster.eks]
}

data "idp_apps" "discovered" {
  cluster   = idp_cluster.workload.name
  namespace = %q
}

output "release_id" {
  value = provider::idp::release_id(idp_cluster.workload.name, %q, %q)
}

output "kubeconfig_path" {
  value = provider::idp::kubeconfig_path(idp_cluster.workload.name)
}
`, created, namespace, namespace, release)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		TerraformVersionChecks:   writeOnlyCLIs,
		CheckDestroy:             resource.ComposeTestCheckFunc(checkClustersGone(t, registered), checkCloudClusterGone(t, created, "idp-aws-aws-acc-discover")),
		Steps: []resource.TestStep{
			{
				PreConfig: func() {
					helmCLI(t, "install", release, archive, "--namespace", namespace, "--create-namespace",
						"--set", "image.repository=ghcr.io/acme/api", "--set", "image.tag=2.3.1", "--set", "replicas=1")
				},
				Config: config,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckTypeSetElemNestedAttrs("data.idp_clusters.all", "clusters.*", map[string]string{
						"name": registered, "cloud": "existing", "status": "Registered",
						"kubeconfig_path": "secret/idp/clusters/" + registered + "/kubeconfig",
					}),
					resource.TestCheckTypeSetElemNestedAttrs("data.idp_clusters.all", "clusters.*", map[string]string{
						"name": created, "cloud": "aws", "region": "eu-west-1", "kubernetes_version": "1.33", "status": "Ready",
						"tags.team": "discovery", "kubeconfig_path": "secret/idp/clusters/" + created + "/kubeconfig",
					}),
					checkListedClouds("data.idp_clusters.aws", "aws", created),
					resource.TestCheckResourceAttr("data.idp_apps.discovered", "apps.#", "1"),
					resource.TestCheckResourceAttr("data.idp_apps.discovered", "apps.0.id", registered+"/"+namespace+"/"+release),
					resource.TestCheckResourceAttr("data.idp_apps.discovered", "apps.0.chart", "web-service"),
					resource.TestCheckResourceAttr("data.idp_apps.discovered", "apps.0.chart_version", "1.0.0"),
					resource.TestCheckResourceAttr("data.idp_apps.discovered", "apps.0.revision", "1"),
					resource.TestCheckResourceAttr("data.idp_apps.discovered", "apps.0.status", "deployed"),
					resource.TestCheckOutput("release_id", registered+"/"+namespace+"/"+release),
					resource.TestCheckOutput("kubeconfig_path", "secret/idp/clusters/"+registered+"/kubeconfig"),
					// The release's values (the image here) never reach the state through the list.
					checkNoAttributeValue("data.idp_apps.discovered", "ghcr.io/acme/api"),
				),
			},
			{
				Config: config + `
data "idp_apps" "nowhere" {
  cluster = "acc-discover-none"
}
`,
				ExpectError: regexp.MustCompile(`(?s)Unknown cluster.*with data.idp_apps.nowhere`),
			},
			{
				Config: config + `
output "bad_id" {
  value = provider::idp::release_id("acc-discover", "a/b", "web")
}
`,
				ExpectError: regexp.MustCompile(`(?s)Invalid function argument.*"namespace" parameter: namespace "a/b" is not a\s+DNS-1123\s+label`),
			},
			{
				// Back to the configuration, which plans nothing: the lists are stable.
				Config:   config,
				PlanOnly: true,
			},
		},
	})
}

// checkListedClouds passes when every cluster the data source lists is on cloud and want is among them.
func checkListedClouds(address, cloud, want string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		listed, ok := s.RootModule().Resources[address]
		if !ok {
			return fmt.Errorf("%s is not in the state", address)
		}
		attrs := listed.Primary.Attributes
		found := false
		for i := 0; attrs[fmt.Sprintf("clusters.%d.name", i)] != ""; i++ {
			if got := attrs[fmt.Sprintf("clusters.%d.cloud", i)]; got != cloud {
				return fmt.Errorf("%s lists %s on %q, want only %q", address, attrs[fmt.Sprintf("clusters.%d.name", i)], got, cloud)
			}
			found = found || attrs[fmt.Sprintf("clusters.%d.name", i)] == want
		}
		if !found {
			return fmt.Errorf("%s does not list %s", address, want)
		}
		return nil
	}
}

// checkNoAttributeValue passes when no attribute of the resource holds text.
func checkNoAttributeValue(address, text string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		listed, ok := s.RootModule().Resources[address]
		if !ok {
			return fmt.Errorf("%s is not in the state", address)
		}
		for key, value := range listed.Primary.Attributes {
			if strings.Contains(value, text) {
				return fmt.Errorf("%s.%s holds %q", address, key, text)
			}
		}
		return nil
	}
}
