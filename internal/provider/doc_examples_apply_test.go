package provider

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"helm.sh/helm/v4/pkg/chart/common"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/idp-platform/terraform-provider-idp/internal/access"
	"github.com/idp-platform/terraform-provider-idp/internal/sandbox"
)

// docExampleOutputs are the outputs of each example page once it is applied on the sandbox beside the
// resource examples: every output a page declares has an entry.
var docExampleOutputs = map[string]map[string]any{
	"data-sources/idp_access_check": {"on_call_reads_logs": "no"},
	"data-sources/idp_catalog": {"catalog_info": nonEmptyOutput, "components": []any{
		"component:default/api", "component:default/cache", "component:default/cert-manager", "component:default/external-dns", "component:default/fluent-bit",
		"component:default/ingress-nginx", "component:default/kube-prometheus-stack", "component:default/metrics-server", "component:default/worker",
	}},
	"data-sources/idp_cluster":  {"payments_status": "Ready"},
	"data-sources/idp_clusters": {"aws_clusters_not_ready": map[string]any{}},
	"functions/kubeconfig_path": {"payments_kubeconfig": "secret/idp/clusters/payments-dev/kubeconfig", "payments_kubeconfig_elsewhere": "kv/platform/clusters/payments-dev/kubeconfig"},
	"data-sources/idp_addon_catalog": {
		"addon_versions": map[string]any{
			"cert_manager": []any{"v1.18.2", "v1.17.4"}, "external_dns": []any{"1.16.1"}, "ingress": []any{"4.12.1", "4.11.5"},
			"logging": []any{"0.49.1", "0.48.9"}, "metrics_server": []any{"3.12.2", "3.11.0"}, "monitoring": []any{"72.6.2", "69.8.2"},
			"storage": []any{"1.1.0", "1.0.0"},
		},
		"ingress_depends_on": []any{"cert_manager"}},
	"data-sources/idp_platform": {"kubernetes_version": sandbox.KubernetesVersion},
	"data-sources/idp_apps":     {"payments_releases": map[string]any{"payments-dev/payments/api": "web-service 1.0.0 (deployed)", "payments-dev/payments/cache": "redis 19.6.4 (deployed)", "payments-dev/payments/worker": "worker 2.1.0 (deployed)"}},
}

// TestAccDocExamples applies the docs' examples on the sandbox the way a reader copies them: the
// resource examples together (an AWS cluster, a registered one, a team, grants, add-on stacks and
// apps), then each data source, ephemeral resource and function example beside them, then each import
// example on what it imports; every apply must leave an empty plan, and the destroy must leave nothing in
// Vault, Keycloak or the management cluster. What an example leaves to its reader (a kubeconfig file,
// cloud credentials in Vault, a group managed elsewhere, the chart repository and registry of its
// organisation, a grant's end) the test provides.
func TestAccDocExamples(t *testing.T) {
	requireAcc(t)
	installPlatform(t)
	storeCredentials(t, "aws/team-payments", map[string]any{"aws_access_key_id": "AKIASANDBOX", "aws_secret_access_key": "sandbox-secret-key"})
	createGroupManagedElsewhere(t, "auditors")
	root := filepath.Join("..", "..", "examples")
	reader := docExampleReader(t)
	w := newCLIWorkspace(t, t.TempDir())

	kubeconfig, err := os.ReadFile(os.Getenv(sandbox.EnvWorkloadKubeconfig))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(w.dir, "legacy-prod.kubeconfig"), kubeconfig, 0o600); err != nil {
		t.Fatal(err)
	}
	var resources strings.Builder
	for _, kind := range []string{"idp_cluster", "idp_team", "idp_access", "idp_addon_stack", "idp_app"} {
		resources.WriteString(readExample(t, filepath.Join(root, "resources", kind, "resource.tf"), reader))
	}
	w.writeConfig(t, resources.String())
	destroyed := false
	t.Cleanup(func() {
		if !destroyed {
			if out, err := w.command("destroy", "-auto-approve", "-input=false").CombinedOutput(); err != nil {
				t.Logf("tofu destroy after the failure: %v\n%s", err, out)
			}
		}
	})
	w.run(t, "init", "-input=false")
	w.applyConverged(t, "the resource examples")
	if diff := cmp.Diff(map[string]any{"addons_ready": true}, w.outputs(t, "addons_ready")); diff != "" {
		t.Errorf("outputs of the resource examples (-want +got):\n%s", diff)
	}
	if role := w.outputs(t, "payments_role_id")["payments_role_id"]; role == "" || role == nil {
		t.Errorf("idp_team.payments has no approle_role_id")
	}

	for _, page := range docExamplePages(t, root) {
		if strings.HasPrefix(page, "resources/") || page == "provider" {
			continue
		}
		t.Run(page, func(t *testing.T) {
			file, config := filepath.Join(w.dir, "page.tf"), docExamplePage(t, root, page, reader)
			if err := os.WriteFile(file, []byte(config), 0o644); err != nil {
				t.Fatal(err)
			}
			w.applyConverged(t, "examples/"+page)
			checkDocExampleEffects(t, w, page, config)
			if err := os.Remove(file); err != nil {
				t.Fatal(err)
			}
			w.applyConverged(t, "the resource examples without examples/"+page)
		})
	}

	for _, imp := range []struct{ page, file, address string }{
		{"resources/idp_cluster", "import-by-identity.tf", "idp_cluster.legacy"},
		{"resources/idp_access", "import-by-identity.tf", "idp_access.payments_devs"},
		{"resources/idp_addon_stack", "import-by-identity.tf", "idp_addon_stack.baseline"},
		{"resources/idp_app", "import-by-identity.tf", "idp_app.api"},
		{"functions/release_id", "function.tf", "idp_app.api"},
	} {
		t.Run(imp.page+"/"+imp.file, func(t *testing.T) {
			// The import block adopts what the state forgot, as it would adopt what another tool made.
			w.run(t, "state", "rm", imp.address)
			file := filepath.Join(w.dir, "import.tf")
			if err := os.WriteFile(file, []byte(readExample(t, filepath.Join(root, imp.page, imp.file), reader)), 0o644); err != nil {
				t.Fatal(err)
			}
			out := w.applyConverged(t, "examples/"+imp.page+"/"+imp.file)
			if !strings.Contains(out, imp.address+": Import complete") && !strings.Contains(out, imp.address+": Importing") {
				t.Errorf("the apply of examples/%s/%s imported nothing:\n%s", imp.page, imp.file, out)
			}
			if err := os.Remove(file); err != nil {
				t.Fatal(err)
			}
		})
	}

	w.run(t, "destroy", "-auto-approve", "-input=false")
	destroyed = true
	var errs []error
	for _, gone := range []func() error{
		func() error { return checkCloudClusterGone(t, "payments-dev", "idp-aws-aws-team-payments")(nil) },
		func() error { return checkClustersGone(t, "legacy-prod")(nil) },
		func() error { return checkTeamsGone(t, "payments")(nil) },
		func() error {
			legacy := func() kubernetes.Interface { return workloadClient(t) }
			return checkStackGone(t, "legacy-prod", "baseline", legacy, [2]string{"cert-manager", "cert-manager-webhook"})(nil)
		},
		func() error {
			return checkAccessGone(t, access.Grant{Cluster: "payments-dev", Group: "payments-developers", Role: "edit", Namespaces: []string{"payments"}})(nil)
		},
		func() error {
			auditors := access.Grant{Cluster: "payments-dev", Group: "auditors", Role: "view"}
			management, _ := managementDynamic(t)
			if _, err := management.Resource(accessGrants).Get(context.Background(), auditors.Name(), metav1.GetOptions{}); !apierrors.IsNotFound(err) {
				return fmt.Errorf("AccessGrant %s of %s is left (err: %w)", auditors.Name(), auditors.ID(), err)
			}
			return nil
		},
	} {
		if err := gone(); err != nil {
			errs = append(errs, err)
		}
	}
	switch _, found, err := realmAdmin(t).FindGroup(context.Background(), "auditors"); {
	case err != nil:
		errs = append(errs, fmt.Errorf("cannot look the group auditors up in Keycloak after the destroy: %w", err))
	case !found:
		errs = append(errs, errors.New("the destroy took the group auditors, which the examples do not manage"))
	}
	if err := errors.Join(errs...); err != nil {
		t.Errorf("left after the destroy of the doc examples:\n%v", err)
	}
}

// applyConverged applies the workspace and then plans it again, which must find nothing to do.
func (w *cliWorkspace) applyConverged(t *testing.T, what string) string {
	t.Helper()
	out := w.run(t, "apply", "-auto-approve", "-input=false")
	if strings.Contains(out, "Check block assertion failed") {
		t.Errorf("a check of %s failed:\n%s", what, out)
	}
	plan := w.command("plan", "-input=false", "-detailed-exitcode")
	planned, err := plan.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit) && exit.ExitCode() == 2:
		t.Fatalf("the plan after the apply of %s is not empty:\n%s", what, planned)
	case err != nil:
		t.Fatalf("tofu plan after the apply of %s: %v\n%s", what, err, planned)
	}
	return out
}

// outputs are the workspace's outputs of those names.
func (w *cliWorkspace) outputs(t *testing.T, names ...string) map[string]any {
	t.Helper()
	var all map[string]struct {
		Value any `json:"value"`
	}
	if err := json.Unmarshal([]byte(w.run(t, "output", "-json")), &all); err != nil {
		t.Fatal(err)
	}
	got := map[string]any{}
	for _, name := range names {
		if output, ok := all[name]; ok {
			got[name] = output.Value
		}
	}
	return got
}

// nonEmptyOutput stands for an output whose value is long and any non-empty string will do (the
// YAML of a catalog, which its own tests check).
const nonEmptyOutput = "(a non-empty string)"

var declaredOutput = regexp.MustCompile(`(?m)^output "([a-z0-9_]+)"`)

// checkDocExampleEffects checks what an applied page says (its outputs) and what it writes.
func checkDocExampleEffects(t *testing.T, w *cliWorkspace, page, config string) {
	t.Helper()
	var names []string
	for _, m := range declaredOutput.FindAllStringSubmatch(config, -1) {
		names = append(names, m[1])
	}
	got := w.outputs(t, names...)
	want := docExampleOutputs[page]
	for name, value := range want {
		if s, ok := got[name].(string); ok && value == nonEmptyOutput && s != "" {
			got[name] = nonEmptyOutput
		}
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("outputs of examples/%s (-want +got):\n%s", page, diff)
	}
	switch page {
	case "ephemeral-resources/idp_kubeconfig":
		config, err := clientcmd.LoadFromFile(filepath.Join(w.dir, "payments-dev.kubeconfig"))
		if err != nil {
			t.Fatalf("the kubeconfig the example writes: %v", err)
		}
		if context := config.Contexts[config.CurrentContext]; context == nil || config.Clusters[context.Cluster] == nil || !strings.HasPrefix(config.Clusters[context.Cluster].Server, "https://127.0.0.1:") {
			t.Errorf("the kubeconfig the example writes reaches no sandbox cluster: %+v", config.Clusters)
		}
	case "functions/policy_input":
		raw, err := os.ReadFile(filepath.Join(w.dir, "cluster-input.json"))
		if err != nil {
			t.Fatal(err)
		}
		var input struct {
			ResourceChanges []struct {
				Type string `json:"type"`
			} `json:"resource_changes"`
		}
		if err := json.Unmarshal(raw, &input); err != nil || len(input.ResourceChanges) != 1 || input.ResourceChanges[0].Type != "idp_cluster" {
			t.Errorf("cluster-input.json is no policy input of an idp_cluster (%v):\n%s", err, raw)
		}
	}
}

// docExamplePages are the example directories of the docs' pages, as examples/<kind>/<name>.
func docExamplePages(t *testing.T, root string) []string {
	t.Helper()
	pages := []string{"provider"}
	for _, kind := range []string{"resources", "data-sources", "ephemeral-resources", "functions"} {
		dirs, err := filepath.Glob(filepath.Join(root, kind, "*"))
		if err != nil {
			t.Fatal(err)
		}
		for _, dir := range dirs {
			rel, _ := filepath.Rel(root, dir)
			pages = append(pages, filepath.ToSlash(rel))
		}
	}
	return pages
}

// docExamplePage is a page's example as the reader fills it in, without the blocks of providers
// no registry here serves.
func docExamplePage(t *testing.T, root, page string, reader *strings.Replacer) string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(root, page, "*.tf"))
	if err != nil || len(files) == 0 {
		t.Fatalf("examples/%s holds no .tf file (%v)", page, err)
	}
	var config strings.Builder
	for _, file := range files {
		config.WriteString(readExample(t, file, reader))
	}
	if other, ok := docExamplesOtherProviders[page]; ok {
		return other.ReplaceAllString(config.String(), "\n")
	}
	return config.String()
}

func readExample(t *testing.T, file string, reader *strings.Replacer) string {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return reader.Replace(string(raw)) + "\n"
}

// docExampleReader fills in what the examples leave to their reader: the organisation's chart
// repository and registry (served here, with charts of this test's own making of the versions the
// examples pin) and the end of a grant, which must lie ahead.
func docExampleReader(t *testing.T) *strings.Replacer {
	t.Helper()
	cachePath, cacheDigest := fixtureReleaseChart(t, "redis", "19.6.4")
	cache, err := os.ReadFile(cachePath)
	if err != nil {
		t.Fatal(err)
	}
	repository := serveChartRepository(t, map[string]repositoryEntry{"redis": {archive: cache, digest: cacheDigest, version: "19.6.4"}})
	workerPath, workerDigest := fixtureReleaseChart(t, "worker", "2.1.0")
	worker := pushChart(t, workerPath, "worker")
	return strings.NewReplacer(
		`"https://charts.example.com/stable"`, fmt.Sprintf("%q", repository),
		`"oci://ghcr.io/acme/charts/worker"`, fmt.Sprintf("%q", worker),
		`"sha256:4f2c1b9e8d7a6f5e4d3c2b1a09f8e7d6c5b4a3928170f6e5d4c3b2a1908f7e6d"`, fmt.Sprintf("%q", workerDigest),
		`"2026-12-31T18:00:00Z"`, fmt.Sprintf("%q", time.Now().UTC().Add(30*24*time.Hour).Truncate(time.Hour).Format(time.RFC3339)),
	)
}

// fixtureReleaseChart packages a chart of this test's own making, a ConfigMap of its values, under the
// name and version of a chart an example releases from its organisation's repository.
func fixtureReleaseChart(t *testing.T, name, version string) (path, digest string) {
	t.Helper()
	ch := &chart.Chart{
		Metadata: &chart.Metadata{APIVersion: chart.APIVersionV2, Name: name, Version: version, Description: "A fixture of terraform-provider-idp's doc-example test."},
		Templates: []*common.File{{Name: "templates/configmap.yaml", Data: []byte(`apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}
data:
  values: {{ toYaml .Values | quote }}
`)}},
	}
	path, err := chartutil.Save(ch, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	archive, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(archive)
	return path, "sha256:" + hex.EncodeToString(sum[:])
}

// createGroupManagedElsewhere creates a Keycloak group the way its owners outside Terraform would.
func createGroupManagedElsewhere(t *testing.T, name string) {
	t.Helper()
	ctx := context.Background()
	group, err := realmAdmin(t).CreateGroup(ctx, name, nil)
	if err != nil {
		t.Fatalf("cannot create the Keycloak group %q: %v", name, err)
	}
	t.Cleanup(func() { _ = realmAdmin(t).DeleteGroup(context.Background(), group.ID) })
}
