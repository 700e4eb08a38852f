package sandbox

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

	// Keycloak is not a Go program: its distribution comes from Maven Central.
	KeycloakVersion  = "26.5.6"
	keycloakArtifact = "org.keycloak:keycloak-quarkus-dist:" + KeycloakVersion + ":zip"
)

// toolPins maps each wrapper module under tools/ to the module and version its go.mod must require.
var toolPins = map[string]struct{ module, version string }{
	"etcd":                         {"go.etcd.io/etcd/server/v3", EtcdVersion},
	"kubernetes":                   {"k8s.io/kubernetes", KubernetesVersion},
	"vault":                        {"github.com/hashicorp/vault", VaultVersion},
	"tofu":                         {"github.com/opentofu/opentofu", OpenTofuVersion},
	"terraform":                    {"github.com/hashicorp/terraform", TerraformVersion},
	"kwok":                         {"sigs.k8s.io/kwok", KwokVersion},
	"registry":                     {"github.com/distribution/distribution/v3", RegistryVersion},
	"helm":                         {"helm.sh/helm/v4", HelmVersion},
	"crossplane":                   {"github.com/crossplane/crossplane/v2", CrossplaneVersion},
	"function-patch-and-transform": {"github.com/crossplane-contrib/function-patch-and-transform", FunctionPatchAndTransformVersion},
	// function-auto-ready's module declares the crossplane path; tools/function-auto-ready replaces it
	// with the crossplane-contrib archive.
	"function-auto-ready": {"github.com/crossplane/function-auto-ready", FunctionAutoReadyVersion},
}

// javaHomes are the JDKs Keycloak is started with, most preferred first; Keycloak 26.5 runs on 21 and 25.
var javaHomes = []string{
	"/usr/lib/jvm/temurin-25-jdk-amd64",
	"/usr/lib/jvm/temurin-21-jdk-amd64",
	"/usr/lib/jvm/java-21-openjdk-amd64",
	"/usr/lib/jvm/java-17-openjdk-amd64",
}
