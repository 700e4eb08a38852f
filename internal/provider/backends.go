package provider

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/idp-platform/terraform-provider-idp/internal/access"
	"github.com/idp-platform/terraform-provider-idp/internal/addonstack"
	"github.com/idp-platform/terraform-provider-idp/internal/crossplane"
	"github.com/idp-platform/terraform-provider-idp/internal/helm"
	"github.com/idp-platform/terraform-provider-idp/internal/keycloak"
	"github.com/idp-platform/terraform-provider-idp/internal/kube"
	"github.com/idp-platform/terraform-provider-idp/internal/policy"
	"github.com/idp-platform/terraform-provider-idp/internal/vault"
)

// The provider package's view of each backend: only what its resources and data sources call, so unit
// tests can substitute them.
type (
	managementClusterAPI interface {
		Host() string
		ServerVersion(ctx context.Context) (string, error)
		HasAPIGroup(ctx context.Context, group string) (bool, error)
	}
	vaultAPI interface {
		Address() string
		Health(ctx context.Context) (vault.Health, error)
		KVMount(ctx context.Context) (vault.KVMount, error)
		KubeconfigLocation(cluster string) string
		CredentialsLocation(name string) string
		GetCredentials(ctx context.Context, name string) (map[string]string, error)
		PutKubeconfig(ctx context.Context, cluster string, kc vault.Kubeconfig) error
		GetKubeconfig(ctx context.Context, cluster string) (vault.Kubeconfig, error)
		DeleteKubeconfig(ctx context.Context, cluster string) error
		ListClusters(ctx context.Context) ([]string, error)
		Teams(ctx context.Context) ([]vault.TeamClusters, error)
		TeamSecretsPath(team string) string
		ClusterSecretsPath(cluster string) string
		KVMountPath() string
		Identity() vault.Identity
		ClusterAccess(ctx context.Context, cluster, credentials string) (vault.ClusterAccess, error)
		PutTeam(ctx context.Context, team vault.Team) (vault.TeamState, error)
		ClusterOverlaps(ctx context.Context, team vault.Team) ([]vault.ClusterOverlap, error)
		GetTeam(ctx context.Context, name string) (vault.TeamState, error)
		DeleteTeam(ctx context.Context, name string) error
		AppRoleMount() string
	}
	crossplaneAPI interface {
		Create(ctx context.Context, cluster crossplane.Cluster) error
		FinishCreate(ctx context.Context, name string) error
		Apply(ctx context.Context, cluster crossplane.Cluster) error
		Get(ctx context.Context, name string) (crossplane.Cluster, crossplane.Status, error)
		ListClusters(ctx context.Context) ([]crossplane.Cluster, []crossplane.Status, error)
		WaitReady(ctx context.Context, name string, progress func(crossplane.Status)) (crossplane.Status, error)
		Kubeconfig(ctx context.Context, secretRef string) ([]byte, error)
		Delete(ctx context.Context, name string) error
		EnsureProviderConfig(ctx context.Context, cloud, name string, credentials []byte, project string) error
		ReleaseProviderConfig(ctx context.Context, cloud, name string) error

		ApplyStack(ctx context.Context, spec addonstack.Spec, requested string, creating bool) error
		ListStacks(ctx context.Context, cluster string) ([]crossplane.StackState, error)
		ReleaseStack(ctx context.Context, cluster, stack string) error
		FinishStack(ctx context.Context, cluster, stack string) error
		GetStack(ctx context.Context, cluster, stack string) (crossplane.StackState, error)
		WaitStack(ctx context.Context, cluster, stack string, done func(crossplane.StackState) (bool, error), progress func(crossplane.StackState)) (crossplane.StackState, error)
		RemoveAddons(ctx context.Context, spec addonstack.Spec, requested string, creating bool, remove []string) (addonstack.Spec, error)
		DeleteStack(ctx context.Context, cluster, stack string) error
		StackKubeconfigSecret(ctx context.Context, cluster string, kubeconfig []byte) (addonstack.SecretRef, error)
		ReleaseStackKubeconfigSecret(ctx context.Context, cluster string) error
		UpdateStackKubeconfigSecret(ctx context.Context, cluster string, kubeconfig []byte) error
	}
	keycloakAPI interface {
		Realm(ctx context.Context) (keycloak.Realm, error)
		UserGroups(ctx context.Context, userID string) ([]string, error)
		Groups(ctx context.Context) ([]keycloak.Group, error)
		access.Realm
	}
	// policyAPI is the policy set every resource's plan is checked against.
	policyAPI interface {
		Evaluate(ctx context.Context, in policy.Input) ([]policy.Result, error)
		Offering() policy.Offering
	}
	// accessRecordsAPI keeps the AccessGrant records of time-bound grants in the management cluster.
	accessRecordsAPI interface {
		Apply(ctx context.Context, record access.Record) error
		Get(ctx context.Context, name string) (access.Record, bool, error)
		SetStatus(ctx context.Context, record access.Record) error
		Delete(ctx context.Context, name string) error
	}
)

// backends builds each backend client on first use, so a configuration that uses only some backends
// need not configure, or reach, the others. A failed build is not remembered: the next use tries again.
type backends struct {
	configs backendConfigs

	newManagementCluster func(kube.Config) (managementClusterAPI, error)
	newCrossplane        func(kube.Config) (crossplaneAPI, error)
	newVault             func(context.Context, vault.Config) (vaultAPI, error)
	newKeycloak          func(context.Context, keycloak.Config) (keycloakAPI, error)
	newAccessRecords     func(kube.Config) (accessRecordsAPI, error)

	mu sync.Mutex
	// policyMu is apart from mu: loading the policies takes a while, and nothing else need wait for it.
	policyMu          sync.Mutex
	managementCluster managementClusterAPI
	crossplane        crossplaneAPI
	vault             vaultAPI
	keycloak          keycloakAPI
	accessRecords     accessRecordsAPI
	policyEngine      policyAPI
	// policyClusters caches the cluster context policies see, by cluster name.
	policyClusters map[string]policy.ClusterContext
	// helmEngines holds one engine per cluster kubeconfig, so the releases of a cluster share its
	// clients and API discovery for the life of the provider process.
	helmEngines map[[sha256.Size]byte]*helm.Engine
	// charts keeps the charts downloaded from repositories and registries, so the releases of one chart
	// download it once per provider process.
	charts helm.Fetcher
}

func newBackends(configs backendConfigs) *backends {
	return &backends{
		configs: configs,
		charts:  helm.Fetcher{Keyring: configs.chartKeyring},
		newManagementCluster: func(cfg kube.Config) (managementClusterAPI, error) {
			return kube.NewClient(cfg)
		},
		newCrossplane: func(cfg kube.Config) (crossplaneAPI, error) {
			kubeClient, err := kube.NewClient(cfg)
			if err != nil {
				return nil, err
			}
			return crossplane.NewClient(kubeClient.RESTConfig())
		},
		newVault: func(ctx context.Context, cfg vault.Config) (vaultAPI, error) {
			return vault.NewClient(ctx, cfg)
		},
		newKeycloak: func(ctx context.Context, cfg keycloak.Config) (keycloakAPI, error) {
			return keycloak.NewClient(ctx, cfg)
		},
		newAccessRecords: func(cfg kube.Config) (accessRecordsAPI, error) {
			kubeClient, err := kube.NewClient(cfg)
			if err != nil {
				return nil, err
			}
			return access.NewRecords(kubeClient.RESTConfig())
		},
	}
}

// The configured* methods tell whether a backend is configured at all, for data sources that report on
// every backend and leave out the ones not configured.
func (b *backends) managementClusterConfigured() bool { return b.configs.management != nil }
func (b *backends) vaultConfigured() bool             { return b.configs.vault != nil }
func (b *backends) keycloakConfigured() bool          { return b.configs.keycloak != nil }

// ManagementCluster returns the management cluster client, or a diagnostic that says how to configure it.
func (b *backends) ManagementCluster() (managementClusterAPI, diag.Diagnostics) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.managementCluster != nil {
		return b.managementCluster, nil
	}
	if b.configs.management == nil {
		return nil, notConfigured("management_cluster", "kubeconfig_path = \"~/.kube/management\"", "IDP_MANAGEMENT_CLUSTER_KUBECONFIG_PATH")
	}
	client, err := b.newManagementCluster(*b.configs.management)
	if err != nil {
		detail := err.Error()
		if errors.Is(err, kube.ErrKubeconfigNotFound) {
			detail += "\n\nCheck management_cluster.kubeconfig_path (or IDP_MANAGEMENT_CLUSTER_KUBECONFIG_PATH): it must name an existing kubeconfig file."
		}
		return nil, diag.Diagnostics{diag.NewErrorDiagnostic("Cannot use the management cluster configuration", detail)}
	}
	b.managementCluster = client
	return client, nil
}

// Crossplane returns the client that drives clusters through Crossplane in the management cluster.
func (b *backends) Crossplane() (crossplaneAPI, diag.Diagnostics) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.crossplane != nil {
		return b.crossplane, nil
	}
	if b.configs.management == nil {
		return nil, notConfigured("management_cluster", "kubeconfig_path = \"~/.kube/management\"", "IDP_MANAGEMENT_CLUSTER_KUBECONFIG_PATH")
	}
	client, err := b.newCrossplane(*b.configs.management)
	if err != nil {
		return nil, diag.Diagnostics{diag.NewErrorDiagnostic("Cannot use the management cluster configuration", err.Error())}
	}
	b.crossplane = client
	return client, nil
}

// Vault returns a logged-in Vault client, or a diagnostic that says what to fix.
func (b *backends) Vault(ctx context.Context) (vaultAPI, diag.Diagnostics) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.vault != nil {
		return b.vault, nil
	}
	if b.configs.vault == nil {
		return nil, notConfigured("vault", "address = \"https://vault.example.com\"", "IDP_VAULT_ADDRESS")
	}
	client, err := b.newVault(ctx, *b.configs.vault)
	if err != nil {
		if errors.Is(err, vault.ErrLoginRejected) {
			return nil, diag.Diagnostics{diag.NewErrorDiagnostic("Vault rejected the provider's credentials",
				err.Error()+"\n\nCheck the vault block's token, approle_* or jwt_* settings (or their IDP_VAULT_* variables).")}
		}
		return nil, diag.Diagnostics{b.vaultError("Cannot reach Vault", err,
			fmt.Sprintf("Check that Vault is running at %s and that vault.address (or IDP_VAULT_ADDRESS) is right.", b.configs.vault.Address))}
	}
	b.vault = client
	return client, nil
}

// Keycloak returns a logged-in Keycloak client, or a diagnostic that says what to fix.
func (b *backends) Keycloak(ctx context.Context) (keycloakAPI, diag.Diagnostics) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.keycloak != nil {
		return b.keycloak, nil
	}
	if b.configs.keycloak == nil {
		return nil, notConfigured("keycloak", "url = \"https://keycloak.example.com\"", "IDP_KEYCLOAK_URL")
	}
	client, err := b.newKeycloak(ctx, *b.configs.keycloak)
	if err != nil {
		if errors.Is(err, keycloak.ErrLoginRejected) {
			return nil, diag.Diagnostics{diag.NewErrorDiagnostic("Keycloak rejected the provider's credentials",
				err.Error()+"\n\nCheck keycloak.client_id and keycloak.client_secret (or username and password), or their IDP_KEYCLOAK_* variables.")}
		}
		return nil, diag.Diagnostics{b.keycloakError("Cannot reach Keycloak", err,
			fmt.Sprintf("Check that Keycloak is running at %s and that keycloak.url (or IDP_KEYCLOAK_URL) is right.", b.configs.keycloak.URL))}
	}
	b.keycloak = client
	return client, nil
}

// Offering is what the platform offers cloud clusters: the configured policies' settings, or without a
// policy block the shipped library's.
func (b *backends) Offering(ctx context.Context) (policy.Offering, diag.Diagnostics) {
	if b.configs.policy == nil {
		offering, err := policy.DefaultOffering()
		if err != nil {
			return policy.Offering{}, policyError(err)
		}
		return offering, nil
	}
	engine, diags := b.Policy(ctx)
	if diags.HasError() {
		return policy.Offering{}, diags
	}
	return engine.Offering(), nil
}

// Policy returns the policy engine, loaded and prepared once per provider process. A policy set that
// does not load is an error every time, never a silent pass.
func (b *backends) Policy(ctx context.Context) (policyAPI, diag.Diagnostics) {
	b.policyMu.Lock()
	defer b.policyMu.Unlock()
	if b.policyEngine != nil {
		return b.policyEngine, nil
	}
	engine, err := policy.New(ctx, b.configs.policy.engine)
	if err != nil {
		return nil, policyError(err)
	}
	b.policyEngine = engine
	return engine, nil
}

// HelmEngine returns the shared engine for a cluster's kubeconfig, building it on first use.
func (b *backends) HelmEngine(kubeconfig string) (*helm.Engine, error) {
	key := sha256.Sum256([]byte(kubeconfig))
	b.mu.Lock()
	defer b.mu.Unlock()
	if engine, ok := b.helmEngines[key]; ok {
		return engine, nil
	}
	engine, err := helm.NewEngine([]byte(kubeconfig), helm.WithTransport(kube.BoundedTransport(b.configs.clusterRequestTimeout, "workload cluster")))
	if err != nil {
		return nil, err
	}
	if b.helmEngines == nil {
		b.helmEngines = map[[sha256.Size]byte]*helm.Engine{}
	}
	b.helmEngines[key] = engine
	return engine, nil
}

// vaultError is the diagnostic of a failed Vault call: a Vault that did not answer in time is named
// with its address, the timeout and what to check; any other failure keeps summary and advice.
func (b *backends) vaultError(summary string, err error, advice string) diag.Diagnostic {
	if vault.IsNoAnswer(err) {
		return noAnswer("Vault", "Vault", b.configs.vault.Address, "vault", b.configs.vault.RequestTimeout, err)
	}
	return withAdvice(summary, err, advice)
}

// keycloakError is vaultError for Keycloak.
func (b *backends) keycloakError(summary string, err error, advice string) diag.Diagnostic {
	if errors.Is(err, keycloak.ErrNoAnswer) {
		return noAnswer("Keycloak", "Keycloak", b.configs.keycloak.URL, "keycloak", b.configs.keycloak.RequestTimeout, err)
	}
	return withAdvice(summary, err, advice)
}

// managementClusterError is vaultError for the management cluster, whose address is in the error:
// the configuration may only name a kubeconfig.
func (b *backends) managementClusterError(summary string, err error, advice string) diag.Diagnostic {
	var noAnswerErr *kube.NoAnswerError
	if errors.As(err, &noAnswerErr) {
		return noAnswer("The management cluster", "The management cluster's API server", noAnswerErr.Host, "management_cluster", noAnswerErr.Limit, err)
	}
	return withAdvice(summary, err, advice)
}

// workloadClusterError is vaultError for the API server of a platform cluster, reached through its
// kubeconfig in Vault.
func (b *backends) workloadClusterError(cluster, summary string, err error, advice string) diag.Diagnostic {
	var noAnswerErr *kube.NoAnswerError
	if errors.As(err, &noAnswerErr) {
		return noAnswer(fmt.Sprintf("Workload cluster %q", cluster), fmt.Sprintf("The API server of cluster %q", cluster),
			noAnswerErr.Host, "management_cluster", noAnswerErr.Limit, err)
	}
	return withAdvice(summary, err, advice)
}

// noAnswer says that a backend did not answer in time and what to check. block is the provider block
// whose request_timeout applied.
func noAnswer(backend, server, address, block string, timeout time.Duration, err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic(backend+" did not answer",
		fmt.Sprintf("%v\n\n%s at %s gave no answer within %s. Check that it is running (a stopped or frozen process keeps "+
			"its port open but never answers) and that the network lets the provider reach %s. If it is only slow, raise "+
			"%s.request_timeout (or %s).", err, server, address, timeout, address, block, envVar(block, "request_timeout")))
}

func withAdvice(summary string, err error, advice string) diag.Diagnostic {
	if advice == "" {
		return diag.NewErrorDiagnostic(summary, err.Error())
	}
	return diag.NewErrorDiagnostic(summary, err.Error()+"\n\n"+advice)
}

// backendsFrom is the Configure step every resource and data source shares.
func backendsFrom(providerData any, diags *diag.Diagnostics) *backends {
	if providerData == nil {
		return nil // validation runs before the provider is configured
	}
	b, ok := providerData.(*backends)
	if !ok {
		diags.AddError("Unexpected provider data", fmt.Sprintf("The idp provider passed %T; this is a bug in the provider.", providerData))
	}
	return b
}

func notConfigured(block, example, env string) diag.Diagnostics {
	return diag.Diagnostics{diag.NewErrorDiagnostic(
		fmt.Sprintf("The provider's %s block is not configured", block),
		fmt.Sprintf("This needs the %s backend. Add a %s block to the idp provider configuration, e.g.\n\n  %s {\n    %s\n    ...\n  }\n\nor set %s and the related IDP_* variables.", block, block, block, example, env),
	)}
}

// registeredCluster is a platform cluster as Vault registers it: its admin kubeconfig and where it is.
type registeredCluster struct {
	name       string
	kubeconfig vault.Kubeconfig
	// location is the kubeconfig's Vault path, as `vault kv get` takes it.
	location string
}

// Cluster is the one way resources find a platform cluster: its registration in Vault. found is false
// when Vault holds none, which each caller treats as it must (an error through unknownCluster, or a
// cluster that is gone); other failures are diagnostics, a cluster the Vault login may not use on the
// attribute at that names it.
func (b *backends) Cluster(ctx context.Context, name string, at path.Path) (cluster registeredCluster, found bool, diags diag.Diagnostics) {
	store, diags := b.Vault(ctx)
	if diags.HasError() {
		return registeredCluster{}, false, diags
	}
	stored, err := store.GetKubeconfig(ctx, name)
	if errors.Is(err, vault.ErrNotFound) {
		return registeredCluster{name: name, location: store.KubeconfigLocation(name)}, false, diags
	}
	if errors.Is(err, vault.ErrPermissionDenied) {
		diags.Append(clusterNotPermitted(at, store.Identity(), name, store.KubeconfigLocation(name), err))
		return registeredCluster{}, false, diags
	}
	if err != nil {
		diags.Append(b.vaultError("Cannot read the cluster's kubeconfig from Vault", err, ""))
		return registeredCluster{}, false, diags
	}
	return registeredCluster{name: name, kubeconfig: stored, location: store.KubeconfigLocation(name)}, true, diags
}

// ClusterEngine returns the Helm engine of a registered cluster; a cluster Vault does not know is an
// error on the attribute at.
func (b *backends) ClusterEngine(ctx context.Context, name string, at path.Path) (*helm.Engine, diag.Diagnostics) {
	engine, found, diags := b.RegisteredClusterEngine(ctx, name, at)
	if !diags.HasError() && !found {
		diags.Append(unknownCluster(at, name, b.clusterLocation(ctx, name), "")...)
	}
	return engine, diags
}

// RegisteredClusterEngine returns the Helm engine of a cluster, and whether Vault knows the cluster.
func (b *backends) RegisteredClusterEngine(ctx context.Context, name string, at path.Path) (*helm.Engine, bool, diag.Diagnostics) {
	cluster, found, diags := b.Cluster(ctx, name, at)
	if diags.HasError() || !found {
		return nil, false, diags
	}
	engine, err := b.HelmEngine(cluster.kubeconfig.Kubeconfig)
	if err != nil {
		diags.AddError("Cannot use the cluster's kubeconfig", fmt.Sprintf("%s: %v", cluster.location, err))
		return nil, false, diags
	}
	return engine, true, diags
}

// ClusterClient returns a Kubernetes client of a registered cluster, bounded by the request timeout,
// with the registration it was built from; a cluster Vault does not know is an error on the attribute at.
func (b *backends) ClusterClient(ctx context.Context, name string, at path.Path) (registeredCluster, *kube.Client, diag.Diagnostics) {
	cluster, found, diags := b.Cluster(ctx, name, at)
	if diags.HasError() {
		return registeredCluster{}, nil, diags
	}
	if !found {
		diags.Append(unknownCluster(at, name, cluster.location, "")...)
		return registeredCluster{}, nil, diags
	}
	client, err := kube.NewClient(kube.Config{
		Kubeconfig: []byte(cluster.kubeconfig.Kubeconfig), RequestTimeout: b.configs.clusterRequestTimeout, Name: fmt.Sprintf("cluster %q", name),
	})
	if err != nil {
		diags.AddError("Cannot use the cluster's kubeconfig", fmt.Sprintf("%s: %v", cluster.location, err))
		return registeredCluster{}, nil, diags
	}
	return cluster, client, diags
}

func (b *backends) clusterLocation(ctx context.Context, name string) string {
	if store, diags := b.Vault(ctx); !diags.HasError() {
		return store.KubeconfigLocation(name)
	}
	return "the platform's Vault"
}

// unknownCluster is the one wording for a cluster Vault does not know, on the attribute that names it;
// hint, when set, says what else may be wrong in the caller's case.
func unknownCluster(at path.Path, name, location, hint string) diag.Diagnostics {
	detail := fmt.Sprintf("Vault holds no kubeconfig for cluster %q at %s. Create or import the idp_cluster first.", name, location)
	if hint != "" {
		detail += " " + hint
	}
	var diags diag.Diagnostics
	diags.AddAttributeError(at, "Unknown cluster", detail)
	return diags
}

// clusterNotPermitted is the one wording for a cluster whose kubeconfig the Vault login may not use,
// as a team's login may not use another team's clusters.
func clusterNotPermitted(at path.Path, who vault.Identity, cluster, location string, err error) diag.Diagnostic {
	return diag.NewAttributeErrorDiagnostic(at, "Cluster not permitted",
		fmt.Sprintf("%s may not use cluster %q: Vault's policies for this login do not reach its kubeconfig at %s (%v). "+
			"A team reaches the clusters its idp_team lists; use one of them, or ask the platform team to add this one.", capitalized(who.String()), cluster, location, err))
}

// credentialsNotPermitted is clusterNotPermitted for cloud credentials.
func credentialsNotPermitted(at path.Path, who vault.Identity, name, location string) diag.Diagnostic {
	hint := "Use credentials this login may read."
	if team, ok := who.Team(); ok {
		hint = fmt.Sprintf("A team reaches only its own credentials: use %s/<...>.", team)
	}
	return diag.NewAttributeErrorDiagnostic(at, "Credentials not permitted",
		fmt.Sprintf("%s may not use credentials %q: Vault's policies for this login do not reach %s. %s", capitalized(who.String()), name, location, hint))
}

func capitalized(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
