package crossplane

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"text/template"

	"github.com/Masterminds/sprig/v3"
	"github.com/google/go-cmp/cmp"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/idp-platform/terraform-provider-idp/internal/sandbox"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

const resourceNameAnnotation = "gotemplating.fn.crossplane.io/composition-resource-name"

// rendered is what a composition's template produced: composed resources by composition resource
// name, and the status it sets on the composite resource.
type rendered struct {
	Resources map[string]map[string]any `json:"resources"`
	Status    map[string]any            `json:"compositeStatus"`
}

// renderComposition runs the inline template of a Composition's go-templating step the way
// function-go-templating does: text/template with the sprig functions over the function request
// (observed composite and composed resources), output split into YAML documents. The real function
// cannot be built here (the module proxy refuses function-go-templating's archives at every version
// tried), so this stand-in lives in the tests only; the documents it yields are then validated by the
// real API server against the real provider CRDs (TestAccCompositionsValidate).
func renderComposition(t *testing.T, file string, xr map[string]any, observed map[string]any) rendered {
	t.Helper()
	files, _, err := Manifests()
	if err != nil {
		t.Fatal(err)
	}
	var composition struct {
		Spec struct {
			Pipeline []struct {
				Step  string `json:"step"`
				Input struct {
					Inline struct {
						Template string `json:"template"`
					} `json:"inline"`
				} `json:"input"`
			} `json:"pipeline"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(files[file], &composition); err != nil {
		t.Fatal(err)
	}
	source := ""
	for _, step := range composition.Spec.Pipeline {
		if step.Step == "compose" {
			source = step.Input.Inline.Template
		}
	}
	if source == "" {
		t.Fatalf("%s has no compose step with an inline template", file)
	}
	tmpl, err := template.New(file).Funcs(sprig.TxtFuncMap()).Option("missingkey=default").Parse(source)
	if err != nil {
		t.Fatalf("template of %s: %v", file, err)
	}
	// The function sees the request as JSON: numbers are float64, as here.
	// Like the function's request, which has no resources field before anything is composed.
	observedState := map[string]any{"composite": map[string]any{"resource": xr}}
	if observed != nil {
		observedState["resources"] = observed
	}
	request := map[string]any{"observed": observedState}
	raw, err := json.Marshal(request)
	if err != nil {
		t.Fatal(err)
	}
	var data map[string]any
	if err := json.Unmarshal(raw, &data); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := tmpl.Execute(&out, data); err != nil {
		t.Fatalf("rendering %s: %v", file, err)
	}
	result := rendered{Resources: map[string]map[string]any{}}
	decoder := utilyaml.NewYAMLOrJSONDecoder(&out, 4096)
	for {
		var doc map[string]any
		if err := decoder.Decode(&doc); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("%s rendered invalid YAML: %v\n%s", file, err, out.String())
		}
		if len(doc) == 0 {
			continue
		}
		if doc["apiVersion"] == xr["apiVersion"] && doc["kind"] == xr["kind"] {
			result.Status, _ = doc["status"].(map[string]any)
			continue
		}
		metadata, _ := doc["metadata"].(map[string]any)
		annotations, _ := metadata["annotations"].(map[string]any)
		name, _ := annotations[resourceNameAnnotation].(string)
		if name == "" {
			t.Fatalf("%s composed a %v without the %s annotation", file, doc["kind"], resourceNameAnnotation)
		}
		if _, dup := result.Resources[name]; dup {
			t.Fatalf("%s composed two resources named %q", file, name)
		}
		result.Resources[name] = doc
	}
	return result
}

// compositeCluster is a KubernetesCluster as idp_cluster creates it.
func compositeCluster(cloud string, nodePools map[string]any, extra map[string]any) map[string]any {
	spec := map[string]any{
		"cloud": cloud, "region": map[string]string{"aws": "eu-west-1", "azure": "westeurope", "gcp": "europe-west1"}[cloud],
		"kubernetesVersion": "1.33", "providerConfigName": "idp-" + cloud + "-team-payments",
		"networkCIDR": "10.20.0.0/16", "nodePools": nodePools,
	}
	for k, v := range extra {
		spec[k] = v
	}
	return map[string]any{
		"apiVersion": "platform.idp.dev/v1alpha1", "kind": "KubernetesCluster",
		"metadata": map[string]any{"name": "payments-dev"},
		"spec":     spec,
	}
}

// renderCases are the representative inputs each composition is rendered for.
func renderCases() map[string]struct {
	reason   string
	file     string
	xr       map[string]any
	observed map[string]any
} {
	// Instance types by cloud: a general-purpose one and a compute one.
	types := map[string][2]string{"aws": {"m6i.large", "c6i.2xlarge"}, "azure": {"Standard_D4s_v5", "Standard_F8s_v2"}, "gcp": {"e2-standard-4", "c2-standard-8"}}
	onePool := func(cloud string) map[string]any {
		return map[string]any{"default": map[string]any{"instanceType": types[cloud][0], "minSize": 2, "maxSize": 5}}
	}
	twoPools := func(cloud string) map[string]any {
		return map[string]any{
			"default": map[string]any{"instanceType": types[cloud][0], "minSize": 2, "maxSize": 5},
			"batch":   map[string]any{"instanceType": types[cloud][1], "minSize": 0, "maxSize": 10, "labels": map[string]any{"workload": "batch"}},
		}
	}
	oidc := map[string]any{"issuerURL": "https://keycloak.example.com/realms/idp", "clientID": "kubernetes"}
	tags := map[string]any{"team": "payments"}
	return map[string]struct {
		reason   string
		file     string
		xr       map[string]any
		observed map[string]any
	}{
		"aws-minimal": {
			reason: "One pool and no OIDC: the network, the roles, the cluster, one node group and the ClusterAuth.",
			file:   "kubernetescluster/composition-aws.yaml",
			xr:     compositeCluster("aws", onePool("aws"), nil),
		},
		"aws-pools-oidc-ready": {
			reason: "Two pools, tags, Keycloak as OIDC issuer, and a cluster that reports its endpoint.",
			file:   "kubernetescluster/composition-aws.yaml",
			xr:     compositeCluster("aws", twoPools("aws"), map[string]any{"oidc": oidc, "tags": tags}),
			observed: map[string]any{"cluster": map[string]any{"resource": map[string]any{
				"status": map[string]any{"atProvider": map[string]any{"endpoint": "https://ABCD.gr7.eu-west-1.eks.amazonaws.com", "version": "1.33"}},
			}}},
		},
		"azure-pools": {
			reason: "The first pool by name is the default node pool; the others are node pools of their own.",
			file:   "kubernetescluster/composition-azure.yaml",
			xr:     compositeCluster("azure", twoPools("azure"), map[string]any{"tags": tags}),
		},
		"gcp-first-pass": {
			reason: "Before the service account exists its IAM members are not composed.",
			file:   "kubernetescluster/composition-gcp.yaml",
			xr:     compositeCluster("gcp", twoPools("gcp"), map[string]any{"oidc": oidc}),
		},
		"gcp-service-account-ready": {
			reason: "Once the service account reports its email, the nodes run as it and it gets its roles.",
			file:   "kubernetescluster/composition-gcp.yaml",
			xr:     compositeCluster("gcp", onePool("gcp"), nil),
			observed: map[string]any{"service-account": map[string]any{"resource": map[string]any{
				"status": map[string]any{"atProvider": map[string]any{"email": "payments-dev-nodes@acme.iam.gserviceaccount.com"}},
			}}},
		},
	}
}

func TestRenderCompositions(t *testing.T) {
	for name, tc := range renderCases() {
		t.Run(name, func(t *testing.T) {
			got := renderComposition(t, tc.file, tc.xr, tc.observed)
			raw, err := yaml.Marshal(got)
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", name+".golden.yaml")
			if *update {
				if err := os.WriteFile(golden, raw, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), string(raw)); diff != "" {
				t.Errorf("%s\nrendering %s (-golden +got):\n%s", tc.reason, tc.file, diff)
			}
		})
	}
}

// TestRenderedNames checks what each case must compose, independently of the golden files.
func TestRenderedNames(t *testing.T) {
	want := map[string][]string{
		"aws-minimal": {"cluster", "cluster-auth", "cluster-eks-policy", "cluster-role", "default-route", "internet-gateway", "node-cni-policy",
			"node-group-default", "node-registry-policy", "node-role", "node-worker-policy", "route-table", "route-table-association-a",
			"route-table-association-b", "subnet-a", "subnet-b", "vpc"},
		"azure-pools":               {"cluster", "node-pool-default", "resource-group", "subnet", "virtual-network"},
		"gcp-first-pass":            {"cluster", "network", "node-pool-batch", "node-pool-default", "service-account", "subnetwork"},
		"gcp-service-account-ready": {"cluster", "network", "node-logging-logwriter", "node-monitoring-metricwriter", "node-pool-default", "service-account", "subnetwork"},
	}
	cases := renderCases()
	for name, names := range want {
		t.Run(name, func(t *testing.T) {
			tc := cases[name]
			got := renderComposition(t, tc.file, tc.xr, tc.observed)
			var gotNames []string
			for n := range got.Resources {
				gotNames = append(gotNames, n)
			}
			sort.Strings(gotNames)
			if diff := cmp.Diff(names, gotNames); diff != "" {
				t.Errorf("%s\ncomposed resources (-want +got):\n%s", tc.reason, diff)
			}
		})
	}
}

func TestFunctionPackagesMatchVersions(t *testing.T) {
	files, _, err := Manifests()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"xpkg.crossplane.io/crossplane-contrib/function-go-templating:" + sandbox.FunctionGoTemplatingVersion,
		"xpkg.crossplane.io/crossplane-contrib/function-auto-ready:" + sandbox.FunctionAutoReadyVersion,
	}
	var got []string
	for _, doc := range bytes.Split(files["functions.yaml"], []byte("\n---\n")) {
		var function struct {
			Spec struct {
				Package string `json:"package"`
			} `json:"spec"`
		}
		if err := yaml.Unmarshal(doc, &function); err != nil {
			t.Fatal(err)
		}
		got = append(got, function.Spec.Package)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("functions.yaml packages differ from internal/sandbox/versions.go (-want +got):\n%s", diff)
	}
}
