package addonstack

import (
	"fmt"
	"reflect"
	"strconv"
)

// API versions of what the composition composes: the cluster-scoped ("legacy") APIs of provider-helm
// and provider-kubernetes v1.2, which a cluster-scoped composite can compose.
const (
	helmProviderConfigAPIVersion       = "helm.crossplane.io/v1beta1"
	kubernetesProviderConfigAPIVersion = "kubernetes.crossplane.io/v1alpha1"
	releaseAPIVersion                  = "helm.crossplane.io/v1beta1"
	objectAPIVersion                   = "kubernetes.crossplane.io/v1alpha2"
)

// ComposedResource is a kind the composition composes, as the management cluster serves it.
type ComposedResource struct{ Group, Version, Resource string }

// ComposedResources are the kinds an AddonStack composes, in the order they go when it is removed: the
// managed resources first, their ProviderConfigs last (a provider keeps a ProviderConfig while in use).
var ComposedResources = []ComposedResource{
	{"helm.crossplane.io", "v1beta1", "releases"},
	{"kubernetes.crossplane.io", "v1alpha2", "objects"},
	{"helm.crossplane.io", "v1beta1", "providerconfigs"},
	{"kubernetes.crossplane.io", "v1alpha1", "providerconfigs"},
}

// endpointsReady holds when some subset of an Endpoints has a ready address: the service can answer
// (notReadyAddresses do not count).
const endpointsReady = "has(object.subsets) && object.subsets.exists(s, has(s.addresses) && size(s.addresses) > 0)"

// Keys of the composed resources in the composition pipeline (Crossplane's composition resource names).
// They depend only on the add-on and the position of a gate or manifest, so a resource keeps its key
// across reconciles and Crossplane updates it rather than replacing it.
const (
	keyHelmProviderConfig       = "providerconfig-helm"
	keyKubernetesProviderConfig = "providerconfig-kubernetes"
)

func releaseKey(addon string) string     { return "release." + addon }
func gateKey(addon string, i int) string { return "gate." + addon + "." + strconv.Itoa(i) }
func objectKey(addon string, i int) string {
	return "object." + addon + "." + strconv.Itoa(i)
}

// Condition is one status condition of an observed composed resource.
type Condition struct {
	Status  string
	Reason  string
	Message string
}

// Observed is what the composition needs of one observed composed resource.
type Observed struct {
	// Conditions are the resource's status conditions by type (Ready, Synced).
	Conditions map[string]Condition
	// Failed is a Release's status.failed: how often its latest install or upgrade failed.
	Failed int64
	// Stale is a resource whose conditions were set for an older generation of its spec: a Ready
	// Release about to be upgraded is not Ready for the new version yet.
	Stale bool
	// ObjectMessage is what an observing Object saw of the object it observes that does not hold: its
	// conditions that are not True, or an Endpoints without ready addresses. The cluster's own words.
	ObjectMessage string
	// ForProvider is the resource's spec.forProvider as applied, which must hold what is desired before
	// its conditions speak for the desired spec.
	ForProvider map[string]any
}

func (o Observed) isTrue(condition string) bool { return o.Conditions[condition].Status == "True" }

// Composed is one desired composed resource.
type Composed struct {
	// Key is the resource's name in the composition pipeline.
	Key string
	// Resource is the resource's desired metadata and spec.
	Resource map[string]any
	// Ready reports the resource ready to Crossplane.
	Ready bool
}

// part is one composed resource of an add-on, with what its status needs.
type part struct {
	Composed
	observed bool
	state    Observed
	// what names the resource in an add-on's status: the gate, or the Release or object.
	what string
	// managed is a Release or a manifest's Object: Synced=False there is a failure, while an observing
	// gate is not Synced until the object it observes exists.
	managed bool
	release bool
}

// Compose computes the desired composed resources of the composite named composite and the state of
// each of its add-ons, from its spec and the observed composed resources by key.
//
// An add-on is composed once all its dependencies are Ready, and stays composed once any of its
// resources exists, even when a dependency stops being Ready: dropping it would uninstall it.
func Compose(composite string, spec Spec, observed map[string]Observed) ([]Composed, Status) {
	var desired []Composed
	for _, pc := range []struct{ key, apiVersion string }{
		{keyHelmProviderConfig, helmProviderConfigAPIVersion},
		{keyKubernetesProviderConfig, kubernetesProviderConfigAPIVersion},
	} {
		_, seen := observed[pc.key]
		// A ProviderConfig has no Ready condition: it is usable once it exists.
		desired = append(desired, Composed{Key: pc.key, Resource: providerConfig(pc.apiVersion, composite, spec), Ready: seen})
	}

	status := Status{Addons: make([]AddonStatus, 0, len(spec.Addons))}
	phases := map[string]AddonStatus{}
	for i, addon := range spec.Addons {
		parts := addonParts(composite, spec, addon, observed)
		applied := false
		for _, p := range parts {
			applied = applied || p.observed
		}
		st := AddonStatus{Name: addon.Name, Order: i + 1}
		if dep, message := blockingDependency(addon, phases); dep != "" && !applied {
			st.Phase, st.Gate, st.Message = PhasePending, "waiting for "+dep, message
		} else {
			for _, p := range parts {
				desired = append(desired, p.Composed)
			}
			st.Phase, st.Gate, st.Message = addonPhase(parts)
		}
		phases[addon.Name] = st
		status.Addons = append(status.Addons, st)
	}
	return desired, status
}

// blockingDependency is the first dependency of an add-on that is not Ready, with why.
func blockingDependency(addon Addon, phases map[string]AddonStatus) (string, string) {
	for _, dep := range addon.DependsOn {
		st, ok := phases[dep]
		switch {
		case !ok:
			return dep, dep + " is not an add-on before " + addon.Name + " in the stack"
		case st.Phase != PhaseReady:
			message := dep + " is " + string(st.Phase)
			if st.Gate != "" {
				message += " (" + st.Gate + ")"
			}
			return dep, message
		}
	}
	return "", ""
}

// addonPhase is an applied add-on's phase, with the first resource that does not hold yet.
func addonPhase(parts []part) (Phase, string, string) {
	for _, p := range parts {
		if !p.observed || !p.managed {
			continue
		}
		synced := p.state.Conditions["Synced"]
		if synced.Status == "False" {
			return PhaseFailed, p.what, synced.Message
		}
		if p.release && p.state.Failed > 0 {
			message := synced.Message
			if message == "" {
				message = "the release failed " + strconv.FormatInt(p.state.Failed, 10) + " times"
			}
			return PhaseFailed, p.what, message
		}
	}
	for _, p := range parts {
		if p.Ready {
			continue
		}
		message := p.state.Conditions["Ready"].Message
		if synced := p.state.Conditions["Synced"]; message == "" && synced.Status != "True" {
			message = synced.Message
		}
		if message == "" {
			message = p.state.ObjectMessage
		}
		return PhaseProgressing, p.what, message
	}
	return PhaseReady, "", ""
}

// addonParts are an add-on's composed resources, in the order its status looks at them: the Release or
// the manifests' objects, then the gates.
func addonParts(composite string, spec Spec, addon Addon, observed map[string]Observed) []part {
	var parts []part
	add := func(key, what string, resource map[string]any, managed, release bool) {
		state, seen := observed[key]
		// An observation without spec.forProvider records nothing to compare.
		current := seen && !state.Stale && (state.ForProvider == nil || holds(state.ForProvider, forProvider(resource)))
		parts = append(parts, part{
			Composed: Composed{Key: key, Resource: resource, Ready: current && state.isTrue("Ready")},
			observed: seen, state: state, what: what, managed: managed, release: release,
		})
	}
	if addon.Chart != nil {
		name := ReleaseName(composite, addon.Name)
		add(releaseKey(addon.Name), "Release "+name, release(composite, spec, addon), true, true)
	}
	for i, manifest := range addon.Manifests {
		add(objectKey(addon.Name, i), manifestString(manifest), manifestObject(composite, spec, addon, i), true, false)
	}
	for i, gate := range addon.Gates {
		add(gateKey(addon.Name, i), gate.String(), gateObject(composite, spec, addon, i), false, false)
	}
	return parts
}

func forProvider(resource map[string]any) map[string]any {
	spec, _ := resource["spec"].(map[string]any)
	desired, _ := spec["forProvider"].(map[string]any)
	return desired
}

// holds reports whether an observed value holds everything desired holds (the API server and the
// providers add defaults); numbers compare by value whatever their Go type.
func holds(observed, desired any) bool {
	switch want := desired.(type) {
	case nil:
		return true
	case map[string]any:
		got, ok := observed.(map[string]any)
		if !ok {
			return len(want) == 0
		}
		for key, value := range want {
			if !holds(got[key], value) {
				return false
			}
		}
		return true
	case []any:
		got, ok := observed.([]any)
		if !ok || len(got) != len(want) {
			return false
		}
		for i := range want {
			if !holds(got[i], want[i]) {
				return false
			}
		}
		return true
	default:
		wantNumber, wantIsNumber := number(desired)
		gotNumber, gotIsNumber := number(observed)
		if wantIsNumber || gotIsNumber {
			return wantIsNumber && gotIsNumber && wantNumber == gotNumber
		}
		return reflect.DeepEqual(observed, desired)
	}
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case int:
		return float64(n), true
	case int32:
		return float64(n), true
	case int64:
		return float64(n), true
	}
	return 0, false
}

// manifestString names a manifest the way a gate is named: kind, then namespace/name or name.
func manifestString(manifest map[string]any) string {
	kind, _ := manifest["kind"].(string)
	metadata, _ := manifest["metadata"].(map[string]any)
	name, _ := metadata["name"].(string)
	if namespace, _ := metadata["namespace"].(string); namespace != "" {
		name = namespace + "/" + name
	}
	return kind + " " + name
}

func labels(spec Spec, addon string) map[string]any {
	l := map[string]any{LabelManagedBy: ManagedBy, LabelCluster: spec.Cluster, LabelStack: spec.Stack}
	if addon != "" {
		l[LabelAddon] = addon
	}
	return l
}

func providerConfig(apiVersion, composite string, spec Spec) map[string]any {
	key := spec.KubeconfigSecret.Key
	if key == "" {
		key = "kubeconfig"
	}
	return map[string]any{
		"apiVersion": apiVersion,
		"kind":       "ProviderConfig",
		"metadata":   map[string]any{"name": ProviderConfigName(composite), "labels": labels(spec, "")},
		"spec": map[string]any{
			"credentials": map[string]any{
				"source": "Secret",
				"secretRef": map[string]any{
					"namespace": spec.KubeconfigSecret.Namespace,
					"name":      spec.KubeconfigSecret.Name,
					"key":       key,
				},
			},
		},
	}
}

func release(composite string, spec Spec, addon Addon) map[string]any {
	forProvider := map[string]any{
		"chart": map[string]any{
			"repository": addon.Chart.Repository,
			"name":       addon.Chart.Name,
			"version":    addon.Chart.Version,
		},
		"namespace":           addon.Namespace,
		"skipCreateNamespace": false,
		// No wait (the default): readiness is the gates' business. Helm's wait would hold a provider-helm
		// worker for the whole wait and say nothing until it ends, and a failed install would leave the
		// release pending, which blocks the upgrade that fixes it. Without it the Release is Ready once
		// deployed.
		"plainHTTP": addon.Chart.PlainHTTP,
	}
	if len(addon.Values) > 0 {
		forProvider["values"] = copyValue(addon.Values)
	}
	return map[string]any{
		"apiVersion": releaseAPIVersion,
		"kind":       "Release",
		"metadata": map[string]any{
			"name":   ReleaseName(composite, addon.Name),
			"labels": labels(spec, addon.Name),
			// The Helm release in the workload cluster is named as the add-on, not as the Release.
			"annotations": map[string]any{"crossplane.io/external-name": addon.Name},
		},
		"spec": map[string]any{
			"providerConfigRef": map[string]any{"name": ProviderConfigName(composite)},
			"forProvider":       forProvider,
		},
	}
}

func manifestObject(composite string, spec Spec, addon Addon, i int) map[string]any {
	return object(ManifestName(composite, addon.Name, i), composite, spec, addon.Name, map[string]any{
		"providerConfigRef": map[string]any{"name": ProviderConfigName(composite)},
		// The add-on waits for its objects to exist; a gate says when something in them is ready.
		"readiness":   map[string]any{"policy": "SuccessfulCreate"},
		"forProvider": map[string]any{"manifest": copyValue(addon.Manifests[i])},
	})
}

func gateObject(composite string, spec Spec, addon Addon, i int) map[string]any {
	gate := addon.Gates[i]
	namespace := gate.Namespace
	if namespace == "" {
		namespace = addon.Namespace
	}
	var manifest, readiness map[string]any
	switch gate.Type {
	case GateCRDEstablished:
		// AllTrue: NamesAccepted and Established; a CRD has no condition that is False when healthy.
		manifest = observedManifest("apiextensions.k8s.io/v1", "CustomResourceDefinition", "", gate.Name)
		readiness = map[string]any{"policy": "AllTrue"}
	case GateDeploymentAvailable:
		// AllTrue: Available and Progressing (a finished rollout stays Progressing=True).
		manifest = observedManifest("apps/v1", "Deployment", namespace, gate.Name)
		readiness = map[string]any{"policy": "AllTrue"}
	case GateServiceEndpoints:
		// Endpoints have no conditions; a ready address is what a webhook's caller needs.
		manifest = observedManifest("v1", "Endpoints", namespace, gate.Name)
		readiness = map[string]any{"policy": "DeriveFromCelQuery", "celQuery": endpointsReady}
	default:
		// Validate rejects unknown gate types before Compose; a gate that cannot hold is the safe side.
		manifest = observedManifest("v1", "ConfigMap", namespace, gate.Name)
		readiness = map[string]any{"policy": "DeriveFromCelQuery", "celQuery": "false"}
	}
	return object(GateName(composite, addon.Name, i), composite, spec, addon.Name, map[string]any{
		// Observe only: the Object never writes, and deleting it leaves the observed object alone.
		"managementPolicies": []any{"Observe"},
		"providerConfigRef":  map[string]any{"name": ProviderConfigName(composite)},
		"readiness":          readiness,
		"forProvider":        map[string]any{"manifest": manifest},
	})
}

func observedManifest(apiVersion, kind, namespace, name string) map[string]any {
	metadata := map[string]any{"name": name}
	if namespace != "" {
		metadata["namespace"] = namespace
	}
	return map[string]any{"apiVersion": apiVersion, "kind": kind, "metadata": metadata}
}

func object(name, composite string, spec Spec, addon string, objectSpec map[string]any) map[string]any {
	return map[string]any{
		"apiVersion": objectAPIVersion,
		"kind":       "Object",
		"metadata":   map[string]any{"name": name, "labels": labels(spec, addon)},
		"spec":       objectSpec,
	}
}

// copyValue deep-copies JSON-like values, so composed resources never share maps with the spec.
func copyValue[T any](v T) T {
	return any(copyAny(v)).(T)
}

func copyAny(v any) any {
	switch v := v.(type) {
	case map[string]any:
		c := make(map[string]any, len(v))
		for k, e := range v {
			c[k] = copyAny(e)
		}
		return c
	case []any:
		c := make([]any, len(v))
		for i, e := range v {
			c[i] = copyAny(e)
		}
		return c
	default:
		return v
	}
}

// Validate reports the first problem of a spec that the composition cannot compose faithfully.
func Validate(spec Spec) error {
	if spec.Cluster == "" || spec.Stack == "" {
		return fmt.Errorf("spec.cluster and spec.stack are required")
	}
	if spec.KubeconfigSecret.Namespace == "" || spec.KubeconfigSecret.Name == "" {
		return fmt.Errorf("spec.kubeconfigSecret needs a namespace and a name")
	}
	seen := map[string]bool{}
	for i, addon := range spec.Addons {
		at := fmt.Sprintf("spec.addons[%d]", i)
		if addon.Name == "" {
			return fmt.Errorf("%s has no name", at)
		}
		at = fmt.Sprintf("add-on %q", addon.Name)
		if seen[addon.Name] {
			return fmt.Errorf("%s appears twice", at)
		}
		if (addon.Chart == nil) == (len(addon.Manifests) == 0) {
			return fmt.Errorf("%s needs either a chart or manifests", at)
		}
		if c := addon.Chart; c != nil && (c.Repository == "" || c.Name == "" || c.Version == "") {
			return fmt.Errorf("%s: its chart needs a repository, a name and a version", at)
		}
		if addon.Chart != nil && addon.Namespace == "" {
			return fmt.Errorf("%s: a chart add-on needs a namespace", at)
		}
		for j, manifest := range addon.Manifests {
			metadata, _ := manifest["metadata"].(map[string]any)
			if s, _ := manifest["apiVersion"].(string); s == "" {
				return fmt.Errorf("%s: manifest %d has no apiVersion", at, j)
			}
			if s, _ := manifest["kind"].(string); s == "" {
				return fmt.Errorf("%s: manifest %d has no kind", at, j)
			}
			if s, _ := metadata["name"].(string); s == "" {
				return fmt.Errorf("%s: manifest %d has no metadata.name", at, j)
			}
		}
		for _, dep := range addon.DependsOn {
			if !seen[dep] {
				return fmt.Errorf("%s depends on %q, which is not an add-on before it in the stack", at, dep)
			}
		}
		for j, gate := range addon.Gates {
			switch gate.Type {
			case GateCRDEstablished, GateDeploymentAvailable, GateServiceEndpoints:
			default:
				return fmt.Errorf("%s: gate %d has unknown type %q", at, j, gate.Type)
			}
			if gate.Name == "" {
				return fmt.Errorf("%s: gate %d has no name", at, j)
			}
			if gate.Type != GateCRDEstablished && gate.Namespace == "" && addon.Namespace == "" {
				return fmt.Errorf("%s: gate %s needs a namespace", at, gate)
			}
		}
		seen[addon.Name] = true
	}
	return nil
}
