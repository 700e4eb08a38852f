// Package sandbox runs the local platform the provider's acceptance tests and demo use: real etcd,
// kube-apiserver and kube-controller-manager (the management cluster), Vault and Keycloak, plus the
// OpenTofu and Terraform CLIs, all built or fetched at pinned versions and started on loopback with free
// ports. The provider never imports it.
package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options configure Start. Zero values pick the defaults described on each field.
type Options struct {
	// RepoRoot is the checkout holding tools/; by default the first parent of the working directory
	// with the provider's go.mod.
	RepoRoot string
	// CacheDir holds built tools and the Keycloak distribution; by default $IDP_SANDBOX_CACHE, else
	// ~/.cache/idp-sandbox.
	CacheDir string
	// StateDir holds this sandbox's certificates, data, logs and pids; by default a new directory under
	// <CacheDir>/run, removed by Stop.
	StateDir string
	// Detached sandboxes outlive the process that started them (`idp-sandbox up`); others are reaped by
	// the next sandbox once their owner is gone.
	Detached bool
	// AddonProviders runs provider-helm and provider-kubernetes for AddonStack composites. One machine
	// runs one set (provider-kubernetes takes a fixed port), so only the sandboxes that need them do:
	// the demo's and the provider's acceptance tests'.
	AddonProviders bool
	// Log receives progress lines; nil discards them.
	Log io.Writer
}

// Sandbox is a running local platform.
type Sandbox struct {
	dir      string
	cacheDir string
	ownsDir  bool
	log      io.Writer
	logMu    sync.Mutex
	procsMu  sync.Mutex
	procs    []*process
	// oidc is Keycloak as the OIDC issuer the workload clusters trust; nil in sandboxes without Keycloak.
	oidc *oidcIssuer
	// stopSimulator stops the cloud simulator and the workload clusters it started; nil without one.
	stopSimulator func()
	// stopRuntime stops the package runtime of a package-managed cluster; nil in other sandboxes.
	stopRuntime func()
	env         map[string]string
	Management  *ManagementCluster
	// Workload is a cluster for applications, with fake nodes on which Pods become Ready.
	Workload *WorkloadCluster
}

// ManagementCluster is how tests reach the sandbox's management cluster as its administrator.
type ManagementCluster struct {
	Host           string
	CAPEM          []byte
	KubeconfigPath string
}

// ToolSet names a group of the tools Prepare builds.
type ToolSet string

const (
	// SandboxToolSet is what Start runs (with Keycloak's distribution), so what every acceptance test needs.
	SandboxToolSet ToolSet = "sandbox"
	// LateToolSet is what only some acceptance tests run (conftest, Gitea, Atlantis, Terraform); `make
	// testacc` builds it beside the tests that run before those, which wait for it with BuildTools.
	LateToolSet ToolSet = "late"
)

// Prepare builds the tools of the given sets (every set when none is given), and Keycloak's distribution
// with the sandbox's set, ahead of Start, so that a cold build's progress shows in the build log and
// not as a silent wait inside a test.
func Prepare(ctx context.Context, opts Options, sets ...ToolSet) error {
	opts, err := opts.forTools()
	if err != nil {
		return err
	}
	if len(sets) == 0 {
		sets = []ToolSet{SandboxToolSet, LateToolSet}
	}
	s := &Sandbox{cacheDir: opts.CacheDir, log: opts.Log}
	for _, set := range sets {
		switch set {
		case SandboxToolSet:
			_, err = s.buildTools(ctx, opts.RepoRoot)
		case LateToolSet:
			builder := &toolBuilder{repoRoot: opts.RepoRoot, cacheDir: opts.CacheDir, log: s.logf}
			_, err = builder.buildAll(ctx, toolNames(lateTools))
		default:
			err = fmt.Errorf("no tool set %q (there are %q and %q)", set, SandboxToolSet, LateToolSet)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Prefetch downloads the modules of every tool the sandbox builds, in the order it builds them, without
// building any. `make test` runs it beside the static checks, which keep both cores busy, so that on a
// fresh machine the tools' builds find their sources already downloaded.
func Prefetch(ctx context.Context, opts Options) error {
	var err error
	if opts.RepoRoot == "" {
		if opts.RepoRoot, err = findRepoRoot(); err != nil {
			return err
		}
	}
	for _, tool := range slices.Concat(sandboxTools, lateTools) {
		cmd := exec.CommandContext(ctx, "go", "mod", "download")
		cmd.Dir = filepath.Join(opts.RepoRoot, "tools", tool.name)
		cmd.Env = append(os.Environ(), "GOWORK=off")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("cannot download the modules of %s: %w\n%s", tool.name, err, out)
		}
	}
	return nil
}

// ToolPath builds one of the sandbox's tools if it is not built yet and returns the path of its binary,
// for what runs a pinned tool outside a sandbox (make fmt-check, the modules' unit suites).
func ToolPath(ctx context.Context, opts Options, tool, binary string) (string, error) {
	builder, err := newToolBuilder(opts)
	if err != nil {
		return "", err
	}
	dir, err := builder.build(ctx, tool)
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, binary), nil
}

// BuildTools builds those of the named tools that are not built yet, or waits for the build another
// process runs (make testacc's `idp-sandbox build late`), until ctx ends. A test runs it before it runs
// a late tool, whose path the sandbox's environment names before it is built.
func BuildTools(ctx context.Context, opts Options, tools ...string) error {
	builder, err := newToolBuilder(opts)
	if err != nil {
		return err
	}
	_, err = builder.buildAll(ctx, tools)
	return err
}

// newToolBuilder is the builder of the tools in opts's cache, for the repository in opts or this one.
func newToolBuilder(opts Options) (*toolBuilder, error) {
	opts, err := opts.forTools()
	if err != nil {
		return nil, err
	}
	s := &Sandbox{cacheDir: opts.CacheDir, log: opts.Log}
	return &toolBuilder{repoRoot: opts.RepoRoot, cacheDir: opts.CacheDir, log: s.logf}, nil
}

// forTools fills in what building tools needs and opts leaves out: this repository, the default cache
// and a discarded log.
func (opts Options) forTools() (Options, error) {
	var err error
	if opts.RepoRoot == "" {
		if opts.RepoRoot, err = findRepoRoot(); err != nil {
			return opts, err
		}
	}
	if opts.CacheDir == "" {
		if opts.CacheDir, err = defaultCacheDir(); err != nil {
			return opts, err
		}
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	return opts, nil
}

// Start builds what is missing, starts every component, waits until each is healthy, and returns the
// running sandbox. On error it stops whatever it had started.
func Start(ctx context.Context, opts Options) (_ *Sandbox, err error) {
	s, err := newSandbox(opts)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			s.logf("start failed; stopping what was started (logs kept in %s)", filepath.Join(s.dir, "logs"))
			s.ownsDir = false // keep the logs for whoever reads the error
			_ = s.Stop()
		}
	}()
	if opts.RepoRoot == "" {
		if opts.RepoRoot, err = findRepoRoot(); err != nil {
			return nil, err
		}
	}

	started := time.Now()
	s.logf("starting in %s", s.dir)
	bins, err := s.buildTools(ctx, opts.RepoRoot)
	if err != nil {
		return nil, err
	}
	if err := s.buildRepoCommands(ctx, opts.RepoRoot, bins); err != nil {
		return nil, err
	}

	// Keycloak's https address and certificate come first: the workload cluster, started beside
	// Keycloak, is configured to trust it.
	if s.oidc, err = s.newOIDCIssuer(); err != nil {
		return nil, err
	}
	var (
		wg                          sync.WaitGroup
		management                  *controlPlane
		workload                    *WorkloadCluster
		token                       string
		vault                       *vaultEndpoint
		keycloak                    *keycloakEndpoint
		registry, addonMirror       string
		kubeErr, servicesErr, kcErr error
	)
	wg.Add(3)
	var etcdURL string
	go func() {
		defer wg.Done()
		if etcdURL, kubeErr = s.startEtcd(ctx, bins["etcd"]); kubeErr != nil {
			return
		}
		if management, kubeErr = s.startControlPlane(ctx, bins["kubernetes"], "management", etcdURL); kubeErr != nil {
			return
		}
		if token, kubeErr = providerServiceAccountToken(ctx, management); kubeErr != nil {
			return
		}
		s.logf("management cluster ready at %s", management.host)
		if _, kubeErr = InstallCRDs(ctx, management.restConfig, []string{accessGrantCRD(opts.RepoRoot)}); kubeErr != nil {
			return
		}
		if kubeErr = s.startCrossplane(ctx, bins, management); kubeErr != nil {
			return
		}
		if opts.AddonProviders {
			if kubeErr = s.startCrossplaneProviders(ctx, bins, management); kubeErr != nil {
				return
			}
			s.logf("%v ready", crossplaneProviders)
		}
		s.logf("crossplane %s ready, with %d composition functions", CrossplaneVersion, len(compositionFunctions))
		// A detached sandbox outlives this process, so its simulator runs in a process of its own
		// (StartDetachedSimulator), started once the env file exists.
		if !opts.Detached {
			if kubeErr = s.startCloudSimulator(bins, etcdURL, management); kubeErr != nil {
				return
			}
		}
		if workload, kubeErr = s.startWorkloadCluster(ctx, bins, etcdURL, "workload"); kubeErr == nil {
			s.logf("workload cluster ready at %s", workload.Host)
		}
	}()
	go func() {
		defer wg.Done()
		if vault, servicesErr = s.startVault(ctx, bins["vault"]); servicesErr != nil {
			return
		}
		s.logf("vault ready at %s", vault.address)
		if registry, servicesErr = s.startRegistry(ctx, bins["registry"]); servicesErr != nil {
			return
		}
		s.logf("OCI registry ready at %s", registry)
		if addonMirror, servicesErr = PushAddonCharts(ctx, registry); servicesErr == nil {
			s.logf("fixture add-on charts pushed to %s", addonMirror)
		}
	}()
	go func() {
		defer wg.Done()
		if keycloak, kcErr = s.startKeycloak(ctx); kcErr == nil {
			s.logf("keycloak ready at %s (realm %q)", keycloak.url, KeycloakRealm)
		}
	}()
	wg.Wait()
	if err := errors.Join(kubeErr, servicesErr, kcErr); err != nil {
		return nil, err
	}
	// The access controller needs both the management cluster and Keycloak.
	if err := s.startAccessController(ctx, bins, management, keycloak); err != nil {
		return nil, err
	}
	s.logf("access controller ready (resync %s)", AccessControllerResync)

	s.Management = &ManagementCluster{Host: management.host, CAPEM: management.caPEM, KubeconfigPath: management.kubeconfigPath}
	s.Workload = workload
	var users []string
	for _, user := range keycloak.users {
		users = append(users, user.Username+":"+user.Password+":"+user.Group)
	}
	s.env = map[string]string{
		"IDP_MANAGEMENT_CLUSTER_KUBECONFIG_PATH": management.kubeconfigPath,
		"IDP_VAULT_ADDRESS":                      vault.address,
		"IDP_VAULT_APPROLE_ROLE_ID":              vault.roleID,
		"IDP_VAULT_APPROLE_SECRET_ID":            vault.secretID,
		"IDP_KEYCLOAK_URL":                       keycloak.url,
		"IDP_KEYCLOAK_REALM":                     KeycloakRealm,
		"IDP_KEYCLOAK_CLIENT_ID":                 KeycloakClientID,
		"IDP_KEYCLOAK_CLIENT_SECRET":             keycloak.clientSecret,
		EnvDir:                                   s.dir,
		EnvTofu:                                  filepath.Join(bins["tofu"], "tofu"),
		EnvTerraform:                             filepath.Join(bins["terraform"], "terraform"),
		EnvManagementHost:                        management.host,
		EnvManagementCAFile:                      filepath.Join(s.dir, "management", "ca.crt"),
		EnvManagementToken:                       token,
		EnvVaultRootToken:                        vault.rootToken,
		EnvWorkloadKubeconfig:                    workload.KubeconfigPath,
		EnvWorkloadHost:                          workload.Host,
		EnvKeycloakAdminUser:                     keycloak.adminUser,
		EnvKeycloakAdminPass:                     keycloak.adminPassword,
		EnvKeycloakUsers:                         strings.Join(users, ","),
		EnvRegistryHost:                          registry,
		EnvAddonChartMirror:                      addonMirror,
		EnvKeycloakIssuer:                        s.oidc.url(),
		EnvEtcdURL:                               etcdURL,
		EnvKeycloakCAFile:                        s.oidc.caFile,
		EnvHelm:                                  filepath.Join(bins["helm"], "helm"),
		EnvKubelogin:                             filepath.Join(bins["kubelogin"], KubeloginBinary),
		EnvConftest:                              filepath.Join(bins["conftest"], "conftest"),
		EnvKeycloakIssuerURL:                     s.oidc.url(),
		EnvKeycloakIssuerCAFile:                  s.oidc.caFile,
		EnvKeycloakLoginClient:                   KeycloakKubernetesClient,
	}
	if err := s.WriteEnvFile(filepath.Join(s.dir, "env")); err != nil {
		return nil, err
	}
	s.logf("ready in %s; environment in %s", time.Since(started).Round(time.Second), filepath.Join(s.dir, "env"))
	return s, nil
}

// newSandbox creates the state directory of a sandbox and records its owner.
func newSandbox(opts Options) (_ *Sandbox, err error) {
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	if opts.CacheDir == "" {
		if opts.CacheDir, err = defaultCacheDir(); err != nil {
			return nil, err
		}
	}
	s := &Sandbox{cacheDir: opts.CacheDir, log: opts.Log, env: map[string]string{}}
	runDir := filepath.Join(opts.CacheDir, "run")
	reapAbandoned(runDir, s.logf)
	if opts.StateDir == "" {
		if err := os.MkdirAll(runDir, 0o755); err != nil {
			return nil, fmt.Errorf("cannot create %s: %w", runDir, err)
		}
		if s.dir, err = os.MkdirTemp(runDir, "sandbox-"); err != nil {
			return nil, fmt.Errorf("cannot create the sandbox state directory: %w", err)
		}
		s.ownsDir = true
	} else {
		s.dir = opts.StateDir
		if err := os.MkdirAll(s.dir, 0o700); err != nil {
			return nil, fmt.Errorf("cannot create %s: %w", s.dir, err)
		}
	}
	for _, sub := range []string{"logs", "pids"} {
		if err := os.MkdirAll(filepath.Join(s.dir, sub), 0o700); err != nil {
			return nil, fmt.Errorf("cannot create %s: %w", sub, err)
		}
	}
	owner := []byte(strconv.Itoa(os.Getpid()))
	if opts.Detached {
		owner = []byte("detached")
	}
	if err := os.WriteFile(filepath.Join(s.dir, "owner"), owner, 0o644); err != nil {
		return nil, fmt.Errorf("cannot record the owner of the sandbox: %w", err)
	}
	return s, nil
}

// StartClusters starts only Kubernetes: one etcd and a bare control plane (kube-apiserver and
// controller-manager, no nodes) per name, for benchmarks that need several clusters and nothing else.
// It returns the admin kubeconfig path of each cluster, in the order of names.
func StartClusters(ctx context.Context, opts Options, names ...string) (*Sandbox, []string, error) {
	return startKubernetes(ctx, opts, false, names...)
}

// StartManagement starts a management cluster with Crossplane core, its composition functions and the
// cloud simulator, and nothing else (no Vault, Keycloak or standing workload cluster), for tests of what
// Crossplane composes. It returns the cluster's admin kubeconfig path.
func StartManagement(ctx context.Context, opts Options) (*Sandbox, string, error) {
	sb, kubeconfigs, err := startKubernetes(ctx, opts, true, "management")
	if err != nil {
		return nil, "", err
	}
	return sb, kubeconfigs[0], nil
}

func startKubernetes(ctx context.Context, opts Options, crossplane bool, names ...string) (_ *Sandbox, kubeconfigs []string, err error) {
	tools := []string{"etcd", "kubernetes"}
	if crossplane {
		tools = append(append(tools, "kwok"), crossplaneTools()...)
	}
	s, bins, etcdURL, err := startEtcdSandbox(ctx, opts, tools...)
	if err != nil {
		return nil, nil, err
	}
	defer s.stopOnError(&err)
	if crossplane {
		if err := s.buildRepoCommands(ctx, opts.RepoRoot, bins); err != nil {
			return nil, nil, err
		}
	}
	for _, name := range names {
		cp, err := s.startControlPlane(ctx, bins["kubernetes"], name, etcdURL)
		if err != nil {
			return nil, nil, err
		}
		if crossplane {
			if err := s.startCrossplane(ctx, bins, cp); err != nil {
				return nil, nil, err
			}
			if err := s.startCloudSimulator(bins, etcdURL, cp); err != nil {
				return nil, nil, err
			}
		}
		kubeconfigs = append(kubeconfigs, cp.kubeconfigPath)
	}
	return s, kubeconfigs, nil
}

// startEtcdSandbox starts the part every partial sandbox has: its state directory, the named tools
// (etcd among them) built, and etcd running. On error it stops what it started.
func startEtcdSandbox(ctx context.Context, opts Options, tools ...string) (_ *Sandbox, bins map[string]string, etcdURL string, err error) {
	s, err := newSandbox(opts)
	if err != nil {
		return nil, nil, "", err
	}
	defer s.stopOnError(&err)
	if opts.RepoRoot == "" {
		if opts.RepoRoot, err = findRepoRoot(); err != nil {
			return nil, nil, "", err
		}
	}
	builder := &toolBuilder{repoRoot: opts.RepoRoot, cacheDir: s.cacheDir, log: s.logf}
	if bins, err = builder.buildAll(ctx, tools); err != nil {
		return nil, nil, "", err
	}
	if etcdURL, err = s.startEtcd(ctx, bins["etcd"]); err != nil {
		return nil, nil, "", err
	}
	return s, bins, etcdURL, nil
}

// stopOnError stops a sandbox whose start failed, keeping its logs for whoever reads the error.
func (s *Sandbox) stopOnError(err *error) {
	if *err != nil {
		s.ownsDir = false
		_ = s.Stop()
	}
}

// buildTools builds every wrapper module under tools/ that the sandbox runs while Keycloak's
// distribution downloads beside them, and returns the directory of each and of every late tool.
func (s *Sandbox) buildTools(ctx context.Context, repoRoot string) (map[string]string, error) {
	builder := &toolBuilder{repoRoot: repoRoot, cacheDir: s.cacheDir, log: s.logf}
	fetched := make(chan error, 1)
	go func() {
		_, err := s.installKeycloak(ctx)
		fetched <- err
	}()
	bins, buildErr := builder.buildAll(ctx, toolNames(sandboxTools))
	if err := errors.Join(buildErr, <-fetched); err != nil {
		return nil, err
	}
	for _, tool := range lateTools {
		planned, err := builder.plan(ctx, tool.name)
		if err != nil {
			return nil, err
		}
		bins[tool.name] = planned.outDir
	}
	return bins, nil
}

// start starts a component and remembers it for Stop.
func (s *Sandbox) start(name string, env []string, bin string, args ...string) (*process, error) {
	proc, err := startProcess(name, filepath.Join(s.dir, "logs"), filepath.Join(s.dir, "pids"), env, bin, args...)
	if err != nil {
		return nil, err
	}
	s.procsMu.Lock()
	s.procs = append(s.procs, proc)
	s.procsMu.Unlock()
	return proc, nil
}

// Stop stops every component, last started first, and removes the state directory it created.
func (s *Sandbox) Stop() error {
	if s.stopRuntime != nil {
		s.stopRuntime()
		s.stopRuntime = nil
	}
	if s.stopSimulator != nil {
		s.stopSimulator()
		s.stopSimulator = nil
	}
	s.procsMu.Lock()
	procs := s.procs
	s.procs = nil
	s.procsMu.Unlock()
	for i := len(procs) - 1; i >= 0; i-- {
		procs[i].stop()
	}
	if s.ownsDir {
		if err := os.RemoveAll(s.dir); err != nil {
			return fmt.Errorf("cannot remove %s: %w", s.dir, err)
		}
	}
	return nil
}

// StopDetached stops a sandbox started in another process from its state directory.
func StopDetached(stateDir string) error {
	if err := stopRecordedProcesses(filepath.Join(stateDir, "pids")); err != nil {
		return err
	}
	if err := os.RemoveAll(stateDir); err != nil {
		return fmt.Errorf("cannot remove %s: %w", stateDir, err)
	}
	return nil
}

// DetachedRunning reports whether the sandbox in stateDir finished starting and all of its processes
// are still alive.
func DetachedRunning(stateDir string) bool {
	if _, err := os.Stat(filepath.Join(stateDir, "env")); err != nil {
		return false
	}
	pidDir := filepath.Join(stateDir, "pids")
	entries, err := os.ReadDir(pidDir)
	if err != nil || len(entries) == 0 {
		return false
	}
	for _, entry := range entries {
		record, err := readRecordedProcess(filepath.Join(pidDir, entry.Name()))
		if err != nil || !record.alive() {
			return false
		}
	}
	return true
}

// Dir is the sandbox's state directory, where its logs are.
func (s *Sandbox) Dir() string { return s.dir }

func (s *Sandbox) logf(format string, args ...any) {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	fmt.Fprintf(s.log, "[sandbox %s] %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// reapAbandoned stops sandboxes whose owning process died without stopping them (a test binary killed
// by its timeout, say), so that they do not pile up across runs.
func reapAbandoned(runDir string, logf func(string, ...any)) {
	entries, err := os.ReadDir(runDir)
	if err != nil {
		return
	}
	for _, entry := range entries {
		dir := filepath.Join(runDir, entry.Name())
		raw, err := os.ReadFile(filepath.Join(dir, "owner"))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
		if err != nil || processAlive(pid) {
			continue // detached, or still owned
		}
		logf("stopping abandoned sandbox %s (owner %d is gone)", dir, pid)
		_ = StopDetached(dir)
	}
}

func findRepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("cannot find the working directory: %w", err)
	}
	for {
		goMod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.HasPrefix(string(goMod), "module github.com/idp-platform/terraform-provider-idp\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("cannot find the terraform-provider-idp checkout above the working directory; set Options.RepoRoot")
		}
		dir = parent
	}
}

func defaultCacheDir() (string, error) {
	if dir := os.Getenv("IDP_SANDBOX_CACHE"); dir != "" {
		return dir, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("cannot find a cache directory (set IDP_SANDBOX_CACHE): %w", err)
	}
	return filepath.Join(home, ".cache", "idp-sandbox"), nil
}

func randomToken(bytes int) string {
	raw := make([]byte, bytes)
	if _, err := rand.Read(raw); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err))
	}
	return hex.EncodeToString(raw)
}
