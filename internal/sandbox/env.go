package sandbox

import (
	"bufio"
	"fmt"
	"os"
	"sort"
	"strings"
)

// Environment variables the sandbox writes beside the provider's own IDP_* configuration.
const (
	EnvDir  = "IDP_SANDBOX_DIR"
	EnvTofu = "IDP_SANDBOX_TOFU"
	// EnvTerraform is where Terraform 1.5.7 is, a late tool: BuildTools builds it.
	EnvTerraform          = "IDP_SANDBOX_TERRAFORM"
	EnvManagementHost     = "IDP_SANDBOX_MANAGEMENT_HOST"
	EnvManagementCAFile   = "IDP_SANDBOX_MANAGEMENT_CA_FILE"
	EnvManagementToken    = "IDP_SANDBOX_MANAGEMENT_TOKEN"
	EnvVaultRootToken     = "IDP_SANDBOX_VAULT_ROOT_TOKEN"
	EnvWorkloadKubeconfig = "IDP_SANDBOX_WORKLOAD_KUBECONFIG"
	EnvWorkloadHost       = "IDP_SANDBOX_WORKLOAD_HOST"
	EnvKeycloakAdminUser  = "IDP_SANDBOX_KEYCLOAK_ADMIN_USER"
	EnvKeycloakAdminPass  = "IDP_SANDBOX_KEYCLOAK_ADMIN_PASSWORD"
	EnvKeycloakUsers      = "IDP_SANDBOX_KEYCLOAK_USERS"
	// EnvKeycloakIssuer is the realm's https issuer URL, which the workload clusters trust, and
	// EnvKeycloakCAFile the CA of its certificate.
	EnvKeycloakIssuer = "IDP_SANDBOX_KEYCLOAK_ISSUER"
	// EnvEtcdURL is the etcd the sandbox's clusters keep their state in.
	EnvEtcdURL        = "IDP_SANDBOX_ETCD_URL"
	EnvKeycloakCAFile = "IDP_SANDBOX_KEYCLOAK_CA_FILE"
	// EnvRegistryHost is the host:port of the sandbox's OCI registry (plain HTTP on loopback).
	EnvRegistryHost = "IDP_SANDBOX_REGISTRY_HOST"
	// EnvAddonChartMirror is the provider's addon_chart_mirror: the sandbox registry, which the sandbox
	// fills with the project's fixture charts standing in for the add-on catalog's upstream charts.
	EnvAddonChartMirror = "IDP_ADDON_CHART_MIRROR"
	// EnvHelm is the path of the helm CLI, for tests that release charts the way users do outside Terraform.
	EnvHelm = "IDP_SANDBOX_HELM"
	// EnvKubelogin is the path of kubelogin as the kubectl plugin kubectl-oidc_login, for tests that log
	// in to a cluster the way its users do.
	EnvKubelogin = "IDP_SANDBOX_KUBELOGIN"
	// EnvConftest is the path of conftest, for the test of policy verdicts in CI against the provider's; a
	// late tool, which BuildTools builds.
	EnvConftest = "IDP_SANDBOX_CONFTEST"
	// The keycloak provider block's issuer settings: the realm's https issuer URL the clusters trust, the
	// CA of its certificate, and the client users log in to clusters with.
	EnvKeycloakIssuerURL    = "IDP_KEYCLOAK_ISSUER_URL"
	EnvKeycloakIssuerCAFile = "IDP_KEYCLOAK_ISSUER_CA_FILE"
	EnvKeycloakLoginClient  = "IDP_KEYCLOAK_LOGIN_CLIENT_ID"
)

// Env returns the environment that points the provider, and the tests, at this sandbox.
func (s *Sandbox) Env() map[string]string {
	env := make(map[string]string, len(s.env))
	for k, v := range s.env {
		env[k] = v
	}
	return env
}

// WriteEnvFile writes Env as `export KEY='value'` lines, for `source` in a shell and for ReadEnvFile.
func (s *Sandbox) WriteEnvFile(path string) error {
	keys := make([]string, 0, len(s.env))
	for k := range s.env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("# Written by the idp sandbox; `source` it to point the provider at the sandbox.\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "export %s='%s'\n", k, strings.ReplaceAll(s.env[k], "'", `'\''`))
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("cannot write the sandbox environment to %s: %w", path, err)
	}
	return nil
}

// ReadEnvFile reads an environment written by WriteEnvFile.
func ReadEnvFile(path string) (map[string]string, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot open the sandbox environment %s: %w", path, err)
	}
	defer file.Close()
	env := map[string]string{}
	scanner := bufio.NewScanner(file)
	for scanner.Scan() {
		line, ok := strings.CutPrefix(scanner.Text(), "export ")
		if !ok {
			continue
		}
		key, quoted, ok := strings.Cut(line, "=")
		if !ok || len(quoted) < 2 {
			return nil, fmt.Errorf("%s: malformed line %q", path, scanner.Text())
		}
		env[key] = strings.ReplaceAll(quoted[1:len(quoted)-1], `'\''`, "'")
	}
	return env, scanner.Err()
}
