package provider

import (
	"fmt"
	"net"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/idp-platform/terraform-provider-idp/internal/sandbox"
)

const platformConfig = `
provider "idp" {}

data "idp_platform" "this" {}
`

// platformChecks assert that the report came from the sandbox's real components.
func platformChecks() []statecheck.StateCheck {
	at := func(block, attr string) tfjsonpath.Path { return tfjsonpath.New(block).AtMapKey(attr) }
	check := func(block, attr string, value knownvalue.Check) statecheck.StateCheck {
		return statecheck.ExpectKnownValue("data.idp_platform.this", at(block, attr), value)
	}
	return []statecheck.StateCheck{
		check("management_cluster", "host", knownvalue.StringExact(os.Getenv(sandbox.EnvManagementHost))),
		check("management_cluster", "kubernetes_version", knownvalue.StringExact(sandbox.KubernetesVersion)),
		check("management_cluster", "crossplane_installed", knownvalue.Bool(true)), // the sandbox runs Crossplane core
		check("vault", "address", knownvalue.StringExact(os.Getenv("IDP_VAULT_ADDRESS"))),
		check("vault", "version", knownvalue.StringExact(strings.TrimPrefix(sandbox.VaultVersion, "v"))),
		check("vault", "initialized", knownvalue.Bool(true)),
		check("vault", "sealed", knownvalue.Bool(false)),
		check("vault", "cluster_name", knownvalue.StringRegexp(regexp.MustCompile(`^vault-cluster-`))),
		check("vault", "kv_mount", knownvalue.StringExact("secret")),
		check("vault", "prefix", knownvalue.StringExact("idp")),
		check("keycloak", "realm", knownvalue.StringExact(sandbox.KeycloakRealm)),
		check("keycloak", "display_name", knownvalue.StringExact("IDP sandbox")),
		check("keycloak", "enabled", knownvalue.Bool(true)),
		check("keycloak", "issuer_url", knownvalue.StringExact(os.Getenv("IDP_KEYCLOAK_URL")+"/realms/"+sandbox.KeycloakRealm)),
		stateHasNoSecrets(),
	}
}

func TestAccPlatformDataSource(t *testing.T) {
	requireAcc(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps:                    []resource.TestStep{{Config: platformConfig, ConfigStateChecks: platformChecks()}},
	})
}

func TestAccPlatformDataSourceTerraform157(t *testing.T) {
	requireAcc(t)
	useTerraform157(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps:                    []resource.TestStep{{Config: platformConfig, ConfigStateChecks: platformChecks()}},
	})
}

func TestAccPlatformDataSourceHostAndToken(t *testing.T) {
	requireAcc(t)
	ca, err := os.ReadFile(os.Getenv(sandbox.EnvManagementCAFile))
	if err != nil {
		t.Fatal(err)
	}
	config := fmt.Sprintf(`
provider "idp" {
  management_cluster {
    host                   = %q
    token                  = %q
    cluster_ca_certificate = %q
  }
}

data "idp_platform" "this" {}
`, os.Getenv(sandbox.EnvManagementHost), os.Getenv(sandbox.EnvManagementToken), string(ca))
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps:                    []resource.TestStep{{Config: config, ConfigStateChecks: platformChecks()}},
	})
}

func TestAccPlatformDataSourceUnconfiguredBackend(t *testing.T) {
	requireAcc(t)
	// The provider runs in this process, so clearing the variables unconfigures Keycloak for it.
	for _, name := range []string{"IDP_KEYCLOAK_URL", "IDP_KEYCLOAK_REALM", "IDP_KEYCLOAK_CLIENT_ID", "IDP_KEYCLOAK_CLIENT_SECRET"} {
		t.Setenv(name, "")
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config: platformConfig,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("data.idp_platform.this", tfjsonpath.New("keycloak"), knownvalue.Null()),
				statecheck.ExpectKnownValue("data.idp_platform.this", tfjsonpath.New("vault").AtMapKey("sealed"), knownvalue.Bool(false)),
			},
		}},
	})
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := listener.Addr().(*net.TCPAddr).Port
	listener.Close()
	return port
}

func TestAccProviderBadConfiguration(t *testing.T) {
	requireAcc(t)
	cases := map[string]struct {
		reason string
		block  string
		env    map[string]string // set for the provider, which runs in this process
		want   *regexp.Regexp
	}{
		"UnreachableVault": {
			reason: "A Vault that does not answer is named with its address.",
			block:  fmt.Sprintf(`vault { address = "http://127.0.0.1:%d" }`, closedPort(t)),
			want:   regexp.MustCompile(`Cannot reach Vault(.|\n)*connection refused`),
		},
		"WrongVaultSecretID": {
			reason: "A refused AppRole is told apart from an unreachable Vault.",
			block:  fmt.Sprintf("vault {\n approle_role_id = %q\n approle_secret_id = \"not-the-secret\"\n}", os.Getenv("IDP_VAULT_APPROLE_ROLE_ID")),
			want:   regexp.MustCompile(`Vault rejected the provider's credentials`),
		},
		"WrongKeycloakSecret": {
			reason: "A wrong client secret is reported as refused credentials for that client.",
			block:  fmt.Sprintf("keycloak {\n client_id = %q\n client_secret = \"not-the-secret\"\n}", sandbox.KeycloakClientID),
			want:   regexp.MustCompile(`Keycloak rejected the provider's credentials(.|\n)*terraform-provider-idp`),
		},
		"MissingKubeconfig": {
			reason: "A kubeconfig path that names no file says so and names the attribute.",
			block:  `management_cluster { kubeconfig_path = "/nonexistent/kubeconfig" }`,
			want:   regexp.MustCompile(`kubeconfig file not found: /nonexistent/kubeconfig(.|\n)*management_cluster.kubeconfig_path`),
		},
		"ConflictingVaultLogins": {
			reason: "Configuration errors are caught before any backend is contacted.",
			block:  "vault {\n token = \"t\"\n jwt_role = \"ci\"\n jwt = \"x\"\n}",
			want:   regexp.MustCompile(`Conflicting Vault credentials`),
		},
		"BadRequestTimeout": {
			reason: "A request timeout that is not a duration fails on its attribute before any backend is contacted.",
			block:  `management_cluster { request_timeout = "30" }`,
			want:   regexp.MustCompile(`Invalid request timeout(.|\n)*request_timeout = "30"(.|\n)*is not a duration`),
		},
		"BadRequestTimeoutFromEnvironment": {
			reason: "A bad IDP_<BLOCK>_REQUEST_TIMEOUT is reported at plan, naming the variable.",
			block:  `keycloak {}`,
			env:    map[string]string{"IDP_KEYCLOAK_REQUEST_TIMEOUT": "0s"},
			want:   regexp.MustCompile(`Invalid request timeout(.|\n)*IDP_KEYCLOAK_REQUEST_TIMEOUT`),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			for key, value := range tc.env {
				t.Setenv(key, value)
			}
			config := fmt.Sprintf("provider \"idp\" {\n  %s\n}\n\ndata \"idp_platform\" \"this\" {}\n", tc.block)
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviders,
				Steps:                    []resource.TestStep{{Config: config, ExpectError: tc.want}},
			})
		})
	}
}
