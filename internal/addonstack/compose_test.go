package addonstack

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

const composite = "dev.platform"

// stack is a representative stack: a chart add-on with every kind of gate, a plain-object add-on, and a
// chart add-on that depends on the first.
func stack() Spec {
	return Spec{
		Cluster: "dev", Stack: "platform",
		KubeconfigSecret: SecretRef{Namespace: "crossplane-system", Name: "dev-kubeconfig", Key: "kubeconfig"},
		Addons: []Addon{
			{
				Name: "cert-manager", Namespace: "cert-manager",
				Chart:  &Chart{Repository: "oci://127.0.0.1:5000/charts", Name: "cert-manager", Version: "v1.16.2", PlainHTTP: true},
				Values: map[string]any{"crds": map[string]any{"enabled": true}, "replicaCount": float64(2)},
				Gates: []Gate{
					{Type: GateCRDEstablished, Name: "certificates.cert-manager.io"},
					{Type: GateDeploymentAvailable, Name: "cert-manager-webhook"},
					{Type: GateServiceEndpoints, Name: "cert-manager-webhook", Namespace: "cert-manager"},
				},
			},
			{
				Name: "storage-classes",
				Manifests: []map[string]any{{
					"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
					"metadata":    map[string]any{"name": "standard"},
					"provisioner": "rancher.io/local-path",
				}},
			},
			{
				Name: "ingress-nginx", Namespace: "ingress-nginx",
				Chart:     &Chart{Repository: "https://charts.example.org", Name: "ingress-nginx", Version: "4.11.3"},
				DependsOn: []string{"cert-manager"},
				Gates:     []Gate{{Type: GateDeploymentAvailable, Name: "ingress-nginx-controller"}},
			},
		},
	}
}

func ready() Observed {
	return Observed{Conditions: map[string]Condition{"Ready": {Status: "True"}, "Synced": {Status: "True"}}}
}

func notReady(message string) Observed {
	return Observed{Conditions: map[string]Condition{"Ready": {Status: "False", Reason: "Unavailable", Message: message}, "Synced": {Status: "True"}}}
}

// certManagerReady is everything of cert-manager observed and Ready.
func certManagerReady() map[string]Observed {
	return map[string]Observed{
		keyHelmProviderConfig: {}, keyKubernetesProviderConfig: {},
		"release.cert-manager": ready(), "gate.cert-manager.0": ready(), "gate.cert-manager.1": ready(), "gate.cert-manager.2": ready(),
	}
}

func with(observed map[string]Observed, more map[string]Observed) map[string]Observed {
	for k, v := range more {
		observed[k] = v
	}
	return observed
}

// summary is the desired resources' keys, each with whether it is reported Ready.
func summary(desired []Composed) map[string]bool {
	s := map[string]bool{}
	for _, d := range desired {
		s[d.Key] = d.Ready
	}
	return s
}

func TestCompose(t *testing.T) {
	certManagerProgressing := AddonStatus{Name: "cert-manager", Phase: PhaseProgressing, Order: 1, Gate: "Release dev.platform.cert-manager"}
	cases := map[string]struct {
		reason   string
		spec     Spec
		observed map[string]Observed
		want     map[string]bool
		status   []AddonStatus
	}{
		"NothingObserved": {
			reason:   "Only add-ons without dependencies are composed; the others wait, naming what they wait for.",
			spec:     stack(),
			observed: nil,
			want: map[string]bool{
				keyHelmProviderConfig: false, keyKubernetesProviderConfig: false,
				"release.cert-manager": false, "gate.cert-manager.0": false, "gate.cert-manager.1": false, "gate.cert-manager.2": false,
				"object.storage-classes.0": false,
			},
			status: []AddonStatus{
				certManagerProgressing,
				{Name: "storage-classes", Phase: PhaseProgressing, Order: 2, Gate: "StorageClass standard"},
				{Name: "ingress-nginx", Phase: PhasePending, Order: 3, Gate: "waiting for cert-manager", Message: "cert-manager is Progressing (Release dev.platform.cert-manager)"},
			},
		},
		"GateNotHolding": {
			reason: "An installed release whose gate does not hold is Progressing on that gate, with the observing Object's message; " +
				"a gate whose object does not exist yet is not Synced, which is no failure.",
			spec: stack(),
			observed: with(certManagerReady(), map[string]Observed{
				"gate.cert-manager.1": {Conditions: map[string]Condition{"Synced": {Status: "False", Message: "cannot observe external resource: not found"}}},
			}),
			want: map[string]bool{
				keyHelmProviderConfig: true, keyKubernetesProviderConfig: true,
				"release.cert-manager": true, "gate.cert-manager.0": true, "gate.cert-manager.1": false, "gate.cert-manager.2": true,
				"object.storage-classes.0": false,
			},
			status: []AddonStatus{
				{Name: "cert-manager", Phase: PhaseProgressing, Order: 1, Gate: "DeploymentAvailable cert-manager-webhook", Message: "cannot observe external resource: not found"},
				{Name: "storage-classes", Phase: PhaseProgressing, Order: 2, Gate: "StorageClass standard"},
				{Name: "ingress-nginx", Phase: PhasePending, Order: 3, Gate: "waiting for cert-manager", Message: "cert-manager is Progressing (DeploymentAvailable cert-manager-webhook)"},
			},
		},
		"ReleaseNotUpgradedYet": {
			reason: "A Ready Release whose applied spec still names another chart version is not Ready for the desired one: an " +
				"upgrade is in progress, and its dependents keep waiting.",
			spec: stack(),
			observed: with(certManagerReady(), map[string]Observed{
				"release.cert-manager": {Conditions: ready().Conditions, ForProvider: map[string]any{
					"chart": map[string]any{"repository": "oci://127.0.0.1:5000/charts", "name": "cert-manager", "version": "v1.15.0"},
				}},
			}),
			want: map[string]bool{
				keyHelmProviderConfig: true, keyKubernetesProviderConfig: true,
				"release.cert-manager": false, "gate.cert-manager.0": true, "gate.cert-manager.1": true, "gate.cert-manager.2": true,
				"object.storage-classes.0": false,
			},
			status: []AddonStatus{
				certManagerProgressing,
				{Name: "storage-classes", Phase: PhaseProgressing, Order: 2, Gate: "StorageClass standard"},
				{Name: "ingress-nginx", Phase: PhasePending, Order: 3, Gate: "waiting for cert-manager", Message: "cert-manager is Progressing (Release dev.platform.cert-manager)"},
			},
		},
		"ReleaseConditionsStale": {
			reason: "Conditions set for an older generation of the Release do not speak for its current spec.",
			spec:   stack(),
			observed: with(certManagerReady(), map[string]Observed{
				"release.cert-manager": {Conditions: ready().Conditions, Stale: true},
			}),
			want: map[string]bool{
				keyHelmProviderConfig: true, keyKubernetesProviderConfig: true,
				"release.cert-manager": false, "gate.cert-manager.0": true, "gate.cert-manager.1": true, "gate.cert-manager.2": true,
				"object.storage-classes.0": false,
			},
			status: []AddonStatus{
				certManagerProgressing,
				{Name: "storage-classes", Phase: PhaseProgressing, Order: 2, Gate: "StorageClass standard"},
				{Name: "ingress-nginx", Phase: PhasePending, Order: 3, Gate: "waiting for cert-manager", Message: "cert-manager is Progressing (Release dev.platform.cert-manager)"},
			},
		},
		"DependencyReady": {
			reason:   "Once its dependency is Ready, an add-on is composed.",
			spec:     stack(),
			observed: with(certManagerReady(), map[string]Observed{"object.storage-classes.0": ready()}),
			want: map[string]bool{
				keyHelmProviderConfig: true, keyKubernetesProviderConfig: true,
				"release.cert-manager": true, "gate.cert-manager.0": true, "gate.cert-manager.1": true, "gate.cert-manager.2": true,
				"object.storage-classes.0": true,
				"release.ingress-nginx":    false, "gate.ingress-nginx.0": false,
			},
			status: []AddonStatus{
				{Name: "cert-manager", Phase: PhaseReady, Order: 1},
				{Name: "storage-classes", Phase: PhaseReady, Order: 2},
				{Name: "ingress-nginx", Phase: PhaseProgressing, Order: 3, Gate: "Release dev.platform.ingress-nginx"},
			},
		},
		"DependencyNoLongerReady": {
			reason: "An add-on already applied stays composed when its dependency stops being Ready (no uninstall).",
			spec:   stack(),
			observed: with(certManagerReady(), map[string]Observed{
				"gate.cert-manager.2":   notReady(""),
				"release.ingress-nginx": ready(), "gate.ingress-nginx.0": ready(),
			}),
			want: map[string]bool{
				keyHelmProviderConfig: true, keyKubernetesProviderConfig: true,
				"release.cert-manager": true, "gate.cert-manager.0": true, "gate.cert-manager.1": true, "gate.cert-manager.2": false,
				"object.storage-classes.0": false,
				"release.ingress-nginx":    true, "gate.ingress-nginx.0": true,
			},
			status: []AddonStatus{
				{Name: "cert-manager", Phase: PhaseProgressing, Order: 1, Gate: "ServiceEndpoints cert-manager/cert-manager-webhook"},
				{Name: "storage-classes", Phase: PhaseProgressing, Order: 2, Gate: "StorageClass standard"},
				{Name: "ingress-nginx", Phase: PhaseReady, Order: 3},
			},
		},
		"PartlyApplied": {
			reason:   "One observed resource is enough to keep all of an add-on's resources composed.",
			spec:     stack(),
			observed: map[string]Observed{"gate.ingress-nginx.0": notReady("")},
			want: map[string]bool{
				keyHelmProviderConfig: false, keyKubernetesProviderConfig: false,
				"release.cert-manager": false, "gate.cert-manager.0": false, "gate.cert-manager.1": false, "gate.cert-manager.2": false,
				"object.storage-classes.0": false,
				"release.ingress-nginx":    false, "gate.ingress-nginx.0": false,
			},
			status: []AddonStatus{
				certManagerProgressing,
				{Name: "storage-classes", Phase: PhaseProgressing, Order: 2, Gate: "StorageClass standard"},
				{Name: "ingress-nginx", Phase: PhaseProgressing, Order: 3, Gate: "Release dev.platform.ingress-nginx"},
			},
		},
		"ReleaseNotSynced": {
			reason: "A Release that is not Synced fails its add-on with the provider's message; its dependents wait.",
			spec:   stack(),
			observed: with(certManagerReady(), map[string]Observed{
				"release.cert-manager": {Conditions: map[string]Condition{
					"Ready":  {Status: "False", Message: "release not deployed"},
					"Synced": {Status: "False", Reason: "ReconcileError", Message: "failed to install release: chart not found"},
				}},
			}),
			want: map[string]bool{
				keyHelmProviderConfig: true, keyKubernetesProviderConfig: true,
				"release.cert-manager": false, "gate.cert-manager.0": true, "gate.cert-manager.1": true, "gate.cert-manager.2": true,
				"object.storage-classes.0": false,
			},
			status: []AddonStatus{
				{Name: "cert-manager", Phase: PhaseFailed, Order: 1, Gate: "Release dev.platform.cert-manager", Message: "failed to install release: chart not found"},
				{Name: "storage-classes", Phase: PhaseProgressing, Order: 2, Gate: "StorageClass standard"},
				{Name: "ingress-nginx", Phase: PhasePending, Order: 3, Gate: "waiting for cert-manager", Message: "cert-manager is Failed (Release dev.platform.cert-manager)"},
			},
		},
		"ReleaseFailures": {
			reason: "A Release that counts failures fails its add-on even while Synced.",
			spec:   stack(),
			observed: with(certManagerReady(), map[string]Observed{
				"release.cert-manager": {Failed: 2, Conditions: map[string]Condition{"Ready": {Status: "False"}, "Synced": {Status: "True"}}},
			}),
			want: map[string]bool{
				keyHelmProviderConfig: true, keyKubernetesProviderConfig: true,
				"release.cert-manager": false, "gate.cert-manager.0": true, "gate.cert-manager.1": true, "gate.cert-manager.2": true,
				"object.storage-classes.0": false,
			},
			status: []AddonStatus{
				{Name: "cert-manager", Phase: PhaseFailed, Order: 1, Gate: "Release dev.platform.cert-manager", Message: "the release failed 2 times"},
				{Name: "storage-classes", Phase: PhaseProgressing, Order: 2, Gate: "StorageClass standard"},
				{Name: "ingress-nginx", Phase: PhasePending, Order: 3, Gate: "waiting for cert-manager", Message: "cert-manager is Failed (Release dev.platform.cert-manager)"},
			},
		},
		"ManifestAddon": {
			reason: "A plain-object add-on is Ready once its objects are; an object the cluster refused fails it.",
			spec: Spec{Cluster: "dev", Stack: "platform", Addons: []Addon{
				{Name: "classes", Manifests: []map[string]any{
					{"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": map[string]any{"name": "fast"}},
					{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "defaults", "namespace": "kube-system"}},
				}},
				{Name: "refused", Manifests: []map[string]any{
					{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "bad", "namespace": "kube-system"}},
				}},
				{Name: "after", DependsOn: []string{"classes"}, Manifests: []map[string]any{
					{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": "apps"}},
				}},
			}},
			observed: map[string]Observed{
				"object.classes.0": ready(), "object.classes.1": ready(),
				"object.refused.0": {Conditions: map[string]Condition{"Synced": {Status: "False", Message: "cannot create object: forbidden"}}},
			},
			want: map[string]bool{
				keyHelmProviderConfig: false, keyKubernetesProviderConfig: false,
				"object.classes.0": true, "object.classes.1": true, "object.refused.0": false, "object.after.0": false,
			},
			status: []AddonStatus{
				{Name: "classes", Phase: PhaseReady, Order: 1},
				{Name: "refused", Phase: PhaseFailed, Order: 2, Gate: "ConfigMap kube-system/bad", Message: "cannot create object: forbidden"},
				{Name: "after", Phase: PhaseProgressing, Order: 3, Gate: "Namespace apps"},
			},
		},
		"UnknownDependency": {
			reason: "A dependency that is not an earlier add-on never holds (Validate rejects such a spec first).",
			spec: Spec{Cluster: "dev", Stack: "platform", Addons: []Addon{
				{Name: "lonely", Manifests: []map[string]any{{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": "x"}}}, DependsOn: []string{"ghost"}},
			}},
			want: map[string]bool{keyHelmProviderConfig: false, keyKubernetesProviderConfig: false},
			status: []AddonStatus{
				{Name: "lonely", Phase: PhasePending, Order: 1, Gate: "waiting for ghost", Message: "ghost is not an add-on before lonely in the stack"},
			},
		},
		"NoAddons": {
			reason: "An empty stack composes only its ProviderConfigs and reports an empty list.",
			spec:   Spec{Cluster: "dev", Stack: "platform"},
			want:   map[string]bool{keyHelmProviderConfig: false, keyKubernetesProviderConfig: false},
			status: []AddonStatus{},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			desired, status := Compose(composite, tc.spec, tc.observed)
			if diff := cmp.Diff(tc.want, summary(desired)); diff != "" {
				t.Errorf("%s\nCompose(...): desired resources and readiness (-want +got):\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(Status{Addons: tc.status}, status); diff != "" {
				t.Errorf("%s\nCompose(...): status (-want +got):\n%s", tc.reason, diff)
			}
		})
	}
}

func TestComposeDoesNotShareSpec(t *testing.T) {
	spec := stack()
	desired, _ := Compose(composite, spec, certManagerReady())
	for _, d := range desired {
		if d.Key == "release.cert-manager" {
			values := d.Resource["spec"].(map[string]any)["forProvider"].(map[string]any)["values"].(map[string]any)
			values["crds"].(map[string]any)["enabled"] = false
		}
	}
	if diff := cmp.Diff(stack(), spec); diff != "" {
		t.Errorf("changing a composed resource changed the spec (-want +got):\n%s", diff)
	}
}

// golden is the form of the golden file: every desired resource with its key and readiness.
type golden struct {
	Key      string         `json:"key"`
	Ready    bool           `json:"ready"`
	Resource map[string]any `json:"resource"`
}

func TestComposeGolden(t *testing.T) {
	desired, _ := Compose(composite, stack(), certManagerReady())
	var got []golden
	for _, d := range desired {
		got = append(got, golden{Key: d.Key, Ready: d.Ready, Resource: d.Resource})
	}
	data, err := yaml.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join("testdata", "compose.golden.yaml")
	if *update {
		if err := os.WriteFile(file, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if diff := cmp.Diff(string(want), string(data)); diff != "" {
		t.Errorf("composed resources differ from %s (-want +got; -update rewrites it):\n%s", file, diff)
	}
}

func TestValidate(t *testing.T) {
	namespace := map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": "x"}}
	base := func(addons ...Addon) Spec {
		return Spec{Cluster: "dev", Stack: "platform", KubeconfigSecret: SecretRef{Namespace: "ns", Name: "kc"}, Addons: addons}
	}
	chart := &Chart{Repository: "oci://r", Name: "c", Version: "1.0.0"}
	cases := map[string]struct {
		reason string
		spec   Spec
		want   string
	}{
		"Representative": {reason: "The representative stack is valid.", spec: stack()},
		"Empty":          {reason: "A stack without add-ons is valid.", spec: base()},
		"NoCluster":      {reason: "The cluster is required.", spec: Spec{Stack: "s"}, want: "spec.cluster and spec.stack are required"},
		"NoSecret": {reason: "The kubeconfig secret is required.", spec: Spec{Cluster: "c", Stack: "s"},
			want: "spec.kubeconfigSecret needs a namespace and a name"},
		"Twice": {reason: "Add-on names are unique.", spec: base(Addon{Name: "a", Manifests: []map[string]any{namespace}}, Addon{Name: "a", Manifests: []map[string]any{namespace}}),
			want: `add-on "a" appears twice`},
		"Neither": {reason: "An add-on has a chart or manifests.", spec: base(Addon{Name: "a"}), want: `add-on "a" needs either a chart or manifests`},
		"Both": {reason: "Not both.", spec: base(Addon{Name: "a", Namespace: "n", Chart: chart, Manifests: []map[string]any{namespace}}),
			want: `add-on "a" needs either a chart or manifests`},
		"NoVersion": {reason: "A chart is exact.", spec: base(Addon{Name: "a", Namespace: "n", Chart: &Chart{Repository: "oci://r", Name: "c"}}),
			want: `add-on "a": its chart needs a repository, a name and a version`},
		"NoNamespace": {reason: "A release goes to a namespace.", spec: base(Addon{Name: "a", Chart: chart}),
			want: `add-on "a": a chart add-on needs a namespace`},
		"ManifestWithoutKind": {reason: "A manifest is a whole object.", spec: base(Addon{Name: "a", Manifests: []map[string]any{{"apiVersion": "v1", "metadata": map[string]any{"name": "x"}}}}),
			want: `add-on "a": manifest 0 has no kind`},
		"LaterDependency": {reason: "Dependencies come first (no cycles).", spec: base(
			Addon{Name: "a", Manifests: []map[string]any{namespace}, DependsOn: []string{"b"}},
			Addon{Name: "b", Manifests: []map[string]any{namespace}}),
			want: `add-on "a" depends on "b", which is not an add-on before it in the stack`},
		"UnknownGate": {reason: "Only known gates.", spec: base(Addon{Name: "a", Namespace: "n", Chart: chart, Gates: []Gate{{Type: "Vibes", Name: "x"}}}),
			want: `add-on "a": gate 0 has unknown type "Vibes"`},
		"GateWithoutNamespace": {reason: "A namespaced gate of an add-on without namespace names its own.",
			spec: base(Addon{Name: "a", Manifests: []map[string]any{namespace}, Gates: []Gate{{Type: GateDeploymentAvailable, Name: "x"}}}),
			want: `add-on "a": gate DeploymentAvailable x needs a namespace`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := ""
			if err := Validate(tc.spec); err != nil {
				got = err.Error()
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nValidate(...) (-want +got):\n%s", tc.reason, diff)
			}
		})
	}
}
