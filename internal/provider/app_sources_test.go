package provider

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	"helm.sh/helm/v4/pkg/provenance"
	repo "helm.sh/helm/v4/pkg/repo/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/idp-platform/terraform-provider-idp/internal/catalog"
	"github.com/idp-platform/terraform-provider-idp/internal/helm"
	"github.com/idp-platform/terraform-provider-idp/internal/sandbox"
)

// packagedWebService packages the catalog's web-service chart as an archive, the way `helm package` does.
func packagedWebService(t *testing.T) (path string, digest string) {
	t.Helper()
	ch, err := catalog.Load("web-service", "1.0.0")
	if err != nil {
		t.Fatal(err)
	}
	path, err = chartutil.Save(ch, t.TempDir())
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

// chartRepository serves an HTTP chart repository: index.yaml and the archives it lists. Each entry maps
// a chart name to the archive served for it and the digest its index entry gives.
type repositoryEntry struct {
	archive []byte
	digest  string
	// prov is the provenance file served beside the archive; none when nil.
	prov []byte
	// version is the chart's version in the index; 1.0.0 when empty.
	version string
}

func serveChartRepository(t *testing.T, entries map[string]repositoryEntry) string {
	t.Helper()
	index := repo.NewIndexFile()
	mux := http.NewServeMux()
	for name, entry := range entries {
		version := entry.version
		if version == "" {
			version = "1.0.0"
		}
		file := name + "-" + version + ".tgz"
		index.Entries[name] = repo.ChartVersions{{
			Metadata: &chart.Metadata{Name: name, Version: version, APIVersion: "v2"},
			URLs:     []string{"charts/" + file},
			Digest:   entry.digest,
		}}
		archive := entry.archive
		mux.HandleFunc("/charts/"+file, func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(archive) })
		if prov := entry.prov; prov != nil {
			mux.HandleFunc("/charts/"+file+".prov", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(prov) })
		}
	}
	raw, err := yaml.Marshal(index)
	if err != nil {
		t.Fatal(err)
	}
	mux.HandleFunc("/index.yaml", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(raw) })
	server := httptest.NewServer(mux)
	t.Cleanup(server.Close)
	return server.URL
}

// pushChart pushes the archive of the chart name to the sandbox's OCI registry with the helm CLI and
// returns the chart's oci:// reference.
func pushChart(t *testing.T, archive, name string) string {
	t.Helper()
	registry := os.Getenv(sandbox.EnvRegistryHost)
	home := t.TempDir()
	cmd := exec.Command(os.Getenv(sandbox.EnvHelm), "push", archive, "oci://"+registry+"/charts", "--plain-http")
	cmd.Env = append(os.Environ(), "HELM_CONFIG_HOME="+home, "HELM_CACHE_HOME="+home, "HELM_DATA_HOME="+home)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("helm push: %v\n%s", err, out)
	}
	return "oci://" + registry + "/charts/" + name
}

func TestAccAppChartSources(t *testing.T) {
	requireAcc(t)
	const cluster, namespace = "acc-sources", "sources"
	archivePath, digest := packagedWebService(t)
	archive, err := os.ReadFile(archivePath)
	if err != nil {
		t.Fatal(err)
	}
	tampered := append([]byte{}, archive...)
	tampered[len(tampered)/2] ^= 0xff
	oversized := make([]byte, helm.MaxChartArchiveBytes+1)
	if _, err := rand.Read(oversized); err != nil {
		t.Fatal(err)
	}
	repository := serveChartRepository(t, map[string]repositoryEntry{
		"web-service": {archive: archive, digest: digest},
		"tampered":    {archive: tampered, digest: digest},
		"oversized":   {archive: oversized},
	})
	oci := pushChart(t, archivePath, "web-service")

	app := func(name, chart string) string {
		return fmt.Sprintf(`
resource "idp_app" %[1]q {
  cluster   = idp_cluster.workload.name
  namespace = %[2]q
  name      = %[1]q
  chart     = %[3]s
  values    = %[4]s
}
`, name, namespace, chart, webServiceValues("1"))
	}
	fromRepository := app("from-repo", fmt.Sprintf(`{ repository = %q, name = "web-service", version = "1.0.0" }`, repository))
	fromOCI := app("from-oci", fmt.Sprintf(`{ oci = %q, version = "1.0.0", digest = %q }`, oci, digest))
	config := workloadClusterConfig(cluster) + fromRepository + fromOCI

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		TerraformVersionChecks:   writeOnlyCLIs,
		CheckDestroy: resource.ComposeTestCheckFunc(
			checkReleaseGone(t, namespace, "from-repo"), checkReleaseGone(t, namespace, "from-oci"), checkClustersGone(t, cluster)),
		Steps: []resource.TestStep{
			{
				Config: config,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("idp_app.from-repo", tfjsonpath.New("chart_version"), knownvalue.StringExact("1.0.0")),
					statecheck.ExpectKnownValue("idp_app.from-repo", tfjsonpath.New("status"), knownvalue.StringExact("deployed")),
					statecheck.ExpectKnownValue("idp_app.from-oci", tfjsonpath.New("chart_version"), knownvalue.StringExact("1.0.0")),
					statecheck.ExpectKnownValue("idp_app.from-oci", tfjsonpath.New("status"), knownvalue.StringExact("deployed")),
				},
				Check: resource.ComposeTestCheckFunc(checkAvailable(t, namespace, "from-repo", 1), checkAvailable(t, namespace, "from-oci", 1)),
			},
			{
				// A version that the repository does not have fails the plan and names what it has.
				Config:      workloadClusterConfig(cluster) + app("from-repo", fmt.Sprintf(`{ repository = %q, name = "web-service", version = "9.9.9" }`, repository)) + fromOCI,
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`no version 9.9.9 of chart "web-service"\s+\(it has 1.0.0\)`),
			},
			{
				// An archive that does not match the repository's index is refused at plan.
				Config:      config + app("tampered", fmt.Sprintf(`{ repository = %q, name = "tampered", version = "1.0.0" }`, repository)),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`not\s+the\s+repository\s+index's(?s:.*)changed\s+or\s+corrupted`),
			},
			{
				// An archive over the size limit is refused while it downloads.
				Config:      config + app("oversized", fmt.Sprintf(`{ repository = %q, name = "oversized", version = "1.0.0" }`, repository)),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`more\s+than\s+the\s+\d+\s+bytes\s+allowed`),
			},
			{
				// A pinned digest the registry's chart does not have is refused at plan.
				Config:      workloadClusterConfig(cluster) + fromRepository + app("from-oci", fmt.Sprintf(`{ oci = %q, version = "1.0.0", digest = "sha256:%064d" }`, oci, 0)),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`has digest\s+sha256:[0-9a-f]{64},\s+not\s+the\s+pinned\s+digest`),
			},
		},
	})
}

// helmCLI runs the sandbox's helm CLI against the workload cluster, with its own empty configuration.
func helmCLI(t *testing.T, args ...string) {
	t.Helper()
	home := t.TempDir()
	cmd := exec.Command(os.Getenv(sandbox.EnvHelm), append(args, "--kubeconfig", os.Getenv(sandbox.EnvWorkloadKubeconfig))...)
	cmd.Env = append(os.Environ(), "HELM_CONFIG_HOME="+home, "HELM_CACHE_HOME="+home, "HELM_DATA_HOME="+home)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("helm %v: %v\n%s", args, err, out)
	}
}

// TestAccAppImportHelmCLIRelease imports a release that the helm CLI made, which is how a team moves a
// release from the helm CLI (or the helm provider, which stores releases the same way) to idp_app.
func TestAccAppImportHelmCLIRelease(t *testing.T) {
	requireAcc(t)
	const cluster, namespace, name = "acc-cli-import", "migrated", "api"
	archive, _ := packagedWebService(t)
	config := workloadClusterConfig(cluster) + fmt.Sprintf(`
resource "idp_app" "api" {
  cluster   = idp_cluster.workload.name
  namespace = %q
  name      = %q
  chart     = { catalog = "web-service", version = "1.0.0" }
  values    = %s
}
`, namespace, name, webServiceValues("2"))
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		TerraformVersionChecks:   writeOnlyCLIs,
		CheckDestroy:             resource.ComposeTestCheckFunc(checkReleaseGone(t, namespace, name), checkClustersGone(t, cluster)),
		Steps: []resource.TestStep{
			{
				// The cluster first; the release is made beside Terraform, by the helm CLI.
				Config: workloadClusterConfig(cluster),
			},
			{
				PreConfig: func() {
					helmCLI(t, "install", name, archive, "--namespace", namespace, "--create-namespace", "--wait",
						"--set", "image.repository=ghcr.io/acme/api", "--set", "image.tag=2.3.1", "--set", "replicas=1")
				},
				Config:             config,
				ResourceName:       "idp_app.api",
				ImportState:        true,
				ImportStateId:      cluster + "/" + namespace + "/" + name,
				ImportStatePersist: true,
				ImportStateCheck: func(states []*terraform.InstanceState) error {
					var imported *terraform.InstanceState
					for _, state := range states {
						if state.ID == cluster+"/"+namespace+"/"+name {
							imported = state
						}
					}
					if imported == nil {
						return fmt.Errorf("no imported release among %d states", len(states))
					}
					want := map[string]string{
						"revision": "1", "status": "deployed", "chart_version": "1.0.0", "chart.catalog": "web-service",
						"resources.#": "3",
					}
					for key, value := range want {
						if got := imported.Attributes[key]; got != value {
							return fmt.Errorf("imported %s = %q, want %q", key, got, value)
						}
					}
					// The values are not imported (they may hold secrets); their digest stands in for them.
					if got := imported.Attributes["values"]; !regexp.MustCompile(`^# the values of the imported release, pbkdf2-sha256:[0-9a-f]{64}$`).MatchString(got) {
						return fmt.Errorf("imported values = %q, want the digest of the release's values", got)
					}
					if strings.Contains(imported.Attributes["values"], "ghcr.io/acme/api") {
						return fmt.Errorf("the imported state holds the release's values")
					}
					return nil
				},
			},
			{
				// The first apply upgrades the release to the configuration (two replicas), and from then on
				// Terraform manages it.
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("idp_app.api", plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("idp_app.api", tfjsonpath.New("revision"), knownvalue.Int64Exact(2)),
				},
				Check: checkAvailable(t, namespace, name, 2),
			},
		},
	})
}

// TestAccAppImportMatchingRelease imports a release the helm CLI made with exactly the chart and values
// the configuration states, as Helm v4 stores it and rewritten as Helm v3 stored it: the plan after the
// import is empty (no new revision), and a change of values afterwards upgrades it as usual.
func TestAccAppImportMatchingRelease(t *testing.T) {
	requireAcc(t)
	archive, _ := packagedWebService(t)
	valuesFile := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(valuesFile, []byte("image:\n  repository: ghcr.io/acme/api\n  tag: 2.3.1\nreplicas: 2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		namespace string
		// storedAs rewrites the release record the helm CLI wrote, as another Helm would have written it.
		storedAs func(t *testing.T, namespace, name string)
	}{
		"HelmV4":              {namespace: "matched-v4", storedAs: func(*testing.T, string, string) {}},
		"HelmV3StorageFormat": {namespace: "matched-v3", storedAs: storeAsHelmV3},
	}
	for caseName, tc := range cases {
		t.Run(caseName, func(t *testing.T) {
			const cluster, name = "acc-cli-match", "api"
			config := func(replicas string) string {
				return workloadClusterConfig(cluster) + fmt.Sprintf(`
resource "idp_app" "api" {
  cluster   = idp_cluster.workload.name
  namespace = %q
  name      = %q
  chart     = { catalog = "web-service", version = "1.0.0" }
  values    = %s
}
`, tc.namespace, name, webServiceValues(replicas))
			}
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviders,
				TerraformVersionChecks:   writeOnlyCLIs,
				CheckDestroy:             resource.ComposeTestCheckFunc(checkReleaseGone(t, tc.namespace, name), checkClustersGone(t, cluster)),
				Steps: []resource.TestStep{
					{Config: workloadClusterConfig(cluster)},
					{
						PreConfig: func() {
							helmCLI(t, "install", name, archive, "--namespace", tc.namespace, "--create-namespace", "--wait", "--values", valuesFile)
							tc.storedAs(t, tc.namespace, name)
						},
						Config:             config("2"),
						ResourceName:       "idp_app.api",
						ImportState:        true,
						ImportStateId:      cluster + "/" + tc.namespace + "/" + name,
						ImportStatePersist: true,
					},
					{
						Config: config("2"),
						ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
							plancheck.ExpectEmptyPlan(),
						}},
						ConfigStateChecks: []statecheck.StateCheck{
							statecheck.ExpectKnownValue("idp_app.api", tfjsonpath.New("revision"), knownvalue.Int64Exact(1)),
						},
						Check: checkAvailable(t, tc.namespace, name, 2),
					},
					{
						Config: config("3"),
						ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
							plancheck.ExpectResourceAction("idp_app.api", plancheck.ResourceActionUpdate),
						}},
						ConfigStateChecks: []statecheck.StateCheck{
							statecheck.ExpectKnownValue("idp_app.api", tfjsonpath.New("revision"), knownvalue.Int64Exact(2)),
						},
						Check: checkAvailable(t, tc.namespace, name, 3),
					},
				},
			})
		})
	}
}

// storeAsHelmV3 rewrites the first revision of a release as Helm v3 stored it: without the apply method
// Helm v4 records, and with v3's zero times instead of absent ones.
func storeAsHelmV3(t *testing.T, namespace, name string) {
	t.Helper()
	secrets := workloadClient(t).CoreV1().Secrets(namespace)
	ctx := context.Background()
	secret, err := secrets.Get(ctx, "sh.helm.release.v1."+name+".v1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	compressed, err := base64.StdEncoding.DecodeString(string(secret.Data["release"]))
	if err != nil {
		t.Fatal(err)
	}
	reader, err := gzip.NewReader(bytes.NewReader(compressed))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(reader)
	if err != nil {
		t.Fatal(err)
	}
	var record map[string]any
	if err := json.Unmarshal(raw, &record); err != nil {
		t.Fatal(err)
	}
	if _, ok := record["apply_method"]; !ok {
		t.Fatalf("the helm CLI's record has no apply_method, so it is not the v4 format this test rewrites: %v", keysOf(record))
	}
	delete(record, "apply_method")
	info, _ := record["info"].(map[string]any)
	info["deleted"] = "0001-01-01T00:00:00Z"
	if raw, err = json.Marshal(record); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	writer := gzip.NewWriter(&buf)
	if _, err := writer.Write(raw); err != nil {
		t.Fatal(err)
	}
	if err := writer.Close(); err != nil {
		t.Fatal(err)
	}
	secret.Data["release"] = []byte(base64.StdEncoding.EncodeToString(buf.Bytes()))
	if _, err := secrets.Update(ctx, secret, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func keysOf(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// TestAccAppProvenance configures the provider with a keyring (through IDP_HELM_KEYRING): a signed chart
// installs, an unsigned one fails the plan.
func TestAccAppProvenance(t *testing.T) {
	requireAcc(t)
	const cluster, namespace = "acc-provenance", "provenance"
	signer, err := openpgp.NewEntity("Platform charts", "", "charts@idp.dev", nil)
	if err != nil {
		t.Fatal(err)
	}
	var publicKey bytes.Buffer
	if err := signer.Serialize(&publicKey); err != nil {
		t.Fatal(err)
	}
	keyring := filepath.Join(t.TempDir(), "pubring.gpg")
	if err := os.WriteFile(keyring, publicKey.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("IDP_HELM_KEYRING", keyring)

	archivePath, digest := packagedWebService(t)
	archive, err := os.ReadFile(archivePath)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := catalog.Load("web-service", "1.0.0")
	if err != nil {
		t.Fatal(err)
	}
	metadata, err := yaml.Marshal(ch.Metadata)
	if err != nil {
		t.Fatal(err)
	}
	prov, err := (&provenance.Signatory{Entity: signer}).ClearSign(archive, "web-service-1.0.0.tgz", metadata)
	if err != nil {
		t.Fatal(err)
	}
	repository := serveChartRepository(t, map[string]repositoryEntry{
		"web-service": {archive: archive, digest: digest, prov: []byte(prov)},
		"unsigned":    {archive: archive, digest: digest},
	})
	app := func(chartName string) string {
		return workloadClusterConfig(cluster) + fmt.Sprintf(`
resource "idp_app" "signed" {
  cluster   = idp_cluster.workload.name
  namespace = %q
  name      = "signed"
  chart     = { repository = %q, name = %q, version = "1.0.0" }
  values    = %s
}
`, namespace, repository, chartName, webServiceValues("1"))
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		TerraformVersionChecks:   writeOnlyCLIs,
		CheckDestroy:             resource.ComposeTestCheckFunc(checkReleaseGone(t, namespace, "signed"), checkClustersGone(t, cluster)),
		Steps: []resource.TestStep{
			{
				Config: app("web-service"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("idp_app.signed", tfjsonpath.New("status"), knownvalue.StringExact("deployed")),
				},
			},
			{
				Config:      app("unsigned"),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`provenance\s+file`),
			},
		},
	})
}
