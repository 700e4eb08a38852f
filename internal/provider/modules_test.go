package provider

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/idp-platform/terraform-provider-idp/internal/sandbox"
)

// moduleReleases is the release each module's suite makes (its tests/*.tftest.hcl variables).
var moduleReleases = map[string]struct{ namespace, name string }{
	"web-service": {"module-web-service", "api"},
	"worker":      {"module-worker", "mailer"},
	"cronjob":     {"module-cronjob", "report"},
}

// TestAccModules runs the `tofu test` suite of every module of the catalog against the sandbox: the
// suites register the workload cluster, release into it, check what they made and destroy it.
func TestAccModules(t *testing.T) {
	requireAcc(t)
	if os.Getenv(sandbox.EnvTestCLI) == "terraform" {
		t.Skip("the module suites register a cluster with a write-only attribute, which Terraform supports from 1.11; the sandbox's Terraform is 1.5.7")
	}
	root := filepath.Join("..", "..", "modules")
	modules, err := filepath.Glob(filepath.Join(root, "*", "tests"))
	if err != nil {
		t.Fatal(err)
	}
	if len(modules) < 3 {
		t.Fatalf("found %d module test suites, want one per catalog chart at least", len(modules))
	}
	for _, tests := range modules {
		module := filepath.Dir(tests)
		t.Run(filepath.Base(module), func(t *testing.T) {
			// A copy of the catalog (the suites share ../testing), so that init and test write nothing
			// into the repository.
			catalog := t.TempDir()
			if err := os.CopyFS(catalog, os.DirFS(root)); err != nil {
				t.Fatal(err)
			}
			w := newCLIWorkspace(t, filepath.Join(catalog, filepath.Base(module)))
			w.env = append(w.env, "TF_VAR_kubeconfig_path="+os.Getenv(sandbox.EnvWorkloadKubeconfig))
			w.run(t, "init", "-input=false", "-backend=false")
			out := w.run(t, "test")
			// tofu test exits 0 only when every run passed; the count guards against a suite that ran nothing.
			if !regexp.MustCompile(`Success! [1-9]\d* passed, 0 failed`).MatchString(out) {
				t.Errorf("tofu test did not report success:\n%s", out)
			}
			// tofu test destroys what each suite made: the release and the cluster's registration.
			release, ok := moduleReleases[filepath.Base(module)]
			if !ok {
				t.Fatalf("moduleReleases does not name the release of module %s", filepath.Base(module))
			}
			if err := checkReleaseGone(t, release.namespace, release.name)(nil); err != nil {
				t.Error(err)
			}
			if err := checkClustersGone(t, "module-"+filepath.Base(module))(nil); err != nil {
				t.Error(err)
			}
		})
	}
}
