package provider

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/echoprovider"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"
	vaultapi "github.com/hashicorp/vault/api"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/idp-platform/terraform-provider-idp/internal/sandbox"
)

// writeOnlyCLIs are the CLI versions with write-only attributes and ephemeral resources.
var writeOnlyCLIs = []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)}

// sandboxVault is the sandbox's Vault as root, to check and tamper with what the provider stored.
func sandboxVault(t *testing.T) *vaultapi.KVv2 {
	t.Helper()
	return sandboxVaultRoot(t).KVv2("secret")
}

func kubeconfigPath(cluster string) string { return "idp/clusters/" + cluster + "/kubeconfig" }

// storedKubeconfig returns the kubeconfig Vault holds for cluster, or "" when there is none.
func storedKubeconfig(t *testing.T, cluster string) string {
	t.Helper()
	secret, err := sandboxVault(t).Get(context.Background(), kubeconfigPath(cluster))
	if err != nil {
		return ""
	}
	kubeconfig, _ := secret.Data["kubeconfig"].(string)
	return kubeconfig
}

// checkVaultKubeconfig passes when Vault holds a kubeconfig for cluster that contains want.
func checkVaultKubeconfig(t *testing.T, cluster, want string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		if got := storedKubeconfig(t, cluster); !strings.Contains(got, want) {
			return fmt.Errorf("Vault's kubeconfig of %q does not contain %q", cluster, want)
		}
		return nil
	}
}

// checkClustersGone is the CheckDestroy: no version and no metadata of the kubeconfigs is left in Vault.
func checkClustersGone(t *testing.T, clusters ...string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		for _, cluster := range clusters {
			_, err := sandboxVault(t).GetMetadata(context.Background(), kubeconfigPath(cluster))
			if err == nil {
				return fmt.Errorf("Vault still has the kubeconfig metadata of cluster %q", cluster)
			}
		}
		return nil
	}
}

// tokenKubeconfig writes a kubeconfig for the management cluster that logs in with the sandbox's
// service-account token, to rotate to.
func tokenKubeconfig(t *testing.T) string {
	t.Helper()
	ca, err := os.ReadFile(os.Getenv(sandbox.EnvManagementCAFile))
	if err != nil {
		t.Fatal(err)
	}
	config := clientcmdapi.NewConfig()
	config.Clusters["management"] = &clientcmdapi.Cluster{Server: os.Getenv(sandbox.EnvManagementHost), CertificateAuthorityData: ca}
	config.AuthInfos["provider"] = &clientcmdapi.AuthInfo{Token: os.Getenv(sandbox.EnvManagementToken)}
	config.Contexts["provider"] = &clientcmdapi.Context{Cluster: "management", AuthInfo: "provider"}
	config.CurrentContext = "provider"
	path := filepath.Join(t.TempDir(), "token.kubeconfig")
	if err := clientcmd.WriteToFile(*config, path); err != nil {
		t.Fatal(err)
	}
	return path
}

func existingClusterConfig(name, kubeconfigFile string, version int) string {
	return fmt.Sprintf(`
provider "idp" {}

resource "idp_cluster" "test" {
  name                  = %q
  cloud                 = "existing"
  kubeconfig_wo         = file(%q)
  kubeconfig_wo_version = %d
}
`, name, kubeconfigFile, version)
}

func TestAccClusterExisting(t *testing.T) {
	requireAcc(t)
	adminKubeconfig := os.Getenv("IDP_MANAGEMENT_CLUSTER_KUBECONFIG_PATH")
	adminRaw, err := os.ReadFile(adminKubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	// The kubeconfig carries its client key base64-encoded; that is what must not leak.
	adminKey := base64.StdEncoding.EncodeToString(clientKeyData(t, adminRaw))
	rotated := tokenKubeconfig(t)
	const name, renamed = "acc-existing", "acc-existing-renamed"
	address := "idp_cluster.test"
	host := os.Getenv(sandbox.EnvManagementHost)

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		TerraformVersionChecks:   writeOnlyCLIs,
		CheckDestroy:             checkClustersGone(t, name, renamed),
		Steps: []resource.TestStep{
			{
				Config: existingClusterConfig(name, adminKubeconfig, 1),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(address, tfjsonpath.New("id"), knownvalue.StringExact(name)),
					statecheck.ExpectKnownValue(address, tfjsonpath.New("endpoint"), knownvalue.StringExact(host)),
					statecheck.ExpectKnownValue(address, tfjsonpath.New("status"), knownvalue.StringExact("Ready")),
					statecheck.ExpectKnownValue(address, tfjsonpath.New("kubernetes_version_actual"), knownvalue.StringExact(sandbox.KubernetesVersion)),
					statecheck.ExpectKnownValue(address, tfjsonpath.New("kubeconfig_path"), knownvalue.StringExact("secret/"+kubeconfigPath(name))),
					statecheck.ExpectKnownValue(address, tfjsonpath.New("kubeconfig_wo"), knownvalue.Null()),
					stateHasNoSecrets(),
					stateLacks{"the admin client key": adminKey},
				},
				Check: checkVaultKubeconfig(t, name, string(adminRaw)),
			},
			{
				ResourceName:                         address,
				ImportState:                          true,
				ImportStateId:                        name,
				ImportStateVerify:                    true,
				ImportStateVerifyIdentifierAttribute: "name",
				ImportStateVerifyIgnore:              []string{"kubeconfig_wo_version", "timeouts"},
			},
			{
				// Import by identity: an import block's identity = {...}, which plans a no-op import of the same identity.
				ResourceName:    address,
				ImportState:     true,
				ImportStateKind: resource.ImportBlockWithResourceIdentity,
				// What an import cannot read back (kubeconfig_wo_version, timeouts) the configuration sets again.
				ExpectNonEmptyPlan: true,
				ImportPlanChecks:   resource.ImportPlanChecks{PreApply: []plancheck.PlanCheck{importChangesOnly(address, "kubeconfig_wo_version", "timeouts")}},
			},
			{
				// Rotation: a new version stores the new kubeconfig in place.
				Config: existingClusterConfig(name, rotated, 2),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(address, plancheck.ResourceActionUpdate),
				}},
				Check: checkVaultKubeconfig(t, name, os.Getenv(sandbox.EnvManagementToken)),
			},
			{
				// Disappeared: the kubeconfig deleted from Vault out of band is planned back, without an error.
				PreConfig: func() {
					if err := sandboxVault(t).DeleteMetadata(context.Background(), kubeconfigPath(name)); err != nil {
						t.Fatal(err)
					}
				},
				Config: existingClusterConfig(name, rotated, 2),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(address, plancheck.ResourceActionCreate),
				}},
				Check: checkVaultKubeconfig(t, name, os.Getenv(sandbox.EnvManagementToken)),
			},
			{
				// A new name is a new cluster: the old registration goes.
				Config: existingClusterConfig(renamed, rotated, 2),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(address, plancheck.ResourceActionDestroyBeforeCreate),
				}},
				Check: resource.ComposeTestCheckFunc(
					checkClustersGone(t, name),
					checkVaultKubeconfig(t, renamed, os.Getenv(sandbox.EnvManagementToken)),
				),
			},
		},
	})
}

func TestAccClusterCredentialsEphemeral(t *testing.T) {
	requireAcc(t)
	const name = "acc-credentials"
	config := existingClusterConfig(name, os.Getenv("IDP_MANAGEMENT_CLUSTER_KUBECONFIG_PATH"), 1) + `
ephemeral "idp_cluster_credentials" "test" {
  cluster = idp_cluster.test.name
}

provider "echo" {
  data = {
    endpoint       = ephemeral.idp_cluster_credentials.test.endpoint
    has_kubeconfig = length(ephemeral.idp_cluster_credentials.test.kubeconfig) > 0
    has_client_key = ephemeral.idp_cluster_credentials.test.client_key != null
  }
}

resource "echo" "test" {}

data "idp_cluster" "test" {
  name = idp_cluster.test.name
}
`
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: map[string]func() (tfprotov6.ProviderServer, error){
			"idp":  testProviders["idp"],
			"echo": echoprovider.NewProviderServer(),
		},
		TerraformVersionChecks: writeOnlyCLIs,
		CheckDestroy:           checkClustersGone(t, name),
		Steps: []resource.TestStep{{
			Config: config,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("echo.test", tfjsonpath.New("data").AtMapKey("endpoint"), knownvalue.StringExact(os.Getenv(sandbox.EnvManagementHost))),
				statecheck.ExpectKnownValue("echo.test", tfjsonpath.New("data").AtMapKey("has_kubeconfig"), knownvalue.Bool(true)),
				statecheck.ExpectKnownValue("echo.test", tfjsonpath.New("data").AtMapKey("has_client_key"), knownvalue.Bool(true)),
				statecheck.ExpectKnownValue("data.idp_cluster.test", tfjsonpath.New("status"), knownvalue.StringExact("Ready")),
				statecheck.ExpectKnownValue("data.idp_cluster.test", tfjsonpath.New("kubeconfig_path"), knownvalue.StringExact("secret/"+kubeconfigPath(name))),
			},
		}},
	})
}

func TestAccClusterBadInput(t *testing.T) {
	requireAcc(t)
	unreachable := filepath.Join(t.TempDir(), "unreachable.kubeconfig")
	raw, err := os.ReadFile(os.Getenv("IDP_MANAGEMENT_CLUSTER_KUBECONFIG_PATH"))
	if err != nil {
		t.Fatal(err)
	}
	closed := fmt.Sprintf("https://127.0.0.1:%d", closedPort(t))
	if err := os.WriteFile(unreachable, []byte(strings.ReplaceAll(string(raw), os.Getenv(sandbox.EnvManagementHost), closed)), 0o600); err != nil {
		t.Fatal(err)
	}
	notKubeconfig := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(notKubeconfig, []byte("just: some yaml\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	resourceBlock := func(name, cloud, extra string) string {
		return fmt.Sprintf("provider \"idp\" {}\n\nresource \"idp_cluster\" \"test\" {\n  name  = %q\n  cloud = %q\n  %s\n}\n", name, cloud, extra)
	}
	good := fmt.Sprintf("kubeconfig_wo = file(%q)", os.Getenv("IDP_MANAGEMENT_CLUSTER_KUBECONFIG_PATH"))
	aws := func(region string) string {
		return fmt.Sprintf(`region = %q
  kubernetes_version = "1.33"
  credentials = "aws/team"
  node_pools = { default = { instance_type = "m6i.large", min_size = 1, max_size = 2 } }`, region)
	}
	cases := map[string]struct {
		reason   string
		config   string
		planOnly bool
		want     *regexp.Regexp
	}{
		"BadName": {
			reason:   "Names are DNS-1123 labels, checked at plan on the name attribute.",
			config:   resourceBlock("Payments_Dev", "existing", good),
			planOnly: true,
			want:     regexp.MustCompile(`Attribute name must be a DNS-1123 label`),
		},
		"UnknownCloud": {
			reason:   "Only supported clouds are accepted, at plan.",
			config:   resourceBlock("acc-bad-cloud", "mars", good),
			planOnly: true,
			want:     regexp.MustCompile(`Attribute cloud value must be one of`),
		},
		"MissingKubeconfig": {
			reason:   "An existing cluster needs its kubeconfig, said at plan on kubeconfig_wo.",
			config:   resourceBlock("acc-no-kubeconfig", "existing", ""),
			planOnly: true,
			want:     regexp.MustCompile(`Missing kubeconfig`),
		},
		"NotAKubeconfig": {
			reason:   "A file that is no kubeconfig is refused at plan.",
			config:   resourceBlock("acc-not-kubeconfig", "existing", fmt.Sprintf("kubeconfig_wo = file(%q)", notKubeconfig)),
			planOnly: true,
			want:     regexp.MustCompile(`Invalid kubeconfig`),
		},
		"UnreachableCluster": {
			reason: "A kubeconfig whose API server does not answer is not stored.",
			config: resourceBlock("acc-unreachable", "existing", fmt.Sprintf("kubeconfig_wo = file(%q)", unreachable)),
			want:   regexp.MustCompile(`Cannot reach the cluster`),
		},
		"AWSUnknownRegion": {
			reason:   "A created cluster's region is one the platform offers, checked at plan.",
			config:   resourceBlock("acc-bad-region", "aws", aws("mars-1")),
			planOnly: true,
			want:     regexp.MustCompile(`(?s)Unknown region.*"mars-1" is not a region the platform\s+offers on aws`),
		},
		"AWSWithKubeconfig": {
			reason:   "A created cluster's kubeconfig comes from the cloud, not from kubeconfig_wo.",
			config:   resourceBlock("acc-aws-kubeconfig", "aws", aws("eu-west-1")+"\n  "+good),
			planOnly: true,
			want:     regexp.MustCompile(`kubeconfig_wo registers an existing cluster`),
		},
		"AWSVaultDown": {
			reason: "With Vault down a created cluster fails with a diagnostic that names Vault, before anything is created.",
			config: strings.Replace(resourceBlock("acc-aws-vault-down", "aws", aws("eu-west-1")), `provider "idp" {}`,
				fmt.Sprintf("provider \"idp\" {\n  vault {\n    address = \"http://127.0.0.1:%d\"\n  }\n}", closedPort(t)), 1),
			want: regexp.MustCompile(`Cannot reach Vault`),
		},
		"VaultDown": {
			reason: "With Vault down the resource fails with a diagnostic that names Vault.",
			config: strings.Replace(resourceBlock("acc-vault-down", "existing", good), `provider "idp" {}`,
				fmt.Sprintf("provider \"idp\" {\n  vault {\n    address = \"http://127.0.0.1:%d\"\n  }\n}", closedPort(t)), 1),
			want: regexp.MustCompile(`Cannot reach Vault`),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviders,
				TerraformVersionChecks:   writeOnlyCLIs,
				CheckDestroy:             checkClustersGone(t, "acc-unreachable", "acc-vault-down"),
				Steps:                    []resource.TestStep{{Config: tc.config, PlanOnly: tc.planOnly, ExpectError: tc.want}},
			})
		})
	}
}

func TestAccClusterAlreadyRegistered(t *testing.T) {
	requireAcc(t)
	const name = "acc-taken"
	if _, err := sandboxVault(t).Put(context.Background(), kubeconfigPath(name), map[string]any{"kubeconfig": "someone else's"}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sandboxVault(t).DeleteMetadata(context.Background(), kubeconfigPath(name)) })
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		TerraformVersionChecks:   writeOnlyCLIs,
		Steps: []resource.TestStep{{
			Config:      existingClusterConfig(name, os.Getenv("IDP_MANAGEMENT_CLUSTER_KUBECONFIG_PATH"), 1),
			ExpectError: regexp.MustCompile(`Cluster already registered(.|\n)*import`),
		}},
	})
	if got := storedKubeconfig(t, name); got != "someone else's" {
		t.Errorf("the other registration was overwritten: Vault now holds %q", got)
	}
}

func clientKeyData(t *testing.T, kubeconfig []byte) []byte {
	t.Helper()
	config, err := clientcmd.Load(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	for _, user := range config.AuthInfos {
		if len(user.ClientKeyData) > 0 {
			return user.ClientKeyData
		}
	}
	t.Fatal("the sandbox's admin kubeconfig has no client key")
	return nil
}
