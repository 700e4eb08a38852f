package sandbox

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	vaultapi "github.com/hashicorp/vault/api"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"
)

// StartDetachedSimulator starts the cloud simulator of a detached sandbox as a process of its own:
// executable (the idp-sandbox command) run with the arguments args, recorded like the sandbox's other
// processes so that `down` stops it.
func StartDetachedSimulator(stateDir, executable string, args ...string) error {
	_, err := startProcess("cloud-simulator", filepath.Join(stateDir, "logs"), filepath.Join(stateDir, "pids"), nil, executable, args...)
	return err
}

// RunCloudSimulator runs the cloud simulator for the detached sandbox in stateDir until ctx ends, then
// stops the workload clusters it started.
func RunCloudSimulator(ctx context.Context, stateDir string, log io.Writer) error {
	env, err := ReadEnvFile(filepath.Join(stateDir, "env"))
	if err != nil {
		return err
	}
	cacheDir, err := defaultCacheDir()
	if err != nil {
		return err
	}
	repoRoot, err := findRepoRoot()
	if err != nil {
		return err
	}
	s := &Sandbox{dir: stateDir, cacheDir: cacheDir, log: log}
	builder := &toolBuilder{repoRoot: repoRoot, cacheDir: cacheDir, log: s.logf}
	bins, err := builder.buildAll(ctx, []string{"kubernetes", "kwok"})
	if err != nil {
		return err
	}
	if issuer, caFile := env[EnvKeycloakIssuer], env[EnvKeycloakCAFile]; issuer != "" && caFile != "" {
		caPEM, err := os.ReadFile(caFile)
		if err != nil {
			return err
		}
		s.oidc = &oidcIssuer{issuerURL: issuer, caPEM: caPEM, caFile: caFile}
	}
	config, err := clientcmd.BuildConfigFromFlags("", env["IDP_MANAGEMENT_CLUSTER_KUBECONFIG_PATH"])
	if err != nil {
		return err
	}
	if err := s.startCloudSimulator(bins, env[EnvEtcdURL], &controlPlane{name: "management", restConfig: config}); err != nil {
		return err
	}
	s.logf("cloud simulator running for %s", stateDir)
	<-ctx.Done()
	s.stopSimulator()
	return nil
}

// DemoCredentials is where InstallPlatform stores made-up AWS credentials for the quickstart.
const DemoCredentials = "aws/demo"

// InstallPlatform makes the management cluster of the detached sandbox in stateDir what a platform
// team's is (InstallPlatformManifests) and stores made-up AWS credentials in Vault at DemoCredentials for
// the quickstart.
func InstallPlatform(ctx context.Context, stateDir string, manifests map[string][]byte, order []string) error {
	env, err := ReadEnvFile(filepath.Join(stateDir, "env"))
	if err != nil {
		return err
	}
	config, err := clientcmd.BuildConfigFromFlags("", env["IDP_MANAGEMENT_CLUSTER_KUBECONFIG_PATH"])
	if err != nil {
		return err
	}
	if err := InstallPlatformManifests(ctx, config, manifests, order); err != nil {
		return err
	}
	vaultConfig := vaultapi.DefaultConfig()
	vaultConfig.Address = env["IDP_VAULT_ADDRESS"]
	vault, err := vaultapi.NewClient(vaultConfig)
	if err != nil {
		return err
	}
	vault.SetToken(env[EnvVaultRootToken])
	if _, err := vault.KVv2("secret").Put(ctx, "idp/credentials/"+DemoCredentials, map[string]any{
		"aws_access_key_id": "AKIASANDBOXDEMO", "aws_secret_access_key": "sandbox-demo-" + randomToken(8),
	}); err != nil {
		return fmt.Errorf("cannot store the demo credentials: %w", err)
	}
	return nil
}

// InstallPlatformManifests installs what a platform team's management cluster has beside Crossplane:
// the cloud providers' CRDs (which the Upbound providers install; the cloud simulator plays them) and
// the platform's definitions and compositions (crossplane.Manifests, passed in: the sandbox does not
// import the product). Objects that exist are left alone. It returns once Crossplane serves the kinds.
func InstallPlatformManifests(ctx context.Context, config *rest.Config, manifests map[string][]byte, order []string) error {
	files, err := ProviderCRDFiles()
	if err != nil {
		return err
	}
	if _, err := InstallCRDs(ctx, config, files); err != nil {
		return err
	}
	client, err := dynamic.NewForConfig(config)
	if err != nil {
		return err
	}
	kinds := map[string]schema.GroupVersionResource{
		"CompositeResourceDefinition": {Group: "apiextensions.crossplane.io", Version: "v2", Resource: "compositeresourcedefinitions"},
		"Composition":                 {Group: "apiextensions.crossplane.io", Version: "v1", Resource: "compositions"},
	}
	for _, file := range order {
		for _, doc := range strings.Split(string(manifests[file]), "\n---\n") {
			object := &unstructured.Unstructured{}
			if err := yaml.Unmarshal([]byte(doc), &object.Object); err != nil {
				return fmt.Errorf("%s: %w", file, err)
			}
			gvr, ok := kinds[object.GetKind()]
			if !ok {
				continue // Functions: the sandbox runs them
			}
			if _, err := client.Resource(gvr).Create(ctx, object, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
				return fmt.Errorf("cannot install %s: %w", file, err)
			}
		}
	}
	clusters := schema.GroupVersionResource{Group: "platform.idp.dev", Version: "v1alpha1", Resource: "kubernetesclusters"}
	for {
		_, err := client.Resource(clusters).List(ctx, metav1.ListOptions{})
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("crossplane never served KubernetesCluster: %w", err)
		case <-time.After(250 * time.Millisecond):
		}
	}
}
