package sandbox

import (
	"context"
	"slices"
	"strings"
)

// The versions of everything the sandbox runs. Go-built tools are pinned by the go.mod of their wrapper
// module under tools/<name>; the constants below repeat those pins so they are recorded in one place,
// and TestToolPinsMatchVersions keeps the two from drifting apart.
const (
	EtcdVersion       = "v3.6.16"
	KubernetesVersion = "v1.34.4"
	VaultVersion      = "v1.13.0"
	OpenTofuVersion   = "v1.12.6"
	TerraformVersion  = "v1.5.7"
	KwokVersion       = "v0.8.0"
	// RegistryVersion is the distribution (OCI) registry the chart tests push to and pull from.
	RegistryVersion = "v3.1.2"
	// HelmVersion is both the SDK the provider links and the CLI the import tests release with.
	HelmVersion = "v4.3.1"
	// CrossplaneVersion is the Crossplane core whose CRDs validate the shipped XRD and Compositions.
	CrossplaneVersion = "v2.3.4"
	// The composition functions the Compositions in crossplane/ run and the sandbox builds and runs
	// for Crossplane core: the newest versions whose module archives the proxy serves (it refuses
	// function-patch-and-transform after v0.5.0 and function-go-templating at every version).
	FunctionPatchAndTransformVersion = "v0.5.0"
	FunctionAutoReadyVersion         = "v0.5.0"
	// The Crossplane providers the AddonStack composition composes for: their managed resources
	// release charts into and apply objects to the workload clusters. provider-kubernetes v1.3.1 to
	// v1.4.1 need Go 1.27 and github.com/nebius/gosdk v0.2.28, whose archive the proxy refuses (403, as
	// every other gosdk version tried); v1.2.0 is the newest that builds.
	ProviderHelmVersion       = "v1.2.0"
	ProviderKubernetesVersion = "v1.2.0"

	// KubeloginVersion is the kubectl OIDC plugin (kubectl oidc-login) users log in to clusters with,
	// which the access tests drive as a user would. The module proxy here has no checksum database
	// entry for github.com/int128/kubelogin at this version (its dependencies have theirs), so its hash
	// in tools/kubelogin/go.sum is the one of the proxy's archive, taken with GONOSUMDB for that module.
	KubeloginVersion = "v1.34.0"
	// ConftestVersion runs the policy library on `tofu show -json` as Atlantis's policy_check does, for
	// the test that the provider and conftest reach the same verdicts.
	ConftestVersion = "v0.71.1"

	// The pull-request pipeline the Atlantis test drives: a Git server with Gitea's API, and Atlantis,
	// which plans and applies on its webhooks. Gitea v1.27.3's go.mod declares the module gitea.dev,
	// so code.gitea.io/gitea@v1.27.3 cannot be required, and the proxy refuses gitea.dev@v1.27.3 (403);
	// v1.26.0 is the newest code.gitea.io release that resolves.
	GiteaVersion    = "v1.26.0"
	AtlantisVersion = "v0.47.1"

	// Keycloak is not a Go program: its distribution comes from Maven Central.
	KeycloakVersion  = "26.5.6"
	keycloakArtifact = "org.keycloak:keycloak-quarkus-dist:" + KeycloakVersion + ":zip"
)

// sandboxTool is a wrapper module under tools/<name> that the sandbox builds: the module and version
// its go.mod must require (TestToolPinsMatchVersions keeps the two in step) and what its build needs.
type sandboxTool struct {
	name, module, version string
	// ldflags are link flags beyond stripping symbols.
	ldflags string
	// tags are the build tags the tool needs.
	tags string
	// renames fixes binary names that go build derives from the package path.
	renames map[string]string
	// after completes a build in its output directory, e.g. with files the binaries read at run time.
	after func(ctx context.Context, moduleDir, outDir string) error
}

// sandboxTools are the tools the sandbox builds, in the order it starts their builds.
var sandboxTools = []sandboxTool{
	// etcd's main package is go.etcd.io/etcd/server/v3, which builds as "server".
	{name: "etcd", module: "go.etcd.io/etcd/server/v3", version: EtcdVersion, renames: map[string]string{"server": "etcd"}},
	// kubectl and client-go parse the server's version; without these flags it reports v0.0.0-master.
	{name: "kubernetes", module: "k8s.io/kubernetes", version: KubernetesVersion, ldflags: kubernetesVersionFlags()},
	{name: "kwok", module: "sigs.k8s.io/kwok", version: KwokVersion, after: writeKwokStages},
	// The package manager checks a package's Crossplane version constraint against core's version, which
	// is empty unless linked in.
	{name: "crossplane", module: "github.com/crossplane/crossplane/v2", version: CrossplaneVersion,
		ldflags: " -X github.com/crossplane/crossplane-runtime/v2/pkg/version.version=" + CrossplaneVersion,
		after:   copyModuleCRDs("github.com/crossplane/crossplane/v2", "cluster/crds")},
	{name: "function-patch-and-transform", module: "github.com/crossplane-contrib/function-patch-and-transform", version: FunctionPatchAndTransformVersion},
	// function-auto-ready's module declares the crossplane path; tools/function-auto-ready replaces it
	// with the crossplane-contrib archive.
	{name: "function-auto-ready", module: "github.com/crossplane/function-auto-ready", version: FunctionAutoReadyVersion},
	// Both providers build as "provider". Their controller-runtime serves metrics on :8080 unless told
	// otherwise, and neither has a flag for it, so two of them cannot run side by side: "0" turns it off.
	{name: "provider-helm", module: "github.com/crossplane-contrib/provider-helm", version: ProviderHelmVersion,
		ldflags: controllerMetricsOff, renames: map[string]string{"provider": "provider-helm"}, after: copyModuleCRDs("github.com/crossplane-contrib/provider-helm", "package/crds")},
	{name: "provider-kubernetes", module: "github.com/crossplane-contrib/provider-kubernetes", version: ProviderKubernetesVersion,
		ldflags: controllerMetricsOff, renames: map[string]string{"provider": "provider-kubernetes"}, after: copyModuleCRDs("github.com/crossplane-contrib/provider-kubernetes", "package/crds")},
	{name: "vault", module: "github.com/hashicorp/vault", version: VaultVersion},
	{name: "registry", module: "github.com/distribution/distribution/v3", version: RegistryVersion},
	// Without this flag OpenTofu reports itself as a development build.
	{name: "tofu", module: "github.com/opentofu/opentofu", version: OpenTofuVersion, ldflags: " -X github.com/opentofu/opentofu/version.dev=no"},
	// Helm reports this version and stamps it into the releases it makes.
	{name: "helm", module: "helm.sh/helm/v4", version: HelmVersion, ldflags: " -X helm.sh/helm/v4/internal/version.version=" + HelmVersion},
	// kubectl finds a plugin by its binary's name; kubelogin reports "HEAD" without the version flag.
	{name: "kubelogin", module: "github.com/int128/kubelogin", version: KubeloginVersion,
		ldflags: " -X main.version=" + KubeloginVersion, renames: map[string]string{"kubelogin": KubeloginBinary}},
}

// lateTools are what only some acceptance tests run, in the order those tests come: conftest, which the
// pull-request pipeline's Atlantis and the policy test run, the pipeline's Gitea and Atlantis, and
// Terraform 1.5.7 beside OpenTofu. Start does not build them (it names where they go): make testacc
// builds them beside the tests that come first (`idp-sandbox build late`), and each test that runs one
// waits for its build with BuildTools; `up` does not run them.
var lateTools = []sandboxTool{
	{name: "conftest", module: "github.com/open-policy-agent/conftest", version: ConftestVersion},
	// SQLite (cgo, mattn/go-sqlite3) sits behind Gitea's sqlite tag. Without the bindata tag, whose
	// embedded assets a module archive lacks, Gitea reads its templates and options from disk.
	{name: "gitea", module: "code.gitea.io/gitea", version: GiteaVersion, tags: "sqlite sqlite_unlock_notify",
		ldflags: " -X main.Version=" + strings.TrimPrefix(GiteaVersion, "v"), after: copyGiteaAssets},
	{name: "atlantis", module: "github.com/runatlantis/atlantis", version: AtlantisVersion},
	{name: "terraform", module: "github.com/hashicorp/terraform", version: TerraformVersion},
}

// pipelineTools are the late tools StartPipeline runs.
var pipelineTools = []string{"gitea", "atlantis"}

// developmentTools are the wrapper modules under tools/<name> that `make checks` and `make docs` run with
// `go tool` or `go build`, outside the sandbox; they are recorded here with the sandbox's so that every
// pin is in one place (TestToolPinsMatchVersions checks them too).
var developmentTools = []sandboxTool{
	{name: "golangci-lint", module: "github.com/golangci/golangci-lint/v2", version: "v2.15.0"},
	{name: "tfplugindocs", module: "github.com/hashicorp/terraform-plugin-docs", version: "v0.24.0"},
	// terraform-docs writes the catalog modules' README tables (modules/.terraform-docs.yml).
	{name: "terraform-docs", module: "github.com/terraform-docs/terraform-docs", version: "v0.20.0"},
	// goreleaser builds the release archives, checksums and signature (.goreleaser.yml, make release).
	{name: "goreleaser", module: "github.com/goreleaser/goreleaser/v2", version: "v2.15.1"},
}

// npmTools are the npm packages under tools/<name>, installed with `npm ci` from its package-lock.json;
// TestToolPinsMatchVersions checks both files name this exact version.
var npmTools = []sandboxTool{
	// The Backstage validators the idp_catalog tests run on every entity the data source emits.
	{name: "backstage", module: "@backstage/catalog-model", version: "1.10.3"},
}

// KubeloginBinary is kubelogin's binary as kubectl finds the plugin `kubectl oidc-login`.
const KubeloginBinary = "kubectl-oidc_login"

const controllerMetricsOff = " -X sigs.k8s.io/controller-runtime/pkg/metrics/server.DefaultBindAddress=0"

func kubernetesVersionFlags() string {
	minor := strings.Split(KubernetesVersion, ".")[1]
	return " -X k8s.io/component-base/version.gitVersion=" + KubernetesVersion +
		" -X k8s.io/component-base/version.gitMajor=1" +
		" -X k8s.io/component-base/version.gitMinor=" + minor +
		" -X k8s.io/component-base/version.gitTreeState=clean"
}

// toolNamed is the entry of sandboxTools or lateTools for a wrapper module.
func toolNamed(name string) (sandboxTool, bool) {
	for _, tool := range slices.Concat(sandboxTools, lateTools) {
		if tool.name == name {
			return tool, true
		}
	}
	return sandboxTool{}, false
}

// toolNames are the names of tools, in their order.
func toolNames(tools []sandboxTool) []string {
	names := make([]string, len(tools))
	for i, tool := range tools {
		names[i] = tool.name
	}
	return names
}

// javaHomes are the JDKs Keycloak is started with, most preferred first; Keycloak 26.5 runs on 21 and 25.
var javaHomes = []string{
	"/usr/lib/jvm/temurin-25-jdk-amd64",
	"/usr/lib/jvm/temurin-21-jdk-amd64",
	"/usr/lib/jvm/java-21-openjdk-amd64",
	"/usr/lib/jvm/java-17-openjdk-amd64",
}
