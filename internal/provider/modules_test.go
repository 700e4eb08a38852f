package provider

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/idp-platform/terraform-provider-idp/internal/access"
	"github.com/idp-platform/terraform-provider-idp/internal/sandbox"
)

// moduleRelease is a Helm release a module's suite makes in the workload cluster.
type moduleRelease struct {
	namespace, name string
	// deployments are the release's Deployments besides the one named after it.
	deployments []string
}

// moduleReleases are the releases each module's suite makes (its tests/*.tftest.hcl variables).
var moduleReleases = map[string][]moduleRelease{
	"web-service": {{namespace: "module-web-service", name: "api"}},
	"worker":      {{namespace: "module-worker", name: "mailer"}},
	"cronjob":     {{namespace: "module-cronjob", name: "report"}},
	// The team's namespace release; its grant is checked gone in Keycloak and the cluster below.
	"team": {{namespace: "module-team", name: "team-namespace"}},
	// The stack's add-ons are Helm releases named after the catalog's add-ons, in its namespaces;
	// metrics-server is removed by the suite before the destroy, and must stay gone.
	"platform-baseline": {
		{namespace: "cert-manager", name: "cert-manager", deployments: []string{"cert-manager-webhook"}},
		{namespace: "ingress-nginx", name: "ingress-nginx", deployments: []string{"ingress-nginx-controller"}},
		{namespace: "kube-system", name: "metrics-server"},
	},
	"backstage-catalog": {{namespace: "module-backstage-catalog", name: "catalogued"}},
	// The cluster modules release nothing; their composites are checked gone below.
	"cluster-aws":   nil,
	"cluster-azure": nil,
	"cluster-gcp":   nil,
}

// moduleCredentials are the cloud credentials a module's suite finds in Vault, as a team puts them there
// (`<team>/<cloud>`, the suites' team being "modules").
var moduleCredentials = map[string]struct {
	path   string
	fields map[string]any
}{
	"cluster-aws":   {"modules/aws", map[string]any{"aws_access_key_id": "AKIASANDBOX", "aws_secret_access_key": "sandbox-secret-key"}},
	"cluster-azure": {"modules/azure", map[string]any{"clientId": "sandbox-client", "clientSecret": "sandbox-azure-secret", "subscriptionId": "0000", "tenantId": "1111"}},
	"cluster-gcp":   {"modules/gcp", map[string]any{"credentials": `{"type":"service_account","project_id":"acme-sandbox","private_key":"sandbox-gcp-key"}`}},
}

// TestAccModules runs the `tofu test` suite of every module of the catalog against the sandbox: the
// suites register the workload cluster, release into it, check what they made and destroy it.
func TestAccModules(t *testing.T) {
	requireAcc(t)
	if os.Getenv(sandbox.EnvTestCLI) == "terraform" {
		t.Skip("the module suites register a cluster with a write-only attribute, which Terraform supports from 1.11; the sandbox's Terraform is 1.5.7")
	}
	// The platform-baseline suite's stack needs the platform's AddonStack definition and composition.
	installPlatform(t)
	root := filepath.Join("..", "..", "modules")
	// The suites that run on the sandbox are tests/*.tftest.hcl; management-plane's needs an empty
	// management cluster of its own, so TestAccManagementPlane, which starts one, runs it.
	suites, err := filepath.Glob(filepath.Join(root, "*", "tests", "*.tftest.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	var modules []string
	for _, suite := range suites {
		dir := filepath.Dir(suite)
		if filepath.Base(filepath.Dir(dir)) == "management-plane" {
			continue
		}
		if len(modules) == 0 || modules[len(modules)-1] != dir {
			modules = append(modules, dir)
		}
	}
	if len(modules) < 3 {
		t.Fatalf("found %d module test suites, want one per catalog chart at least", len(modules))
	}
	for _, tests := range modules {
		module := filepath.Dir(tests)
		t.Run(filepath.Base(module), func(t *testing.T) {
			if credentials, ok := moduleCredentials[filepath.Base(module)]; ok {
				storeCredentials(t, credentials.path, credentials.fields)
			}
			runModuleSuite(t, root, filepath.Base(module), []string{"TF_VAR_kubeconfig_path=" + os.Getenv(sandbox.EnvWorkloadKubeconfig)})
			// tofu test destroys what each suite made: the releases and the cluster's registration.
			releases, ok := moduleReleases[filepath.Base(module)]
			if !ok {
				t.Fatalf("moduleReleases does not name the releases of module %s", filepath.Base(module))
			}
			for _, release := range releases {
				if err := checkReleaseGone(t, release.namespace, release.name)(nil); err != nil {
					t.Error(err)
				}
				for _, deployment := range release.deployments {
					_, err := workloadClient(t).AppsV1().Deployments(release.namespace).Get(context.Background(), deployment, metav1.GetOptions{})
					if !apierrors.IsNotFound(err) {
						t.Errorf("deployment %s/%s is left (get: %v)", release.namespace, deployment, err)
					}
				}
			}
			if err := checkClustersGone(t, "module-"+filepath.Base(module))(nil); err != nil {
				t.Error(err)
			}
			if _, cloud := moduleCredentials[filepath.Base(module)]; cloud {
				if err := checkCompositeGone(t, "module-"+filepath.Base(module)); err != nil {
					t.Error(err)
				}
			}
			if filepath.Base(module) == "team" {
				grant := access.Grant{Cluster: "module-team", Group: "team-module-team", Role: "edit", Namespaces: []string{"module-team"}}
				if err := checkAccessGone(t, grant)(nil); err != nil {
					t.Error(err)
				}
				if err := checkTeamsGone(t, "module-team")(nil); err != nil {
					t.Error(err)
				}
			}
		})
	}
}
