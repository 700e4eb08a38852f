package sandbox

import (
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// crossplaneProviders are the Crossplane providers the sandbox runs as local processes against the
// management cluster, as a platform's Crossplane would run their packages: the AddonStack composition
// composes their Releases and Objects, which they apply to the workload clusters.
var crossplaneProviders = []string{"provider-helm", "provider-kubernetes"}

// ProviderPollInterval is how often the sandbox's providers check each managed resource for drift (an
// add-on deleted in a workload cluster comes back within about this long). Their default is 10 minutes.
const ProviderPollInterval = 10 * time.Second

// repoCommands are the programs of this repository the sandbox runs: the platform's own composition
// function. They are built from the checkout on every start (Go's build cache makes that quick), so a
// test always runs the code under test.
var repoCommands = []string{"function-addon-stack"}

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

// startCrossplaneProviders installs the providers' CRDs in a management cluster and starts them.
func (s *Sandbox) startCrossplaneProviders(ctx context.Context, bins map[string]string, cp *controlPlane) error {
	var crds []string
	for _, provider := range crossplaneProviders {
		files, err := filepath.Glob(filepath.Join(bins[provider], crdsDir, "*.yaml"))
		if err != nil || len(files) == 0 {
			return fmt.Errorf("the build of %s holds no CRDs in %s (%v)", provider, filepath.Join(bins[provider], crdsDir), err)
		}
		crds = append(crds, files...)
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
		ready := func(context.Context) error { return nil }
		if provider == "provider-kubernetes" {
			// Its health probe would listen on :8081 on every interface; provider-helm serves none.
			health := "127.0.0.1:" + strconv.Itoa(healthPort)
			args = append(args, "--health-probe-bind-addr="+health)
			ready = func(ctx context.Context) error { return httpGetOK(ctx, http.DefaultClient, "http://"+health+"/readyz") }
		}
		proc, err := s.start(provider, []string{"KUBECONFIG=" + cp.kubeconfigPath}, filepath.Join(bins[provider], provider), args...)
		if err != nil {
			return err
		}
		if err := proc.waitReady(ctx, time.Minute, ready); err != nil {
			return err
		}
	}
	return nil
}

// crossplaneTools are the tools a sandbox with Crossplane builds: core, the composition functions not
// built from this repository, and the providers.
func crossplaneTools() []string {
	tools := []string{"crossplane"}
	for _, fn := range compositionFunctions {
		if !strings.HasPrefix(fn.pkg, repoFunctionPackage) {
			tools = append(tools, fn.tool)
		}
	}
	return append(tools, crossplaneProviders...)
}

// repoFunctionPackage prefixes the packages of the composition functions this repository ships.
const repoFunctionPackage = "xpkg.idp.dev/idp-platform/"
