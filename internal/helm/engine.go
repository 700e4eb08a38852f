// Package helm is the provider's release engine on the Helm v4 SDK: install, upgrade, read and
// uninstall releases in a cluster reached through its admin kubeconfig.
package helm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"helm.sh/helm/v4/pkg/action"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/kube"
	releasecommon "helm.sh/helm/v4/pkg/release/common"
	releasev1 "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage/driver"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	corev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// ErrReleaseNotFound is returned when the release does not exist.
var ErrReleaseNotFound = errors.New("release not found")

// Engine runs Helm actions against one cluster.
type Engine struct {
	kubeconfig *clientcmdapi.Config
	restConfig *rest.Config
	// discovery and mapper are shared by the engine's Helm actions (install, upgrade, uninstall), so
	// that they discover the cluster's APIs once per provider process.
	discovery discovery.CachedDiscoveryInterface
	mapper    meta.RESTMapper
	// driftMapper maps the built-in kinds without discovery and the others through mapper: a refresh
	// of releases that hold only built-in kinds discovers nothing.
	driftMapper meta.RESTMapper
	releases    releaseLists
	// core reads Helm's release records for the per-namespace release lists.
	core corev1.CoreV1Interface
	// objects are the live objects drift compares releases with, listed once per namespace and kind.
	objects objectLists
	// parsed holds the objects of each release revision's manifest, by namespace/name#revision@digest.
	parsed listCache[string, []releaseObject]
}

// EngineOption adjusts how an engine reaches its cluster.
type EngineOption func(*rest.Config)

// WithTransport wraps every HTTP round trip the engine makes (benchmarks count API calls with it).
func WithTransport(wrap func(http.RoundTripper) http.RoundTripper) EngineOption {
	return func(config *rest.Config) { config.Wrap(wrap) }
}

// NewEngine builds an engine from a cluster's kubeconfig without contacting the cluster.
func NewEngine(kubeconfig []byte, opts ...EngineOption) (*Engine, error) {
	config, err := clientcmd.Load(kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("cannot load the cluster's kubeconfig: %w", err)
	}
	restConfig, err := clientcmd.NewDefaultClientConfig(*config, nil).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("cannot use the cluster's kubeconfig: %w", err)
	}
	// A refresh lists each namespace's releases and kinds for every release Terraform refreshes at once,
	// over several clients; client-go's default limit (5 requests a second, bursts of 10, per client)
	// would queue those lists behind each other. The number of calls is bounded by the lists anyway.
	restConfig.QPS, restConfig.Burst = 100, 200
	for _, opt := range opts {
		opt(restConfig)
	}
	discoveryClient, err := discovery.NewDiscoveryClientForConfig(restConfig)
	if err != nil {
		return nil, fmt.Errorf("cannot build a discovery client: %w", err)
	}
	cached := memory.NewMemCacheClient(discoveryClient)
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(cached)
	dynamicClient, err := dynamic.NewForConfig(restConfig)
	if err != nil {
		return nil, fmt.Errorf("cannot build a client for the cluster: %w", err)
	}
	core, err := corev1.NewForConfig(restConfig)
	if err != nil {
		return nil, fmt.Errorf("cannot build a client for the cluster: %w", err)
	}
	return &Engine{
		kubeconfig:  config,
		restConfig:  restConfig,
		discovery:   cached,
		mapper:      mapper,
		driftMapper: meta.FirstHitRESTMapper{MultiRESTMapper: meta.MultiRESTMapper{builtinMapper(), mapper}},
		core:        core,
		objects:     objectLists{client: dynamicClient},
	}, nil
}

// Release is what the provider keeps of a Helm release.
type Release struct {
	Name         string
	Namespace    string
	Revision     int
	Status       string
	ChartName    string
	ChartVersion string
	AppVersion   string
	Manifest     string
	// Values are the values the release was given (not the chart's defaults).
	Values map[string]any
}

// Pending reports whether an interrupted operation left the release locked.
func (r Release) Pending() bool {
	return releasecommon.Status(r.Status).IsPending()
}

// Spec is the release a caller wants.
type Spec struct {
	Namespace string
	Name      string
	Chart     *chart.Chart
	Values    map[string]any
	// Wait makes the action wait until every resource is ready (kstatus), up to Timeout.
	Wait bool
	// Atomic rolls a failed upgrade back to the last good revision.
	Atomic     bool
	Timeout    time.Duration
	MaxHistory int
}

func (e *Engine) configuration(namespace string) (*action.Configuration, error) {
	cfg := action.NewConfiguration(action.ConfigurationSetLogger(slog.NewTextHandler(io.Discard, nil)))
	if err := cfg.Init(&restClientGetter{engine: e, namespace: namespace}, namespace, "secret"); err != nil {
		return nil, fmt.Errorf("cannot initialise Helm for namespace %q: %w", namespace, err)
	}
	return cfg, nil
}

func waitStrategy(wait bool) kube.WaitStrategy {
	if wait {
		return kube.StatusWatcherStrategy
	}
	return kube.HookOnlyStrategy
}

// forget drops what the engine read of namespace, after it changed a release there.
func (e *Engine) forget(namespace string) {
	e.releases.forget(func(key string) bool { return key == namespace })
	e.objects.forget(namespace)
}

// Install installs a new release. A failed install is uninstalled again, so that the name is free for
// the next attempt. Without spec.Wait the install returns once the objects are applied: Helm's own
// clean-up (RollbackOnFailure) would turn waiting back on, so it is used only when waiting anyway and
// the engine removes a failed release itself otherwise.
func (e *Engine) Install(ctx context.Context, spec Spec) (Release, error) {
	cfg, err := e.configuration(spec.Namespace)
	if err != nil {
		return Release{}, err
	}
	defer e.forget(spec.Namespace)
	install := action.NewInstall(cfg)
	install.Namespace = spec.Namespace
	install.ReleaseName = spec.Name
	install.CreateNamespace = true
	install.WaitStrategy = waitStrategy(spec.Wait)
	install.Timeout = spec.Timeout
	install.RollbackOnFailure = spec.Wait
	install.ServerSideApply = true
	rel, err := install.RunWithContext(ctx, spec.Chart, spec.Values)
	if err != nil {
		if !spec.Wait {
			err = e.removeFailedInstall(cfg, spec, err)
		}
		return Release{}, fmt.Errorf("cannot install release %s/%s: %w", spec.Namespace, spec.Name, err)
	}
	return fromHelm(rel)
}

// removeFailedInstall uninstalls what a failed install without waiting left: the release record, marked
// failed, and the objects applied before the failure. It does not wait for the objects to go either.
func (e *Engine) removeFailedInstall(cfg *action.Configuration, spec Spec, installErr error) error {
	uninstall := action.NewUninstall(cfg)
	uninstall.IgnoreNotFound = true
	uninstall.WaitStrategy = kube.HookOnlyStrategy
	uninstall.Timeout = spec.Timeout
	if _, err := uninstall.Run(spec.Name); err != nil {
		return fmt.Errorf("%w; removing the failed release also failed: %w", installErr, err)
	}
	return fmt.Errorf("the failed release was uninstalled: %w", installErr)
}

// Upgrade upgrades an existing release to spec, rolling back on failure when spec.Atomic is set.
// Without spec.Wait it does not wait, even with spec.Atomic (which makes Helm wait): a failed upgrade is
// then rolled back by the engine, also without waiting.
func (e *Engine) Upgrade(ctx context.Context, spec Spec) (Release, error) {
	cfg, err := e.configuration(spec.Namespace)
	if err != nil {
		return Release{}, err
	}
	defer e.forget(spec.Namespace)
	upgrade := action.NewUpgrade(cfg)
	upgrade.Namespace = spec.Namespace
	upgrade.WaitStrategy = waitStrategy(spec.Wait)
	upgrade.Timeout = spec.Timeout
	upgrade.RollbackOnFailure = spec.Atomic && spec.Wait
	upgrade.CleanupOnFail = spec.Atomic
	upgrade.MaxHistory = spec.MaxHistory
	upgrade.ResetValues = true    // the configuration states all values; nothing is inherited
	upgrade.ForceConflicts = true // the release owns its fields: an out-of-band edit (kubectl scale) is drift to undo
	// Server-side even when the last revision was applied client-side (Helm v3, or helm --server-side=false):
	// forcing conflicts needs it, and Helm's "auto" would follow the last revision.
	upgrade.ServerSideApply = "true"
	rel, err := upgrade.RunWithContext(ctx, spec.Name, spec.Chart, spec.Values)
	if err != nil {
		if spec.Atomic && !spec.Wait {
			err = e.rollBackFailedUpgrade(cfg, spec, err)
		}
		return Release{}, fmt.Errorf("cannot upgrade release %s/%s: %w", spec.Namespace, spec.Name, err)
	}
	return fromHelm(rel)
}

// rollBackFailedUpgrade rolls a release whose upgrade failed back to its latest successful revision,
// without waiting, as Helm's RollbackOnFailure would with waiting.
func (e *Engine) rollBackFailedUpgrade(cfg *action.Configuration, spec Spec, upgradeErr error) error {
	history, err := action.NewHistory(cfg).Run(spec.Name)
	if err != nil {
		return fmt.Errorf("%w; cannot read the release's history to roll it back: %w", upgradeErr, err)
	}
	good := 0
	for _, releaser := range history {
		rel, err := fromHelm(releaser)
		if err != nil {
			return fmt.Errorf("%w; cannot read the release's history to roll it back: %w", upgradeErr, err)
		}
		if status := releasecommon.Status(rel.Status); (status == releasecommon.StatusDeployed || status == releasecommon.StatusSuperseded) && rel.Revision > good {
			good = rel.Revision
		}
	}
	if good == 0 {
		return fmt.Errorf("%w; no earlier revision succeeded, so the release was not rolled back", upgradeErr)
	}
	rollback := action.NewRollback(cfg)
	rollback.Version = good
	rollback.WaitStrategy = kube.HookOnlyStrategy
	rollback.Timeout = spec.Timeout
	rollback.ForceConflicts = true
	rollback.ServerSideApply = "true" // as for upgrades: forcing conflicts needs it
	if err := rollback.Run(spec.Name); err != nil {
		return fmt.Errorf("%w; rolling back to revision %d also failed: %w", upgradeErr, good, err)
	}
	return fmt.Errorf("the release was rolled back to revision %d: %w", good, upgradeErr)
}

// Rollback rolls a release back to revision, or to the revision before the latest when revision is 0,
// and returns the new latest revision. It also releases a lock an interrupted upgrade left behind.
func (e *Engine) Rollback(ctx context.Context, namespace, name string, revision int, wait bool, timeout time.Duration) (Release, error) {
	cfg, err := e.configuration(namespace)
	if err != nil {
		return Release{}, err
	}
	defer e.forget(namespace)
	rollback := action.NewRollback(cfg)
	rollback.Version = revision
	rollback.WaitStrategy = waitStrategy(wait)
	rollback.Timeout = timeout
	rollback.ForceConflicts = true
	rollback.ServerSideApply = "true" // as for upgrades: forcing conflicts needs it
	if err := rollback.Run(name); err != nil {
		return Release{}, fmt.Errorf("cannot roll release %s/%s back to revision %d: %w", namespace, name, revision, err)
	}
	return e.Get(ctx, namespace, name)
}

// Get reads the latest revision of a release; ErrReleaseNotFound when there is none.
func (e *Engine) Get(ctx context.Context, namespace, name string) (Release, error) {
	cfg, err := e.configuration(namespace)
	if err != nil {
		return Release{}, err
	}
	rel, err := action.NewGet(cfg).Run(name)
	if errors.Is(err, driver.ErrReleaseNotFound) {
		return Release{}, fmt.Errorf("release %s/%s: %w", namespace, name, ErrReleaseNotFound)
	}
	if err != nil {
		return Release{}, fmt.Errorf("cannot read release %s/%s: %w", namespace, name, err)
	}
	return fromHelm(rel)
}

// Uninstall removes a release, its objects and its history, waiting until the objects are gone.
// Uninstalling a release that does not exist is not an error.
func (e *Engine) Uninstall(ctx context.Context, namespace, name string, timeout time.Duration) error {
	cfg, err := e.configuration(namespace)
	if err != nil {
		return err
	}
	defer e.forget(namespace)
	uninstall := action.NewUninstall(cfg)
	uninstall.IgnoreNotFound = true
	uninstall.WaitStrategy = kube.StatusWatcherStrategy
	uninstall.Timeout = timeout
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < timeout {
		uninstall.Timeout = time.Until(deadline)
	}
	if _, err := uninstall.Run(name); err != nil {
		return fmt.Errorf("cannot uninstall release %s/%s: %w", namespace, name, err)
	}
	return nil
}

func fromHelm(releaser any) (Release, error) {
	rel, ok := releaser.(*releasev1.Release)
	if !ok || rel == nil {
		return Release{}, fmt.Errorf("helm returned a release of unexpected type %T", releaser)
	}
	out := Release{Name: rel.Name, Namespace: rel.Namespace, Revision: rel.Version, Manifest: rel.Manifest, Values: rel.Config}
	if rel.Info != nil {
		out.Status = rel.Info.Status.String()
	}
	if rel.Chart != nil && rel.Chart.Metadata != nil {
		out.ChartName = rel.Chart.Metadata.Name
		out.ChartVersion = rel.Chart.Metadata.Version
		out.AppVersion = rel.Chart.Metadata.AppVersion
	}
	return out, nil
}

// restClientGetter hands Helm clients for the engine's cluster, scoped to one namespace.
type restClientGetter struct {
	engine    *Engine
	namespace string
}

func (g *restClientGetter) ToRESTConfig() (*rest.Config, error) {
	return rest.CopyConfig(g.engine.restConfig), nil
}

func (g *restClientGetter) ToDiscoveryClient() (discovery.CachedDiscoveryInterface, error) {
	return g.engine.discovery, nil
}

func (g *restClientGetter) ToRESTMapper() (meta.RESTMapper, error) {
	return g.engine.mapper, nil
}

func (g *restClientGetter) ToRawKubeConfigLoader() clientcmd.ClientConfig {
	return clientcmd.NewDefaultClientConfig(*g.engine.kubeconfig, &clientcmd.ConfigOverrides{Context: clientcmdapi.Context{Namespace: g.namespace}})
}
