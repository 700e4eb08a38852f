package sandbox

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"helm.sh/helm/v4/pkg/action"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/registry"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"

	"github.com/idp-platform/terraform-provider-idp/internal/addonstack"
	"github.com/idp-platform/terraform-provider-idp/internal/catalog"
	"github.com/idp-platform/terraform-provider-idp/internal/helm"
)

// existingCloudValues are the values a registered cluster must give (the catalog has no default).
var existingCloudValues = map[string]string{
	"external_dns": "provider:\n  name: cloudflare\n",
	"storage":      "provisioner: csi.vsphere.vmware.com\n",
}

// resolveWithDependencies resolves the add-on key at version v, with the add-ons it depends on
// (transitively) at their defaults, as a stack on cloud would; it returns the add-on and the names of
// all add-ons installed before it.
func resolveWithDependencies(t *testing.T, key, v, cloud string) (addonstack.Addon, []string) {
	t.Helper()
	selections := map[string]catalog.AddonSelection{}
	var add func(key, version string)
	add = func(key, version string) {
		if _, ok := selections[key]; ok {
			return
		}
		selection := catalog.AddonSelection{Version: version}
		if cloud == catalog.CloudExisting {
			selection.Values = existingCloudValues[key]
		}
		selections[key] = selection
		d, _ := catalog.Addon(key)
		for _, dep := range d.DependsOn {
			add(dep, "")
		}
	}
	add(key, v)
	resolved, problems := catalog.ResolveAddons(catalog.AddonRequest{Cloud: cloud, Mirror: "oci://127.0.0.1:5000/addons", Addons: selections})
	if len(problems) > 0 {
		t.Fatalf("ResolveAddons(%s %s on %s): %v", key, v, cloud, problems)
	}
	d, _ := catalog.Addon(key)
	var before []string
	for _, a := range resolved {
		if a.Name == d.Name {
			return a, before
		}
		before = append(before, a.Name)
	}
	t.Fatalf("ResolveAddons(%s %s on %s) has no %s", key, v, cloud, d.Name)
	return addonstack.Addon{}, nil
}

// fixtureChartAt is the fixture chart as packaged for version v.
func fixtureChartAt(t *testing.T, name string, v catalog.AddonVersion) *chart.Chart {
	t.Helper()
	ch, err := loadFixtureChart(name)
	if err != nil {
		t.Fatal(err)
	}
	ch.Metadata.Version, ch.Metadata.AppVersion = v.Version, v.AppVersion
	return ch
}

// renderedObject is what the tests need of one object a chart installs.
type renderedObject struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
	Spec struct {
		// A Service's.
		Selector map[string]any `json:"selector"`
		// A Deployment's.
		Template struct {
			Metadata struct {
				Labels map[string]string `json:"labels"`
			} `json:"metadata"`
		} `json:"template"`
		// A CustomResourceDefinition's.
		Group string `json:"group"`
		Names struct {
			Kind string `json:"kind"`
		} `json:"names"`
	} `json:"spec"`
}

func (o renderedObject) group() string {
	group, _, found := strings.Cut(o.APIVersion, "/")
	if !found {
		return ""
	}
	return group
}

func parseObjects(t *testing.T, manifests []string) []renderedObject {
	t.Helper()
	var objects []renderedObject
	for _, manifest := range manifests {
		for _, doc := range strings.Split(manifest, "\n---") {
			var o renderedObject
			if err := yaml.Unmarshal([]byte(doc), &o); err != nil {
				t.Fatalf("cannot parse a rendered object: %v\n%s", err, doc)
			}
			if o.Kind != "" {
				objects = append(objects, o)
			}
		}
	}
	return objects
}

// renderFixture renders the fixture chart with values as an install of release into namespace would,
// and returns the objects of its templates and of its crds/.
func renderFixture(t *testing.T, ch *chart.Chart, release, namespace string, values map[string]any) (templates, crds []renderedObject) {
	t.Helper()
	rendered, err := helm.Render(ch, release, namespace, values)
	if err != nil {
		t.Fatalf("cannot render fixture chart %s %s: %v", ch.Name(), ch.Metadata.Version, err)
	}
	var manifests []string
	for _, name := range slices.Sorted(maps.Keys(rendered)) {
		if !strings.HasSuffix(name, ".tpl") && !strings.HasSuffix(name, "NOTES.txt") {
			manifests = append(manifests, rendered[name])
		}
	}
	var crdFiles []string
	for _, crd := range ch.CRDObjects() {
		crdFiles = append(crdFiles, string(crd.File.Data))
	}
	return parseObjects(t, manifests), parseObjects(t, crdFiles)
}

// builtinGroups are the API groups every workload cluster serves; any other group's objects need a CRD.
var builtinGroups = []string{"", "apps", "networking.k8s.io", "rbac.authorization.k8s.io", "policy", "storage.k8s.io", "apiextensions.k8s.io"}

// TestFixtureAddonChartsRender holds every fixture chart, at every catalog version and on every cloud,
// to what the catalog expects of the upstream chart: it renders with the catalog's values (and accepts
// them: the schemas are checked), it installs every object the catalog's gates observe, every Service a
// gate waits on selects pods of a Deployment, and every custom resource it creates has its CRD in the
// chart itself or in an add-on the catalog installs before it.
func TestFixtureAddonChartsRender(t *testing.T) {
	// The CRDs (group/kind) each fixture chart installs, by add-on name.
	crdsOf := map[string][]string{}
	for _, d := range catalog.Addons() {
		if d.Chart == nil {
			continue
		}
		ch := fixtureChartAt(t, d.Chart.Name, d.Versions[0])
		for _, crd := range ch.CRDObjects() {
			o := parseObjects(t, []string{string(crd.File.Data)})[0]
			crdsOf[d.Name] = append(crdsOf[d.Name], o.Spec.Group+"/"+o.Spec.Names.Kind)
		}
	}
	for _, d := range catalog.Addons() {
		if d.Chart == nil {
			continue
		}
		for _, v := range d.Versions {
			for _, cloud := range catalog.AddonClouds() {
				t.Run(d.Key+"/"+v.Version+"/"+cloud, func(t *testing.T) {
					addon, before := resolveWithDependencies(t, d.Key, v.Version, cloud)
					ch := fixtureChartAt(t, d.Chart.Name, v)
					templates, crds := renderFixture(t, ch, addon.Name, addon.Namespace, addon.Values)

					crdNames := map[string]bool{}
					for _, crd := range crds {
						crdNames[crd.Metadata.Name] = true
					}
					byKindAndName := map[string]renderedObject{}
					for _, o := range templates {
						byKindAndName[o.Kind+" "+o.Metadata.Namespace+"/"+o.Metadata.Name] = o
					}
					for _, gate := range addon.Gates {
						switch gate.Type {
						case addonstack.GateCRDEstablished:
							if !crdNames[gate.Name] {
								t.Errorf("gate %s: the chart's crds/ have no such CRD (it has %v)", gate, crdNames)
							}
						case addonstack.GateDeploymentAvailable:
							if _, ok := byKindAndName["Deployment "+gate.Namespace+"/"+gate.Name]; !ok {
								t.Errorf("gate %s: the chart installs no such Deployment", gate)
							}
						case addonstack.GateServiceEndpoints:
							service, ok := byKindAndName["Service "+gate.Namespace+"/"+gate.Name]
							if !ok {
								t.Errorf("gate %s: the chart installs no such Service", gate)
								continue
							}
							if !selectsDeploymentPods(service, templates) {
								t.Errorf("gate %s: the Service's selector %v selects the pods of no Deployment in %s, so it never has endpoints", gate, service.Spec.Selector, gate.Namespace)
							}
						default:
							t.Errorf("gate %s: no check for this gate type", gate)
						}
					}

					provided := map[string]bool{}
					for _, name := range append([]string{addon.Name}, before...) {
						for _, crd := range crdsOf[name] {
							provided[crd] = true
						}
					}
					for _, o := range templates {
						if slices.Contains(builtinGroups, o.group()) {
							continue
						}
						if !provided[o.group()+"/"+o.Kind] {
							t.Errorf("%s %s is a custom resource whose CRD neither the chart nor an add-on installed before it (%v) provides", o.Kind, o.Metadata.Name, before)
						}
					}
				})
			}
		}
	}
}

func selectsDeploymentPods(service renderedObject, objects []renderedObject) bool {
	if len(service.Spec.Selector) == 0 {
		return false
	}
	selector := labels.Set{}
	for key, value := range service.Spec.Selector {
		selector[key] = fmt.Sprint(value)
	}
	for _, o := range objects {
		if o.Kind == "Deployment" && o.Metadata.Namespace == service.Metadata.Namespace &&
			labels.SelectorFromSet(selector).Matches(labels.Set(o.Spec.Template.Metadata.Labels)) {
			return true
		}
	}
	return false
}

// TestFixtureAddonChartsSchemas proves the fixtures' schemas are not decoration: a value of the wrong
// type fails with its path, as with a strict upstream chart.
func TestFixtureAddonChartsSchemas(t *testing.T) {
	cases := map[string]struct {
		reason  string
		chart   string
		values  map[string]any
		wantErr string
	}{
		"CertManagerReplicas": {
			reason: "A replica count is an integer.",
			chart:  "cert-manager", values: map[string]any{"replicaCount": "two"}, wantErr: "/replicaCount",
		},
		"IngressServiceType": {
			reason: "The controller's Service type is one of Kubernetes's.",
			chart:  "ingress-nginx", values: map[string]any{"controller": map[string]any{"service": map[string]any{"type": "Elastic"}}}, wantErr: "/controller/service/type",
		},
		"IngressAnnotations": {
			reason: "Annotations are strings.",
			chart:  "ingress-nginx", values: map[string]any{"controller": map[string]any{"service": map[string]any{"annotations": map[string]any{"a": true}}}}, wantErr: "/controller/service/annotations/a",
		},
		"ExternalDNSSources": {
			reason: "Sources are a list.",
			chart:  "external-dns", values: map[string]any{"sources": "service"}, wantErr: "/sources",
		},
		"ExternalDNSInterval": {
			reason: "The interval is a duration.",
			chart:  "external-dns", values: map[string]any{"interval": "often"}, wantErr: "/interval",
		},
		"MetricsServerArgs": {
			reason: "Arguments are flags.",
			chart:  "metrics-server", values: map[string]any{"args": []any{"kubelet-insecure-tls"}}, wantErr: "/args/0",
		},
		"PrometheusEnabled": {
			reason: "A toggle is a boolean.",
			chart:  "kube-prometheus-stack", values: map[string]any{"prometheus": map[string]any{"enabled": "yes"}}, wantErr: "/prometheus/enabled",
		},
		"FluentBitKind": {
			reason: "The fixture renders a Deployment only; a DaemonSet is refused rather than silently ignored.",
			chart:  "fluent-bit", values: map[string]any{"kind": "DaemonSet"}, wantErr: "/kind",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ch, err := loadFixtureChart(tc.chart)
			if err != nil {
				t.Fatal(err)
			}
			err = helm.ValidateValues(ch, tc.values)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s\nValidateValues: want an error at %q, got %v", tc.reason, tc.wantErr, err)
			}
		})
	}
}

// TestFixtureAddonChartsMatchCatalog: a fixture for every chart of the catalog, and none for anything else.
func TestFixtureAddonChartsMatchCatalog(t *testing.T) {
	var want []string
	for _, d := range catalog.Addons() {
		if d.Chart != nil {
			want = append(want, d.Chart.Name)
		}
	}
	slices.Sort(want)
	entries, err := fs.ReadDir(fixtureAddonCharts, fixtureAddonChartsDir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		if e.IsDir() {
			got = append(got, e.Name())
			ch, err := loadFixtureChart(e.Name())
			if err != nil {
				t.Error(err)
				continue
			}
			if ch.Name() != e.Name() || !strings.HasPrefix(ch.Metadata.Description, "Test fixture standing in for the upstream") {
				t.Errorf("fixture %s: named %q, described %q; a fixture is named as the upstream chart and says it is a fixture", e.Name(), ch.Name(), ch.Metadata.Description)
			}
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("fixture charts: -want (the catalog's charts), +got:\n%s", diff)
	}
}

// TestFixtureAddonChartsLintClean holds the fixtures to `helm lint --strict` with their own defaults, as
// the catalog's standardized charts are.
func TestFixtureAddonChartsLintClean(t *testing.T) {
	entries, err := fs.ReadDir(fixtureAddonCharts, fixtureAddonChartsDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		t.Run(e.Name(), func(t *testing.T) {
			lint := action.NewLint()
			lint.Strict = true
			lint.Namespace = "lint"
			result := lint.Run([]string{filepath.Join(fixtureAddonChartsDir, e.Name())}, nil)
			if result.TotalChartsLinted != 1 {
				t.Fatalf("linted %d charts, want 1: %v", result.TotalChartsLinted, result.Errors)
			}
			if action.HasWarningsOrErrors(result) || len(result.Errors) > 0 {
				var messages []string
				for _, m := range result.Messages {
					messages = append(messages, fmt.Sprint(m))
				}
				t.Errorf("helm lint --strict: errors %v, messages %v", result.Errors, messages)
			}
		})
	}
}

func TestPushAddonCharts(t *testing.T) {
	fake := newFakeRegistry()
	server := httptest.NewServer(fake)
	defer server.Close()
	host := strings.TrimPrefix(server.URL, "http://")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	mirror, err := PushAddonCharts(ctx, host)
	if err != nil {
		t.Fatal(err)
	}
	if want := "oci://" + host + "/addons"; mirror != want {
		t.Errorf("PushAddonCharts() mirror = %q, want %q", mirror, want)
	}

	// Every chart add-on at every version can be pulled from the mirror, as the provider would.
	client, err := registry.NewClient(registry.ClientOptWriter(io.Discard), registry.ClientOptPlainHTTP())
	if err != nil {
		t.Fatal(err)
	}
	var want, got []string
	for _, d := range catalog.Addons() {
		if d.Chart == nil {
			continue
		}
		for _, v := range d.Versions {
			want = append(want, d.Chart.Name+" "+v.Version+" "+v.AppVersion)
			ref := strings.TrimPrefix(mirror, "oci://") + "/" + d.Chart.Name + ":" + v.Version
			result, err := client.Pull(ref)
			if err != nil {
				t.Errorf("cannot pull %s: %v", ref, err)
				continue
			}
			got = append(got, result.Chart.Meta.Name+" "+result.Chart.Meta.Version+" "+result.Chart.Meta.AppVersion)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("charts in the mirror: -want, +got:\n%s", diff)
	}
}

// TestPackageFixtureChartReproducible: a version packages to the same archive every time, so a digest
// pinned in a catalog for the fixtures holds across pushes.
func TestPackageFixtureChartReproducible(t *testing.T) {
	v := catalog.AddonVersion{Version: "4.12.1", AppVersion: "1.12.1"}
	first, err := packageFixtureChart("ingress-nginx", v)
	if err != nil {
		t.Fatal(err)
	}
	second, err := packageFixtureChart("ingress-nginx", v)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, second) {
		t.Error("packaging the same fixture version twice gave different archives")
	}
}

// fakeRegistry is the least of the OCI distribution API that a Helm push and pull use, in memory.
type fakeRegistry struct {
	mu        sync.Mutex
	blobs     map[string][]byte // by digest
	manifests map[string]fakeManifest
	uploads   int
}

type fakeManifest struct {
	mediaType string
	data      []byte
}

func newFakeRegistry() *fakeRegistry {
	return &fakeRegistry{blobs: map[string][]byte{}, manifests: map[string]fakeManifest{}}
}

func digestOf(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func (f *fakeRegistry) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := r.URL.Path
	switch {
	case p == "/v2/" || p == "/v2":
		w.WriteHeader(http.StatusOK)
	case strings.Contains(p, "/blobs/uploads/"):
		repo := p[len("/v2/"):strings.Index(p, "/blobs/uploads/")]
		switch r.Method {
		case http.MethodPost:
			f.uploads++
			w.Header().Set("Location", fmt.Sprintf("/v2/%s/blobs/uploads/%d", repo, f.uploads))
			w.WriteHeader(http.StatusAccepted)
		case http.MethodPut:
			data, _ := io.ReadAll(r.Body)
			digest := r.URL.Query().Get("digest")
			if digestOf(data) != digest {
				http.Error(w, "digest mismatch", http.StatusBadRequest)
				return
			}
			f.blobs[digest] = data
			w.Header().Set("Location", "/v2/"+repo+"/blobs/"+digest)
			w.WriteHeader(http.StatusCreated)
		default:
			w.WriteHeader(http.StatusMethodNotAllowed)
		}
	case strings.Contains(p, "/blobs/"):
		data, ok := f.blobs[p[strings.LastIndex(p, "/")+1:]]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(data)))
		w.Header().Set("Docker-Content-Digest", digestOf(data))
		if r.Method == http.MethodGet {
			_, _ = w.Write(data)
		}
	case strings.Contains(p, "/manifests/"):
		i := strings.LastIndex(p, "/manifests/")
		key := p[len("/v2/"):i] + "@" + p[i+len("/manifests/"):]
		switch r.Method {
		case http.MethodPut:
			data, _ := io.ReadAll(r.Body)
			m := fakeManifest{mediaType: r.Header.Get("Content-Type"), data: data}
			f.manifests[key] = m
			f.manifests[p[len("/v2/"):i]+"@"+digestOf(data)] = m
			w.Header().Set("Docker-Content-Digest", digestOf(data))
			w.WriteHeader(http.StatusCreated)
		case http.MethodGet, http.MethodHead:
			m, ok := f.manifests[key]
			if !ok {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", m.mediaType)
			w.Header().Set("Content-Length", fmt.Sprint(len(m.data)))
			w.Header().Set("Docker-Content-Digest", digestOf(m.data))
			if r.Method == http.MethodGet {
				_, _ = w.Write(m.data)
			}
		default:
			w.WriteHeader(http.StatusMethodNotAllowed)
		}
	default:
		http.NotFound(w, r)
	}
}
