package sandbox

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"sigs.k8s.io/yaml"
)

// crossplaneProviders are the Crossplane providers the sandbox runs as local processes against the
// management cluster, as a platform's Crossplane would run their packages: the AddonStack composition
// composes their Releases and Objects, which they apply to the workload clusters.
var crossplaneProviders = []string{"provider-helm", "provider-kubernetes"}

// ProviderPollInterval is how often the sandbox's providers check each managed resource for drift (an
// add-on deleted in a workload cluster comes back within about this long). Their default is 10 minutes.
const ProviderPollInterval = 10 * time.Second

// repoCommands are the programs of this repository the sandbox runs: the platform's own composition
// function and the access controller (the full sandbox's only). They are built from the checkout on
// every start (Go's build cache makes that quick), so a test always runs the code under test.
var repoCommands = []string{"function-addon-stack", "idp-access-controller"}

// buildRepoCommands builds repoCommands into the sandbox's bin directory and records them in bins.
func (s *Sandbox) buildRepoCommands(ctx context.Context, repoRoot string, bins map[string]string) error {
	if repoRoot == "" {
		var err error
		if repoRoot, err = findRepoRoot(); err != nil {
			return err
		}
	}
	out := filepath.Join(s.dir, "bin")
	for _, name := range repoCommands {
		cmd := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(out, name), "./cmd/"+name)
		cmd.Dir = repoRoot
		if output, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("cannot build cmd/%s: %w\n%s", name, err, output)
		}
		bins[name] = out
	}
	return nil
}

// startCrossplaneProviders installs the providers' CRDs in a management cluster and starts them. Only
// the full sandbox runs them: provider-kubernetes takes a fixed port (see providerKubernetesWebhookPort),
// so one machine runs one set.
func (s *Sandbox) startCrossplaneProviders(ctx context.Context, bins map[string]string, cp *controlPlane) error {
	var crds []string
	for _, provider := range crossplaneProviders {
		files, err := filepath.Glob(filepath.Join(bins[provider], crdsDir, "*.yaml"))
		if err != nil {
			return err
		}
		if len(files) == 0 {
			return fmt.Errorf("the build of %s holds no CRDs in %s", provider, filepath.Join(bins[provider], crdsDir))
		}
		for _, file := range files {
			installable, err := s.withoutConversionWebhook(file)
			if err != nil {
				return err
			}
			crds = append(crds, installable)
		}
	}
	if _, err := InstallCRDs(ctx, cp.restConfig, crds); err != nil {
		return fmt.Errorf("cannot install the providers' CRDs: %w", err)
	}
	for _, provider := range crossplaneProviders {
		healthPort, err := freePort()
		if err != nil {
			return err
		}
		args := []string{"--poll=" + ProviderPollInterval.String(), "--sync=1h"}
		env := []string{"KUBECONFIG=" + cp.kubeconfigPath}
		ready := func(context.Context) error { return nil }
		if provider == "provider-kubernetes" {
			// Its health probe would listen on :8081 on every interface; provider-helm serves none.
			health := "127.0.0.1:" + strconv.Itoa(healthPort)
			args = append(args, "--health-probe-bind-addr="+health)
			ready = func(ctx context.Context) error { return httpGetOK(ctx, http.DefaultClient, "http://"+health+"/readyz") }
			// It always serves its Objects' conversion webhook, with a certificate from this directory, on a
			// port it has no flag for; the sandbox registers no webhook, so nothing calls it.
			if err := portFree(providerKubernetesWebhookPort); err != nil {
				return fmt.Errorf("provider-kubernetes %s serves its webhook on port %d, which is taken (another sandbox?): %w", ProviderKubernetesVersion, providerKubernetesWebhookPort, err)
			}
			ca, err := newCertAuthority("provider-kubernetes webhook CA")
			if err != nil {
				return err
			}
			dir := filepath.Join(s.dir, "provider-kubernetes-tls")
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return err
			}
			if _, _, err := ca.issueFiles(dir, "tls", certRequest{commonName: "provider-kubernetes", hosts: []string{"127.0.0.1"}}); err != nil {
				return err
			}
			env = append(env, "TLS_SERVER_CERTS_DIR="+dir)
		}
		proc, err := s.start(provider, env, filepath.Join(bins[provider], provider), args...)
		if err != nil {
			return err
		}
		if err := proc.waitReady(ctx, time.Minute, ready); err != nil {
			return err
		}
	}
	return nil
}

// providerKubernetesWebhookPort is where provider-kubernetes serves webhooks (controller-runtime's default).
const providerKubernetesWebhookPort = 9443

// portFree reports an error when a TCP port cannot be listened on, on every interface.
func portFree(port int) error {
	listener, err := net.Listen("tcp", ":"+strconv.Itoa(port))
	if err != nil {
		return err
	}
	return listener.Close()
}

// withoutConversionWebhook returns a CRD file as the sandbox can install it. provider-kubernetes serves
// Objects at v1alpha1 and v1alpha2 through a conversion webhook its package manager wires up; the
// sandbox runs no webhooks, so such a CRD is installed without conversion (the composition uses only
// the storage version, v1alpha2).
func (s *Sandbox) withoutConversionWebhook(file string) (string, error) {
	raw, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	var crd map[string]any
	if err := yaml.Unmarshal(raw, &crd); err != nil {
		return "", fmt.Errorf("cannot parse %s: %w", file, err)
	}
	spec, _ := crd["spec"].(map[string]any)
	conversion, _ := spec["conversion"].(map[string]any)
	if conversion["strategy"] != "Webhook" {
		return file, nil
	}
	spec["conversion"] = map[string]any{"strategy": "None"}
	out, err := yaml.Marshal(crd)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(s.dir, "crds")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	installable := filepath.Join(dir, filepath.Base(file))
	return installable, os.WriteFile(installable, out, 0o600)
}

// crossplaneTools are the tools a sandbox with Crossplane builds: core and the composition functions not
// built from this repository. Only the full sandbox runs the providers (see startCrossplaneProviders).
func crossplaneTools() []string {
	tools := []string{"crossplane"}
	for _, fn := range compositionFunctions {
		if !strings.HasPrefix(fn.pkg, repoFunctionPackage) {
			tools = append(tools, fn.tool)
		}
	}
	return tools
}

// repoFunctionPackage prefixes the packages of the composition functions this repository ships.
const repoFunctionPackage = "xpkg.idp.dev/idp-platform/"
