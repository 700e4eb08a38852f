// Package addonstack is the contract between idp_addon_stack and the AddonStack composition: the spec
// the provider writes on an AddonStack composite (every add-on resolved from the catalog, in install
// order) and the status the composition function reports back. The function composes from this spec
// alone, so the catalog lives in one place (internal/catalog) and the function needs no copy of it.
package addonstack

import "strconv"

// API coordinates of the AddonStack composite.
const (
	Group      = "platform.idp.dev"
	Version    = "v1alpha1"
	Kind       = "AddonStack"
	Resource   = "addonstacks"
	APIVersion = Group + "/" + Version
)

// Labels on the composite and on everything it composes.
const (
	LabelManagedBy = "platform.idp.dev/managed-by"
	ManagedBy      = "terraform-provider-idp"
	LabelCluster   = "platform.idp.dev/cluster"
	LabelStack     = "platform.idp.dev/stack"
	LabelAddon     = "platform.idp.dev/addon"
)

// Spec is an AddonStack composite's spec.
type Spec struct {
	// Cluster is the idp_cluster the add-ons go to, Stack the stack's name on it.
	Cluster string `json:"cluster"`
	Stack   string `json:"stack"`
	// KubeconfigSecret holds the cluster's admin kubeconfig under the key "kubeconfig": the connection
	// secret of a created cluster, or a secret the provider writes from Vault for a registered one.
	KubeconfigSecret SecretRef `json:"kubeconfigSecret"`
	// Addons are in install order: every add-on comes after the add-ons it depends on.
	Addons []Addon `json:"addons"`
}

// SecretRef names a Secret in the management cluster.
type SecretRef struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Key       string `json:"key"`
}

// Addon is one resolved add-on: either a chart release (Chart set) or plain objects (Manifests set).
type Addon struct {
	// Name is the catalog name (cert-manager, ingress-nginx, ...).
	Name string `json:"name"`
	// Namespace is where the release or the namespaced objects go in the workload cluster.
	Namespace string `json:"namespace"`
	Chart     *Chart `json:"chart,omitempty"`
	// Values are the release's values: the catalog's defaults for the cloud merged with the user's.
	Values map[string]any `json:"values,omitempty"`
	// Manifests are the objects of an add-on without a chart (e.g. StorageClasses).
	Manifests []map[string]any `json:"manifests,omitempty"`
	// DependsOn are add-ons of the same stack that must be Ready before this one is applied.
	DependsOn []string `json:"dependsOn,omitempty"`
	// Gates must all hold before the add-on counts as Ready.
	Gates []Gate `json:"gates,omitempty"`
}

// Chart locates an exact chart version: an OCI repository (oci://host/path) or an HTTP repository.
type Chart struct {
	Repository string `json:"repository"`
	Name       string `json:"name"`
	Version    string `json:"version"`
	// PlainHTTP reaches an OCI registry without TLS (a mirror on a trusted network).
	PlainHTTP bool `json:"plainHTTP,omitempty"`
}

// GateType is what a readiness gate checks in the workload cluster.
type GateType string

const (
	// GateCRDEstablished: the CustomResourceDefinition Name is Established.
	GateCRDEstablished GateType = "CRDEstablished"
	// GateDeploymentAvailable: the Deployment Namespace/Name is Available.
	GateDeploymentAvailable GateType = "DeploymentAvailable"
	// GateServiceEndpoints: the Service Namespace/Name has ready endpoints (e.g. a webhook can answer).
	GateServiceEndpoints GateType = "ServiceEndpoints"
)

// Gate is one readiness gate of an add-on.
type Gate struct {
	Type      GateType `json:"type"`
	Name      string   `json:"name"`
	Namespace string   `json:"namespace,omitempty"`
}

// String names a gate the way diagnostics show it.
func (g Gate) String() string {
	if g.Namespace != "" {
		return string(g.Type) + " " + g.Namespace + "/" + g.Name
	}
	return string(g.Type) + " " + g.Name
}

// Phase is an add-on's state as the composition function reports it.
type Phase string

const (
	PhaseReady       Phase = "Ready"
	PhaseProgressing Phase = "Progressing"
	PhaseFailed      Phase = "Failed"
	// PhasePending is an add-on not applied yet because a dependency is not Ready.
	PhasePending Phase = "Pending"
)

// Status is an AddonStack composite's status as the function writes it (status.addons).
type Status struct {
	Addons []AddonStatus `json:"addons,omitempty"`
}

// AddonStatus is one add-on's state.
type AddonStatus struct {
	Name  string `json:"name"`
	Phase Phase  `json:"phase"`
	// Order is the position, from 1, in which the add-on was applied.
	Order int `json:"order"`
	// Gate is the first gate that does not hold yet (or the dependency waited for), empty when Ready.
	Gate string `json:"gate,omitempty"`
	// Message is the workload cluster's or the provider's message for a gate that does not hold.
	Message string `json:"message,omitempty"`
}

// CompositeName is the AddonStack composite of a stack: one cluster-scoped name per cluster and stack.
// Everything the composite composes is named after it (dots keep cluster and stack apart, as both are
// DNS labels).
func CompositeName(cluster, stack string) string { return cluster + "." + stack }

// ProviderConfigName is the provider-helm and provider-kubernetes ProviderConfig of a composite.
func ProviderConfigName(composite string) string { return composite }

// ReleaseName is the provider-helm Release of one add-on; the Helm release in the workload cluster is
// named as the add-on (external name).
func ReleaseName(composite, addon string) string { return composite + "." + addon }

// GateName is the observing provider-kubernetes Object of an add-on's gate i (from 0).
func GateName(composite, addon string, i int) string {
	return composite + "." + addon + ".gate-" + strconv.Itoa(i)
}

// ManifestName is the provider-kubernetes Object of an add-on's manifest i (from 0).
func ManifestName(composite, addon string, i int) string {
	return composite + "." + addon + ".object-" + strconv.Itoa(i)
}
