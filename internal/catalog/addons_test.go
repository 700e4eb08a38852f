package catalog

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/idp-platform/terraform-provider-idp/internal/addonstack"
)

// fullStack selects every add-on at its default version, with the values a registered cluster needs.
func fullStack(cloud string) map[string]AddonSelection {
	stack := map[string]AddonSelection{}
	for _, d := range Addons() {
		stack[d.Key] = AddonSelection{}
	}
	if cloud == CloudExisting {
		stack["external_dns"] = AddonSelection{Values: "provider:\n  name: cloudflare\n"}
		stack["storage"] = AddonSelection{Values: "provisioner: csi.vsphere.vmware.com\nparameters:\n  storagepolicyname: gold\n"}
	}
	return stack
}

func TestAddonCatalog(t *testing.T) {
	if AddonCatalogVersion() == "" {
		t.Fatal("the add-on catalog has no version")
	}
	var keys []string
	for _, d := range Addons() {
		keys = append(keys, d.Key)
		def, ok := d.Versions[0], false
		for _, v := range d.Versions {
			if v.Version == d.DefaultVersion {
				def, ok = v, true
			}
		}
		if !ok {
			t.Errorf("%s: default version %s is not listed", d.Key, d.DefaultVersion)
		}
		// The platform creates clusters of 1.30 to 1.34 (the sandbox's run 1.34): a stack of defaults
		// must install on every one of them.
		for _, minor := range []string{"1.30", "1.31", "1.32", "1.33", "1.34"} {
			if supported, err := def.SupportsKubernetes(minor); err != nil || !supported {
				t.Errorf("%s: default version %s does not support Kubernetes %s (%v)", d.Key, d.DefaultVersion, minor, err)
			}
		}
		if len(d.Versions) < 2 {
			t.Errorf("%s: %d versions; every add-on offers an upgrade path, so at least 2", d.Key, len(d.Versions))
		}
		for _, v := range d.Versions {
			// See addons/catalog.yaml: upstream digests are pinned by a platform team's mirror only.
			if v.Digest != "" {
				t.Errorf("%s %s: the shipped catalog pins digest %s of an archive nobody here downloaded", d.Key, v.Version, v.Digest)
			}
		}
	}
	want := []string{"cert_manager", "external_dns", "ingress", "logging", "metrics_server", "monitoring", "storage"}
	if diff := cmp.Diff(want, keys); diff != "" {
		t.Errorf("Addons(): -want keys, +got:\n%s", diff)
	}
}

func TestAddon(t *testing.T) {
	cases := map[string]struct {
		reason string
		key    string
		want   AddonDefinition
		wantOK bool
	}{
		"Ingress": {
			reason: "An add-on is found by its Terraform key, with its chart, versions, dependencies and gates.",
			key:    "ingress",
			wantOK: true,
			want: AddonDefinition{
				Key:         "ingress",
				Name:        "ingress-nginx",
				Description: "HTTP(S) ingress controller (ingress-nginx) behind a cloud load balancer.",
				Namespace:   "ingress-nginx",
				Chart:       &AddonChart{Repository: "https://kubernetes.github.io/ingress-nginx", Name: "ingress-nginx"},
				Versions: []AddonVersion{
					{Version: "4.12.1", AppVersion: "1.12.1", MinKubernetes: "1.28", MaxKubernetes: "1.34"},
					{Version: "4.11.5", AppVersion: "1.11.5", MinKubernetes: "1.27", MaxKubernetes: "1.34"},
				},
				DefaultVersion: "4.12.1",
				DependsOn:      []string{"cert_manager"},
				Gates:          []addonstack.Gate{{Type: addonstack.GateDeploymentAvailable, Namespace: "ingress-nginx", Name: "ingress-nginx-controller"}},
			},
		},
		"Storage": {
			reason: "An add-on of plain objects has no chart and no namespace.",
			key:    "storage",
			wantOK: true,
			want: AddonDefinition{
				Key:         "storage",
				Name:        "storage",
				Description: "The cluster's default StorageClass for the cloud's block storage CSI driver.",
				Versions: []AddonVersion{
					{Version: "1.1.0", MinKubernetes: "1.26", MaxKubernetes: "1.34"},
					{Version: "1.0.0", MinKubernetes: "1.26", MaxKubernetes: "1.34"},
				},
				DefaultVersion: "1.1.0",
			},
		},
		"CatalogNameIsNotAKey": {
			reason: "Add-ons are looked up by key, not by the name the cluster sees.",
			key:    "cert-manager",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, ok := Addon(tc.key)
			if ok != tc.wantOK {
				t.Fatalf("%s\nAddon(%q): ok %v, want %v", tc.reason, tc.key, ok, tc.wantOK)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nAddon(%q): -want, +got:\n%s", tc.reason, tc.key, diff)
			}
		})
	}
}

func TestAddonDefinitionsAreCopies(t *testing.T) {
	d, _ := Addon("cert_manager")
	d.Versions[0].Version = "changed"
	d.Gates[0].Name = "changed"
	d.Chart.Name = "changed"
	again, _ := Addon("cert_manager")
	if again.Versions[0].Version == "changed" || again.Gates[0].Name == "changed" || again.Chart.Name == "changed" {
		t.Errorf("changing a returned definition changed the catalog: %+v", again)
	}
}

func TestSupportsKubernetes(t *testing.T) {
	v := AddonVersion{Version: "1.0.0", MinKubernetes: "1.29", MaxKubernetes: "1.33"}
	cases := map[string]struct {
		reason  string
		cluster string
		want    bool
		wantErr bool
	}{
		"Minor":          {reason: "A bare minor version.", cluster: "1.30", want: true},
		"LowestIncluded": {reason: "The range includes its lowest version.", cluster: "1.29", want: true},
		"HighestPatch":   {reason: "The range includes every patch of its highest minor.", cluster: "v1.33.7", want: true},
		"Vendor":         {reason: "A cloud's build suffix is ignored.", cluster: "v1.33.5-gke.1201000", want: true},
		"Below":          {reason: "Older than the range.", cluster: "1.28", want: false},
		"Above":          {reason: "Newer than the range.", cluster: "v1.34.4", want: false},
		"NotAVersion":    {reason: "Not a version at all.", cluster: "latest", wantErr: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := v.SupportsKubernetes(tc.cluster)
			if (err != nil) != tc.wantErr {
				t.Fatalf("%s\nSupportsKubernetes(%q): error %v, want error %v", tc.reason, tc.cluster, err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("%s\nSupportsKubernetes(%q) = %v, want %v", tc.reason, tc.cluster, got, tc.want)
			}
		})
	}
}

func TestResolveAddons(t *testing.T) {
	certManagerGates := []addonstack.Gate{
		{Type: addonstack.GateCRDEstablished, Name: "certificates.cert-manager.io"},
		{Type: addonstack.GateCRDEstablished, Name: "issuers.cert-manager.io"},
		{Type: addonstack.GateCRDEstablished, Name: "clusterissuers.cert-manager.io"},
		{Type: addonstack.GateDeploymentAvailable, Namespace: "cert-manager", Name: "cert-manager"},
		{Type: addonstack.GateDeploymentAvailable, Namespace: "cert-manager", Name: "cert-manager-webhook"},
		{Type: addonstack.GateServiceEndpoints, Namespace: "cert-manager", Name: "cert-manager-webhook"},
	}
	metricsServerGates := []addonstack.Gate{{Type: addonstack.GateDeploymentAvailable, Namespace: "kube-system", Name: "metrics-server"}}
	metricsServerValues := func(args ...any) map[string]any {
		return map[string]any{
			"replicas":  float64(1),
			"args":      args,
			"resources": map[string]any{"requests": map[string]any{"cpu": "20m", "memory": "64Mi"}},
		}
	}
	storageClass := func(name, provisioner string, parameters map[string]any, isDefault string, expand bool) map[string]any {
		class := map[string]any{
			"apiVersion": "storage.k8s.io/v1",
			"kind":       "StorageClass",
			"metadata": map[string]any{
				"name":        name,
				"labels":      map[string]any{"platform.idp.dev/managed-by": "terraform-provider-idp", "platform.idp.dev/addon": "storage"},
				"annotations": map[string]any{"storageclass.kubernetes.io/is-default-class": isDefault},
			},
			"provisioner":          provisioner,
			"reclaimPolicy":        "Delete",
			"volumeBindingMode":    "WaitForFirstConsumer",
			"allowVolumeExpansion": expand,
		}
		if parameters != nil {
			class["parameters"] = parameters
		}
		return class
	}

	cases := map[string]struct {
		reason       string
		req          AddonRequest
		want         []addonstack.Addon
		wantProblems []AddonProblem
	}{
		"DefaultsUpstream": {
			reason: "Without a mirror the chart comes from its upstream repository, at the default version.",
			req: AddonRequest{Cloud: "aws", KubernetesVersion: "1.34",
				Addons: map[string]AddonSelection{"metrics_server": {}}},
			want: []addonstack.Addon{{
				Name: "metrics-server", Namespace: "kube-system",
				Chart:  &addonstack.Chart{Repository: "https://kubernetes-sigs.github.io/metrics-server", Name: "metrics-server", Version: "3.12.2"},
				Values: metricsServerValues("--kubelet-preferred-address-types=InternalIP,Hostname"),
				Gates:  metricsServerGates,
			}},
		},
		"CloudDefaultsAndUserValues": {
			reason: "The cloud's defaults replace the common ones (a list is replaced whole), the user's values win and merge into maps, and a user's null drops a default.",
			req: AddonRequest{Cloud: "existing", KubernetesVersion: "v1.34.4",
				Addons: map[string]AddonSelection{"metrics_server": {Version: "3.11.0", Values: "replicas: 2\nresources:\n  requests:\n    cpu: null\n  limits:\n    memory: 128Mi\n"}}},
			want: []addonstack.Addon{{
				Name: "metrics-server", Namespace: "kube-system",
				Chart: &addonstack.Chart{Repository: "https://kubernetes-sigs.github.io/metrics-server", Name: "metrics-server", Version: "3.11.0"},
				Values: map[string]any{
					"replicas": float64(2),
					"args":     []any{"--kubelet-preferred-address-types=InternalIP,Hostname", "--kubelet-insecure-tls"},
					"resources": map[string]any{
						"requests": map[string]any{"memory": "64Mi"},
						"limits":   map[string]any{"memory": "128Mi"},
					},
				},
				Gates: metricsServerGates,
			}},
		},
		"OCIMirrorOnLoopback": {
			reason: "An OCI mirror on loopback replaces the repository and is reached over plain HTTP; dependencies come first and are named as the cluster sees them.",
			req: AddonRequest{Cloud: "gcp", Mirror: "oci://127.0.0.1:5000/addons/",
				Addons: map[string]AddonSelection{"ingress": {Version: "4.11.5", Values: "controller:\n  replicaCount: 1\n"}, "cert_manager": {}}},
			want: []addonstack.Addon{
				{
					Name: "cert-manager", Namespace: "cert-manager",
					Chart: &addonstack.Chart{Repository: "oci://127.0.0.1:5000/addons", Name: "cert-manager", Version: "v1.18.2", PlainHTTP: true},
					Values: map[string]any{
						"crds":         map[string]any{"enabled": true, "keep": true},
						"replicaCount": float64(1),
						"webhook":      map[string]any{"replicaCount": float64(1)},
						"cainjector":   map[string]any{"replicaCount": float64(1)},
						"prometheus":   map[string]any{"enabled": false},
						"resources":    map[string]any{"requests": map[string]any{"cpu": "10m", "memory": "32Mi"}},
						"global":       map[string]any{"leaderElection": map[string]any{"namespace": "cert-manager"}},
					},
					Gates: certManagerGates,
				},
				{
					Name: "ingress-nginx", Namespace: "ingress-nginx",
					Chart: &addonstack.Chart{Repository: "oci://127.0.0.1:5000/addons", Name: "ingress-nginx", Version: "4.11.5", PlainHTTP: true},
					Values: map[string]any{"controller": map[string]any{
						"replicaCount":         float64(1),
						"ingressClassResource": map[string]any{"name": "nginx", "default": true},
						"service":              map[string]any{"type": "LoadBalancer", "annotations": map[string]any{"cloud.google.com/l4-rbs": "enabled"}},
						"admissionWebhooks":    map[string]any{"certManager": map[string]any{"enabled": true}},
						"metrics":              map[string]any{"enabled": false},
						"resources":            map[string]any{"requests": map[string]any{"cpu": "50m", "memory": "64Mi"}},
					}},
					DependsOn: []string{"cert-manager"},
					Gates:     []addonstack.Gate{{Type: addonstack.GateDeploymentAvailable, Namespace: "ingress-nginx", Name: "ingress-nginx-controller"}},
				},
			},
		},
		"OCIMirrorElsewhere": {
			reason: "An OCI mirror that is not on loopback is reached over TLS.",
			req: AddonRequest{Cloud: "azure", Mirror: "oci://registry.example:5000/platform/addons",
				Addons: map[string]AddonSelection{"metrics_server": {}}},
			want: []addonstack.Addon{{
				Name: "metrics-server", Namespace: "kube-system",
				Chart:  &addonstack.Chart{Repository: "oci://registry.example:5000/platform/addons", Name: "metrics-server", Version: "3.12.2"},
				Values: metricsServerValues("--kubelet-preferred-address-types=InternalIP,Hostname"),
				Gates:  metricsServerGates,
			}},
		},
		"OCIMirrorOnLocalhost": {
			reason: "localhost is loopback too.",
			req: AddonRequest{Cloud: "aws", Mirror: "oci://localhost:5000/addons",
				Addons: map[string]AddonSelection{"metrics_server": {}}},
			want: []addonstack.Addon{{
				Name: "metrics-server", Namespace: "kube-system",
				Chart:  &addonstack.Chart{Repository: "oci://localhost:5000/addons", Name: "metrics-server", Version: "3.12.2", PlainHTTP: true},
				Values: metricsServerValues("--kubelet-preferred-address-types=InternalIP,Hostname"),
				Gates:  metricsServerGates,
			}},
		},
		"HTTPMirror": {
			reason: "An HTTP chart repository mirror replaces the repository URL; plain HTTP is an OCI notion.",
			req: AddonRequest{Cloud: "aws", Mirror: "http://[::1]:8080/charts",
				Addons: map[string]AddonSelection{"metrics_server": {}}},
			want: []addonstack.Addon{{
				Name: "metrics-server", Namespace: "kube-system",
				Chart:  &addonstack.Chart{Repository: "http://[::1]:8080/charts", Name: "metrics-server", Version: "3.12.2"},
				Values: metricsServerValues("--kubelet-preferred-address-types=InternalIP,Hostname"),
				Gates:  metricsServerGates,
			}},
		},
		"StorageOnAzure": {
			reason: "Storage is plain objects: the cloud's default StorageClass, whatever the mirror.",
			req:    AddonRequest{Cloud: "azure", Mirror: "oci://127.0.0.1:5000/addons", Addons: map[string]AddonSelection{"storage": {}}},
			want: []addonstack.Addon{{
				Name:      "storage",
				Manifests: []map[string]any{storageClass("managed-csi", "disk.csi.azure.com", map[string]any{"skuName": "StandardSSD_LRS"}, "true", true)},
			}},
		},
		"StorageOldVersionOnExisting": {
			reason: "On a registered cluster the user names the provisioner; the class is not the default unless asked; version 1.0.0 does not expand volumes.",
			req:    AddonRequest{Cloud: "existing", Addons: map[string]AddonSelection{"storage": {Version: "1.0.0", Values: "provisioner: csi.vsphere.vmware.com\nname: fast\n"}}},
			want: []addonstack.Addon{{
				Name:      "storage",
				Manifests: []map[string]any{storageClass("fast", "csi.vsphere.vmware.com", nil, "false", false)},
			}},
		},
		"EmptyStack": {
			reason: "A stack of no add-ons resolves to nothing, without problems.",
			req:    AddonRequest{Cloud: "aws"},
		},
		"UnknownAddon": {
			reason: "An unknown add-on lists what exists, and suggests the key for a catalog name.",
			req:    AddonRequest{Cloud: "aws", Addons: map[string]AddonSelection{"cert-manager": {}, "nginx": {}}},
			wantProblems: []AddonProblem{
				{Addon: "cert-manager", Summary: "Unknown add-on", Detail: `"cert-manager" is not an add-on of the catalog (version 2026.12.0), which has: cert_manager, external_dns, ingress, logging, metrics_server, monitoring, storage. Did you mean cert_manager?`},
				{Addon: "nginx", Summary: "Unknown add-on", Detail: `"nginx" is not an add-on of the catalog (version 2026.12.0), which has: cert_manager, external_dns, ingress, logging, metrics_server, monitoring, storage.`},
			},
		},
		"UnknownVersion": {
			reason: "An unknown version lists the versions, and suggests the spelling the chart uses.",
			req:    AddonRequest{Cloud: "aws", Addons: map[string]AddonSelection{"cert_manager": {Version: "1.18.2"}}},
			wantProblems: []AddonProblem{{Addon: "cert_manager", Attribute: "version", Summary: "Unknown add-on version",
				Detail: `cert_manager has no version "1.18.2" in the catalog; versions: v1.18.2 (default), v1.17.4, v1.16.5. Did you mean v1.18.2?`}},
		},
		"VersionTooOldForCluster": {
			reason: "A version that does not support the cluster's Kubernetes says which versions do.",
			req:    AddonRequest{Cloud: "aws", KubernetesVersion: "v1.34.4", Addons: map[string]AddonSelection{"cert_manager": {Version: "v1.16.5"}, "external_dns": {Version: "1.15.2"}}},
			wantProblems: []AddonProblem{
				{Addon: "cert_manager", Attribute: "version", Summary: "Add-on version does not support the cluster's Kubernetes version",
					Detail: "cert_manager v1.16.5 supports Kubernetes 1.25 to 1.32; the cluster runs 1.34. Versions that support 1.34: v1.18.2 (default), v1.17.4."},
				{Addon: "external_dns", Attribute: "version", Summary: "Add-on version does not support the cluster's Kubernetes version",
					Detail: "external_dns 1.15.2 supports Kubernetes 1.26 to 1.33; the cluster runs 1.34. Versions that support 1.34: 1.16.1 (default)."},
			},
		},
		"NoVersionForCluster": {
			reason: "When no version supports the cluster, the detail says so.",
			req:    AddonRequest{Cloud: "aws", KubernetesVersion: "1.24", Addons: map[string]AddonSelection{"cert_manager": {}}},
			wantProblems: []AddonProblem{{Addon: "cert_manager", Attribute: "version", Summary: "Add-on version does not support the cluster's Kubernetes version",
				Detail: "cert_manager v1.18.2 supports Kubernetes 1.29 to 1.34; the cluster runs 1.24. No version of cert_manager in this catalog supports 1.24."}},
		},
		"UnknownKubernetesVersionSkipsCheck": {
			reason: "A cluster whose version is not known yet is not checked: an old version resolves.",
			req:    AddonRequest{Cloud: "aws", Addons: map[string]AddonSelection{"external_dns": {Version: "1.15.2"}}},
			want: []addonstack.Addon{{
				Name: "external-dns", Namespace: "external-dns",
				Chart: &addonstack.Chart{Repository: "https://kubernetes-sigs.github.io/external-dns", Name: "external-dns", Version: "1.15.2"},
				Values: map[string]any{
					"provider":  map[string]any{"name": "aws"},
					"policy":    "upsert-only",
					"registry":  "txt",
					"sources":   []any{"service", "ingress"},
					"interval":  "1m",
					"resources": map[string]any{"requests": map[string]any{"cpu": "10m", "memory": "32Mi"}},
				},
				Gates: []addonstack.Gate{{Type: addonstack.GateDeploymentAvailable, Namespace: "external-dns", Name: "external-dns"}},
			}},
		},
		"MissingDependency": {
			reason: "A dependent without its dependency in the stack is refused, with the reason it needs it.",
			req:    AddonRequest{Cloud: "aws", Addons: map[string]AddonSelection{"ingress": {}, "logging": {}}},
			wantProblems: []AddonProblem{
				{Addon: "ingress", Summary: "Missing add-on dependency",
					Detail: "ingress needs cert_manager in the same stack: its admission webhook's serving certificate is a cert-manager Certificate. Add cert_manager to the stack's add-ons."},
				{Addon: "logging", Summary: "Missing add-on dependency",
					Detail: "logging needs monitoring in the same stack: it ships a ServiceMonitor, a custom resource of the Prometheus Operator. Add monitoring to the stack's add-ons."},
			},
		},
		"ValuesNotYAML": {
			reason: "Values that are not YAML are refused on the values attribute.",
			req:    AddonRequest{Cloud: "aws", Addons: map[string]AddonSelection{"metrics_server": {Values: "replicas: [1"}}},
			wantProblems: []AddonProblem{{Addon: "metrics_server", Attribute: "values", Summary: "Invalid add-on values",
				Detail: "The values are not YAML: error converting YAML to JSON: yaml: line 1: did not find expected ',' or ']'."}},
		},
		"ValuesNotAMap": {
			reason: "Values are a map of the chart's values, not a list.",
			req:    AddonRequest{Cloud: "aws", Addons: map[string]AddonSelection{"metrics_server": {Values: "- replicas: 1\n"}}},
			wantProblems: []AddonProblem{{Addon: "metrics_server", Attribute: "values", Summary: "Invalid add-on values",
				Detail: "The values must be a YAML map of the add-on's values (e.g. yamlencode({ replicaCount = 2 })), not a list."}},
		},
		"RequiredValuesOnExisting": {
			reason: "A registered cluster's cloud is unknown: external-dns's provider and the storage provisioner must come from the user.",
			req:    AddonRequest{Cloud: "existing", Addons: map[string]AddonSelection{"external_dns": {}, "storage": {}}},
			wantProblems: []AddonProblem{
				{Addon: "external_dns", Attribute: "values", Summary: "Missing add-on values",
					Detail: `On cloud "existing" the catalog has no default for provider.name of external_dns: set it in the add-on's values (provider.name: the DNS provider the cluster's zones are in, e.g. aws, azure, google, cloudflare).`},
				{Addon: "storage", Attribute: "values", Summary: "Missing add-on values",
					Detail: `On cloud "existing" the catalog has no default for provisioner of storage: set it in the add-on's values (provisioner: the cluster's CSI driver, e.g. ebs.csi.aws.com or csi.vsphere.vmware.com).`},
			},
		},
		"EveryProblemAtOnce": {
			reason: "Problems of different kinds and add-ons come in one plan, not one per fix.",
			req:    AddonRequest{Cloud: "existing", Addons: map[string]AddonSelection{"cert_manager": {Version: "v9.0.0"}, "storage": {}}},
			wantProblems: []AddonProblem{
				{Addon: "cert_manager", Attribute: "version", Summary: "Unknown add-on version",
					Detail: `cert_manager has no version "v9.0.0" in the catalog; versions: v1.18.2 (default), v1.17.4, v1.16.5.`},
				{Addon: "storage", Attribute: "values", Summary: "Missing add-on values",
					Detail: `On cloud "existing" the catalog has no default for provisioner of storage: set it in the add-on's values (provisioner: the cluster's CSI driver, e.g. ebs.csi.aws.com or csi.vsphere.vmware.com).`},
			},
		},
		"StorageValuesSchema": {
			reason: "The storage add-on's values are checked against its schema: types, enums and unknown keys.",
			req:    AddonRequest{Cloud: "aws", Addons: map[string]AddonSelection{"storage": {Values: "default: \"yes\"\nreclaimPolicy: Keep\nparameter: {}\n"}}},
			wantProblems: []AddonProblem{{Addon: "storage", Attribute: "values", Summary: "Invalid add-on values",
				Detail: "The values of storage do not match its schema: at '': additional properties 'parameter' not allowed; at '/default': got string, want boolean; at '/reclaimPolicy': value must be one of 'Delete', 'Retain'."}},
		},
		"BadRequest": {
			reason: "An unknown cloud, an unreadable Kubernetes version and a mirror that is neither OCI nor HTTP are problems of the request.",
			req:    AddonRequest{Cloud: "openstack", KubernetesVersion: "latest", Mirror: "s3://bucket/charts"},
			wantProblems: []AddonProblem{
				{Attribute: "cloud", Summary: "Unknown cloud", Detail: `The add-on catalog has defaults for the clouds aws, azure, gcp, existing, not "openstack".`},
				{Attribute: "kubernetes_version", Summary: "Unreadable Kubernetes version", Detail: `The cluster's Kubernetes version "latest" is not a version such as 1.34 or v1.34.4.`},
				{Attribute: "mirror", Summary: "Invalid chart mirror", Detail: `The chart mirror "s3://bucket/charts" must be an OCI registry (oci://) or an HTTP chart repository (https://).`},
			},
		},
		"OCIMirrorWithTag": {
			reason: "An OCI mirror names a path; the chart and its version are appended.",
			req:    AddonRequest{Cloud: "aws", Mirror: "oci://127.0.0.1:5000/addons:latest"},
			wantProblems: []AddonProblem{{Attribute: "mirror", Summary: "Invalid chart mirror",
				Detail: `The OCI chart mirror "oci://127.0.0.1:5000/addons:latest" must name a registry path without a tag or digest, e.g. oci://registry.example/addons.`}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, problems := ResolveAddons(tc.req)
			if diff := cmp.Diff(tc.wantProblems, problems); diff != "" {
				t.Errorf("%s\nResolveAddons(...) problems: -want, +got:\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nResolveAddons(...) add-ons: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// TestResolveAddonsFullStack keeps, per cloud, the spec of a stack of every add-on at its default
// version from the sandbox's mirror: what idp_addon_stack writes on the composite.
func TestResolveAddonsFullStack(t *testing.T) {
	for _, cloud := range AddonClouds() {
		t.Run(cloud, func(t *testing.T) {
			got, problems := ResolveAddons(AddonRequest{Cloud: cloud, KubernetesVersion: "v1.34.4", Mirror: "oci://127.0.0.1:5000/addons", Addons: fullStack(cloud)})
			if len(problems) > 0 {
				t.Fatalf("ResolveAddons(every add-on on %s): %v", cloud, problems)
			}
			var order []string
			for _, a := range got {
				order = append(order, a.Name)
			}
			wantOrder := []string{"cert-manager", "external-dns", "ingress-nginx", "metrics-server", "kube-prometheus-stack", "fluent-bit", "storage"}
			if diff := cmp.Diff(wantOrder, order); diff != "" {
				t.Errorf("install order: -want, +got:\n%s", diff)
			}
			data, err := json.MarshalIndent(got, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "addons-"+cloud+".golden.json")
			if *update {
				if err := os.WriteFile(golden, append(data, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./internal/catalog -run AddonsFullStack -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), string(data)+"\n"); diff != "" {
				t.Errorf("resolved stack: -want (%s), +got:\n%s", golden, diff)
			}
		})
	}
}

func TestResolveAddonsLeavesCatalogAlone(t *testing.T) {
	req := AddonRequest{Cloud: "aws", Addons: map[string]AddonSelection{"metrics_server": {}}}
	first, _ := ResolveAddons(req)
	first[0].Values["args"].([]any)[0] = "changed"
	first[0].Values["resources"].(map[string]any)["requests"] = nil
	first[0].Gates[0].Name = "changed"
	second, _ := ResolveAddons(req)
	if diff := cmp.Diff(first, second); !strings.Contains(diff, "changed") {
		t.Errorf("changing resolved values changed the catalog's defaults: second resolution %+v", second)
	}
}

func TestLoadAddonCatalogRefuses(t *testing.T) {
	const good = `
catalogVersion: "1"
addons:
  - key: a
    name: a
    description: A.
    namespace: a
    chart: {repository: https://charts.example, name: a}
    defaultVersion: 1.0.0
    versions:
      - {version: 1.0.0, minKubernetes: "1.30", maxKubernetes: "1.34"}
    gates:
      - {type: DeploymentAvailable, namespace: a, name: a}
  - key: b
    name: b
    description: B.
    namespace: b
    chart: {repository: https://charts.example, name: b}
    defaultVersion: 2.0.0
    versions:
      - {version: 2.0.0, minKubernetes: "1.30", maxKubernetes: "1.34"}
    dependsOn:
      - {key: a, reason: it needs a}
`
	if _, err := loadAddonCatalog([]byte(good)); err != nil {
		t.Fatalf("the base catalog of this test does not load: %v", err)
	}
	cases := map[string]struct {
		reason  string
		old     string
		new     string
		wantErr string
	}{
		"UnknownField": {
			reason: "A misspelt field is an error, not a silently ignored default.",
			old:    "defaultVersion: 1.0.0", new: "defaultVersion: 1.0.0\n    defaultVersoin: 1.0.0", wantErr: "unknown field",
		},
		"DefaultNotListed": {
			reason: "The default version is one of the versions.",
			old:    "defaultVersion: 1.0.0", new: "defaultVersion: 1.0.1", wantErr: `default version "1.0.1"`,
		},
		"NotExact": {
			reason: "Versions are exact: no ranges, no latest.",
			old:    "{version: 1.0.0,", new: "{version: 1.0.x,", wantErr: "not an exact version",
		},
		"KubernetesRangeBackwards": {
			reason: "The supported range goes upwards.",
			old: `minKubernetes: "1.30", maxKubernetes: "1.34"}
    gates`, new: `minKubernetes: "1.34", maxKubernetes: "1.30"}
    gates`, wantErr: "below minKubernetes",
		},
		"BadDigest": {
			reason: "A digest is sha256 of the archive.",
			old: `maxKubernetes: "1.34"}
    gates`, new: `maxKubernetes: "1.34", digest: "md5:abc"}
    gates`, wantErr: "sha256",
		},
		"UnknownDependency": {
			reason: "Dependencies are add-ons of the catalog.",
			old:    "{key: a, reason", new: "{key: c, reason", wantErr: `depends on "c"`,
		},
		"Cycle": {
			reason: "Dependencies cannot go round in a cycle: there would be no install order.",
			old:    "    gates:\n      - {type: DeploymentAvailable, namespace: a, name: a}", new: "    dependsOn: [{key: b, reason: it needs b}]", wantErr: "cycle",
		},
		"GateInAnotherNamespace": {
			reason: "A gate observes the add-on's own objects.",
			old:    "{type: DeploymentAvailable, namespace: a, name: a}", new: "{type: DeploymentAvailable, namespace: kube-system, name: a}", wantErr: "add-on's namespace",
		},
		"UnknownGateType": {
			reason: "Only the gate types the composition function observes.",
			old:    "{type: DeploymentAvailable,", new: "{type: DaemonSetReady,", wantErr: "unknown gate type",
		},
		"UnknownCloud": {
			reason: "Cloud defaults are for the clouds the platform knows.",
			old:    "    gates:\n", new: "    cloudValues: {openstack: {a: 1}}\n    gates:\n", wantErr: `unknown cloud "openstack"`,
		},
		"KeyNotSnakeCase": {
			reason: "Keys are Terraform's snake_case.",
			old:    "key: a\n", new: "key: A-1\n", wantErr: "snake_case",
		},
		"InsecureRepository": {
			reason: "Upstream repositories are reached over TLS.",
			old:    "{repository: https://charts.example, name: a}", new: "{repository: http://charts.example, name: a}", wantErr: "https://",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			bad := strings.Replace(good, tc.old, tc.new, 1)
			if bad == good {
				t.Fatalf("the case does not change the catalog: %q not found", tc.old)
			}
			_, err := loadAddonCatalog([]byte(bad))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s\nloadAddonCatalog: want an error mentioning %q, got %v", tc.reason, tc.wantErr, err)
			}
		})
	}
}
